"""The PDF's tag tree follows the document, not the pages (guidepub/pdf/tags.py),
and check/structure.py proves it: each code is shown finding a fault in
WeasyPrint's own tree or in a damaged one, and nothing in ours. This is also
the standing test that a WeasyPrint upgrade cannot change the tree silently."""

from __future__ import annotations

import pikepdf
import pypdfium2 as pdfium

import guidepub.pdf.tags as tags
from conftest import MINI
from guidepub.check import CheckResult
from guidepub.check.pdf import check_pdf, normal
from guidepub.check.structure import compare_editions, skeleton
from guidepub.pdf import layout
from guidepub.pdf.tagtree import read_tags

PAGE = '<html lang="en-GB"><head><title>Test</title></head><body>{}</body></html>'
LONG = " ".join(f"Sentence number {n} of a paragraph long enough to cross a page break." for n in range(40))
BODY = (
    '<section id="one"><h1>One</h1>'
    f"<p>{LONG}</p>"
    "<ul>" + "".join(f"<li>Item {n} of a list that crosses a page.</li>" for n in range(30)) + "</ul>"
    "<table><caption>Table 1. Many rows</caption><thead><tr><th>Name</th><th>Value</th></tr></thead><tbody>"
    + "".join(f"<tr><td>Row {n}</td><td>{n}</td></tr>" for n in range(60)) + "</tbody></table>"
    "<dl><dt>Term</dt><dd>Its definition.</dd><dt>Other term</dt><dd>First meaning.</dd><dd>Second.</dd></dl>"
    "</section>"
    '<section id="two"><h1>Two</h1><p>Before the figure.</p><img src="figures/box.svg" alt="A box" />'
    '<p>After the figure.</p><ol><li><p>Loose</p><p>item</p><ul><li>Nested</li></ul></li></ol></section>')
CSS = "body { font-family: 'DejaVu Sans' } @page { size: {size}; margin: 15mm }"


def make(tmp_path, name: str, size: str = "A5", stock: bool = False, reorder: bool = True):
    document, _ = layout(PAGE.format(BODY), CSS.replace("{size}", size), MINI)
    path = tmp_path / f"{name}.pdf"
    tags.REORDER = reorder
    try:
        if stock:
            with tags.weasyprint_tags():
                document.write_pdf(path, pdf_variant="pdf/ua-1")
        else:
            document.write_pdf(path, pdf_variant="pdf/ua-1")
    finally:
        tags.REORDER = True
    return path, len(document.pages)


def document_of(path):
    return read_tags(path).children[0]


def test_the_top_level_holds_the_parts_and_nothing_is_split(tmp_path):
    path, pages = make(tmp_path, "a5")
    assert pages > 3
    document = document_of(path)
    assert [n.role for n in document.children] == ["Sect", "Sect"]
    one = document.children[0]
    assert [n.role for n in one.children] == ["H1", "P", "L", "Table", "L"]
    paragraph, items, table, terms = one.children[1:]
    assert normal(paragraph.all_text()) == normal(LONG)            # one paragraph over its pages
    assert len(items.children) == 30 and all(n.role == "LI" for n in items.children)
    assert [n.role for n in table.children] == ["Caption", "THead", "TBody"]
    assert len(table.children[2].children) == 60
    assert normal(table.children[1].all_text()) == "NameValue"     # the header once, not once a page
    # A definition list pairs each term with its definitions.
    assert [[c.role for c in item.children] for item in terms.children] == [["Lbl", "LBody"], ["Lbl", "LBody"]]
    assert normal(terms.children[1].children[1].all_text()) == "First meaning. Second."
    # A nested list sits in its item's LBody; a marker is the item's Lbl.
    loose = document.children[1].children[4].children[0]
    assert [c.role for c in loose.children] == ["Lbl", "LBody"]
    assert [c.role for c in loose.children[1].children] == ["P", "P", "L"]
    assert [c.role for c in document.children[1].children] == ["H1", "P", "Figure", "P", "L"]


