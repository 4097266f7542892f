"""Part-by-part layout and splicing (guidepub/pdf/splice.py) against the
single render of the same HTML: the same text in tag order, the same roles,
links, bookmarks, named destinations and page images, and the same findings
from the PDF checks. On the fixture guide and on content/, so that a
WeasyPrint upgrade cannot break the splice silently (issue 15, point 6)."""

from __future__ import annotations

import io
import re
from dataclasses import replace
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pytest
from fontTools.ttLib import TTFont

from conftest import MINI, ROOT
from guidepub.check.pdf import check_pdf
from guidepub.errors import Problems
from guidepub.load import load
from guidepub.pdf import _check_fonts, layout, write_pdf
from guidepub.pdf import plan, splice, subsets
from guidepub.pdf.tagtree import read_tags
from guidepub.render import Renderer
from pdf_helpers import normal

BRAND = ROOT / "styles" / "brand.yaml"


class Made:
    """A guide laid out whole (single.pdf) and part by part (spliced.pdf)."""

    def __init__(self, content: Path, out: Path):
        self.guide = load(content, BRAND)
        renderer = Renderer(self.guide, ROOT / "templates", ROOT / "styles")
        document, logged, self.book = splice.capture(self.guide, renderer, self.guide.page_source)
        self.single, self.spliced = out / "single.pdf", out / "spliced.pdf"
        write_pdf(document, logged, self.single, self.guide.brand.font_families)
        self.cold = out / "cold.pdf"                # the parts written from the whole book's layout
        splice.splice(splice.whole_book_parts(document, self.book), self.cold)
        self.parts, self.logged = [], []
        for index in range(len(self.book.parts)):
            part, logged = splice.lay_out_part(self.book, index)
            assert len(part.pages) == self.book.counts[index], f"part {index} has another page count alone"
            self.logged += logged
            self.parts.append(splice.part_pdf(part, index))
        splice.splice(self.parts, self.spliced)


@pytest.fixture(scope="module", params=["mini", "content"])
def made(request, tmp_path_factory):
    """A cold build: no page plan stored (plan.py), as in a fresh checkout."""
    content = MINI if request.param == "mini" else ROOT / "content"
    out = tmp_path_factory.mktemp(f"splice-{request.param}")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plan, "PLANS", {})
        patch.setattr(plan, "STORE", out / "plans")
        yield Made(content, out)


# -- what a reader meets --------------------------------------------------------

def tags(path: Path) -> list[tuple[str, str, str | None, dict]]:
    """Every structure element in tree order: role, own text, alt text, attributes
    (header IDs are made unique by the splice, so left out)."""
    return [(n.role, normal(n.text), n.alt, {k: v for k, v in n.attributes.items() if k != "/Headers"})
            for n in read_tags(path).walk()]


def links(path: Path) -> list[tuple]:
    """Every link annotation: page, target (a named destination or a URI), description, rectangle."""
    found = []
    with pikepdf.open(path) as pdf:
        for number, page in enumerate(pdf.pages):
            for annotation in page.obj.get("/Annots", []):
                target = str(annotation.Dest) if "/Dest" in annotation else str(annotation.A.URI)
                found.append((number, target, str(annotation.get("/Contents", "")),
                              tuple(round(float(v), 2) for v in annotation.Rect)))
    return found


def bookmarks(path: Path) -> list[tuple]:
    """Every bookmark: depth, title, page and place."""
    found = []
    with pikepdf.open(path) as pdf, pdf.open_outline() as outline:
        pages = {p.objgen: i for i, p in enumerate(pdf.pages)}

        def walk(items, depth):
            for item in items:
                dest = item.destination
                found.append((depth, item.title, pages[dest[0].objgen], [round(float(v), 2) for v in dest[2:4]]))
                walk(item.children, depth + 1)
        walk(outline.root, 0)
    return found


def destinations(path: Path) -> list[tuple]:
    with pikepdf.open(path) as pdf:
        pages = {p.objgen: i for i, p in enumerate(pdf.pages)}
        names = list(pdf.Root.Names.Dests.Names)
        return [(str(names[i]), pages[names[i + 1][0].objgen], [round(float(v), 2) for v in names[i + 1][2:4]])
                for i in range(0, len(names), 2)]


def images(path: Path) -> list[bytes]:
    pdf = pdfium.PdfDocument(str(path))
    try:
        return [page.render(scale=1).to_pil().tobytes() for page in pdf]
    finally:
        pdf.close()


# -- the spliced PDF is the single render ------------------------------------------

def test_the_same_text_in_tag_order(made):
    single, spliced = tags(made.single), tags(made.spliced)
    assert len(single) > 100
    assert spliced == single


def test_the_same_links(made):
    assert links(made.spliced) == links(made.single)
    stand_ins = [i for i in range(len(made.book.parts)) if splice.SCHEME in made.book.html(i)]
    assert stand_ins, "links to other parts' anchors are part of the test"
    assert not any(target.startswith(splice.SCHEME) for _, target, _, _ in links(made.spliced))


