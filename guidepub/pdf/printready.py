"""The print-ready edition's last step: a PDF/UA-1 file WeasyPrint laid out
with bleed becomes one a printer can take, PDF/X-4 as well as PDF/UA-1.

WeasyPrint (pdf/__init__.py) writes the CSS bleed area as the MediaBox, the
A4 page as the TrimBox at the origin and a BleedBox "at most 10 points" out;
`marks: crop` would draw its marks inside that bleed, over the cover colour.
So the stylesheet asks for bleed only, and this step, with pikepdf:

- sets the BleedBox to the TrimBox plus the CSS bleed exactly, and grows the
  MediaBox by SLUG_MM more on every side; no content moves (the TrimBox
  stays where WeasyPrint put it, and so do the tags and outline targets);
- clips the page's drawing to the BleedBox, as the old MediaBox did, and
  draws crop marks and registration targets in the slug, beyond the bleed,
  in registration colour (/Separation /All), as one artifact of type /Page;
- drops the page's annotations (links): PDF/X keeps annotations out of the
  BleedBox, and on paper each link's address and page are printed anyway;
- identifies the file as PDF/X-4 (XMP pdfxid, Info /GTS_PDFXVersion and
  /Trapped, xmpMM ids made from the document, never random) and adds a
  GTS_PDFX output intent with WeasyPrint's own sRGB profile: the colours are
  the brand's sRGB values, and no freely licensed CMYK press profile is
  available to pin one (README, "What a printer receives").

The PDF/UA-1 identification, the tags and the rest of the XMP stay. The
check is guidepub/check/print.py."""

from __future__ import annotations

import uuid
from importlib.resources import files
from pathlib import Path

import pikepdf
from lxml import etree
from pikepdf import Array, Dictionary, Name, String

MM = 72 / 25.4
PX = 0.75                     # a CSS px in points
SLUG_MM = 10                  # media beyond the bleed, for the marks
MARK_GAP_MM = 2               # between the bleed's edge and a crop mark
MARK_LENGTH_MM = 5
TARGET_RADIUS_MM = 1.5        # registration targets, halfway along each side
HAIRLINE = 0.25               # pt
PRINT_READY_CSS = "variants/print-ready.css"
PDFX_VERSION = "PDF/X-4"
PDF_VERSION = "1.6"           # PDF/X-4 is defined on PDF 1.6
REGISTRATION = Name("/GPRegistration")

OUTPUT_CONDITION = "sRGB IEC61966-2.1"
OUTPUT_INFO = ("sRGB IEC61966-2.1 (the ICC's sRGB2014 profile): the colours as designed; "
               "the printer converts them to the press condition")

NS = {"x": "adobe:ns:meta/", "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
      "pdf": "http://ns.adobe.com/pdf/1.3/", "xmp": "http://ns.adobe.com/xap/1.0/",
      "xmpMM": "http://ns.adobe.com/xap/1.0/mm/", "pdfxid": "http://www.npes.org/pdfx/ns/id/",
      "dc": "http://purl.org/dc/elements/1.1/", "pdfuaid": "http://www.aiim.org/pdfua/ns/id/"}
# The XMP properties this step writes (any earlier value is replaced).
OURS = [("pdfxid", "GTS_PDFXVersion"), ("pdf", "Trapped"), ("xmp", "MetadataDate"),
        ("xmpMM", "DocumentID"), ("xmpMM", "InstanceID"), ("xmpMM", "VersionID"),
        ("xmpMM", "RenditionClass")]


def is_print_ready(variant) -> bool:
    """Whether a variant is the print-ready edition: its CSS layers include
    the print-ready stylesheet (which asks for the bleed)."""
    return variant.format == "pdf" and PRINT_READY_CSS in variant.css


def bleeds(document) -> list[dict[str, float]]:
    """Each page's CSS bleed in points (top, right, bottom, left); empty
    when no page bleeds."""
    found = [{side: float(value) * PX for side, value in page.bleed.items()} for page in document.pages]
    return found if any(any(b.values()) for b in found) else []


