"""Stage 3b: package the rendered XHTML as an EPUB 3 with ebooklib.

ebooklib writes our complete XHTML verbatim (EpubItem, not EpubHtml, which
would re-parse it). A small writer subclass adds what ebooklib leaves out:
`xml:lang` on the package, no NCX reference in the spine, and fixed zip entry
dates so the same sources give the same bytes."""

from __future__ import annotations

import datetime as dt
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ebooklib import epub
from lxml import etree
from markupsafe import Markup

from .check.content import check_content
from .check.metadata import CONFORMS_TO
from .cover import lettering, mark_markup
from .fonts import needed_families, piece_roles
from .model import Guide
from .outputs import atomic_path
from .render import Renderer, epub_format

ZIP_DATE = (1980, 1, 1, 0, 0, 0)


@dataclass
class EpubFile:
    """One file inside the EPUB."""

    name: str                 # path inside the EPUB's content folder
    media_type: str
    content: bytes
    uid: str
    properties: tuple[str, ...] = ()
    in_spine: bool = False


class _Writer(epub.EpubWriter):
    def _write_opf_file(self, root):
        root.set("{http://www.w3.org/XML/1998/namespace}lang", self.book.language)
        super()._write_opf_file(root)

    def _write_opf_spine(self, root, ncx_id):
        super()._write_opf_spine(root, ncx_id)
        if ncx_id is None:     # EPUB 3 needs no NCX; ebooklib names one anyway
            root.find("spine").attrib.pop("toc", None)

    def write(self):
        with zipfile.ZipFile(self.file_name, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
            self.out = _FixedDates(out)
            self.out.writestr("mimetype", "application/epub+zip", compress_type=zipfile.ZIP_STORED)
            self._write_container()
            self._write_opf()
            self._write_items()


class _FixedDates:
    """A zip writer whose entries all carry one fixed date and mode."""

    def __init__(self, out: zipfile.ZipFile):
        self._out = out

    def writestr(self, name, data, compress_type=zipfile.ZIP_DEFLATED):
        info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
        info.compress_type = compress_type
        info.external_attr = 0o644 << 16
        self._out.writestr(info, data)


def write_epub(book: epub.EpubBook, files: list[EpubFile], target: Path, modified: dt.datetime) -> Path:
    """Add the files to the book (in order; those marked go in the spine) and
    write it atomically to `target`. `modified` must be in UTC."""
    spine = []
    for f in files:
        item = epub.EpubItem(uid=f.uid, file_name=f.name, media_type=f.media_type, content=f.content)
        item.properties = list(f.properties)
        book.add_item(item)
        if f.in_spine:
            spine.append(item)
    book.spine = spine
    with atomic_path(target) as tmp:
        writer = _Writer(str(tmp), book, {"mtime": modified, "epub2_guide": False})
        writer.process()
        writer.write()
    return target



RELATORS = {"author": "aut", "editor": "edt", "illustrator": "ill", "reviewer": "rev", "designer": "dsr"}
MEDIA_TYPES = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg",
               ".jpeg": "image/jpeg", ".woff2": "font/woff2", ".css": "text/css"}


def _xhtml(renderer: Renderer, fmt, title: str, content: str, body_class: str | None = None) -> bytes:
    return renderer.page("epub/page.xhtml.j2", fmt, title=title, content=Markup(content),
                         body_class=body_class).encode("utf-8")


