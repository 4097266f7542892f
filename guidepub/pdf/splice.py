"""Lay the book out part by part and splice the parts' PDFs into one
PDF/UA-1 file (issue 15, point 3). The build uses it through pdf/parts.py.

A part is a child of <body> (cover, imprint, contents, each front matter
part, chapter, back matter part): a child of the tag tree's Document. Each
is laid out alone from the HTML the whole book's last layout was made from
(`capture`: the page plan's data-page numbers, flow.py's marks and moves),
its page counter starting at its first page. print.css carries no state
from part to part (unsafe() proves it of the stylesheets): every part starts
a page, running heads come from each document's title. A link to another
part's anchor is laid out as a stand-in URI (SCHEME + anchor) and spliced
back into the named destination the single render writes.

A cold build lays the book out once and writes every part from that layout
(whole_book_parts). update() and refresh() lay out an edited part and the
parts whose first page or printed numbers it changed (tested; the build
itself, pdf/parts.py, lays out the parts again with the new plan instead).
Either way the parts splice into the same bytes.

splice(): pages in order; every part's elements under one Document;
/StructParents renumbered into one ParentTree (pages, then annotations);
outlines, named destinations, XMP and catalog merged; each font's subsets
merged into one; object streams on. Header cell IDs are unique in the book
as written: part_pdf() begins each part's with the part's number.
tests/test_splice.py proves it against the single render."""

from __future__ import annotations

import copy
import io
import re
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote

import pikepdf
from pikepdf import Array, Dictionary, Name, String
from weasyprint.formatting_structure import boxes

from .. import later
from . import plan
from .subsets import merge_fonts

SCHEME = "guidepub-part:"
IDS = re.compile(r'\sid="([^"]+)"')
HREF = re.compile(r'href="#([^"]+)"')
PAGED = re.compile(r'(data-ref="#([^"]+)" data-page=")(\d+)"')
# What would carry state from part to part, or depend on a page's place in
# the whole book (see unsafe()).
CROSSING = re.compile(r"counter\(\s*pages|@page[^{]*:(left|right|blank|first|nth)|\b(recto|verso)\b"
                      r"|break-(before|after)\s*:\s*(left|right)|counter-(reset|increment|set)\s*:\s*(?!none)"
                      r"|string\([^)]*\b(start|last)\b")


# -- the book's HTML, in parts ----------------------------------------------

@dataclass
class Book:
    """What the whole book's last layout was made from, cut into parts."""
    head: str                 # up to and with <body ...>
    parts: list[str]          # each child of <body>, as the HTML has it
    tail: str                 # from </body>
    css: str
    base: Path
    allowed: list[Path]
    served: dict
    starts: list[int] = field(default_factory=list)     # each part's first page (1-based)
    counts: list[int] = field(default_factory=list)     # each part's pages
    plan: dict[str, int] = field(default_factory=dict)  # the page of every anchor (plan.py)

    def html(self, index: int) -> str:
        """Part `index` alone, its links to other parts' anchors as stand-ins."""
        own = set(IDS.findall(self.parts[index]))
        part = HREF.sub(lambda m: m.group(0) if m.group(1) in own else f'href="{SCHEME}{m.group(1)}"',
                        self.parts[index])
        return self.head + "\n" + part + "\n" + self.tail


def unsafe(css: str) -> list[str]:
    """What in a stylesheet would lay a part out alone otherwise than in the
    whole book: the total page count, left, right or first pages, recto
    starts, counters other than the page's, a running string read at a
    page's start or end (the part before may have set it)."""
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    return sorted({m.group(0) for m in CROSSING.finditer(css)})


def split(html: str) -> tuple[str, list[str], str]:
    """(head, the children of <body>, tail) of the book's HTML."""
    body, close = re.search(r"<body[^>]*>", html), html.rindex("</body>")
    parts, at = [], body.end()
    while (found := re.compile(r"<[A-Za-z]").search(html, at, close)) is not None:
        tag, depth = re.compile(r"<([a-zA-Z0-9]+)").match(html, found.start()).group(1), 0
        for match in re.compile(rf"<(/?){tag}(?=[\s>/])[^>]*?(/?)>").finditer(html, found.start()):
            depth += 0 if match.group(2) else -1 if match.group(1) else 1       # <tag/> opens nothing
            if depth == 0:
                break
        else:
            raise ValueError(f"unbalanced <{tag}>")
        parts.append(html[found.start():match.end()])
        at = match.end()
    return html[:body.end()], parts, html[close:]


