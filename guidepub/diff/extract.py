"""What a diff compares, read from one build folder: for every PDF edition
its metadata, structure and pages (their tagged text, which leaves out
running heads and page numbers, and a hash of what each page draws); for the
EPUB its metadata, its text cut into sections (no line or page breaks, so
reflow never shows as a change), its figures, and a hash of every file that
is not a document (stylesheets, fonts, images)."""

from __future__ import annotations

import hashlib
import json
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
from lxml import etree

from ..errors import GuideError
from ..pdf.tagtree import marked_text, tag_tree

HEADING = re.compile(r"^h[1-6]$")
HEADINGS = ("H1", "H2", "H3", "H4", "H5", "H6")
PAGE_REF = re.compile(r"\(page \d+\)")
SUBSET_TAG = re.compile(r"^/?[A-Z]{6}\+")
NS = {"h": "http://www.w3.org/1999/xhtml", "opf": "http://www.idpf.org/2007/opf",
      "dc": "http://purl.org/dc/elements/1.1/"}
# The parts of a page's resources that belong to the whole document, not to
# what the page draws: a font's program and widths grow whenever any page
# uses a new glyph. A page's own text is in its content stream.
DOCUMENT_WIDE = {"/FontFile", "/FontFile2", "/FontFile3", "/W", "/Widths", "/CIDToGIDMap", "/ToUnicode",
                 "/CIDSet", "/Parent", "/P", "/StructParent", "/StructParents", "/Length"}


def normal(text: str) -> str:
    return " ".join(text.replace("\u00ad", "").split())


@dataclass
class Section:
    id: str
    heading: str
    level: int
    document: str               # file name inside the EPUB
    words: list[str] = field(default_factory=list)
    place: str = ""             # the document's name: "Chapter 1: First chapter"


@dataclass
class Figure:
    id: str
    label: str                  # "Figure 1"
    caption: str
    alt: str
    src: str                    # path inside the EPUB (EPUB/figures/x.svg)
    sha256: str
    document: str
    place: str


@dataclass
class PdfSide:
    variant: str
    path: Path
    metadata: dict
    structure: dict
    pages: list[str]            # tagged text of each page
    page_hashes: list[str]      # what each page draws: content, images, drawings
    frames: list[tuple[float, float, float, float]]   # each page's trim box, points from the top left


@dataclass
class EpubSide:
    path: Path
    metadata: dict
    sections: list[Section]
    figures: list[Figure]
    files: dict[str, tuple[str, int]]      # every file but the documents: name -> (sha256, bytes)
    structure: dict
    documents: dict[str, str]              # file name -> its name ("Chapter 1: First chapter")


@dataclass
class Side:
    folder: Path
    manifest: dict
    outputs: dict[str, dict]               # variant -> its manifest entry
    pdfs: dict[str, PdfSide] = field(default_factory=dict)
    epub: EpubSide | None = None
    webs: dict[str, "WebSide"] = field(default_factory=dict)

    def path(self, variant: str) -> Path:
        return self.folder / self.outputs[variant]["file"]


def read_manifest(folder: Path) -> tuple[dict, dict[str, dict]]:
    path = folder / "manifest.json"
    if not path.is_file():
        raise GuideError.one("DIFF-INPUT", f"{folder} holds no manifest.json: is it a build folder?", folder,
                             hint="build it first with `python build.py --out FOLDER`, or pass a git revision")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        outputs = {e["variant"]: e for e in manifest["outputs"]}
    except (ValueError, KeyError, TypeError) as exc:
        raise GuideError.one("DIFF-INPUT", f"{path} is not a build manifest ({exc})", path,
                             hint="build the folder again") from None
    for entry in outputs.values():
        if not (folder / entry["file"]).exists():
            raise GuideError.one("DIFF-INPUT", f"{entry['file']} is listed in {path} but missing", path,
                                 hint="build the folder again")
    if not outputs:
        raise GuideError.one("DIFF-INPUT", f"{path} lists no outputs", path, hint="build the folder again")
    return manifest, outputs