def test_repeated_header_rows_are_artifacts(tmp_path):
    """The header row printed again on the table's later pages is on the page
    for a sighted reader, and out of the tree (an artifact) for the rest."""
    path, _ = make(tmp_path, "a5")
    pdf = pdfium.PdfDocument(path)
    texts = [pdf[n].get_textpage().get_text_range() for n in range(len(pdf))]
    last = next(n for n, text in enumerate(texts) if "Row 59" in text)
    first = next(n for n, text in enumerate(texts) if "Row 0" in text)
    assert last > first and "Name" in texts[last]
    th = [n for n in read_tags(path).walk() if n.role == "TH"]
    assert len(th) == 2 and all(n.attributes.get("/Scope") == "/Column" for n in th)
    assert "PDF-UNTAGGED" not in {f.code for f in check_pdf(path).findings}


def test_the_same_source_gives_the_same_tree_in_any_pagination(tmp_path):
    a5, a5_pages = make(tmp_path, "a5", "A5")
    a4, a4_pages = make(tmp_path, "a4", "A4")
    assert a5_pages != a4_pages
    assert skeleton(read_tags(a5)) == skeleton(read_tags(a4))
    result = CheckResult("pdf", "PDF")
    compare_editions({"A5": (a5, read_tags(a5)), "A4": (a4, read_tags(a4))}, result)
    assert result.findings == []
    # WeasyPrint's own tree follows the pages: the check finds it.
    stock, _ = make(tmp_path, "stock", "A5", stock=True)
    compare_editions({"A5": (a5, read_tags(a5)), "stock": (stock, read_tags(stock))}, result)
    assert [f.code for f in result.findings] == ["PDF-TAG-EDITIONS"]


def test_parts_and_splits_are_found(mini, tmp_path):
    """PDF-TAG-PARTS on WeasyPrint's own tree (a part per page); PDF-TAG-SPLIT
    on ours with one paragraph cut in two; neither on ours as built."""
    assert not {"PDF-TAG-PARTS", "PDF-TAG-SPLIT"} & {f.code for f in check_pdf(mini.pdf, mini.guide, mini.epub).findings}
    from guidepub.pdf import layout_book
    from guidepub.render import Renderer
    from conftest import ROOT
    document, _ = layout_book(mini.guide, Renderer(mini.guide, ROOT / "templates", ROOT / "styles"),
                              mini.guide.page_source)
    stock = tmp_path / "stock.pdf"
    with tags.weasyprint_tags():
        document.write_pdf(stock, pdf_variant="pdf/ua-1")
    assert len(document.pages) > len(mini.guide.documents)
    assert "PDF-TAG-PARTS" in {f.code for f in check_pdf(stock, mini.guide, mini.epub).findings}

    cut = tmp_path / "cut.pdf"
    with pikepdf.open(mini.pdf) as pdf:
        def walk(element):
            yield element
            for kid in (element.K if isinstance(element.get("/K"), pikepdf.Array) else []):
                if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                    yield from walk(kid)
        root = pdf.Root.StructTreeRoot.K[0]
        paragraph = next(e for e in walk(root) if e.S == "/P" and isinstance(e.get("/K"), pikepdf.Array)
                         and len(e.K) > 1)
        parent = paragraph.P
        second = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.StructElem, S=pikepdf.Name.P,
                                                      P=parent, Pg=paragraph.Pg, K=pikepdf.Array(list(paragraph.K)[1:])))
        paragraph.K = pikepdf.Array(list(paragraph.K)[:1])
        kids = list(parent.K)
        at = next(i for i, k in enumerate(kids) if k.objgen == paragraph.objgen)
        parent.K = pikepdf.Array(kids[:at + 1] + [second] + kids[at + 1:])
        pdf.save(cut)
    found = [f for f in check_pdf(cut, mini.guide, mini.epub).findings if f.code == "PDF-TAG-SPLIT"]
    assert found and "P elements" in found[0].message and "split" in found[0].message


def test_paint_order_follows_the_tree_and_the_pages_look_the_same(tmp_path):
    """Outside list markers and images are painted after the text by
    WeasyPrint; tags.py moves their painting to where the tree reads them. PDF-READING-ORDER finds
    the stock order; the reordered pages are pixel-identical."""
    ordered, _ = make(tmp_path, "ordered")
    late, _ = make(tmp_path, "late", reorder=False)
    codes = lambda path: {f.code for f in check_pdf(path).findings}       # noqa: E731
    assert "PDF-READING-ORDER" in codes(late)
    assert "PDF-READING-ORDER" not in codes(ordered)
    a, b = pdfium.PdfDocument(ordered), pdfium.PdfDocument(late)
    assert len(a) == len(b)
    for n in range(len(a)):
        assert a[n].render(scale=1).to_pil().tobytes() == b[n].render(scale=1).to_pil().tobytes(), f"page {n + 1}"


