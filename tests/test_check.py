"""`build.py check`: every check passes on good input and is proven able to
fail, with its code, on a broken one."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pikepdf
import pytest
from lxml import etree

from conftest import BRAND, MINI, ROOT
from guidepub import check
from guidepub.check.content import check_content
from guidepub.check.epub import check_epub
from guidepub.check.metadata import check_metadata
from guidepub.check.parity import check_parity
from guidepub.check.pdf import check_pdf
from guidepub.load import load, load_brand
from guidepub.pdf import layout
from guidepub.pdf.fixups import complete_tags
from guidepub.pdf.tags import weasyprint_tags
from guidepub.pdf.tagtree import read_tags


def codes(result) -> set[str]:
    return {f.code for f in result.findings}


# --- the good case ----------------------------------------------------------

def test_every_check_passes_on_the_fixture_guide(mini):
    report = check.run(mini.guide, mini.outputs)
    assert [(r.name, [str(f) for f in r.findings]) for r in report.results] == [
        ("content", []), ("pdf", []), ("epub", []), ("parity", []), ("metadata", [])]
    assert report.results[2].facts["epubcheck"]["errors"] == 0
    assert report.results[2].facts["ace"] == {"outcome": "pass", "violations": 0}


def test_reports_are_written_and_command_exits_by_result(mini, tmp_path):
    report = check.run(mini.guide, mini.outputs)
    json_path, md_path = report.write(tmp_path)
    data = json.loads(json_path.read_text())
    assert data["passed"] is True and len(data["checks"]) == 5
    assert "| Content lint | pass | 0 |" in md_path.read_text()


def test_check_command_fails_on_a_broken_guide(guide_copy, tmp_path):
    chapter = guide_copy / "one.md"
    chapter.write_text(chapter.read_text().replace("[An example site]", "[click here]"))
    run = subprocess.run([sys.executable, str(ROOT / "build.py"), "check", "--content", str(guide_copy),
                          "--out", str(tmp_path)], capture_output=True, text=True, timeout=600)
    assert run.returncode == 1, run.stderr
    assert "CONTENT-LINK-TEXT" in run.stderr
    report = json.loads((tmp_path / "check-report.json").read_text())
    assert report["passed"] is False
    # the EPUB of a guide that fails the lint makes no conformance claim
    assert not [m for m in _opf_meta(tmp_path / "mini-2-epub.epub") if m[0] == "dcterms:conformsTo"]


def _opf_meta(epub: Path):
    with zipfile.ZipFile(epub) as z:
        opf = etree.fromstring(z.read("EPUB/content.opf"))
    return [(m.get("property"), m.text) for m in opf.iter("{http://www.idpf.org/2007/opf}meta")]


# --- content lint -----------------------------------------------------------

@pytest.mark.parametrize("old, new, code", [
    ("[An example site]", "[click here]", "CONTENT-LINK-TEXT"),
    ("[An example site]", "[https://example.org/]", "CONTENT-LINK-TEXT"),
    ("![A square box with a tick inside]", "![image]", "CONTENT-ALT-TEXT"),
    ("![A square box with a tick inside]", "![box.svg]", "CONTENT-ALT-TEXT"),
    ("### Deeper section", "### Deeper Section Of The Chapter", "CONTENT-HEADING-CASE"),
    ("::: activity Try this", "::: activity Try This Now", "CONTENT-HEADING-CASE"),
    ("Some text with a note.", "Some text about the WHO and a note.", "CONTENT-ACRONYM"),
    ("Some text with a note.", "Some text " + "and more words " * 12 + "with a note.", "CONTENT-SENTENCE-LONG"),
])
def test_content_lint_finds(guide_copy, old, new, code):
    chapter = guide_copy / "one.md"
    text = chapter.read_text()
    assert old in text
    chapter.write_text(text.replace(old, new))
    result = check_content(load(guide_copy, BRAND))
    assert code in codes(result)
    finding = next(f for f in result.findings if f.code == code)
    assert re.search(r"one\.md:\d+$", finding.where), finding.where


def test_acronym_expanded_on_first_use_passes(guide_copy):
    chapter = guide_copy / "one.md"
    chapter.write_text(chapter.read_text().replace(
        "Some text with a note.", "The World Health Organization (WHO) helps. The WHO is global."))
    assert "CONTENT-ACRONYM" not in codes(check_content(load(guide_copy, BRAND)))


def test_average_sentence_length(guide_copy):
    chapter = guide_copy / "two.md"
    sentence = "It shows " + "many useful things " * 10 + "for you. "     # 32 words, under the limit
    chapter.write_text(chapter.read_text().replace("has data.", "has data. " + sentence * 12))
    found = codes(check_content(load(guide_copy, BRAND)))
    assert "CONTENT-SENTENCE-AVERAGE" in found and "CONTENT-SENTENCE-LONG" not in found


def test_low_contrast_pair(tmp_path):
    brand_dir = tmp_path / "styles"
    shutil.copytree(ROOT / "styles", brand_dir)
    brand_file = brand_dir / "brand.yaml"
    brand_file.write_text(brand_file.read_text().replace('surface: "#E8EDEE"', 'surface: "#768692"'))
    brand_file.write_text(brand_file.read_text().replace("../node_modules", str(ROOT / "node_modules")))
    guide = dataclasses.replace(load(MINI, BRAND), brand=load_brand(brand_file))
    result = check_content(guide)
    assert "CONTENT-CONTRAST" in codes(result)
    assert any("callout text" in f.message for f in result.findings)


# --- PDF structure ----------------------------------------------------------

PAGE = '<html{lang}><head><title>Test</title></head><body>{body}</body></html>'


def make_pdf(tmp_path: Path, body: str, lang=' lang="en-GB"', complete=True, css="", stock=False) -> Path:
    """A PDF of `body` as the build writes it; stock=True: with WeasyPrint's
    own tag tree and no fix-ups, to show what each check finds there."""
    document, _ = layout(PAGE.format(lang=lang, body=body), css, MINI)
    path = tmp_path / ("stock.pdf" if stock else "test.pdf")
    with weasyprint_tags() if stock else contextlib.nullcontext():
        document.write_pdf(path, pdf_variant="pdf/ua-1")
    complete = complete and not stock
    if complete:
        complete_tags(path)
    return path


def test_pdf_check_passes_a_good_page(tmp_path):
    path = make_pdf(tmp_path, "<h1>Title</h1><h2>Part</h2><p>Text.</p>"
                    '<img src="figures/box.svg" alt="A box with a tick" />'
                    "<table><thead><tr><th>A</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>"
                    "<ul><li><p>One</p><p>More</p></li></ul>"
                    '<p><a href="https://example.org/">An example</a></p>')
    assert check_pdf(path).findings == []


def test_pdf_missing_alt(tmp_path):
    path = make_pdf(tmp_path, '<h1>T</h1><img src="figures/box.svg" />')
    assert "PDF-FIGURE-ALT" in codes(check_pdf(path))


def test_pdf_skipped_heading(tmp_path):
    path = make_pdf(tmp_path, "<h1>Title</h1><h3>Too deep</h3>")
    assert "PDF-HEADINGS" in codes(check_pdf(path))


def test_pdf_missing_lang(tmp_path):
    path = make_pdf(tmp_path, "<h1>Title</h1>", lang="")
    assert "PDF-LANG" in codes(check_pdf(path))


def test_pdf_headings_must_match_the_content(mini, tmp_path):
    path = make_pdf(tmp_path, "<h1>Introduction</h1><h1>Something else</h1>")
    assert "PDF-HEADINGS" in codes(check_pdf(path, mini.guide))


def test_weasyprint_gaps_are_closed_by_our_tag_tree(tmp_path):
    """What WeasyPrint's own tree lacks (each check finds it there) is right
    in the tree tags.py builds."""
    body = ("<h1>T</h1><table><thead><tr><th>A</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>"
            "<ol><li><p>One</p><p>Two</p></li></ol>"
            '<p><a href="#x">A described link</a></p><h2 id="x">X</h2>')
    stock = make_pdf(tmp_path, body, stock=True)
    assert {"PDF-TH-SCOPE", "PDF-LIST", "PDF-LINK-DESC", "PDF-LINK-PRINT"} <= codes(check_pdf(stock))
    raw = make_pdf(tmp_path, body)
    assert check_pdf(raw).findings == []
    [th] = [n for n in read_tags(raw).walk() if n.role == "TH"]
    assert th.attributes["/Scope"] == "/Column"
    with pikepdf.open(raw) as pdf:
        [annot] = pdf.pages[0].Annots
        assert str(annot.Contents) == "A described link"
        assert int(annot.F) == 4                     # printed as shown


def test_empty_span_elements_are_found_and_removed(tmp_path):
    """A Span (or NonStruct) with no content, children, /Alt or /ActualText is
    an empty stop for a screen reader: PDF-EMPTY-TAG; complete_tags drops it,
    and a Span left empty by that too."""
    path = make_pdf(tmp_path, "<h1>Title</h1><p>Text.</p>")
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        root = pdf.Root.StructTreeRoot
        document = root.K[0] if isinstance(root.K, pikepdf.Array) else root.K
        span = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.StructElem, S=pikepdf.Name.Span,
                                                    P=document, K=pikepdf.Array()))
        inner = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.StructElem, S=pikepdf.Name.NonStruct,
                                                     P=span, K=pikepdf.Array()))
        span.K = pikepdf.Array([inner])
        document.K = pikepdf.Array([*document.K, span])
        pdf.save(path)
    found = [f for f in check_pdf(path).findings if f.code == "PDF-EMPTY-TAG"]
    assert [f.message.split()[1] for f in found] == ["empty"] and "NonStruct" in found[0].message
    complete_tags(path)
    assert check_pdf(path).findings == []
    assert all(n.all_text().strip() for n in read_tags(path).walk() if n.role in ("Span", "NonStruct"))


def test_running_heads_and_page_numbers_become_artifacts(tmp_path):
    """WeasyPrint marks margin boxes with MCIDs its tree never references;
    ours makes them pagination artifacts."""
    css = "@page { @top-left { content: 'Running head' } @bottom-right { content: counter(page) } }"
    stock = make_pdf(tmp_path, "<h1>Title</h1><p>Text.</p>", css=css, stock=True)
    found = [f for f in check_pdf(stock).findings if f.code == "PDF-UNTAGGED"]
    assert {f.message.split("'")[1] for f in found} == {"Running head", "1"}
    raw = make_pdf(tmp_path, "<h1>Title</h1><p>Text.</p>", css=css)
    assert check_pdf(raw).findings == []
    with pikepdf.open(raw) as pdf:
        assert b"/Artifact\n<</Type /Pagination>>\nBDC" in pdf.pages[0].Contents.read_bytes()


def test_untagged_link_and_untagged_text(tmp_path):
    path = make_pdf(tmp_path, "<h1>Title</h1><p>Text.</p>")
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        page = pdf.pages[0]
        link = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link,
                                                    Rect=[0, 0, 10, 10], Contents="A link"))
        page.obj.Annots = pdf.make_indirect(pikepdf.Array([link]))
        font = next(iter(page.obj.Resources.Font.keys()))
        page.contents_add(pdf.make_stream(f"BT {font} 12 Tf 10 10 Td <0011> Tj ET".encode()), prepend=False)
        pdf.save(path)
    assert {"PDF-LINK-TREE", "PDF-UNTAGGED"} <= codes(check_pdf(path))


def test_pdf_not_tagged(tmp_path):
    document, _ = layout(PAGE.format(lang=' lang="en"', body="<h1>T</h1>"), "", MINI)
    path = tmp_path / "plain.pdf"
    document.write_pdf(path)            # no pdf_variant: untagged
    assert {"PDF-TAGGED", "PDF-UA-ID"} <= codes(check_pdf(path))


# --- EPUB, parity and metadata ------------------------------------------------

def rewrite_epub(source: Path, target: Path, name: str, old: bytes, new: bytes) -> Path:
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(target, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == name:
                assert old in data, f"{old!r} not in {name}"
                data = data.replace(old, new)
            dst.writestr(info, data)
    return target


def test_ace_finds_a_missing_language(mini, tmp_path):
    broken = rewrite_epub(mini.epub, tmp_path / "nolang.epub", "EPUB/ch-one.xhtml",
                          b' lang="en-GB" xml:lang="en-GB"', b"")
    result = check_epub(broken)
    assert "EPUB-ACE" in codes(result)
    assert result.facts["ace"]["violations"] >= 1


def test_parity_finds_a_changed_alt_text(mini, tmp_path):
    broken = rewrite_epub(mini.epub, tmp_path / "alt.epub", "EPUB/ch-one.xhtml",
                          b'alt="A square box with a tick inside"', b'alt="A different description"')
    assert codes(check_parity(mini.pdf, broken)) == {"PARITY-FIGURES"}


def test_false_alternative_text_claim(mini, tmp_path):
    broken = rewrite_epub(mini.epub, tmp_path / "claim.epub", "EPUB/ch-one.xhtml",
                          b'alt="A square box with a tick inside"', b'alt=""')
    result = check_metadata(broken, other_checks_passed=True)
    assert "EPUB-META-CLAIM" in codes(result)
    assert any("alternativeText" in f.message for f in result.findings)


def test_conformance_claim_needs_every_other_check(mini):
    assert check_metadata(mini.epub, other_checks_passed=True).findings == []
    result = check_metadata(mini.epub, other_checks_passed=False)
    assert [f.code for f in result.findings] == ["EPUB-META-CLAIM"]
    assert "conformsTo" in result.findings[0].message


def test_missing_accessibility_metadata(mini, tmp_path):
    broken = rewrite_epub(mini.epub, tmp_path / "nometa.epub", "EPUB/content.opf",
                          b'property="schema:accessibilityHazard"', b'property="schema:other"')
    assert "EPUB-META-MISSING" in codes(check_metadata(broken, other_checks_passed=True))


# --- page numbers shared by both formats ------------------------------------------

def test_epub_page_list_matches_the_pdf_pages(mini):
    """A heading's page in the EPUB page-list equals its page in the PDF."""
    tags = read_tags(mini.pdf)
    pdf_page = {" ".join(n.all_text().split()): n.page + 1 for n in tags.walk() if n.role in ("H1", "H2")}
    with zipfile.ZipFile(mini.epub) as z:
        nav = etree.fromstring(z.read("EPUB/nav.xhtml"))
        ns = {"h": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
        listed = nav.xpath("//h:nav[@epub:type='page-list']//h:a/@href", namespaces=ns)
        with pikepdf.open(mini.pdf) as pdf:
            assert len(listed) == len(pdf.pages)          # every page of the PDF is in the list
        checked = 0
        for doc in mini.guide.documents:
            tree = etree.fromstring(z.read(f"EPUB/{doc.id}.xhtml"))
            for heading in tree.xpath("//h:h1|//h:h2", namespaces=ns):
                marker = heading.xpath("preceding::h:span[@role='doc-pagebreak'][1]", namespaces=ns)
                text = " ".join("".join(heading.itertext()).split())
                assert marker, f"no page marker before '{text}'"
                assert int(marker[0].get("aria-label")) == pdf_page[text], text
                checked += 1
        assert checked >= 6
    props = dict(_opf_meta(mini.epub))
    assert props["pageBreakSource"].startswith("mini-2-screen.pdf")


def test_chapter_resources_must_be_in_the_resources_file(guide_copy):
    (guide_copy / "resources.yaml").write_text(
        "resources:\n  - {id: other, title: Other, publisher: P, url: 'https://other.example/', offers: X.}\n")
    guide_file = guide_copy / "guide.yaml"
    guide_file.write_text(guide_file.read_text() + "resources: resources.yaml\n")
    result = check_content(load(guide_copy, BRAND))
    assert [f.code for f in result.findings] == ["CONTENT-RESOURCE"] * 2      # one in each chapter
    assert "https://example.org/" in result.findings[0].message


def test_wrapped_lines_are_separate_sentences(guide_copy):
    """A sentence that ends at a line break is not joined to the next one."""
    chapter = guide_copy / "two.md"
    first = "This sentence has " + "quite a few words " * 5 + "in it."          # 20 words
    chapter.write_text(chapter.read_text().replace("has data.", f"has data. {first}\n{first}"))
    assert "CONTENT-SENTENCE-LONG" not in codes(check_content(load(guide_copy, BRAND)))


def test_every_chapter_has_its_parts(guide_copy):
    chapter = guide_copy / "one.md"
    text = chapter.read_text()
    chapter.write_text(text.replace("::: self-check\n1. A question?\n:::\n", "")
                       .replace("A made-up story (fictional)", "A made-up story"))
    found = {f.code: f for f in check_content(load(guide_copy, BRAND)).findings}
    assert set(found) == {"CONTENT-CHAPTER-PARTS", "CONTENT-CASE-STUDY"}
    assert "self-check" in found["CONTENT-CHAPTER-PARTS"].message


def test_a_chapter_part_nested_in_another_block_is_caught(guide_copy):
    """The parts of a chapter sit side by side at one level: a self-check
    inside the case study would be a heading deeper than in other chapters."""
    chapter = guide_copy / "one.md"
    text = chapter.read_text()
    chapter.write_text(text.replace("::: self-check\n1. A question?\n:::\n", "")
                       .replace("Quoted words.\n:::\n:::::", "Quoted words.\n:::\n\n::: self-check\n"
                                "1. A question?\n:::\n:::::"))
    found = [f for f in check_content(load(guide_copy, BRAND)).findings]
    assert [f.code for f in found] == ["CONTENT-BLOCK-LEVEL"]
    lines = chapter.read_text().splitlines()
    assert found[0].where.endswith(f":{lines.index('::: self-check') + 1}")


KEY_POINTS = "::: key-points\n- Tables hold data.\n:::\n\n"


def test_key_points_in_the_middle_of_a_chapter_are_caught(guide_copy):
    """Key points, self-check and further resources close every chapter: key
    points above body text or a later `##` section are reported where they are."""
    chapter = guide_copy / "two.md"
    text = chapter.read_text()
    assert KEY_POINTS in text                                   # at the end, where they belong
    assert "CONTENT-CHAPTER-END" not in codes(check_content(load(guide_copy, BRAND)))

    chapter.write_text(text.replace(KEY_POINTS, "").replace("## Tables and terms\n\n",
                                                            "## Tables and terms\n\n" + KEY_POINTS))
    found = check_content(load(guide_copy, BRAND)).findings
    assert [f.code for f in found] == ["CONTENT-CHAPTER-END"]
    lines = chapter.read_text().splitlines()
    assert found[0].where.endswith(f"two.md:{lines.index('::: key-points') + 1}")
    assert "key-points" in found[0].message and "body text" in found[0].message

    chapter.write_text(text.replace("::: activity", "## A later section\n\nMore about the table.\n\n"
                                                    "::: activity"))
    found = check_content(load(guide_copy, BRAND)).findings
    assert [f.code for f in found] == ["CONTENT-CHAPTER-END"]
    assert "'A later section'" in found[0].message


def test_the_chapter_end_is_only_asked_of_chapters_whose_guide_lists_the_parts(guide_copy):
    """Front matter may hold key points anywhere, and a guide whose style does
    not list the end-of-chapter parts (like the real-world guide) is not held to them."""
    intro = guide_copy / "intro.md"
    intro.write_text(intro.read_text() + "\n" + KEY_POINTS + "More text after the key points.\n")
    chapter = guide_copy / "two.md"
    chapter.write_text(chapter.read_text().replace(KEY_POINTS, "").replace(
        "## Tables and terms\n\n", "## Tables and terms\n\n" + KEY_POINTS))
    found = check_content(load(guide_copy, BRAND)).findings
    assert [(f.code, Path(f.where.split(":")[0]).name) for f in found] == [("CONTENT-CHAPTER-END", "two.md")]
    style = guide_copy / "guide.yaml"
    style.write_text(style.read_text().replace(
        "chapter_parts: [key-points, activity, case-study, self-check, resources]",
        "chapter_parts: [activity, case-study]"))
    assert "CONTENT-CHAPTER-END" not in codes(check_content(load(guide_copy, BRAND)))