def capture(guide, renderer, variant, source=None):
    """layout_book, and the Book its last layout was made from: (document, logged, book)."""
    from .. import pdf as stage
    source = source or stage.book_source(guide, renderer, variant)
    laid: dict = {}
    document, logged = stage.layout_book(guide, renderer, variant, source, laid)
    return book_of(document, logged, laid["html"], source)


def book_of(document, logged, html: str, source):
    """(document, logged, the Book) of a whole book's layout made from `html`;
    ValueError if the book cannot be laid out part by part."""
    from .. import pdf as stage
    from .printready import bleeds
    css = source.css
    if bleeds(document):
        raise ValueError("a print-ready edition is made from the whole book's layout (printready.py): not spliced")
    if unsafe(css):
        raise ValueError(f"the stylesheet carries state from part to part: {', '.join(unsafe(css))}")
    if 'data-page="' not in html and plan.referenced(html):
        # Laid out without a plan, the numbers WeasyPrint printed with
        # target-counter() may not be the pages (seen on the 10x guide): lay
        # out with the plan this layout gave, proven as plan.py does.
        laid = {}

        def recording(planned):
            laid["html"] = planned
            return stage.layout(planned, css, source.root, source.allowed, source.served)
        document, logged = plan.lay_out(html, recording, None, plan.pages_of(document))
        if 'data-page="' not in laid["html"]:
            raise ValueError("the page numbers do not settle: no page plan holds")
        html = laid["html"]
    book = Book(*split(html), css, source.root, list(source.allowed), source.served)
    book.starts, book.counts = part_pages(document, len(book.parts))
    book.plan = plan.pages_of(document)
    return document, logged, book


def _part(page_box):
    """The part (child of <body>) of a page's first box: three boxes down."""
    box = page_box
    for _ in range(3):
        box = next((c for c in getattr(box, "children", ()) if not isinstance(c, boxes.MarginBox)), None)
        if box is None or isinstance(box, boxes.LineBox):
            return None
    return box.element


def part_pages(document, count: int) -> tuple[list[int], list[int]]:
    """Each part's first page (1-based) and page count in a whole book's layout."""
    body = next(c for c in document.pages[0]._page_box.children[0].element if c.tag == "body")
    index = {id(element): n for n, element in enumerate(body)}
    owner = [index.get(id(_part(page._page_box)), -1) for page in document.pages]
    if -1 in owner or owner != sorted(owner) or set(owner) != set(range(count)):
        raise ValueError("a page begins with no part, or the parts' pages are out of order")
    return [owner.index(n) + 1 for n in range(count)], [owner.count(n) for n in range(count)]


STYLES: dict = {}      # the book's parsed stylesheet, its fonts and fetcher: one entry, the latest


def lay_out_part(book: Book, index: int):
    """Lay out one part on its own: (document, logged). As pdf.layout(), but
    the book's stylesheet is parsed once for all parts: parsing it decodes
    every WOFF2 font it declares (fontTools), most of a small part's time."""
    from weasyprint import CSS, HTML
    from . import GuideError, Problem, SandboxFetcher, _Collect
    from ..fonts import BrandFontConfiguration
    key = (book.css, str(book.base), tuple(map(str, book.allowed)), id(book.served))
    if key not in STYLES:
        STYLES.clear()
        fetcher, fonts = SandboxFetcher(book.allowed, book.served), BrandFontConfiguration()
        with _Collect() as log:
            STYLES[key] = fetcher, fonts, CSS(string=book.css, font_config=fonts, url_fetcher=fetcher), log.records
    fetcher, fonts, css, css_log = STYLES[key]
    refused = len(fetcher.refused)
    with _Collect() as log:
        first = CSS(string=f"@page :first {{ counter-reset: page {book.starts[index]} }}", font_config=fonts)
        document = HTML(string=book.html(index), base_url=str(book.base) + "/", url_fetcher=fetcher).render(
            stylesheets=[css, first], font_config=fonts)
    if fetcher.refused[refused:]:
        raise GuideError([Problem("PDF-FETCH", f"refused to read {why}", None, None, "keep images, "
                                  "stylesheets and fonts inside the project") for why in fetcher.refused[refused:]])
    return document, css_log + log.records


def shifted_plan(book: Book, index: int, document) -> dict[str, int]:
    """The book's plan after part `index` was laid out as `document`: its
    elements where that layout put them, every later part's moved by the
    pages it gained or lost."""
    shift = len(document.pages) - book.counts[index]
    owners: dict[str, int] = {}
    for n, part in enumerate(book.parts):
        for anchor in IDS.findall(part):
            owners.setdefault(anchor, n)          # WeasyPrint takes the first of equal ids
    return {**{a: page + shift if owners.get(a, -1) > index else page for a, page in book.plan.items()},
            **{a: book.starts[index] + page - 1 for a, page in plan.pages_of(document).items()}}