XHTML_NS = "http://www.w3.org/1999/xhtml"
OPS_NS = "http://www.idpf.org/2007/ops"
# Elements a page-break marker may stand before (a span is allowed there).
MARKER_BEFORE = {"section", "aside", "header", "nav", "figure", "p", "div", "table", "dl", "ul", "ol",
                 "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "a", "sup", "span", "img"}


def _tree(f: EpubFile) -> etree._Element:
    return etree.fromstring(f.content)


def plan_pages(files: list[EpubFile], starts: dict[int, list[str]]) -> list[tuple[int, str, str | None]]:
    """Where each page of the PDF edition begins in the EPUB: (page number,
    file, id of the element the page begins before). A page begins before the
    first element that starts on it; a page on which nothing new starts (a
    long paragraph runs over it) gets None: it is marked right after the
    page before it."""
    where: dict[str, str] = {}
    for f in files:
        if f.media_type == "application/xhtml+xml":
            for element in _tree(f).iter():
                ident = element.get("id") if isinstance(element.tag, str) else None
                if ident and ident not in where and etree.QName(element).localname in MARKER_BEFORE:
                    where[ident] = f.name
    seen: set[str] = set()
    plan: list[tuple[int, str, str | None]] = []
    for number in sorted(starts):
        new = [i for i in starts[number] if i not in seen]
        seen.update(starts[number])
        anchor = next((i for i in new if i in where), None)
        if anchor:
            plan.append((number, where[anchor], anchor))
        elif plan:
            plan.append((number, plan[-1][1], None))
    return plan


def mark_pages(files: list[EpubFile], plan: list[tuple[int, str, str | None]]) -> None:
    """Insert a doc-pagebreak marker for every page of the plan."""
    trees = {f.name: _tree(f) for f in files if any(name == f.name for _, name, _ in plan)}
    previous = None
    for number, name, anchor in plan:
        marker = etree.Element(f"{{{XHTML_NS}}}span", {f"{{{OPS_NS}}}type": "pagebreak",
                                                       "role": "doc-pagebreak", "id": f"page-{number}",
                                                       "aria-label": str(number)})
        if anchor is None:
            previous.addnext(marker)
        else:
            trees[name].xpath("//*[@id=$id]", id=anchor)[0].addprevious(marker)
        previous = marker
    for f in files:
        if f.name in trees:
            f.content = etree.tostring(trees[f.name], encoding="utf-8", xml_declaration=True,
                                       doctype="<!DOCTYPE html>")


def accessibility_metadata(guide: Guide, page_list: bool) -> list[tuple[str, str]]:
    """schema.org accessibility properties, each derived from what the guide
    holds rather than written by hand."""
    has_figures = bool(guide.figures)
    props = [("schema:accessMode", "textual")]
    if has_figures:
        props.append(("schema:accessMode", "visual"))
    props.append(("schema:accessModeSufficient", "textual"))
    if has_figures:
        props.append(("schema:accessModeSufficient", "textual,visual"))
    features = ["structuralNavigation", "tableOfContents", "readingOrder", "displayTransformability"]
    if has_figures:
        features.append("alternativeText")
    if page_list:
        features += ["printPageNumbers", "pageNavigation"]
    props += [("schema:accessibilityFeature", f) for f in features]
    props.append(("schema:accessibilityHazard", "none"))
    props.append(("schema:accessibilitySummary", guide.meta.accessibility_summary))
    return props


def build_epub(guide: Guide, renderer: Renderer, target: Path,
               starts: dict[int, list[str]], page_source: str) -> Path:
    """Package the guide as an EPUB 3. `starts` maps each page of the PDF
    edition named `page_source` to the ids that begin on it."""
    meta = guide.meta
    fmt = epub_format(guide)
    book = epub.EpubBook()
    book.set_identifier(meta.identifiers.urn)
    book.set_title(meta.full_title)
    book.set_language(meta.language)
    for i, person in enumerate(meta.contributors, 1):
        element = "creator" if person.role == "author" else "contributor"
        book.add_metadata("DC", element, person.name, {"id": f"contributor-{i}"})
        book.add_metadata(None, "meta", RELATORS[person.role],
                          {"refines": f"#contributor-{i}", "property": "role", "scheme": "marc:relators"})
    book.add_metadata("DC", "publisher", meta.publisher)
    book.add_metadata("DC", "rights", f"{meta.licence.name} ({meta.licence.url})")
    book.add_metadata("DC", "description", meta.description)
    book.add_metadata("DC", "date", meta.edition.date.isoformat())
    for keyword in meta.keywords:
        book.add_metadata("DC", "subject", keyword)
    for prop, value in accessibility_metadata(guide, page_list=bool(starts)):
        book.add_metadata(None, "meta", value, {"property": prop})
    if starts:
        book.add_metadata(None, "meta", f"{page_source} (edition {meta.edition.number}, "
                          f"version {meta.edition.version})", {"property": "pageBreakSource"})
    # Claim conformance only when the content lint passes; `build.py check`
    # then proves the claim against the built files (EPUB-META-CLAIM).
    if check_content(guide).passed:
        book.add_metadata(None, "meta", CONFORMS_TO, {"property": "dcterms:conformsTo"})
        book.add_metadata(None, "meta", meta.publisher, {"property": "a11y:certifiedBy"})

    assets: dict[Path, str] = {}         # brand file -> name inside the EPUB

    def url(path: Path) -> str:
        folder = "fonts" if path.suffix == ".woff2" else "images"
        assets[path] = f"{folder}/{path.name}"
        return f"../{folder}/{path.name}"

    cover_alt = f"Cover of {meta.full_title}, published by {meta.publisher}"
    # The cover holds its mark and lettering (cover.py): shown as an image, it loads nothing else.
    brand_base = guide.brand_path.parent if guide.brand_path else renderer.styles
    mark = Markup(mark_markup(renderer.brand_file(guide.brand.mark), 960, 96, 144))
    # The stylesheet is written last, when the text is known: it declares (and
    # the EPUB packs) only the brand fonts the text needs.
    stylesheet = EpubFile("css/guide.css", "text/css", b"", "css")
    files = [stylesheet]
    files.append(EpubFile("images/cover.svg", "image/svg+xml",
                          renderer.page("epub/cover.svg.j2", fmt, cover_alt=cover_alt, mark=mark,
                                        lines=lettering(guide, brand_base)).encode("utf-8"),
                          "cover-image", properties=("cover-image",)))
    # The cleaned figures (load/figures.py), the very bytes the PDF drew, at
    # their path inside the guide: always relative to the package.
    figures = {f.href: f for f in guide.figures}
    for i, href in enumerate(sorted(figures), 1):
        files.append(EpubFile(href, figures[href].media_type, figures[href].data, f"figure-{i}"))
    files.append(EpubFile("cover.xhtml", "application/xhtml+xml",
                          _xhtml(renderer, fmt, meta.full_title,
                                 renderer.page("epub/cover.xhtml.j2", fmt, cover_alt=cover_alt), "cover"),
                          "cover", in_spine=True))
    # A first edition's one changelog entry is a section of the imprint, as in
    # the PDF (templates/pdf/book.html.j2): no near-empty page.
    fold = len(meta.changelog) == 1
    files.append(EpubFile("imprint.xhtml", "application/xhtml+xml",
                          _xhtml(renderer, fmt, "About this edition",
                                 renderer.page("partials/imprint.html.j2", fmt, fold_whats_new=fold)),
                          "imprint", in_spine=True))
    if not fold:
        files.append(EpubFile("whats-new.xhtml", "application/xhtml+xml",
                              _xhtml(renderer, fmt, "What is new in this edition",
                                     renderer.page("partials/whats-new.html.j2", fmt)),
                              "whats-new", in_spine=True))
    nav = EpubFile("nav.xhtml", "application/xhtml+xml", b"", "nav", properties=("nav",), in_spine=True)
    files.append(nav)
    for doc in guide.documents:
        content = renderer.partial("partials/document.html.j2", doc=doc, body=renderer.body(doc, fmt),
                                   title=renderer.title(doc, fmt))
        files.append(EpubFile(f"{doc.id}.xhtml", "application/xhtml+xml",
                              _xhtml(renderer, fmt, doc.meta.title, content), f"doc-{doc.id}",
                              in_spine=True))
    # The navigation document lists the pages, and a page (the contents) begins
    # in it: plan with a nav that has no page list yet, then render it in full.
    nav.content = _xhtml(renderer, fmt, "Contents", renderer.page("epub/nav.xhtml.j2", fmt, page_list=[]))
    plan = plan_pages(files, starts)
    nav.content = _xhtml(renderer, fmt, "Contents", renderer.page(
        "epub/nav.xhtml.j2", fmt, page_list=[(number, f"{name}#page-{number}") for number, name, _ in plan]))
    mark_pages(files, plan)
    css = renderer.stylesheet(fmt, url, needed_fonts(guide, renderer, files))
    stylesheet.content = css.encode("utf-8")
    # Only the brand files the stylesheet uses (the mark is in the cover, unless a brand's CSS shows it too).
    used = sorted((name, path) for path, name in assets.items() if f"../{name}" in css)
    files[1:1] = [EpubFile(name, MEDIA_TYPES[path.suffix], path.read_bytes(), f"asset-{i}")
                  for i, (name, path) in enumerate(used, 1)]
    return write_epub(book, files, target, guide.build_date)


def needed_fonts(guide: Guide, renderer: Renderer, files: list[EpubFile]) -> set[str]:
    """The brand families the EPUB's text is set in (fonts.py): only those
    are declared and packed."""
    chars: dict[str, set[str]] = {"body": set(), "heading": set(), "monospace": set()}
    for f in files:
        if f.media_type == "application/xhtml+xml":
            for role, found in piece_roles(f.content, html=False).items():
                chars[role] |= found
    base = guide.brand_path.parent if guide.brand_path else renderer.styles
    return needed_families(guide.brand, base, chars)