def read_side(folder: Path, variants: set[str] | None = None, figures_of: set[str] | None = None) -> Side:
    """Everything a diff needs from one build folder, for the editions
    named (default: all); each file is read once."""
    manifest, outputs = read_manifest(folder)
    side = Side(folder, manifest, outputs)
    for variant, entry in outputs.items():
        if variants is not None and variant not in variants:
            continue
        path = folder / entry["file"]
        if entry.get("format") == "pdf":
            side.pdfs[variant] = read_pdf(variant, path)
        elif entry.get("format") == "epub":
            side.epub = read_epub(path)
        elif entry.get("format") == "web" and path.is_dir():
            side.webs[variant] = read_web(path)
    return side


@dataclass
class WebSide:
    sections: list[Section]
    structure: dict


def read_web(folder: Path) -> WebSide:
    """A website's text and structure, like the EPUB's: its pages in the
    order the start page's contents lists them, each page's <main> cut at
    every heading."""
    start = etree.parse(str(folder / "index.html")).getroot()
    order: list[str] = []
    for href in start.xpath("//*[local-name()='main']//*[local-name()='a']/@href"):
        page = href.split("#", 1)[0]
        if page.endswith(".html") and "/" not in page and page not in order and (folder / page).is_file():
            order.append(page)
    sections: list[Section] = []
    structure: dict[str, list[str]] = {"web headings": [], "web figures": [], "web links": [], "web tables": []}
    for page in order:
        tree = etree.parse(str(folder / page)).getroot()
        main = (tree.xpath("//*[local-name()='main']") or [tree])[0]
        sections += _sections(page, main, _document_name(page, tree))
        for element in main.iter():
            tag = _local(element) if isinstance(element.tag, str) else ""
            if HEADING.match(tag):
                structure["web headings"].append(f"{tag.upper()} {_text(element)}")
            elif tag == "img":
                structure["web figures"].append(element.get("alt") or "")
            elif tag == "a" and element.get("href"):
                structure["web links"].append(f"{_text(element)} → {element.get('href')}")
            elif tag == "caption":
                structure["web tables"].append(_text(element))
    return WebSide(sections, structure)


# --- PDF ---------------------------------------------------------------------

def read_pdf(variant: str, path: Path) -> PdfSide:
    with pikepdf.open(path) as doc:
        texts, _ = marked_text(doc)
        tags = tag_tree(doc, texts)
        pages = [""] * len(doc.pages)
        for (page, _mcid), text in sorted(texts.items()):
            pages[page] += text
        memo: dict = {}
        hashes = [_page_hash(page, memo) for page in doc.pages]
        frames = [_frame(page) for page in doc.pages]
        info = {k: str(v) for k, v in doc.docinfo.items()}
        first = doc.pages[0]
        fonts = sorted({SUBSET_TAG.sub("", str(f.get("/BaseFont", ""))).lstrip("/") for p in doc.pages
                        for f in p.obj.get("/Resources", {}).get("/Font", {}).values()})
        metadata = {"title": info.get("/Title", ""), "language": str(doc.Root.get("/Lang", "")),
                    "pages": len(doc.pages), "page size": _size(first.MediaBox),
                    "trim size": _size(first.obj.get("/TrimBox", first.MediaBox)), "fonts": fonts}
        links = sorted({str(a.A.URI) for p in doc.pages for a in p.obj.get("/Annots", [])
                        if a.get("/A") is not None and a.A.get("/S") == "/URI"})
        outline: list[str] = []
        with doc.open_outline() as tree:
            def walk(items, depth):
                for item in items:
                    outline.append(f"{'  ' * depth}{normal(item.title)}")
                    walk(item.children, depth + 1)
            walk(tree.root, 0)
    roles: dict[str, int] = {}
    for node in tags.walk():
        roles[node.role] = roles.get(node.role, 0) + 1
    structure = {
        "outline": outline,
        "headings": [f"{n.role} {normal(n.all_text(notes=False))}" for n in tags.walk() if n.role in HEADINGS],
        "tables": [normal(c.all_text()) for n in tags.walk() if n.role == "Table"
                   for c in n.children if c.role == "Caption"],
        "links": links,
        "tags": dict(sorted(roles.items())),
    }
    return PdfSide(variant, path, metadata, structure, [normal(t) for t in pages], hashes, frames)