def update(book: Book, index: int, html: str | None = None, tries: int = 3):
    """Lay out part `index` again (its HTML replaced by `html` if given) and
    bring the book's plan up to date: (document, logged, stale). `stale`:
    the other parts whose first page or printed page numbers changed (their
    HTML has the new numbers), to lay out again. The part itself is laid out
    again until its own numbers hold."""
    if html is not None:
        book.parts[index] = html
    stale: set[int] = set()
    for _ in range(tries):
        document, logged = lay_out_part(book, index)
        shift = len(document.pages) - book.counts[index]
        book.plan = shifted_plan(book, index, document)
        book.counts[index] += shift
        for later in range(index + 1, len(book.parts)):
            book.starts[later] += shift
            stale |= {later} if shift else set()
        changed = set()
        for n, part in enumerate(book.parts):
            new = PAGED.sub(lambda m: f'{m.group(1)}{book.plan.get(m.group(2), m.group(3))}"', part)
            if new != part:
                book.parts[n] = new
                changed.add(n)
        stale |= changed - {index}
        if index not in changed:
            return document, logged, sorted(stale)
    raise ValueError(f"part {index}'s page numbers do not settle in {tries} layouts")


def refresh(book: Book, parts: list[bytes], index: int, html: str | None = None) -> tuple[list, list[int]]:
    """After part `index` changed (its new HTML `html`), bring `parts` (each
    part's PDF) up to date: that part and every part it makes stale are laid
    out again. Returns (what WeasyPrint logged, the parts laid out)."""
    logged, done, todo = [], [], [(index, html)]
    while todo:
        n, new = todo.pop(0)
        document, log, stale = update(book, n, new)
        parts[n] = part_pdf(document, n)
        logged += log
        done.append(n)
        todo += [(m, None) for m in stale if (m, None) not in todo]
        if len(done) > 3 * len(parts):
            raise ValueError("the parts' page numbers do not settle")
    return logged, done


def part_pdf(document, index: int) -> bytes:
    """Part `index`'s layout as PDF/UA-1, its tags completed (fixups.py's
    fixes work on each part's tree alone). Its header cell IDs begin with
    the part's number: unique in the book."""
    from .fixups import complete_tags
    from .tags import ID_PREFIX
    with tempfile.TemporaryDirectory(prefix="guidepub-part-") as folder:
        path = Path(folder) / "part.pdf"
        token = ID_PREFIX.set(f"p{index}.")
        try:
            document.write_pdf(path, pdf_variant="pdf/ua-1")
        finally:
            ID_PREFIX.reset(token)
        complete_tags(path)
        return path.read_bytes()


def whole_book_parts(document, book: Book) -> list[bytes]:
    """Every part's PDF written from the whole book's layout (a cold build
    lays the book out once, and fills the cache of parts from it), a link to
    another part's anchor a stand-in as in a part laid out alone."""
    parts = []
    for n, (start, count) in enumerate(zip(book.starts, book.counts)):
        pages = [copy.copy(page) for page in document.pages[start - 1:start - 1 + count]]
        own = {anchor for page in pages for anchor in page.anchors}
        for page in pages:
            page.links = [("external", SCHEME + target, *rest) if kind == "internal" and target not in own
                          else (kind, target, *rest) for kind, target, *rest in page.links]
        parts.append(part_pdf(document.copy(pages), n))
    return parts


# -- the splice ---------------------------------------------------------------