def test_the_same_bookmarks_and_destinations(made):
    assert bookmarks(made.spliced) == bookmarks(made.single)
    assert destinations(made.spliced) == destinations(made.single)


def test_the_same_page_images(made):
    single, spliced = images(made.single), images(made.spliced)
    assert len(spliced) == len(single) == sum(made.book.counts)
    different = [n for n, (a, b) in enumerate(zip(single, spliced), 1) if a != b]
    assert not different, f"pages {different} differ"


def test_a_cold_build_splices_the_same_bytes_from_one_layout(made):
    """The parts written from the whole book's layout (a cold build, which
    fills the cache) splice into the very file the parts laid out alone do."""
    assert made.cold.read_bytes() == made.spliced.read_bytes()


def test_the_checks_find_the_same(made):
    single = check_pdf(made.single, made.guide)
    spliced = check_pdf(made.spliced, made.guide)
    assert [(f.code, f.where, f.message) for f in spliced.findings] == \
        [(f.code, f.where, f.message) for f in single.findings]
    problems = Problems()
    _check_fonts(made.spliced, made.spliced, made.guide.brand.font_families, problems)
    problems.raise_if_any()
    assert not made.logged


def test_the_fixture_guide_passes_the_checks(made):
    if made.guide.root.resolve() != MINI.resolve():
        pytest.skip("content/ is checked against its single render above")
    assert check_pdf(made.spliced, made.guide).passed


# -- how it is spliced ---------------------------------------------------------------

def test_one_tree_one_parent_tree(made):
    with pikepdf.open(made.spliced) as pdf:
        assert pdf.check_pdf_syntax() == []                 # qpdf's own check of the file
        tree = pdf.Root.StructTreeRoot
        document = tree.K[0]
        assert len(tree.K) == 1 and document.S == "/Document"
        assert len(document.K) == len(made.book.parts)            # one child a part
        nums = list(tree.ParentTree.Nums)
        keys = [int(k) for k in nums[::2]]
        pages = [int(p.obj.StructParents) for p in pdf.pages]
        annotations = [int(a.StructParent) for p in pdf.pages for a in p.obj.get("/Annots", [])]
        assert pages == list(range(len(pdf.pages)))
        assert sorted(pages + annotations) == keys == list(range(len(keys)))
        assert int(tree.ParentTreeNextKey) == len(keys)
        ids = [str(e.ID) for e in _elements(document) if "/ID" in e]
        assert len(ids) == len(set(ids))
        headers = {str(h) for e in _elements(document)
                   if isinstance(e.get("/A"), pikepdf.Dictionary) for h in e.A.get("/Headers", [])}
        assert headers <= set(ids)
        with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as xmp:
            assert xmp.get("pdfuaid:part") == "1"
        with pikepdf.open(made.single) as single:
            assert pdf.pdf_version == single.pdf_version
            assert sorted(pdf.Root.keys()) == sorted(single.Root.keys())
            assert {k: str(v) for k, v in pdf.docinfo.items()} == {k: str(v) for k, v in single.docinfo.items()}


def _elements(element):
    """Every structure element under `element` (and it), depth first."""
    stack = [element]
    while stack:
        node = stack.pop()
        if isinstance(node, pikepdf.Dictionary) and node.get("/Type") not in ("/MCR", "/OBJR"):
            yield node
            kids = node.get("/K")
            stack.extend(reversed(list(kids)) if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else [])


def fonts(path: Path) -> dict[str, list]:
    """Each font by name: its glyph widths, and whether each agrees with the
    advance in the embedded program (PDF/UA-1 7.21.5); every glyph decodes."""
    found: dict[str, list] = {}
    with pikepdf.open(path) as pdf:
        for page in pdf.pages:
            for font in page.obj.Resources.Font.values():
                stream, described = subsets._program(font)
                face = TTFont(io.BytesIO(stream.read_bytes()))
                order, scale = face.getGlyphOrder(), 1000 / face["head"].unitsPerEm
                widths = sorted((gid, float(w), face["glyf"][order[gid]] is not None and
                                 abs(face["hmtx"][order[gid]][0] * scale - float(w)) <= 1)
                                for gid, w in subsets._widths(described.W).items())
                assert found.setdefault(str(font.BaseFont), widths) == widths, "two fonts under one name"
    return found


def test_a_fonts_subsets_become_one(made):
    """WeasyPrint names a subset after its font: the parts' subsets of a font
    are merged into one, with the single render's glyphs and widths, and the
    file is about the single render's size."""
    merged = fonts(made.spliced)
    assert {name.split("+")[1]: w for name, w in merged.items()} == \
        {name.split("+")[1]: w for name, w in fonts(made.single).items()}
    assert all(agrees for widths in merged.values() for _, _, agrees in widths)
    assert made.spliced.stat().st_size < 1.1 * made.single.stat().st_size


def test_no_css_state_crosses_parts():
    for css in [ROOT / "styles" / name for name in ("base.css", "blocks.css", "print.css")] + \
            sorted((ROOT / "styles" / "variants").glob("*.css")):
        assert splice.unsafe(css.read_text(encoding="utf-8")) == [], css.name
    assert splice.unsafe("@page :left { margin: 1mm } p { content: counter(pages) }") == \
        ["@page :left", "counter(pages"]


