"""Markdown and templates: each block type renders to the semantic HTML both
formats share, and cross-references point where each format needs."""

from __future__ import annotations

import re

import pytest
from lxml import etree

from guidepub.errors import GuideError
from guidepub.load import load
from guidepub.markdown import make_parser
from guidepub.render import Renderer, epub_format, pdf_format
from conftest import BRAND, MINI, ROOT

XHTML = "{http://www.w3.org/1999/xhtml}"
NS = {"h": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}


@pytest.fixture(scope="module")
def renderer():
    guide = load(MINI, BRAND)
    return Renderer(guide, ROOT / "templates", ROOT / "styles")


def chapter(renderer, doc_id: str, fmt=None):
    """A document's body as an element tree, parsed as strict XML."""
    guide = renderer.guide
    doc = next(d for d in guide.documents if d.id == doc_id)
    html = renderer.partial("partials/document.html.j2", doc=doc,
                            body=renderer.body(doc, fmt or epub_format(guide)))
    wrapped = (f'<div xmlns="http://www.w3.org/1999/xhtml" '
               f'xmlns:epub="http://www.idpf.org/2007/ops">{html}</div>')
    return etree.fromstring(wrapped.encode())


def block(tree, name):
    [element] = tree.xpath(f"//*[contains(concat(' ', @class, ' '), ' block-{name} ')]")
    return element


def heading(element):
    [h] = element.xpath("h:h1|h:h2|h:h3|h:h4|h:h5|h:h6", namespaces=NS)
    return h.tag.replace(XHTML, ""), h.text, h.get("id")


def test_document_is_a_labelled_section_with_dpub_role(renderer):
    tree = chapter(renderer, "ch-one")
    [section] = tree.xpath("h:section[@id='ch-one']", namespaces=NS)
    assert section.get("role") == "doc-chapter"
    assert section.get("{http://www.idpf.org/2007/ops}type") == "chapter"
    assert section.get("aria-labelledby") == "ch-one--title"
    [h1] = tree.xpath("//h:h1", namespaces=NS)
    assert (h1.get("id"), h1.text) == ("ch-one--title", "First chapter")
    assert tree.xpath("//h:div[@class='outcomes']/h:ul/h:li/text()", namespaces=NS) == ["use every block"]


def test_glossary_uses_its_own_role_and_a_definition_list(renderer):
    tree = chapter(renderer, "terms")
    assert tree.xpath("h:section/@role", namespaces=NS) == ["doc-glossary"]
    assert tree.xpath("//h:dl/h:dt/text()", namespaces=NS) == ["Term"]
    assert "".join(tree.xpath("//h:dl/h:dd//text()", namespaces=NS)).strip() == "Its meaning."


def test_key_points_is_a_tip_aside_with_a_heading_below_its_section(renderer):
    element = block(chapter(renderer, "ch-one"), "key-points")
    assert element.tag == XHTML + "aside"
    assert element.get("role") == "doc-tip"
    level, text, ident = heading(element)
    assert (level, text) == ("h3", "Key points")       # it follows an h2
    assert element.get("aria-labelledby") == ident


def test_activity_takes_its_title_from_the_opening_line(renderer):
    element = block(chapter(renderer, "ch-one"), "activity")
    assert element.tag == XHTML + "section"
    # a chapter part sits below the section (h2) it closes, even after an h3
    assert heading(element)[:2] == ("h3", "Try this")


def test_chapter_parts_sit_at_one_level_in_every_chapter(renderer):
    """Key points, activity, case study, self-check and further resources are
    h3 whatever heading comes before them; a quote in a case study has none."""
    tree = chapter(renderer, "ch-one")
    levels = {name: heading(block(tree, name))[0]
              for name in ("key-points", "activity", "case-study", "self-check", "resources")}
    assert set(levels.values()) == {"h3"}, levels