def make_print_ready(path: Path, document) -> None:
    """Rewrite the PDF at `path` (written by WeasyPrint from `document`, tags
    completed) as the print-ready edition, in place."""
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        registration = _registration(pdf)
        for page, bleed in zip(pdf.pages, bleeds(document)):
            _page(pdf, page, bleed, registration)
        _drop_annotations(pdf)
        _output_intent(pdf)
        _identify(pdf)
        pdf.save(path, deterministic_id=True, force_version=PDF_VERSION)


# --- boxes and marks -----------------------------------------------------------------

def _rect(values) -> Array:
    return Array([round(v, 6) for v in values])


def _page(pdf: pikepdf.Pdf, page: pikepdf.Page, bleed: dict[str, float], registration) -> None:
    x0, y0, x1, y1 = (float(v) for v in page.obj.TrimBox)
    # WeasyPrint's y axis points up: the CSS top is the larger y.
    bx0, by0, bx1, by1 = x0 - bleed["left"], y0 - bleed["bottom"], x1 + bleed["right"], y1 + bleed["top"]
    slug = SLUG_MM * MM
    page.obj.BleedBox = _rect((bx0, by0, bx1, by1))
    page.obj.MediaBox = _rect((bx0 - slug, by0 - slug, bx1 + slug, by1 + slug))
    for key in ("/CropBox", "/ArtBox"):
        if key in page.obj:
            del page.obj[key]
    resources = page.obj.Resources
    if "/ColorSpace" not in resources:
        resources.ColorSpace = Dictionary()
    resources.ColorSpace[REGISTRATION] = registration
    contents = page.obj.Contents
    streams = list(contents) if isinstance(contents, Array) else [contents]
    clip = "q {:.6f} {:.6f} {:.6f} {:.6f} re W n\n".format(bx0, by0, bx1 - bx0, by1 - by0).encode()
    page.obj.Contents = Array([pdf.make_stream(clip), *streams,
                               pdf.make_stream(b"Q\n" + marks((x0, y0, x1, y1), bleed))])


def _registration(pdf: pikepdf.Pdf):
    """Registration colour: all separations at once (black on screen)."""
    tint = Dictionary(FunctionType=2, Domain=Array([0, 1]), C0=Array([1]), C1=Array([0]), N=1)
    return pdf.make_indirect(Array([Name.Separation, Name("/All"), Name.DeviceGray, tint]))


