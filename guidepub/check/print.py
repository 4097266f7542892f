"""The print-ready edition keeps its promise to a printer (it runs for the
variant whose CSS layers include the print-ready stylesheet):

- PDF-PRINT-BOXES: on every page the TrimBox is the A4 page, the BleedBox
  the TrimBox plus exactly the bleed on every side, and the MediaBox holds
  the BleedBox with room for the marks beyond it;
- PDF-PRINT-MARKS: every page carries printer's marks, an artifact of type
  /Page: a hairline crop mark on both trim lines at each corner, every mark
  inside the MediaBox and none reaching into the bleed;
- PDF-X: the file is identified as PDF/X-4, consistently (XMP, Info,
  /Trapped, the xmpMM ids and dates), with one GTS_PDFX output intent that
  embeds a usable ICC profile; version 1.6 at most, not encrypted, with a
  file ID; no action, and no annotation on a page's bleed; device colour
  only of the output intent's colour space (or with a Default colour
  space).

Written by guidepub/pdf/printready.py; the PDF/UA-1 side is check/pdf.py."""

from __future__ import annotations

from pathlib import Path

import pikepdf

from ..pdf.printready import (KEPT_ANNOTATIONS, MARK_GAP_MM, MARK_LENGTH_MM, MM, PDFX_VERSION,
                              is_print_ready, xmp_rdf, xmp_value)
from . import CheckResult

__all__ = ["check_print", "is_print_ready"]

TRIM_MM = (210.0, 297.0)           # A4
BLEED_MM = 3.0
TOLERANCE = 0.01                   # pt: the boxes are written to a millionth of a point
MAX_HAIRLINE = 0.3                 # pt
FIX = "guidepub/pdf/printready.py writes the print-ready edition; was it run, and on a layout with bleed?"


def check_print(path: Path, result: CheckResult | None = None) -> CheckResult:
    """Check the print-ready PDF at `path`, adding findings to `result`."""
    result = result or CheckResult("print", "Print-ready PDF (PDF/X-4)")
    with pikepdf.open(path) as pdf:
        space = _identification(pdf, result)
        colours: set[str] = set()
        for number, page in enumerate(pdf.pages, 1):
            boxes = _boxes(page, number, result)
            segments = _page_content(page, colours)
            _marks(segments, boxes, number, result)
            _annotations(page, boxes, number, result)
        for family in sorted(colours - {space, "gray"} if space else set()):
            result.add("PDF-X", f"content is painted in Device{family.upper()} but the output intent is "
                       f"{space.upper()} and no Default colour space characterises it",
                       "use the output intent's colour space, or give the pages a DefaultRGB/DefaultCMYK")
    return result


# --- PDF-PRINT-BOXES -----------------------------------------------------------------

def _box(page, key):
    value = page.obj.get(key)
    return tuple(float(v) for v in value) if value is not None else None


def _boxes(page, number: int, result: CheckResult):
    where = f"page {number}"
    trim, bleed, media = _box(page, "/TrimBox"), _box(page, "/BleedBox"), _box(page, "/MediaBox")
    problems = []
    if trim is None:
        result.add("PDF-PRINT-BOXES", "the page has no TrimBox", FIX, where)
        return None
    if "/ArtBox" in page.obj:
        problems.append("it has an ArtBox beside the TrimBox (PDF/X allows one of them)")
    size = ((trim[2] - trim[0]) / MM, (trim[3] - trim[1]) / MM)
    if any(abs(got - want) > TOLERANCE / MM for got, want in zip(size, TRIM_MM)):
        problems.append(f"the TrimBox is {size[0]:.2f} × {size[1]:.2f} mm, not A4 (210 × 297 mm)")
    if bleed is None:
        problems.append("it has no BleedBox")
    else:
        grown = [trim[0] - bleed[0], trim[1] - bleed[1], bleed[2] - trim[2], bleed[3] - trim[3]]
        if any(abs(side - BLEED_MM * MM) > TOLERANCE for side in grown):
            problems.append("the BleedBox is not the TrimBox plus exactly 3 mm on every side (it adds "
                            + ", ".join(f"{side / MM:.2f}" for side in grown) + " mm)")
    outer = bleed or trim
    room = (MARK_GAP_MM + MARK_LENGTH_MM) * MM
    if media is None or not _inside(outer, media) or min(
            outer[0] - media[0], outer[1] - media[1], media[2] - outer[2], media[3] - outer[3]) < room - TOLERANCE:
        problems.append(f"the MediaBox does not leave {MARK_GAP_MM + MARK_LENGTH_MM} mm beyond the bleed "
                        "for the marks")
    crop = _box(page, "/CropBox")
    if crop is not None and not _inside(outer, crop):
        problems.append("the CropBox cuts into the bleed")
    for problem in problems:
        result.add("PDF-PRINT-BOXES", problem, FIX, where)
    return (trim, bleed or trim, media or trim)