def test_case_study_is_an_example_and_can_hold_a_quote(renderer):
    element = block(chapter(renderer, "ch-one"), "case-study")
    assert element.get("role") == "doc-example"
    assert heading(element)[1] == "A made-up story (fictional)"
    [quote] = element.xpath(".//h:figure[@class='block-quote']", namespaces=NS)
    assert quote.xpath("h:blockquote/h:p/text()", namespaces=NS) == ["Quoted words."]
    assert quote.xpath("h:figcaption/text()", namespaces=NS) == ["A composite voice"]


def test_self_check_and_resources_have_default_titles(renderer):
    tree = chapter(renderer, "ch-one")
    assert heading(block(tree, "self-check"))[1] == "Self-check"
    resources = block(tree, "resources")
    assert heading(resources)[1] == "Further resources"
    assert resources.xpath(".//h:a/@href", namespaces=NS) == ["https://example.org/"]


def test_figure_has_alt_text_and_a_numbered_caption(renderer):
    [figure] = chapter(renderer, "ch-one").xpath("//h:figure[@id='fig-box']", namespaces=NS)
    [img] = figure.xpath("h:img", namespaces=NS)
    assert img.get("alt") == "A square box with a tick inside"
    assert img.get("src") == "figures/box.svg"
    assert "".join(figure.xpath("h:figcaption//text()", namespaces=NS)) == "Figure\u00a01. A box"


def test_table_has_caption_and_column_headers(renderer):
    [table] = chapter(renderer, "ch-two").xpath("//h:table", namespaces=NS)
    assert table.get("id") == "tbl-data"
    assert "".join(table.xpath("h:caption//text()", namespaces=NS)) == "Table\u00a01. Some data"
    assert [(th.text, th.get("scope")) for th in table.xpath(".//h:th", namespaces=NS)] == [
        ("Name", "col"), ("Value", "col")]


def test_footnotes_are_linked_both_ways_even_when_cited_twice(renderer):
    tree = chapter(renderer, "ch-one")
    refs = tree.xpath("//h:a[@role='doc-noteref']", namespaces=NS)
    [note] = tree.xpath("//h:section[@role='doc-endnotes']//h:li", namespaces=NS)
    assert [r.get("href") for r in refs] == ["#" + note.get("id")] * 2
    backs = note.xpath(".//h:a[@role='doc-backlink']", namespaces=NS)
    assert [b.get("href") for b in backs] == ["#" + r.get("id") for r in refs]
    assert [b.text for b in backs] == ["Back to text for note 1", "Back to text for note 1 (reference 2)"]


def test_ids_are_unique_across_the_whole_book(renderer):
    """The PDF is one HTML document: ids from every chapter must not clash."""
    html = renderer.page("pdf/book.html.j2", pdf_format(), date="x")
    ids = re.findall(r' id="([^"]+)"', html)
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)


def test_a_quote_holding_a_block_keeps_the_heading_level(guide_copy):
    path = guide_copy / "two.md"
    path.write_text(path.read_text() + "\n:::: quote Someone\n::: key-points\n- A point.\n:::\n::::\n")
    guide = load(guide_copy, BRAND)
    html = Renderer(guide, ROOT / "templates", ROOT / "styles").body(guide.documents[2], pdf_format())
    assert '<h3 id="ch-two--block-1" class="block-title">Key points</h3>' in html


def test_alt_text_is_the_text_a_reader_hears(guide_copy):
    path = guide_copy / "one.md"
    path.write_text(path.read_text().replace("![A square box with a tick inside]",
                                             "![A *square* box with \"a tick\" inside]"))
    guide = load(guide_copy, BRAND)
    assert guide.figures[0].alt == 'A square box with "a tick" inside'


def test_cross_references_per_format(renderer):
    guide = renderer.guide
    for fmt, fig, chap in ((epub_format(guide), "ch-one.xhtml#fig-box", "ch-two.xhtml"),
                           (pdf_format(), "#fig-box", "#ch-two")):
        links = chapter(renderer, "ch-one", fmt).xpath("//h:a[@class='xref']", namespaces=NS)
        assert [(a.get("href"), a.text) for a in links] == [
            (fig, "Figure\u00a01"), (chap, "the second chapter")]
    links = chapter(renderer, "ch-two").xpath("//h:a[@class='xref']", namespaces=NS)
    assert [(a.get("href"), a.text) for a in links] == [
        ("ch-two.xhtml#tbl-data", "Table\u00a01"), ("ch-one.xhtml#ch-one-opening-section", "Opening section")]
    intro = chapter(renderer, "intro").xpath("//h:a[@class='xref']/text()", namespaces=NS)
    assert intro == ["Chapter\u00a01: First chapter"]