def _n(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def marks(trim: tuple[float, float, float, float], bleed: dict[str, float]) -> bytes:
    """The printer's marks around a trim box, as content: for each corner a
    crop mark on each of its two trim lines, starting MARK_GAP_MM beyond
    the bleed, and a registration target halfway along each side, all in
    the slug, hairline, in registration colour, marked as one artifact."""
    x0, y0, x1, y1 = trim
    gap, length, radius = MARK_GAP_MM * MM, MARK_LENGTH_MM * MM, TARGET_RADIUS_MM * MM
    out = ["/Artifact <</Type /Page>> BDC", "q", f"{HAIRLINE} w 0 J 0 j [] 0 d",
           f"{REGISTRATION} CS 1 SCN"]
    for x, sx in ((x0, -1), (x1, 1)):
        for y, sy in ((y0, -1), (y1, 1)):
            side_x = bleed["left"] if sx < 0 else bleed["right"]
            side_y = bleed["bottom"] if sy < 0 else bleed["top"]
            start_x, start_y = x + sx * (side_x + gap), y + sy * (side_y + gap)
            out.append(f"{_n(start_x)} {_n(y)} m {_n(start_x + sx * length)} {_n(y)} l")
            out.append(f"{_n(x)} {_n(start_y)} m {_n(x)} {_n(start_y + sy * length)} l")
    middle_x, middle_y = (x0 + x1) / 2, (y0 + y1) / 2
    reach = gap + length / 2
    for cx, cy in ((middle_x, y1 + bleed["top"] + reach), (middle_x, y0 - bleed["bottom"] - reach),
                   (x0 - bleed["left"] - reach, middle_y), (x1 + bleed["right"] + reach, middle_y)):
        out.append(_target(cx, cy, radius, length / 2))
    out += ["S", "Q", "EMC", ""]
    return "\n".join(out).encode()


def _target(cx: float, cy: float, radius: float, arm: float) -> str:
    """A circle of `radius` with a cross of arms `arm` long through it."""
    k = radius * 0.5523
    circle = [f"{_n(cx + radius)} {_n(cy)} m"]
    for (ax, ay), (bx, by), (ex, ey) in (
            ((radius, k), (k, radius), (0, radius)), ((-k, radius), (-radius, k), (-radius, 0)),
            ((-radius, -k), (-k, -radius), (0, -radius)), ((k, -radius), (radius, -k), (radius, 0))):
        circle.append(f"{_n(cx + ax)} {_n(cy + ay)} {_n(cx + bx)} {_n(cy + by)} {_n(cx + ex)} {_n(cy + ey)} c")
    cross = [f"{_n(cx - arm)} {_n(cy)} m {_n(cx + arm)} {_n(cy)} l",
             f"{_n(cx)} {_n(cy - arm)} m {_n(cx)} {_n(cy + arm)} l"]
    return "\n".join(circle + cross)


# --- annotations ---------------------------------------------------------------------

KEPT_ANNOTATIONS = ("/PrinterMark", "/TrapNet")     # the only ones PDF/X allows on the page


def _drop_annotations(pdf: pikepdf.Pdf) -> None:
    """Remove every annotation (the links) from the pages, and their object
    references and parent tree entries from the structure tree; the Link
    elements keep their text."""
    gone: set[tuple[int, int]] = set()
    keys: set[int] = set()
    for page in pdf.pages:
        annots = page.obj.get("/Annots")
        if annots is None:
            continue
        kept = [a for a in annots if a.get("/Subtype") in KEPT_ANNOTATIONS]
        for annot in annots:
            if annot.get("/Subtype") not in KEPT_ANNOTATIONS:
                gone.add(annot.objgen)
                if "/StructParent" in annot:
                    keys.add(int(annot.StructParent))
        if kept:
            page.obj.Annots = Array(kept)
        else:
            del page.obj["/Annots"]
    tree = pdf.Root.get("/StructTreeRoot")
    if tree is None or not gone:
        return
    _prune(tree, gone, set())
    if "/ParentTree" in tree:
        _drop_keys(tree.ParentTree, keys)


def _prune(element, gone: set, seen: set) -> None:
    kids = element.get("/K")
    if kids is None:
        return
    items = list(kids) if isinstance(kids, Array) else [kids]
    kept = []
    for kid in items:
        if isinstance(kid, Dictionary):
            if kid.get("/Type") == "/OBJR":
                if kid.Obj.objgen in gone:
                    continue
            elif "/S" in kid and (not kid.is_indirect or kid.objgen not in seen):
                if kid.is_indirect:
                    seen.add(kid.objgen)
                _prune(kid, gone, seen)
        kept.append(kid)
    if len(kept) != len(items):
        element.K = Array(kept)


def _drop_keys(node, keys: set[int]) -> None:
    if "/Nums" in node:
        pairs = list(node.Nums)
        node.Nums = Array([x for i in range(0, len(pairs), 2) if int(pairs[i]) not in keys
                           for x in pairs[i:i + 2]])
    for kid in node.get("/Kids", []):
        _drop_keys(kid, keys)


# --- identification ------------------------------------------------------------------

def _output_intent(pdf: pikepdf.Pdf) -> None:
    data = (files("weasyprint.pdf") / "sRGB2014.icc").read_bytes()
    profile = pdf.make_stream(data, N=3)
    intent = Dictionary(Type=Name.OutputIntent, S=Name.GTS_PDFX,
                        OutputConditionIdentifier=String(OUTPUT_CONDITION),
                        OutputCondition=String(OUTPUT_CONDITION), RegistryName=String("http://www.color.org"),
                        Info=String(OUTPUT_INFO), DestOutputProfile=profile)
    pdf.Root.OutputIntents = Array([pdf.make_indirect(intent)])


def _identify(pdf: pikepdf.Pdf) -> None:
    """PDF/X-4 identification in the Info dictionary and the XMP packet,
    beside the PDF/UA-1 one. Ids come from the title and the dates."""
    info = pdf.docinfo
    info[Name.Trapped] = Name("/False")
    info[Name.GTS_PDFXVersion] = String(PDFX_VERSION)
    if "/GTS_PDFXConformance" in info:
        del info["/GTS_PDFXConformance"]
    raw = pdf.Root.Metadata.read_bytes()
    start, end = raw.index(b"<x:xmpmeta"), raw.index(b"</x:xmpmeta>") + len(b"</x:xmpmeta>")
    root = etree.fromstring(raw[start:end])
    rdf = root.find("rdf:RDF", NS)
    for description in rdf.findall("rdf:Description", NS):
        for prefix, name in OURS:
            description.attrib.pop(f"{{{NS[prefix]}}}{name}", None)
            for old in description.findall(f"{prefix}:{name}", NS):
                description.remove(old)
    title = xmp_value(rdf, "dc:title") or str(info.get("/Title", ""))
    modified = xmp_value(rdf, "xmp:ModifyDate") or xmp_value(rdf, "xmp:CreateDate")
    document = uuid.uuid5(uuid.NAMESPACE_URL, f"guidepub:{title}")
    values = {("pdfxid", "GTS_PDFXVersion"): PDFX_VERSION, ("pdf", "Trapped"): "False",
              ("xmp", "MetadataDate"): modified, ("xmpMM", "DocumentID"): f"uuid:{document}",
              ("xmpMM", "InstanceID"): f"uuid:{uuid.uuid5(document, f'{PDFX_VERSION} {modified}')}",
              ("xmpMM", "VersionID"): modified, ("xmpMM", "RenditionClass"): "default"}
    description = etree.SubElement(rdf, f"{{{NS['rdf']}}}Description",
                                   nsmap={p: NS[p] for p in ("pdfxid", "pdf", "xmp", "xmpMM")})
    description.set(f"{{{NS['rdf']}}}about", "")
    for (prefix, name), value in values.items():
        if value:
            etree.SubElement(description, f"{{{NS[prefix]}}}{name}").text = value
    packet = raw[:start] + etree.tostring(root, encoding="utf-8") + raw[end:]
    pdf.Root.Metadata = pdf.make_stream(packet, Type=Name.Metadata, Subtype=Name.XML)


def xmp_rdf(pdf: pikepdf.Pdf):
    """The rdf:RDF element of the document's XMP packet (None without one)."""
    if "/Metadata" not in pdf.Root:
        return None
    raw = pdf.Root.Metadata.read_bytes()
    start, end = raw.find(b"<x:xmpmeta"), raw.find(b"</x:xmpmeta>")
    if start < 0 or end < 0:
        return None
    return etree.fromstring(raw[start:end + len(b"</x:xmpmeta>")]).find("rdf:RDF", NS)


def xmp_value(rdf, path: str) -> str:
    """The first value of an XMP property ("prefix:name"), written as an
    element (or in an rdf:Alt) or as an attribute of a description."""
    if rdf is None:
        return ""
    prefix, name = path.split(":")
    for description in rdf.findall("rdf:Description", NS):
        attribute = description.get(f"{{{NS[prefix]}}}{name}")
        if attribute:
            return attribute
        for element in description.findall(path, NS):
            text = "".join(element.itertext()).strip()
            if text:
                return text
    return ""