def test_every_printed_page_number_is_from_the_proven_plan(made):
    """The parts print the numbers of a plan the whole book's layout proved
    (a cold build without one is laid out again with it: WeasyPrint's own
    target-counter() numbers can be off after flow.py's second layout)."""
    whole = "".join(made.book.parts)
    assert plan.referenced(whole)
    assert all(f'data-ref="#{ref}" data-page="{made.book.plan[ref]}"' in whole for ref in plan.referenced(whole))


def test_split_keeps_every_part():
    html = ('<html><head></head><body>\n<section id="a"><section>x</section></section>\n'
            '<nav id="b">y</nav>\n</body></html>')
    head, parts, tail = splice.split(html)
    assert parts == ['<section id="a"><section>x</section></section>', '<nav id="b">y</nav>']
    assert head.endswith("<body>") and tail == "</body></html>"


# -- one part laid out again ------------------------------------------------------------

def fresh(book: splice.Book) -> splice.Book:
    """A copy a test may change."""
    return replace(book, parts=list(book.parts), starts=list(book.starts), counts=list(book.counts),
                   plan=dict(book.plan))


def test_an_edited_part_spliced_is_the_single_render_of_the_edit(made, tmp_path):
    """A word changed in a chapter: that part alone is laid out again, the
    others come from before, and the result is the single render of the new
    book's HTML."""
    if made.guide.root.resolve() != MINI.resolve():
        pytest.skip("once is enough")
    book = fresh(made.book)
    index = next(n for n, part in enumerate(book.parts) if 'class="document part-chapter' in part)
    edited = re.sub(r"(<p[^>]*>[^<]*?)\b([a-z]{4,})\b", lambda m: m.group(1) + m.group(2).upper(), book.parts[index], 1)
    assert edited != book.parts[index]
    document, logged, stale = splice.update(book, index, edited)
    assert stale == [] and not logged
    parts = list(made.parts)
    parts[index] = splice.part_pdf(document, index)
    splice.splice(parts, tmp_path / "spliced.pdf")
    whole = book.head + "\n" + "\n".join(book.parts) + "\n" + book.tail
    single, logged = layout(whole, book.css, book.base, book.allowed, book.served)
    write_pdf(single, logged, tmp_path / "single.pdf", made.guide.brand.font_families)
    assert images(tmp_path / "spliced.pdf") == images(tmp_path / "single.pdf")
    assert tags(tmp_path / "spliced.pdf") == tags(tmp_path / "single.pdf")
    assert links(tmp_path / "spliced.pdf") == links(tmp_path / "single.pdf")
    # A clean part-by-part build of the edited book (one layout, every part
    # written from it) is the same file, byte for byte.
    clean = fresh(book)
    clean.starts, clean.counts = splice.part_pages(single, len(book.parts))
    splice.splice(splice.whole_book_parts(single, clean), tmp_path / "clean.pdf")
    assert (tmp_path / "clean.pdf").read_bytes() == (tmp_path / "spliced.pdf").read_bytes()


def test_a_part_that_grows_makes_the_later_parts_stale(made, tmp_path):
    """A chapter one page longer: every later part starts a page later, and
    the contents prints their new numbers; refresh() lays out those parts
    again, and the spliced book is the single render of the new HTML."""
    if made.guide.root.resolve() != MINI.resolve():
        pytest.skip("once is enough")
    book = fresh(made.book)
    index = next(n for n, part in enumerate(book.parts) if 'class="document part-chapter' in part)
    end = book.parts[index].rindex("</section>")
    longer = book.parts[index][:end] + '<p style="break-before: page">More.</p>' + book.parts[index][end:]
    _, _, stale = splice.update(fresh(book), index, longer)
    contents = next(n for n, part in enumerate(book.parts) if 'id="toc"' in part)
    assert set(range(index + 1, len(book.parts))) | {contents} <= set(stale)
    parts = list(made.parts)
    logged, done = splice.refresh(book, parts, index, longer)
    assert not logged and done[0] == index and set(stale) <= set(done)
    assert book.counts[index] == made.book.counts[index] + 1
    assert book.starts[index + 1] == made.book.starts[index + 1] + 1
    splice.splice(parts, tmp_path / "spliced.pdf")
    whole = book.head + "\n" + "\n".join(book.parts) + "\n" + book.tail
    single, logged = layout(whole, book.css, book.base, book.allowed, book.served)
    write_pdf(single, logged, tmp_path / "single.pdf", made.guide.brand.font_families)
    assert images(tmp_path / "spliced.pdf") == images(tmp_path / "single.pdf")
    assert tags(tmp_path / "spliced.pdf") == tags(tmp_path / "single.pdf")
    assert links(tmp_path / "spliced.pdf") == links(tmp_path / "single.pdf")
    assert plan.holds(single, whole, book.plan) is None         # every printed number is right