def splice(parts: list[bytes], target, fonts: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """Write the parts' PDFs as one PDF/UA-1 file at `target` (a path or a
    binary file). `fonts`: font programs merged before (subsets.py); returns
    the merged programs the file holds, for the next splice."""
    sources = [pikepdf.open(io.BytesIO(data)) for data in parts]
    try:
        out, used = _splice(sources, fonts)
        out.save(target, object_stream_mode=pikepdf.ObjectStreamMode.generate,
                 min_version=max(source.pdf_version for source in sources), deterministic_id=True)
        later.hold(out)                     # `watch` frees it after it has reported (later.py)
        return used
    finally:
        for source in sources:
            source.close()


def _splice(sources: list[pikepdf.Pdf], fonts: dict[str, bytes] | None) -> tuple[pikepdf.Pdf, dict[str, bytes]]:
    out, first = pikepdf.Pdf.new(), sources[0]
    for key in ("/Lang", "/ViewerPreferences", "/MarkInfo", "/Metadata"):
        if key in first.Root:
            out.Root[key] = _copy(out, first.Root[key])
    out.trailer.Info = out.copy_foreign(first.trailer.Info)
    tree = out.Root.StructTreeRoot = out.make_indirect(Dictionary(Type=Name.StructTreeRoot))
    document = out.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Document, K=Array(), P=tree))
    tree.K = Array([document])
    nums: dict[int, object] = {}
    names, outlines, opened = [], [], 0
    key = sum(len(source.pages) for source in sources)        # annotations' keys follow the pages'
    for index, source in enumerate(sources):
        old = source.Root.StructTreeRoot
        old_document = old.K[0] if isinstance(old.K, Array) else old.K
        base = len(out.pages)
        with warnings.catch_warnings():       # named destinations and links are merged below
            warnings.simplefilter("ignore", getattr(pikepdf, "PageCopyWarning", UserWarning))
            out.pages.extend(source.pages)
        for kid in old_document.K if isinstance(old_document.K, Array) else [old_document.K]:
            del kid["/P"]                     # copy the part's elements, not the tree above them
            new = out.copy_foreign(kid)
            new.P = document
            document.K.append(new)
        # The parent tree's values, in `out`: copied whole, in one call (its
        # elements were copied above and are not copied again).
        pairs = list(_whole(out, source, old.ParentTree).Nums)
        old_nums = {int(pairs[i]): pairs[i + 1] for i in range(0, len(pairs) - 1, 2)}
        annotations = []
        for n in range(len(source.pages)):
            page = out.pages[base + n].obj
            if "/StructParents" in page:
                nums[base + n] = old_nums[int(page.StructParents)]
                page.StructParents = base + n
            annotations += [a for a in page.get("/Annots", []) if "/StructParent" in a]
            for annotation in page.get("/Annots", []):
                _resolve(annotation)
        for annotation in sorted(annotations, key=lambda a: int(a.StructParent)):
            nums[key] = old_nums[int(annotation.StructParent)]
            annotation.StructParent, key = key, key + 1
        dests = source.Root.get("/Names", {}).get("/Dests")
        pairs = list(_whole(out, source, dests).Names) if dests is not None else []
        names += [(str(pairs[i]), pairs[i + 1]) for i in range(0, len(pairs) - 1, 2)]
        if "/Outlines" in source.Root:
            opened += int(source.Root.Outlines.get("/Count", 0))
            item = source.Root.Outlines.get("/First")
            while item is not None:
                following = item.get("/Next")
                for name in ("/Parent", "/Prev", "/Next"):
                    if name in item:
                        del item[name]
                outlines.append(out.copy_foreign(item))
                item = following
    used = merge_fonts(out, fonts)
    tree.ParentTree = out.make_indirect(Dictionary(Nums=Array([v for k in sorted(nums) for v in (k, nums[k])])))
    tree.ParentTreeNextKey = key
    if names:
        out.Root.Names = Dictionary(Dests=out.make_indirect(Dictionary(
            Names=Array([v for name, dest in sorted(names, key=lambda p: p[0]) for v in (String(name), dest)]))))
    if outlines:
        root = out.Root.Outlines = out.make_indirect(Dictionary(Count=opened, First=outlines[0], Last=outlines[-1]))
        for before, item in zip([None] + outlines, outlines):
            item.Parent = root
            if before is not None:
                item.Prev, before.Next = before, item
    return out, used


def _whole(out: pikepdf.Pdf, source: pikepdf.Pdf, value):
    """A dictionary or array of `source`, in `out`: one copy_foreign (of an
    indirect copy, when it is direct), not a Python call for every value."""
    return out.copy_foreign(value if value.is_indirect else source.make_indirect(value))


def _copy(out: pikepdf.Pdf, value):
    """A value of another Pdf in `out`: indirect objects copied (once: pikepdf
    keeps a map for each source), direct arrays and dictionaries rebuilt."""
    if isinstance(value, pikepdf.Object) and value.is_indirect:
        return out.copy_foreign(value)
    if isinstance(value, Array):
        return Array([_copy(out, v) for v in value])
    if isinstance(value, Dictionary):
        return Dictionary({k: _copy(out, v) for k, v in value.items()})
    return value


def _resolve(annotation) -> None:
    """A link to another part's anchor: the named destination the single render writes."""
    action = annotation.get("/A")
    if action is None or action.get("/S") != "/URI" or not str(action.URI).startswith(SCHEME):
        return
    name = unquote(str(action.URI)[len(SCHEME):])          # WeasyPrint quotes what an id may hold
    del annotation["/A"]
    annotation.Dest = String(name)
    if str(annotation.get("/Contents", "")) == SCHEME + name:
        annotation.Contents = String(name)