def _size(box) -> str:
    x0, y0, x1, y1 = (float(v) for v in box)
    return f"{x1 - x0:.1f} × {y1 - y0:.1f} pt ({(x1 - x0) / 72 * 25.4:.0f} × {(y1 - y0) / 72 * 25.4:.0f} mm)"


def _frame(page: pikepdf.Page) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = (float(v) for v in page.MediaBox)
    tx0, ty0, tx1, ty1 = (float(v) for v in page.obj.get("/TrimBox", page.MediaBox))
    return (tx0 - x0, y1 - ty1, tx1 - x0, y1 - ty0)


def _page_hash(page: pikepdf.Page, memo: dict) -> str:
    """A hash of what a page draws: its content streams and, recursively,
    every resource they use (images, drawings, colour spaces, graphics
    states, fonts without their document-wide parts). Equal hashes mean the
    page looks the same; a different hash sends the page to be rendered."""
    digest = hashlib.sha256()
    digest.update(_object_hash(page.obj.get("/Contents"), memo, 0).encode())
    digest.update(_object_hash(page.obj.get("/Resources"), memo, 0).encode())
    for key in ("/MediaBox", "/TrimBox", "/BleedBox", "/Rotate"):
        digest.update(key.encode() + str(page.obj.get(key, "")).encode())
    return digest.hexdigest()


def _object_hash(obj, memo: dict, depth: int) -> str:
    if obj is None:
        return "-"
    objgen = getattr(obj, "objgen", (0, 0)) if isinstance(obj, pikepdf.Object) else (0, 0)
    if objgen != (0, 0) and objgen in memo:
        return memo[objgen]
    if objgen != (0, 0):
        memo[objgen] = "cycle"              # a reference back to an object being hashed
    digest = hashlib.sha256()
    if depth > 24:
        digest.update(b"deep")
    elif isinstance(obj, pikepdf.Stream):
        digest.update(b"stream" + obj.read_raw_bytes())
        for key in sorted(obj.keys()):
            if key not in DOCUMENT_WIDE:
                digest.update(key.encode() + _object_hash(obj[key], memo, depth + 1).encode())
    elif isinstance(obj, pikepdf.Dictionary):
        for key in sorted(obj.keys()):
            if key not in DOCUMENT_WIDE:
                digest.update(key.encode() + _object_hash(obj[key], memo, depth + 1).encode())
    elif isinstance(obj, pikepdf.Array):
        digest.update(b"[")
        for item in obj:
            digest.update(_object_hash(item, memo, depth + 1).encode())
    else:
        digest.update(SUBSET_TAG.sub("", str(obj)).encode())
    value = digest.hexdigest()
    if objgen != (0, 0):
        memo[objgen] = value
    return value


# --- EPUB --------------------------------------------------------------------

def _text(element) -> str:
    return normal("".join(element.itertext()))