def _inside(inner, outer, slack: float = TOLERANCE) -> bool:
    return (inner[0] >= outer[0] - slack and inner[1] >= outer[1] - slack
            and inner[2] <= outer[2] + slack and inner[3] <= outer[3] + slack)


# --- content: printer's marks and device colour --------------------------------------

DEVICE = {"rg": "rgb", "RG": "rgb", "k": "cmyk", "K": "cmyk", "g": "gray", "G": "gray"}
SPACES = {"/DeviceRGB": "rgb", "/DeviceCMYK": "cmyk", "/DeviceGray": "gray"}


def _is_marks(operands, resources) -> bool:
    if len(operands) < 2 or operands[0] != "/Artifact":
        return False
    props = operands[1]
    if isinstance(props, pikepdf.Name):
        props = resources.get("/Properties", {}).get(props)
    return isinstance(props, pikepdf.Dictionary) and props.get("/Type") == "/Page"


def _page_content(page, colours: set[str]) -> list[tuple[list, float]]:
    """The subpaths painted inside printer's-marks artifacts, in default
    user space, each with its line width; and, into `colours`, the device
    colour families the page and its drawings paint with (where no Default
    colour space characterises them)."""
    resources = page.obj.get("/Resources", pikepdf.Dictionary())
    _device_colours(page, resources, colours, set())
    painted: list[tuple[list, float]] = []
    marked: list[bool] = []
    ctm, stack, width = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0), [], 1.0
    path: list[list] = []
    for operands, op in pikepdf.parse_content_stream(page):
        name = str(op)
        if name in ("BMC", "BDC"):
            marked.append(name == "BDC" and _is_marks(operands, resources))
            if marked[-1] and stack:            # inside the page's q: its clip may hide the marks
                painted.append(([], -1.0))
        elif name == "EMC" and marked:
            marked.pop()
        elif name == "q":
            stack.append((ctm, width))
        elif name == "Q" and stack:
            ctm, width = stack.pop()
        elif name == "cm":
            ctm = _multiply([float(v) for v in operands], ctm)
        elif not any(marked):
            continue
        elif name == "w":
            width = float(operands[0]) * (abs(ctm[0] * ctm[3] - ctm[1] * ctm[2]) ** 0.5)
        elif name == "m":
            path.append([_apply(ctm, operands[0], operands[1])])
        elif name in ("l", "c", "v", "y") and path:
            values = [float(v) for v in operands]
            path[-1] += [_apply(ctm, values[i], values[i + 1]) for i in range(0, len(values), 2)]
        elif name == "re":
            x, y, w, h = (float(v) for v in operands)
            path.append([_apply(ctm, x, y), _apply(ctm, x + w, y), _apply(ctm, x + w, y + h), _apply(ctm, x, y + h)])
        elif name in ("S", "s", "f", "F", "f*", "B", "B*", "b", "b*"):
            painted += [(points, width) for points in path]
            path = []
        elif name == "n":
            path = []
    return painted


def _multiply(m, n):
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (a * a2 + b * c2, a * b2 + b * d2, c * a2 + d * c2, c * b2 + d * d2,
            e * a2 + f * c2 + e2, e * b2 + f * d2 + f2)


def _apply(ctm, x, y) -> tuple[float, float]:
    x, y = float(x), float(y)
    return (ctm[0] * x + ctm[2] * y + ctm[4], ctm[1] * x + ctm[3] * y + ctm[5])


