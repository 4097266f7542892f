"""Stage 3c: the web edition, a static site in a folder.

Every page is rendered from the same block partials as the PDF and EPUB
(templates/blocks/, through Renderer.body with the web Format, whose
cross-references point at other pages), wrapped in templates/web/page.html.j2,
then parsed and finished here: the glossary's terms linked from their first
use on each page, wide tables made scrollable regions, `epub:type` dropped.
Pages are written as HTML that is also well-formed XML (void elements closed,
no empty element written short), so both an HTML5 parser and an XML parser
read them. Nothing depends on the clock or on the order of a directory
listing: the same sources give the same bytes."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from lxml import etree
from markupsafe import Markup

from ..errors import GuideError
from ..model import Guide
from ..render import Renderer, web_format
from .downloads import Download
from .glossary import glossary_terms, link_first_uses
from .search import SCRIPTS, index_script, sections, write_scripts

XHTML_NS = "http://www.w3.org/1999/xhtml"
OPS_NS = "http://www.idpf.org/2007/ops"
H = f"{{{XHTML_NS}}}"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# Pages the site itself has; a document with one of these ids would overwrite it.
SITE_PAGES = {"index": "the start page", "search": "the search page"}
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True)


@dataclass
class Page:
    name: str                          # file name in the site
    title: str                         # for <title>
    label: str                         # for the breadcrumb and previous/next links
    kind: str                          # start, document, imprint, whats-new, search
    summary: str | None = None
    scripts: tuple[str, ...] = ()
    content: Markup = Markup("")
    tree: etree._Element | None = field(default=None, repr=False)


def build_site(guide: Guide, renderer: Renderer, target: Path, shown: list[Download],
               step: Callable[[str], None] = lambda _msg: None) -> Path:
    """Write the web edition into the folder `target` (made here; the
    pipeline stages it and moves it into place). `shown` are the editions its
    download block lists."""
    step("Writing the web edition")
    _check_names(guide)
    fmt = web_format(guide)
    meta = guide.meta
    docs = [Page(f"{d.id}.html", d.meta.title, d.label, "document", d.meta.summary) for d in guide.documents]
    start = Page("index.html", meta.full_title, "Contents", "start")
    imprint = Page("imprint.html", "About this edition", "About this edition", "imprint")
    whats_new = Page("whats-new.html", "What is new in this edition", "What is new in this edition", "whats-new")
    search = Page("search.html", "Search this guide", "Search", "search", scripts=SCRIPTS)

    start.content = Markup(renderer.page("web/start.html.j2", fmt, first=docs[0] if docs else None))
    for page, doc in zip(docs, guide.documents):
        page.content = Markup(renderer.partial("partials/document.html.j2", doc=doc, body=renderer.body(doc, fmt),
                                               title=renderer.title(doc, fmt)))
    # A first edition's one changelog entry is a section of the imprint, as
    # in the PDF and the EPUB: no near-empty page.
    fold = len(meta.changelog) == 1
    imprint.content = Markup(renderer.page("partials/imprint.html.j2", fmt, fold_whats_new=fold))
    whats_new.content = Markup(renderer.page("partials/whats-new.html.j2", fmt))
    edition_pages = [imprint] if fold else [imprint, whats_new]

    # Previous and next follow the reading order: the start page, every
    # document, then the edition's own pages.
    order = [start, *docs, *edition_pages]
    for i, page in enumerate(order):
        page.tree = _page_tree(renderer, fmt, page, shown, order[i - 1] if i else None,
                               order[i + 1] if i + 1 < len(order) else None)
    terms = glossary_terms(guide, {doc.id: page.tree for doc, page in zip(guide.documents, docs)})
    for doc, page in zip(guide.documents, docs):
        if doc.meta.type != "glossary":
            link_first_uses(_main(page.tree), terms)
    readable = [*docs, *edition_pages]
    for page in readable:
        _scrollable_tables(page.tree)
        _distinct_block_names(page.tree)
    listed = [(page, _headings(page)) for page in readable]
    search.content = Markup(renderer.page("web/search.html.j2", fmt, listed=listed))
    search.tree = _page_tree(renderer, fmt, search, shown, None, None)
    pages = [*order, search]
    for page in pages:
        _drop_epub_types(page.tree)

    assets: dict[Path, str] = {}       # brand file -> its path in the site

    def url(path: Path) -> str:
        folder = "fonts" if path.suffix == ".woff2" else "images"
        assets[path] = f"{folder}/{path.name}"
        return f"../{folder}/{path.name}"

    css = renderer.stylesheet(fmt, url, _needed_fonts(guide, renderer, pages))
    found = [s for page in readable for s in sections(page.name, page.label, _main(page.tree))]
    index = index_script(guide, found)

    target.mkdir(parents=True)
    for page in sorted(pages, key=lambda p: p.name):
        (target / page.name).write_bytes(serialize(page.tree))
    _write(target / "css" / "guide.css", css.encode("utf-8"))
    for path, name in sorted(assets.items(), key=lambda a: a[1]):
        _write(target / name, path.read_bytes())
    figures = {f.href: f for f in guide.figures}
    for href in sorted(figures):
        _write(target / href, figures[href].data)
    for d in shown:
        _write(target / "downloads" / d.file, d.source.read_bytes())
    write_scripts(target, index)
    # The icon browsers show: the mark on the brand's main colour.
    mark = renderer.brand_file(guide.brand.mark)
    media = {".svg": "image/svg+xml", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}
    mark_data = f"data:{media.get(mark.suffix.lower(), 'image/png')};base64,{base64.b64encode(mark.read_bytes()).decode()}"
    _write(target / "images" / "icon.svg", renderer.page("web/icon.svg.j2", fmt, mark_data=mark_data).encode())
    return target


def _check_names(guide: Guide) -> None:
    for doc in guide.documents:
        if doc.id in SITE_PAGES:
            line = _id_line(doc.path)
            raise GuideError.one("CONTENT-DUPLICATE-ID", f"the id '{doc.id}' is reserved for the web edition's "
                                 f"{SITE_PAGES[doc.id]} ({doc.id}.html)", doc.path, line,
                                 "give the document another id in its front matter")


def _id_line(path: Path) -> int | None:
    try:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines()[:50], 1):
            if re.match(r"\s*id\s*:", line):
                return number
    except (OSError, UnicodeDecodeError):
        pass
    return None


def _page_tree(renderer: Renderer, fmt, page: Page, shown: list[Download], prev: Page | None,
               next_: Page | None) -> etree._Element:
    html = renderer.page("web/page.html.j2", fmt, page=page, content=page.content, prev=prev, next=next_,
                         downloads=shown)
    return etree.fromstring(html.encode("utf-8"), PARSER)


def _main(tree: etree._Element) -> etree._Element:
    return tree.find(f".//{H}main")


def _headings(page: Page) -> list[tuple[str, str, int]]:
    """The page's level 2 and 3 headings (not the blocks' titles), for the
    search page's list of every heading."""
    found = []
    for h in _main(page.tree).iter(f"{H}h2", f"{H}h3"):
        if h.get("id") and "block-title" not in (h.get("class") or "").split():
            text = " ".join("".join(h.itertext()).split())
            found.append((text, f"{page.name}#{h.get('id')}", int(etree.QName(h).localname[1])))
    return found


