"""The PDF: tagged PDF/UA-1 with the structure a screen reader needs."""

from __future__ import annotations

import pikepdf
import pytest

from guidepub.errors import GuideError
from guidepub.pdf import _font_names, layout, write_pdf
from guidepub.pdf.tagtree import read_tags
from guidepub.render import Renderer, pdf_format
from conftest import ROOT
from pdf_helpers import (html_headings, normal, outline_titles, page_of, page_texts,
                         tag_headings, xref_pages)


@pytest.fixture(scope="module")
def tags(mini):
    return read_tags(mini.pdf)


def test_document_level_accessibility_entries(mini):
    with pikepdf.open(mini.pdf) as pdf:
        assert pdf.Root.MarkInfo.Marked is True
        assert "/StructTreeRoot" in pdf.Root
        assert str(pdf.Root.Lang) == "en-GB"
        assert pdf.Root.ViewerPreferences.DisplayDocTitle is True
        assert str(pdf.docinfo.Title) == "Mini guide: Every block once"
        assert str(pdf.docinfo.Author) == "Test author, Test editor"
        assert str(pdf.docinfo.Subject) == "A short guide used by the tests."
        assert str(pdf.docinfo.Keywords) == "test"
        with pdf.open_metadata() as xmp:
            assert xmp.get("pdfuaid:part") == "1"


def test_headings_match_the_content_in_order_and_text(mini, tags):
    renderer = Renderer(mini.guide, ROOT / "templates", ROOT / "styles")
    expected = html_headings(renderer.page("pdf/book.html.j2", pdf_format(), date="x"))
    assert tag_headings(tags) == expected
    # and every heading written in the content is among them, in order
    content = [("H1", d.meta.title) for d in mini.guide.documents]
    written = [(f"H{h.level}", h.text) for d in mini.guide.documents for h in d.headings]
    found = iter(tag_headings(tags))
    assert all(h in found for h in [("H1", "First chapter"), ("H2", "Opening section"),
                                    ("H3", "Deeper section"), ("H1", "Second chapter")])
    assert set(content + written) <= set(tag_headings(tags))


def test_heading_levels_never_skip(tags):
    previous = 0
    for role, text in tag_headings(tags):
        level = int(role[1])
        assert level <= previous + 1 or level == 1, f"{role} '{text}' follows H{previous}"
        previous = level


def test_every_figure_has_alt_text(mini, tags):
    figures = [n for n in tags.walk() if n.role == "Figure"]
    assert [normal(f.alt or "") for f in figures] == [f.alt for f in mini.guide.figures]


def test_tables_have_header_cells(tags):
    tables = [n for n in tags.walk() if n.role == "Table"]
    assert len(tables) == 1
    assert [normal(n.all_text()) for n in tables[0].walk() if n.role == "TH"] == ["Name", "Value"]


def test_outline_lists_every_document_and_section(mini):
    titles = outline_titles(mini.pdf)
    for doc in mini.guide.documents:
        assert (0, doc.meta.title) in titles
        for h in doc.headings:
            assert (h.level - 1, h.text) in titles
    assert not any(t == "Key points" for _, t in titles), "block titles stay out of the outline"


def test_cross_references_carry_the_right_page(mini):
    pages = page_texts(mini.pdf)
    figure_page = page_of(pages, "Figure 1. A box")
    assert xref_pages(pages, "Figure 1") == [figure_page]
    chapter_page = page_of(pages, "Chapter 1 First chapter")
    assert xref_pages(pages, "Chapter 1: First chapter") == [chapter_page]


def test_contents_lists_documents(mini):
    pages = page_texts(mini.pdf)
    contents = pages[page_of(pages, "Contents") - 1]
    for doc in mini.guide.documents:
        assert doc.meta.title in contents


def test_page_count_is_sane(mini):
    with pikepdf.open(mini.pdf) as pdf:
        assert 6 <= len(pdf.pages) <= 20


def test_only_the_brand_font_is_embedded(mini):
    with pikepdf.open(mini.pdf) as pdf:
        names = _font_names(pdf)
    assert names and all(n.startswith("Brand-Atkinson-Hyperlegible") for n in names), names


def test_running_head_shows_the_chapter_title(mini):
    pages = page_texts(mini.pdf)
    first, second = page_of(pages, "Chapter 1 First chapter"), page_of(pages, "Chapter 2 Second chapter")
    assert second - first >= 2, "the fixture's first chapter runs onto a second page"
    # the page after the opener has no heading of its own: only the running head names the chapter
    assert "First chapter" in pages[first]
    assert "Second chapter" in pages[second - 1] and "First chapter" not in pages[second - 1]
    # no running head on an opener page: its title shows once, as the heading
    assert pages[first - 1].count("First chapter") == 1
    assert pages[second - 1].count("Second chapter") == 1


BAD_HTML = '<html lang="en-GB"><head><title>t</title></head><body><p>x</p>{}</body></html>'


@pytest.mark.parametrize("extra", ['<img src="missing.png" alt="A missing picture" />',
                                   '<img src="figures/box.svg" />'])