def test_running_text_tagged_as_content_is_found(tmp_path):
    """A footer in a fixed box is drawn on every page as tagged content."""
    document, _ = layout(PAGE.format('<p style="position: fixed; bottom: -10mm">Our footer</p>' + f"<p>{LONG * 3}</p>"),
                         CSS.replace("{size}", "A6"), MINI)
    path = tmp_path / "fixed.pdf"
    document.write_pdf(path, pdf_variant="pdf/ua-1")
    assert len(document.pages) >= 3
    found = [f for f in check_pdf(path).findings if f.code == "PDF-RUNNING-CONTENT"]
    assert found and "Our footer" in found[0].message
    path, _ = make(tmp_path, "a5")
    assert "PDF-RUNNING-CONTENT" not in {f.code for f in check_pdf(path).findings}


def test_a_block_moved_past_text_keeps_its_source_place(tmp_path):
    """pdf/flow.py moves a figure past the text after it (so a page is not left
    empty) and names both; the tree keeps the figure where the source has it,
    and the page paints it before the text it was moved past."""
    body = ("<h1>Moved</h1>" + f"<p>{LONG}</p>" * 2 +
            f'<p data-moved-past="m0">{LONG}</p>'
            '<figure data-moved="m0"><img src="figures/box.svg" alt="A box" /><figcaption>Figure 1.</figcaption></figure>'
            "<p>After.</p>")
    paths = {}
    for flag in (True, False):
        document, _ = layout(PAGE.format(body), CSS.replace("{size}", "A6"), MINI)
        tags.REORDER = flag
        try:
            paths[flag] = tmp_path / f"moved-{flag}.pdf"
            document.write_pdf(paths[flag], pdf_variant="pdf/ua-1")
        finally:
            tags.REORDER = True
    roles = [n.role for n in document_of(paths[True]).children]
    assert roles == ["H1", "P", "P", "NonStruct", "P", "P"]          # the figure before the text it moved past
    codes = lambda path: {f.code for f in check_pdf(path).findings}       # noqa: E731
    assert "PDF-READING-ORDER" in codes(paths[False]) and "PDF-READING-ORDER" not in codes(paths[True])
    a, b = pdfium.PdfDocument(paths[True]), pdfium.PdfDocument(paths[False])
    for n in range(len(a)):
        assert a[n].render(scale=1).to_pil().tobytes() == b[n].render(scale=1).to_pil().tobytes(), f"page {n + 1}"


def test_a_figures_bbox_is_where_the_page_draws_it(tmp_path):
    """/BBox is in the page's space (points, y up from the foot), where the
    page draws the figure's image (WeasyPrint wrote CSS px from the top)."""
    path, _ = make(tmp_path, "a5")
    with pikepdf.open(path) as pdf:
        pages = {page.objgen: n for n, page in enumerate(pdf.pages)}

        def walk(element):
            yield element
            kids = element.get("/K")
            for kid in (kids if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []):
                if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                    yield from walk(kid)
        root = pdf.Root.StructTreeRoot.K
        boxes = [(pages[e.Pg.objgen], [float(v) for v in e.A.BBox])
                 for e in walk(root[0] if isinstance(root, pikepdf.Array) else root) if e.S == "/Figure"]
    assert boxes
    document = pdfium.PdfDocument(path)
    for page, (x1, y1, x2, y2) in boxes:
        drawn = [obj.get_bounds() for obj in document[page].get_objects(max_depth=3)
                 if obj.type in (pdfium_image(), pdfium_form(), pdfium_path())]
        inside = [b for b in drawn if x1 - 1 <= b[0] and b[2] <= x2 + 1 and y1 - 1 <= b[1] and b[3] <= y2 + 1]
        assert inside and min(b[0] for b in inside) - x1 < 10 and y2 - max(b[3] for b in inside) < 10, \
            (x1, y1, x2, y2, drawn)


def pdfium_path():
    import pypdfium2.raw as raw
    return raw.FPDF_PAGEOBJ_PATH


def pdfium_image():
    import pypdfium2.raw as raw
    return raw.FPDF_PAGEOBJ_IMAGE


def pdfium_form():
    import pypdfium2.raw as raw
    return raw.FPDF_PAGEOBJ_FORM