def test_raw_html_is_never_passed_through():
    """load.py refuses raw HTML (CONTENT-HTML); the parser escapes it anyway."""
    html = make_parser().render("Text <script>alert(1)</script>\n\n<div>block</div>\n")
    assert "<script>" not in html and "&lt;script&gt;" in html and "<div>" not in html


def test_stylesheet_writes_brand_tokens_in(renderer):
    css = renderer.stylesheet(pdf_format(), lambda path: path.as_uri())
    assert "var(--" not in css
    assert renderer.guide.brand.colours["primary"] in css
    assert '@font-face' in css and "Atkinson Hyperlegible" in css


def test_unknown_token_in_a_stylesheet_is_an_error(tmp_path, renderer):
    styles = tmp_path / "styles"
    styles.mkdir()
    for name in ("base.css", "blocks.css", "print.css"):
        (styles / name).write_text((ROOT / "styles" / name).read_text())
    (styles / "blocks.css").write_text("p { color: var(--colour-neon); }")
    broken = Renderer(renderer.guide, ROOT / "templates", styles)
    broken.brand_file = renderer.brand_file
    with pytest.raises(GuideError) as info:
        broken.stylesheet(pdf_format(), lambda path: path.as_uri())
    assert info.value.problems[0].code == "BRAND-TOKEN"


def test_resource_list_renders_the_guides_resources_file(guide_copy):
    (guide_copy / "resources.yaml").write_text(
        "resources:\n"
        "  - {id: zeta, title: Zeta site, publisher: Zeta Ltd, url: 'https://zeta.example/', offers: Things.}\n"
        "  - {id: alpha, title: Alpha site, publisher: Alpha Ltd, url: 'https://example.org/', offers: Help.}\n")
    guide_file = guide_copy / "guide.yaml"
    guide_file.write_text(guide_file.read_text() + "resources: resources.yaml\n")
    terms = guide_copy / "terms.md"
    terms.write_text(terms.read_text() + "\n::: resource-list\n:::\n")
    guide = load(guide_copy, BRAND)
    renderer = Renderer(guide, ROOT / "templates", ROOT / "styles")
    tree = chapter(renderer, "terms")
    [dl] = tree.xpath("//h:dl[@class='resource-list']", namespaces=NS)
    assert dl.xpath("h:dt/h:a/text()", namespaces=NS) == ["Alpha site", "Zeta site"]   # sorted by title
    assert dl.xpath("h:dd/text()", namespaces=NS) == ["Alpha Ltd. Help.", "Zeta Ltd. Things."]


def test_resources_file_is_validated(guide_copy):
    (guide_copy / "resources.yaml").write_text(
        "resources:\n  - {id: a, title: A, publisher: P, url: not-a-url, offers: X}\n")
    guide_file = guide_copy / "guide.yaml"
    guide_file.write_text(guide_file.read_text() + "resources: resources.yaml\n")
    with pytest.raises(GuideError) as info:
        load(guide_copy, BRAND)
    [p] = info.value.problems
    assert (p.code, p.path.name, p.line) == ("CONTENT-SCHEMA", "resources.yaml", 2)
    assert "resources.0.url" in p.message