def _local(element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def read_epub(path: Path) -> EpubSide:
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
        opf_name = "EPUB/content.opf"
        opf = etree.fromstring(z.read(opf_name))
        base = posixpath.dirname(opf_name)
        items = {i.get("id"): i for i in opf.iterfind("opf:manifest/opf:item", NS)}
        spine, docs, nav = [], [], None
        for ref in opf.iterfind("opf:spine/opf:itemref", NS):
            item = items[ref.get("idref")]
            href = item.get("href")
            spine.append(href)
            tree = etree.fromstring(z.read(posixpath.join(base, href)))
            if "nav" in (item.get("properties") or "").split():
                nav = tree
            elif item.get("id") != "cover":
                docs.append((href, tree))
        files = {}
        for name in names:
            if name.endswith(".xhtml") or name in ("mimetype", "META-INF/container.xml", opf_name):
                continue
            data = z.read(name)
            files[name[len(base) + 1:] if name.startswith(base + "/") else name] = \
                (hashlib.sha256(data).hexdigest(), len(data))
        documents = {href: _document_name(href, tree) for href, tree in docs}
        sections, figures = [], []
        for href, tree in docs:
            sections += _sections(href, tree, documents[href])
            figures += _figures(href, tree, documents[href], base, files)
        contents = [_text(a) for a in nav.xpath("//*[local-name()='nav'][@*[local-name()='type']='toc']"
                                                 "//*[local-name()='a']")] if nav is not None else []
    metadata = {}
    for element in opf.find("opf:metadata", NS):
        if not isinstance(element.tag, str) or element.get("refines"):
            continue
        key = element.get("property") or (f"dc:{_local(element)}" if element.tag.startswith("{" + NS["dc"])
                                          else None)
        if key:
            metadata.setdefault(key, []).append(normal(element.text or ""))
    metadata = {k: v[0] if len(v) == 1 else v for k, v in sorted(metadata.items())}
    return EpubSide(path, metadata, sections, figures, files, {"epub spine": spine, "epub contents": contents},
                    documents)


def _document_name(href: str, tree) -> str:
    """'Chapter 1: First chapter' (its label and title), else its title."""
    label = tree.xpath("//*[local-name()='p'][contains(concat(' ', @class, ' '), ' chapter-label ')]")
    h1 = tree.xpath("//*[local-name()='h1']")
    title = _text(h1[0]) if h1 else ""
    if not title:
        titles = tree.xpath("//*[local-name()='title']")
        title = _text(titles[0]) if titles else href
    return f"{_text(label[0])}: {title}" if label and _text(label[0]) else title


def _in_figure_with_image(element) -> bool:
    parent = element.getparent()
    return parent is not None and _local(parent) == "figure" and \
        bool(parent.xpath(".//*[local-name()='img']"))


def _visible_text(element) -> str:
    """An element's text as a reader meets it: a note's number as [1], the
    notes' "Back to text" links left out."""
    out: list[str] = []

    def walk(e) -> None:
        if not isinstance(e.tag, str):
            return
        classes = (e.get("class") or "").split()
        if "footnote-backref" in classes or e.get("role") == "doc-backlink":
            return
        if "footnote-ref" in classes:
            out.append(f"[{''.join(e.itertext()).strip()}]")
            return
        out.append(e.text or "")
        for child in e:
            walk(child)
            out.append(child.tail or "")
    walk(element)
    return "".join(out)


def _sections(href: str, tree, place: str) -> list[Section]:
    """The document's text cut at every heading: one section per heading.
    Figures are left out: their alt text and caption are compared figure by
    figure."""
    found: list[Section] = [Section(f"{href}#", place, 0, href, place=place)]
    current = found[0]
    for element in tree.iter():
        tag = _local(element)
        if element.get("role") == "doc-endnotes":
            # The document's notes: a section of their own, so that text
            # moved out of the last section does not take them along.
            current = Section(f"{href}#notes", "Notes", 2, href, place=place)
            found.append(current)
        elif HEADING.match(tag):
            current = Section(element.get("id") or f"{href}#{len(found)}", _text(element), int(tag[1]), href,
                              place=place)
            found.append(current)
        elif tag in ("p", "li", "dt", "dd", "th", "td", "figcaption", "caption"):
            parent = element.getparent()
            if parent is not None and _local(parent) in ("li", "dd"):
                continue                          # its text is already in the item
            if tag == "figcaption" and _in_figure_with_image(element):
                continue
            if "chapter-label" in (element.get("class") or "").split():
                continue                          # the document's name carries it
            current.words += _visible_text(element).split()
    return [s for s in found if s.words or s.level]


def _figures(href: str, tree, place: str, base: str, files: dict) -> list[Figure]:
    found = []
    for n, figure in enumerate(tree.xpath("//*[local-name()='figure']"), 1):
        images = figure.xpath(".//*[local-name()='img']")
        if not images:
            continue
        img = images[0]
        captions = figure.xpath("./*[local-name()='figcaption']")
        label, caption = "", ""
        if captions:
            labels = captions[0].xpath(".//*[contains(concat(' ', @class, ' '), ' label ')]")
            label = _text(labels[0]).rstrip(".") if labels else ""
            caption = _text(captions[0])
            if labels and caption.startswith(_text(labels[0])):
                caption = caption[len(_text(labels[0])):].strip()
        src = posixpath.normpath(posixpath.join(posixpath.dirname(href), img.get("src", "")))
        sha = files.get(src, ("", 0))[0]
        found.append(Figure(figure.get("id") or f"{href}#figure-{n}", label or f"Figure in {place}", caption,
                            normal(img.get("alt", "")), src, sha, href, place))
    return found