def _device_colours(holder, resources, colours: set[str], seen: set) -> None:
    """Device colour families painted by a page or form (and the forms and
    images it draws), unless its resources give a Default colour space."""
    spaces = resources.get("/ColorSpace", {})
    defaulted = {family for space, family in SPACES.items() if "/Default" + space[7:] in spaces}
    found: set[str] = set()
    for operands, op in pikepdf.parse_content_stream(holder):
        name = str(op)
        if name in DEVICE:
            found.add(DEVICE[name])
        elif name in ("cs", "CS") and str(operands[0]) in SPACES:
            found.add(SPACES[str(operands[0])])
        elif name == "Do":
            xobject = resources.get("/XObject", {}).get(operands[0])
            if xobject is None or xobject.objgen in seen:
                continue
            seen.add(xobject.objgen)
            if xobject.get("/Subtype") == "/Form":
                _device_colours(xobject, xobject.get("/Resources", resources), colours, seen)
            elif str(xobject.get("/ColorSpace", "")) in SPACES:
                found.add(SPACES[str(xobject.ColorSpace)])
    colours.update(found - defaulted)


def _marks(painted, boxes, number: int, result: CheckResult) -> None:
    if boxes is None:
        return
    where = f"page {number}"
    trim, bleed, media = boxes
    if not painted:
        result.add("PDF-PRINT-MARKS", "the page has no printer's marks (an /Artifact of /Type /Page)", FIX, where)
        return
    if any(not points for points, _ in painted):
        result.add("PDF-PRINT-MARKS", "the marks are drawn inside the page's graphics state, where its clip "
                   "to the bleed can hide them", "draw the marks after the Q that ends the page's drawing", where)
        painted = [(points, width) for points, width in painted if points]
    for points, width in painted:
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        half = width / 2
        area = (min(xs) - half, min(ys) - half, max(xs) + half, max(ys) + half)
        if area[0] < bleed[2] and area[2] > bleed[0] and area[1] < bleed[3] and area[3] > bleed[1]:
            result.add("PDF-PRINT-MARKS", f"a mark reaches into the bleed, at ({xs[0]:.1f}, {ys[0]:.1f})",
                       "printer's marks belong in the slug, beyond the BleedBox", where)
            return
        if not _inside(area, media):
            result.add("PDF-PRINT-MARKS", f"a mark lies outside the MediaBox, at ({xs[0]:.1f}, {ys[0]:.1f})",
                       "grow the MediaBox (SLUG_MM in printready.py) or shorten the marks", where)
            return
        if not 0 < width <= MAX_HAIRLINE:
            result.add("PDF-PRINT-MARKS", f"a mark is {width:.2f} pt wide, not a hairline",
                       f"draw the marks at most {MAX_HAIRLINE} pt wide", where)
            return
    lines = [points for points, _ in painted if len(points) == 2]
    for x, y in ((trim[0], trim[1]), (trim[2], trim[1]), (trim[0], trim[3]), (trim[2], trim[3])):
        across = any(abs(a[1] - y) < TOLERANCE and abs(b[1] - y) < TOLERANCE
                     and _outside(a[0], b[0], x, (trim[0], trim[2])) for a, b in lines)
        down = any(abs(a[0] - x) < TOLERANCE and abs(b[0] - x) < TOLERANCE
                   and _outside(a[1], b[1], y, (trim[1], trim[3])) for a, b in lines)
        if not (across and down):
            result.add("PDF-PRINT-MARKS", f"the trim corner at ({x:.1f}, {y:.1f}) lacks a crop mark on "
                       f"{'both trim lines' if not (across or down) else 'one of its trim lines'}",
                       "each corner needs a horizontal and a vertical crop mark, in line with the trim", where)


def _outside(a: float, b: float, edge: float, span: tuple[float, float]) -> bool:
    """Whether a mark from a to b lies beyond the trim edge at `edge` (one
    end of `span`), away from the page, at least the bleed away from it."""
    outward = -1 if abs(edge - span[0]) < abs(edge - span[1]) else 1
    return min((a - edge) * outward, (b - edge) * outward) >= BLEED_MM * MM - TOLERANCE


# --- PDF-X ---------------------------------------------------------------------------

def _annotations(page, boxes, number: int, result: CheckResult) -> None:
    if boxes is None:
        return
    bleed = boxes[1]
    for annot in page.obj.get("/Annots", []):
        kind = str(annot.get("/Subtype", ""))
        if "/A" in annot or "/AA" in annot:
            result.add("PDF-X", f"a {kind[1:]} annotation carries an action",
                       "PDF/X allows no actions; printready.py removes the links", f"page {number}")
        rect = [float(v) for v in annot.get("/Rect", [0, 0, 0, 0])]
        x0, x1, y0, y1 = min(rect[0], rect[2]), max(rect[0], rect[2]), min(rect[1], rect[3]), max(rect[1], rect[3])
        if kind not in KEPT_ANNOTATIONS and x0 < bleed[2] and x1 > bleed[0] and y0 < bleed[3] and y1 > bleed[1]:
            result.add("PDF-X", f"a {kind[1:]} annotation lies on the page's bleed",
                       "PDF/X keeps annotations out of the BleedBox; printready.py removes them", f"page {number}")