def test_markdown_outside_the_body_renders_with_the_bodys_rules(guide_copy):
    """Titles, block titles, attributions and captions: emphasis, code, links
    and cross-references in both formats (tests/test_inline.py builds them)."""
    one = guide_copy / "one.md"
    text = one.read_text()
    for old, new in (("title: First chapter", 'title: "First *chapter* with `code` and [a link](#ch-two)"'),
                     ('"A box"', '"A *box*, see [](#ch-two)"'),
                     ("::: activity Try this", "::: activity Try *this* and [a site](https://example.org/a)"),
                     ("::: quote A composite voice", "::: quote A *composite* voice, [a book](https://example.org/b)")):
        text = text.replace(old, new)
    one.write_text(text)
    guide = load(guide_copy, BRAND)
    renderer = Renderer(guide, ROOT / "templates", ROOT / "styles")
    doc = guide.documents[1]
    assert doc.meta.title == "First chapter with code and a link"
    for fmt, href in ((epub_format(guide), "ch-two.xhtml"), (pdf_format(), "#ch-two")):
        html = renderer.partial("partials/document.html.j2", doc=doc, body=renderer.body(doc, fmt),
                                title=renderer.title(doc, fmt))
        tree = etree.fromstring(f'<div xmlns="http://www.w3.org/1999/xhtml" '
                                f'xmlns:epub="http://www.idpf.org/2007/ops">{html}</div>'.encode())
        [h1] = tree.xpath("//h:h1", namespaces=NS)
        assert h1.xpath("string()") == doc.meta.title
        assert h1.xpath("h:em/text()", namespaces=NS) == ["chapter"] and h1.xpath("h:code", namespaces=NS)
        assert h1.xpath("h:a/@href", namespaces=NS) == [href]
        [caption] = tree.xpath("//h:figure[@id='fig-box']/h:figcaption", namespaces=NS)
        assert caption.xpath("h:em/text()", namespaces=NS) == ["box"]
        assert [(a.get("href"), a.text) for a in caption.xpath("h:a", namespaces=NS)] == [
            (href, "Chapter\u00a02: Second chapter")]
        activity = block(tree, "activity")
        assert heading(activity)[:2] == ("h3", "Try ")
        assert activity.xpath("h:h3/h:em/text()", namespaces=NS) == ["this"]
        [quote] = tree.xpath("//h:figure[@class='block-quote']/h:figcaption", namespaces=NS)
        assert quote.xpath("h:em/text()|h:a/@href", namespaces=NS) == ["composite", "https://example.org/b"]
    # the PDF's contents keeps the emphasis and code, without a link inside the link
    toc = str(renderer.toc_title(doc))
    assert toc == "First <em>chapter</em> with <code>code</code> and a link"


def test_figure_width_and_a_figure_without_caption(guide_copy):
    path = guide_copy / "one.md"
    path.write_text(path.read_text().replace('(figures/box.svg "A box"){#fig-box}',
                                             '(figures/box.svg){#fig_box width="30em"}'))
    guide = load(guide_copy, BRAND)
    renderer = Renderer(guide, ROOT / "templates", ROOT / "styles")
    tree = chapter(renderer, "ch-one")
    [figure] = tree.xpath("//h:figure[@id='fig-box']", namespaces=NS)
    assert figure.xpath("h:img/@style", namespaces=NS) == ["width: 30em"]
    assert "".join(figure.xpath("h:figcaption//text()", namespaces=NS)) == "Figure\u00a01."


def test_a_title_citing_a_note_gives_bookmark_and_running_head_its_plain_text(guide_copy):
    path = guide_copy / "two.md"
    path.write_text(path.read_text().replace("title: Second chapter", 'title: "Second *chapter*[^b]"'))
    guide = load(guide_copy, BRAND)
    renderer = Renderer(guide, ROOT / "templates", ROOT / "styles")
    html = renderer.page("pdf/book.html.j2", pdf_format(), date="x")
    assert ('<h1 id="ch-two--title" class="document-title" style="bookmark-label: &#34;Second chapter&#34;; '
            'string-set: chapter &#34;Second chapter&#34;">Second <em>chapter</em><sup class="footnote-ref">') in html
    # the note is numbered first: the title comes before the body
    assert '<a href="#ch-two--fn1" id="ch-two--fn1-ref" epub:type="noteref" role="doc-noteref">1</a>' in html
    assert 'id="ch-two--fn1-ref2"' in html        # and the body cites it again