def test_weasyprint_problems_fail_the_build_and_keep_the_old_file(tmp_path, extra):
    target = tmp_path / "out.pdf"
    target.write_bytes(b"last good build")
    with pytest.raises(GuideError) as info:
        document, logged = layout(BAD_HTML.format(extra), "", ROOT / "tests" / "fixtures" / "mini")
        write_pdf(document, logged, target, "DejaVu Sans")
    assert info.value.problems[0].code == "PDF-WEASYPRINT"
    assert target.read_bytes() == b"last good build"
    assert list(tmp_path.iterdir()) == [target], "no temporary file is left behind"


def test_font_fallback_fails_the_build(tmp_path):
    target = tmp_path / "out.pdf"
    with pytest.raises(GuideError) as info:
        document, logged = layout(BAD_HTML.format(""), "p { font-family: 'DejaVu Sans' }", tmp_path)
        write_pdf(document, logged, target, "Atkinson Hyperlegible")
    assert info.value.problems[0].code == "PDF-FONT-FALLBACK"
    assert not target.exists()


@pytest.mark.parametrize("src, why", [
    ("https://example.org/x.png", "reads no network"),
    ("file:///etc/passwd", "outside the project"),
    ("../../../../etc/hostname", "outside the project"),
])
def test_rendering_reads_only_inside_the_project(tmp_path, src, why):
    with pytest.raises(GuideError) as info:
        layout(BAD_HTML.format(f'<img src="{src}" alt="A test picture" />'), "",
               ROOT / "tests" / "fixtures" / "mini")
    [p] = info.value.problems
    assert p.code == "PDF-FETCH" and why in p.message


def test_a_symlink_leading_out_is_refused(tmp_path):
    (tmp_path / "guide").mkdir()
    (tmp_path / "guide" / "leak.svg").symlink_to(ROOT / "tests" / "fixtures" / "mini" / "figures" / "box.svg")
    with pytest.raises(GuideError) as info:
        layout(BAD_HTML.format('<img src="leak.svg" alt="A test picture" />'), "", tmp_path / "guide")
    assert info.value.problems[0].code == "PDF-FETCH"


def test_a_large_data_url_is_refused(tmp_path):
    data = "data:image/svg+xml;base64," + "A" * (3 * 1024 * 1024)
    with pytest.raises(GuideError) as info:
        layout(BAD_HTML.format(f'<img src="{data}" alt="A test picture" />'), "", tmp_path)
    assert "data: URL" in info.value.problems[0].message


def test_a_link_holding_emphasis_or_code_is_one_link_with_one_annotation(tmp_path):
    """WeasyPrint gives every inline box inside a link an annotation of its
    own, outside the Link tag; pdf/fixups.py keeps only the Link's."""
    html = BAD_HTML.format('<p>See <a href="https://example.org/a">the <em>best</em> and '
                           '<code>code</code> site</a> and <a href="#x">a <strong><em>nested</em></strong> one</a>.</p>'
                           '<p id="x">Target.</p>')
    target = tmp_path / "out.pdf"
    document, logged = layout(html, "body, code { font-family: 'DejaVu Sans' }", tmp_path)
    write_pdf(document, logged, target, "DejaVu Sans")
    with pikepdf.open(target) as pdf:
        annots = [a for page in pdf.pages for a in page.obj.get("/Annots", [])]
        assert len(annots) == 2
        assert [str(a.Contents) for a in annots] == ["the best and code site", "a nested one"]
        parent_tree = {int(k): v.get("/S") for k, v in zip(pdf.Root.StructTreeRoot.ParentTree.Nums[::2],
                                                          pdf.Root.StructTreeRoot.ParentTree.Nums[1::2])}
        assert [parent_tree[int(a.StructParent)] for a in annots] == ["/Link", "/Link"]
    links = [n for n in read_tags(target).walk() if n.role == "Link"]
    assert [len(n.annotations) for n in links] == [1, 1]
    assert {a for n in links for a in n.annotations} == {a.objgen for a in annots}
    assert [normal(n.all_text()) for n in links] == ["the best and code site", "a nested one"]


def test_the_pdf_prints_web_addresses_for_paper_readers(mini):
    """Resource lists and the licence print the address after the link text,
    outside the link (one Link tag, described by its text); the EPUB does not."""
    import zipfile
    text = " ".join(page_texts(mini.pdf))
    assert "An example site (example.org)" in text
    licence = str(mini.guide.meta.licence.url).split("://", 1)[1].rstrip("/")
    assert f"({licence})" in text
    links = [n for n in read_tags(mini.pdf).walk() if n.role == "Link"]
    examples = [n for n in links if "An example site" in n.all_text()]
    assert examples and all(normal(n.all_text()) == "An example site" and len(n.annotations) == 1
                            for n in examples)
    with zipfile.ZipFile(mini.epub) as z:
        assert not any(b"(example.org)" in z.read(n) for n in z.namelist() if n.endswith(".xhtml"))