def _scrollable_tables(tree: etree._Element) -> None:
    """A table wider than a narrow screen scrolls inside its own box, not the
    page (WCAG 1.4.10 allows two-dimensional scrolling for data tables): the
    box is a named region a keyboard can reach and scroll."""
    for wrap in tree.iter(f"{H}div"):
        if "table-wrap" in (wrap.get("class") or "").split():
            caption = wrap.find(f"{H}table/{H}caption")
            name = " ".join("".join(caption.itertext()).split()) if caption is not None else "Table"
            wrap.set("role", "region")
            wrap.set("tabindex", "0")
            wrap.set("aria-label", name)
            if caption is not None:            # the caption stays in view while the table scrolls
                text = etree.Element(f"{H}span", {"class": "caption-text"})
                text.text, caption.text = caption.text, None
                for child in list(caption):
                    text.append(child)
                caption.append(text)


def _distinct_block_names(tree: etree._Element) -> None:
    """Blocks of one kind with the same title on one page (two "Note"
    boxes) would be landmarks of one name, which a screen reader's list of
    landmarks cannot tell apart (axe-core: landmark-unique; it reads an
    aside as complementary whatever its DPUB role). Each of them is named
    with its place: "Note (1 of 2)". The heading itself stays as written."""
    found: dict[tuple[str, str], list[etree._Element]] = {}
    for block in tree.iter(f"{H}aside", f"{H}section"):
        label = block.get("aria-labelledby")
        if not label or "block" not in (block.get("class") or "").split():
            continue
        heading = tree.xpath("//*[@id=$id]", id=label)
        if heading:
            name = " ".join("".join(heading[0].itertext()).split())
            found.setdefault((etree.QName(block).localname, name), []).append(block)
    for (_, name), blocks in found.items():
        if len(blocks) > 1:
            for n, block in enumerate(blocks, 1):
                del block.attrib["aria-labelledby"]
                block.set("aria-label", f"{name} ({n} of {len(blocks)})")


def _drop_epub_types(tree: etree._Element) -> None:
    for element in tree.iter():
        if isinstance(element.tag, str):
            element.attrib.pop(f"{{{OPS_NS}}}type", None)
    etree.cleanup_namespaces(tree)


def _needed_fonts(guide: Guide, renderer: Renderer, pages: list[Page]) -> set[str]:
    """The brand families the site's text is set in: only those are declared and copied."""
    from ..fonts import needed_families, text_by_role
    chars: dict[str, set[str]] = {"body": set(), "heading": set(), "monospace": set()}
    for page in pages:
        text_by_role(page.tree, chars)
    base = guide.brand_path.parent if guide.brand_path else renderer.styles
    return needed_families(guide.brand, base, chars)


def serialize(tree: etree._Element) -> bytes:
    """HTML that is well-formed XML too: a void element closes itself
    (`<img ... />`), any other is never written short (`<span></span>`)."""
    for element in tree.iter():
        if (isinstance(element.tag, str) and etree.QName(element).localname not in VOID
                and len(element) == 0 and element.text is None):
            element.text = ""
    return b"<!DOCTYPE html>\n" + etree.tostring(tree, encoding="utf-8") + b"\n"


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