def _identification(pdf: pikepdf.Pdf, result: CheckResult) -> str | None:
    """PDF/X-4 identification and output intent; returns the output
    intent's colour family (rgb, cmyk, gray) when it has a usable profile."""
    problems: list[str] = []
    if pdf.pdf_version > "1.6":
        problems.append(f"the file is PDF {pdf.pdf_version}; PDF/X-4 is defined on PDF 1.6")
    if pdf.is_encrypted or "/Encrypt" in pdf.trailer:
        problems.append("the file is encrypted")
    if "/ID" not in pdf.trailer:
        problems.append("the trailer has no file ID")
    info = pdf.trailer.get("/Info", pikepdf.Dictionary())
    rdf = xmp_rdf(pdf)
    version, trapped = xmp_value(rdf, "pdfxid:GTS_PDFXVersion"), xmp_value(rdf, "pdf:Trapped")
    missing = [key for key in ("dc:title", "xmp:CreateDate", "xmp:ModifyDate", "xmpMM:DocumentID",
                               "xmpMM:VersionID", "xmpMM:RenditionClass") if not xmp_value(rdf, key)]
    if version != PDFX_VERSION:
        problems.append(f"the XMP pdfxid:GTS_PDFXVersion is '{version}', not '{PDFX_VERSION}'")
    if "/GTS_PDFXVersion" in info and str(info.GTS_PDFXVersion) != version:
        problems.append(f"the Info /GTS_PDFXVersion '{info.GTS_PDFXVersion}' differs from the XMP's")
    if "/GTS_PDFXConformance" in info:
        problems.append("the Info dictionary has a /GTS_PDFXConformance, which PDF/X-4 does not use")
    if str(info.get("/Trapped", "")) not in ("/True", "/False"):
        problems.append(f"the Info /Trapped is '{info.get('/Trapped', '')}', not /True or /False")
    elif trapped != str(info.Trapped)[1:]:
        problems.append(f"the XMP pdf:Trapped '{trapped}' differs from the Info /Trapped")
    problems += [f"the XMP has no {key}" for key in missing]
    problems += [f"the Info dictionary has no {key}" for key in ("/Title", "/CreationDate", "/ModDate")
                 if key not in info]
    root = pdf.Root
    if "/AA" in root or isinstance(root.get("/OpenAction"), pikepdf.Dictionary) \
            or "/JavaScript" in root.get("/Names", {}):
        problems.append("the document carries an action or JavaScript")
    space = _output_intent(root, problems)
    for problem in problems:
        result.add("PDF-X", problem, FIX)
    return space


ICC_SPACES = {b"RGB ": ("rgb", 3), b"CMYK": ("cmyk", 4), b"GRAY": ("gray", 1)}


def _output_intent(root, problems: list[str]) -> str | None:
    intents = [i for i in root.get("/OutputIntents", []) if i.get("/S") == "/GTS_PDFX"]
    if len(intents) != 1:
        problems.append(f"the file has {len(intents)} GTS_PDFX output intents, not one")
        return None
    intent = intents[0]
    if not str(intent.get("/OutputConditionIdentifier", "")).strip():
        problems.append("the output intent has no OutputConditionIdentifier")
    if not str(intent.get("/Info", "")).strip():
        problems.append("the output intent has no Info describing the printing condition")
    profile = intent.get("/DestOutputProfile")
    data = profile.read_bytes() if isinstance(profile, pikepdf.Stream) else b""
    if len(data) < 128 or data[36:40] != b"acsp" or data[16:20] not in ICC_SPACES:
        problems.append("the output intent embeds no usable ICC profile (DestOutputProfile)")
        return None
    family, components = ICC_SPACES[data[16:20]]
    if int(profile.get("/N", 0)) != components:
        problems.append(f"the output profile's /N is {profile.get('/N')}, its colour space has {components}")
    return family
