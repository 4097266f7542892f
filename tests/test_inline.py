"""Inline Markdown outside the body: figure captions, document titles, block
titles and quotation attributions render with the body's rules (emphasis,
code, links, cross-references, footnotes) wherever a format shows rich text,
and as plain text wherever it needs plain text (bookmarks, running heads,
<title>, nav labels, cross-reference labels, alt text). Also: one annotation
for a link that holds emphasis, optional captions, figure widths, and ids
written with underscores."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pikepdf
import pytest
from lxml import etree

from guidepub.errors import GuideError
from guidepub.load import load
from guidepub.pdf.tagtree import read_tags
from conftest import BRAND, MINI, ROOT
from pdf_helpers import outline_titles

NS = {"h": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
CAPTION = ('A *box* with `code`, [a site](https://example.org/caption) and a note[^c]')
NOTE = "A note from the caption."
MARKS = re.compile(r"[*`_]|\[\^|\]\(")       # what Markdown leaves behind when it is not rendered


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def rich_guide(target: Path) -> Path:
    """The fixture guide with Markdown in every place outside the body."""
    shutil.copytree(MINI, target)
    one, two = target / "one.md", target / "two.md"
    edit(one, "title: First chapter", 'title: "First *chapter* with `code`"')
    edit(one, '![A square box with a tick inside](figures/box.svg "A box"){#fig-box}',
         f'![A square box with a tick inside](figures/box.svg "{CAPTION}"){{#fig_box width="50%"}}\n\n'
         '![A second box as wide as the text](figures/box.svg){width="100%"}\n\n'
         '![A third box, asking to be wider than the page](figures/box.svg "Capped"){width="5000px"}')
    edit(one, "See [](#fig-box)", "See [](#fig_box), [](#fig-box)")
    edit(one, "Some text with a note.[^a]",
         "Some text with a note.[^a] See [the *emphasised* site](https://example.org/em) now.")
    edit(one, "::: activity Try this",
         "::: activity Try *this* with `code` and [a site](https://example.org/activity)")
    edit(one, "::: quote A composite voice",
         "::: quote A *composite* voice, [Dare to Lead](https://example.org/dare)")
    edit(one, "[^a]: The note.", f"[^a]: The note.\n\n[^c]: {NOTE}")
    edit(two, "title: Second chapter", 'title: "Second **chapter**[^t]"')
    edit(two, "## Tables and terms", "## Tables and *terms*[^b]")
    edit(two, "[^b]: A note in the second chapter.",
         "[^b]: A note in the second chapter.\n\n[^t]: A note on the title.")
    return target


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    base = tmp_path_factory.mktemp("inline")
    guide = rich_guide(base / "guide")
    out = base / "dist"
    run = subprocess.run([sys.executable, str(ROOT / "build.py"), "--content", str(guide), "--out", str(out)],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    [pdf] = out.glob("*-screen.pdf")
    [epub] = out.glob("*.epub")
    return pdf, epub


def epub_tree(epub: Path, name: str):
    with zipfile.ZipFile(epub) as z:
        return etree.fromstring(z.read(f"EPUB/{name}"))


def pdftotext(pdf: Path) -> str:
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout


# --- built outputs -------------------------------------------------------------

def test_the_pdf_shows_no_markdown_marks(built):
    text = pdftotext(built[0])
    assert not MARKS.search(text), MARKS.findall(text)
    flat = " ".join(text.split())
    for shown in ("First chapter with code", "Figure 1. A box with code, a site and a note",
                  "Try this with code and a site", "A composite voice, Dare to Lead", "Second chapter"):
        assert shown in flat


def test_bookmarks_and_nav_labels_are_plain_text(built):
    pdf, epub = built
    titles = [t for _, t in outline_titles(pdf)]
    assert "First chapter with code" in titles
    assert "Second chapter" in titles            # not "Second chapter1": the title's note stays out
    assert "Tables and terms" in titles          # and so does a heading's
    nav = epub_tree(epub, "nav.xhtml")
    labels = [" ".join(a.xpath("string()").split()) for a in nav.xpath("//h:nav[@id='toc']//h:a", namespaces=NS)]
    assert "1. First chapter with code" in labels and "2. Second chapter" in labels
    assert not nav.xpath("//h:nav[@id='toc']//h:a/*", namespaces=NS), "nav labels hold no markup"
    page = epub_tree(epub, "ch-one.xhtml")
    assert page.findtext("h:head/h:title", namespaces=NS) == "First chapter with code"
    with pikepdf.open(pdf) as opened:
        assert not MARKS.search(str(opened.docinfo.get("/Title", "")))


def test_the_epub_renders_markdown_in_captions_titles_and_attributions(built):
    page = epub_tree(built[1], "ch-one.xhtml")
    [caption] = page.xpath("//h:figure[@id='fig-box']/h:figcaption", namespaces=NS)
    assert caption.xpath("h:em/text()", namespaces=NS) == ["box"]
    assert caption.xpath("h:code/text()", namespaces=NS) == ["code"]
    assert caption.xpath("h:a/@href", namespaces=NS) == ["https://example.org/caption"]
    [h1] = page.xpath("//h:h1", namespaces=NS)
    assert h1.xpath("h:em/text()", namespaces=NS) == ["chapter"] and h1.xpath("h:code/text()", namespaces=NS)
    [activity] = page.xpath("//h:section[contains(@class, 'block-activity')]/h:h3", namespaces=NS)
    assert activity.xpath("h:em/text()", namespaces=NS) == ["this"]
    assert activity.xpath("h:a/@href", namespaces=NS) == ["https://example.org/activity"]
    [who] = page.xpath("//h:figure[@class='block-quote']/h:figcaption", namespaces=NS)
    assert who.xpath("h:em/text()", namespaces=NS) == ["composite"]
    assert who.xpath("h:a/@href", namespaces=NS) == ["https://example.org/dare"]
    # the cross-references, written with an underscore and with a hyphen, both name the figure
    xrefs = page.xpath("//h:a[@class='xref']", namespaces=NS)
    assert [(a.get("href"), a.text) for a in xrefs][:2] == [("ch-one.xhtml#fig-box", "Figure\u00a01")] * 2


def test_a_note_cited_in_a_caption_is_kept_in_both_formats(built):
    pdf, epub = built
    page = epub_tree(epub, "ch-one.xhtml")
    [ref] = page.xpath("//h:figure[@id='fig-box']/h:figcaption//h:a[@role='doc-noteref']", namespaces=NS)
    assert ref.text == "2"                       # after the body's first note, in reading order
    [note] = page.xpath(f"//h:li[@id='{ref.get('href')[1:]}']", namespaces=NS)
    assert NOTE in note.xpath("string()")
    assert note.xpath(".//h:a[@role='doc-backlink']/@href", namespaces=NS) == ["#" + ref.get("id")]
    assert NOTE in " ".join(pdftotext(pdf).split())
    with pikepdf.open(pdf) as opened:
        dests = {str(a.get("/Dest", "")) for p in opened.pages for a in p.obj.get("/Annots", [])}
    assert ref.get("href")[1:] in dests and ref.get("id") in dests


def test_a_link_with_emphasis_is_one_link_with_one_annotation(built):
    pdf = built[0]
    with pikepdf.open(pdf) as opened:
        annots = [a for p in opened.pages for a in p.obj.get("/Annots", [])
                  if str(a.get("/A", {}).get("/URI", "")) == "https://example.org/em"]
        every = {a.objgen for p in opened.pages for a in p.obj.get("/Annots", [])}
    assert len(annots) == 1
    assert str(annots[0].Contents) == "the emphasised site"
    links = [n for n in read_tags(pdf).walk() if n.role == "Link" and annots[0].objgen in n.annotations]
    assert len(links) == 1
    tagged = {a for n in read_tags(pdf).walk() if n.role == "Link" for a in n.annotations}
    assert every <= tagged, "every annotation is reachable from a Link tag"


def test_every_check_passes(built):
    """PDF/UA structure (one annotation a link, every heading and bookmark),
    EPUBCheck, Ace and parity, with Markdown and notes in titles and captions."""
    out = built[0].parent
    guide = out.parent / "guide"
    run = subprocess.run([sys.executable, str(ROOT / "build.py"), "check", "--content", str(guide),
                          "--out", str(out)], capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr


def figure_boxes(pdf: Path) -> list[float]:
    """The width of each Figure in the tag tree, from its layout BBox."""
    widths = []
    with pikepdf.open(pdf) as opened:
        stack = [opened.Root.StructTreeRoot.K]
        while stack:
            obj = stack.pop(0)
            if isinstance(obj, pikepdf.Array):
                stack[:0] = list(obj)
            elif isinstance(obj, pikepdf.Dictionary) and obj.get("/Type") not in ("/MCR", "/OBJR"):
                if obj.get("/S") == "/Figure":
                    x1, _, x2, _ = (float(v) for v in obj.A.BBox)
                    widths.append(x2 - x1)
                if "/K" in obj:
                    stack.insert(0, obj.K)
    return widths


def test_a_figure_width_applies_in_both_formats(built):
    pdf, epub = built
    page = epub_tree(epub, "ch-one.xhtml")
    [img] = page.xpath("//h:figure[@id='fig-box']/h:img", namespaces=NS)
    assert img.get("style") == "width: 50%"
    with zipfile.ZipFile(epub) as z:
        css = z.read("EPUB/css/guide.css").decode()
    assert re.search(r"\.figure img \{[^}]*max-width: 100%", css), "widths are capped at the text width"
    half, full, capped = figure_boxes(pdf)
    assert 0.45 <= half / full <= 0.55, (half, full)     # 100% is the text width
    assert abs(capped - full) < 0.5, "a figure is never wider than the text"


def test_a_figure_without_caption_keeps_its_label(built):
    page = epub_tree(built[1], "ch-one.xhtml")
    captions = [" ".join(c.xpath("string()").split()) for c in page.xpath("//h:figure/h:figcaption", namespaces=NS)]
    assert "Figure 2." in captions


# --- loading: the rules, with the file and line ------------------------------------

def problems(guide: Path):
    with pytest.raises(GuideError) as info:
        load(guide, BRAND)
    return info.value.problems


def line_of(path: Path, needle: str) -> int:
    return next(n for n, text in enumerate(path.read_text().splitlines(), 1) if needle in text)


def test_plain_text_for_every_place_that_needs_it(tmp_path):
    guide = load(rich_guide(tmp_path / "guide"), BRAND)
    one, two = guide.documents[1], guide.documents[2]
    assert one.meta.title == "First chapter with code"
    assert guide.targets["ch-one"].label == "Chapter\u00a01: First chapter with code"
    assert two.meta.title == "Second chapter"
    [box, wide, capped] = one.figures
    assert (box.id, box.caption, box.width) == ("fig-box", "A box with code, a site and a note", "50%")
    assert (wide.caption, wide.width) == ("", "100%")
    assert capped.width == "5000px"
    assert box.alt == "A square box with a tick inside"


@pytest.mark.parametrize("width", ["wide", "0%", "150%", "80", "-5px", "1e3px"])
def test_an_invalid_figure_width_is_an_error_at_its_line(guide_copy, width):
    path = guide_copy / "one.md"
    edit(path, "{#fig-box}", f'{{#fig-box width="{width}"}}')
    [p] = problems(guide_copy)
    assert (p.code, p.path, p.line) == ("CONTENT-ATTRIBUTE", path, line_of(path, "box.svg"))


@pytest.mark.parametrize("where, old, new", [
    ("caption", '"A box"', '"A [bad](javascript:alert(1)) box"'),
    ("block title", "::: activity Try this", "::: activity Try [this](javascript:alert(1))"),
    ("attribution", "::: quote A composite voice", "::: quote A [voice](javascript:alert(1))"),
])
def test_links_outside_the_body_are_checked_like_body_links(guide_copy, where, old, new):
    path = guide_copy / "one.md"
    edit(path, old, new)
    [p] = problems(guide_copy)
    assert (p.code, p.line) == ("CONTENT-LINK", line_of(path, "javascript:")), where


def test_a_link_in_a_title_is_checked_at_the_title_line(guide_copy):
    path = guide_copy / "one.md"
    edit(path, "title: First chapter", 'title: "First [chapter](#nowhere)"')
    [p] = problems(guide_copy)
    assert (p.code, p.line) == ("CONTENT-XREF", line_of(path, "title:"))


def test_attributes_in_a_caption_are_checked(guide_copy):
    edit(guide_copy / "one.md", '"A box"', '"A [box](https://example.org){style=x}"')
    assert [p.code for p in problems(guide_copy)] == ["CONTENT-ATTRIBUTE"]


def test_a_caption_is_optional_but_a_table_caption_is_not(guide_copy):
    edit(guide_copy / "one.md", ' "A box")', ")")
    guide = load(guide_copy, BRAND)
    assert guide.figures[0].caption == ""
    edit(guide_copy / "two.md", '{#tbl-data caption="Some data"}', "{#tbl-data}")
    assert [p.code for p in problems(guide_copy)] == ["CONTENT-TABLE-CAPTION"]


def test_ids_written_with_underscores_mean_hyphens(guide_copy):
    edit(guide_copy / "two.md", "{#tbl-data", "{#tbl_data")
    edit(guide_copy / "two.md", "[](#tbl-data)", "[](#tbl_data)")
    guide = load(guide_copy, BRAND)
    assert guide.tables[0].id == "tbl-data" and "tbl-data" in guide.targets
    edit(guide_copy / "one.md", "{#fig-box}", "{#Fig_Box}")            # the rule stays: lower case
    edit(guide_copy / "one.md", "[](#fig-box)", "[](#Fig_Box)")
    assert [p.code for p in problems(guide_copy)] == ["CONTENT-ID"]
