"""`check`'s page-layout findings (guidepub/check/layout.py), read back from
the written PDF: a stranded heading, term or lead-in line, a block split
with too few lines on a side, a page left mostly empty inside a chapter.
Each is shown able to fail on a small page made to break badly, and to pass
once the break is fixed; the real guide's three PDF editions have none.
Also guidepub/pdf/flow.py, which lets text flow past a figure that does not
fit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import MINI, ROOT
from guidepub.check import CheckResult
from guidepub.check.layout import check_layout, read_layout
from guidepub.check.pdf import check_pdf
from guidepub.pdf import layout
from guidepub.pdf.fixups import complete_tags
from guidepub.pdf.flow import flow_past
from guidepub.pipeline import Project, build

# A page of exactly 15 lines: 80 mm of text area, 15 pt lines.
CSS = """@page { size: 120mm 100mm; margin: 10mm; }
html, body { margin: 0; font-size: 10pt; line-height: 15pt; }
h1, h2, h3, p, ul, ol, li, dl, dt, dd, figure { margin: 0; padding: 0; font-size: 10pt; line-height: 15pt; }
ul { padding-left: 2em; }
/* WeasyPrint's own stylesheet keeps headings with what follows and lists
   with what comes before: these pages start from no keeps at all. */
h1, h2, h3, h4, h5, h6, dt { break-after: auto; }
ul, ol { break-before: auto; }
.part { break-before: page; }
"""
PAGE = '<html lang="en-GB"><head><title>Layout</title></head><body>{body}</body></html>'


def text(lines: int, word: str = "Filler") -> str:
    return "<br />".join(f"{word} line {i}" for i in range(1, lines + 1))


def pdf(tmp_path: Path, body: str, css: str = "") -> Path:
    document, _ = layout(PAGE.format(body=body), CSS + css, MINI)
    path = tmp_path / "layout.pdf"
    document.write_pdf(path, pdf_variant="pdf/ua-1")
    complete_tags(path)
    return path


def findings(path: Path, code: str | None = None) -> list[str]:
    result = check_layout(path, CheckResult("pdf", "PDF"))
    return [f"{f.where}: {f.code} {f.message}" for f in result.findings if code in (None, f.code)]


def part(body: str, title: str = "Part") -> str:
    return f'<section class="part"><h1>{title}</h1>{body}</section>'


# --- stranded: a heading, a term or a lead-in line at the foot of a page ------

STRANDED = {
    "heading": "<h2>Stranded heading</h2>",
    "term": "<dl><dt>Stranded term</dt><dd class='keep'>{rest}</dd></dl>",
    "lead-in line": "<p>Here is what to do:</p><ul class='keep'><li>{rest}</li></ul>",
}


@pytest.mark.parametrize("kind", STRANDED)
def test_a_stranded_heading_term_or_lead_in_is_found(tmp_path, kind):
    # 1 + 13 lines, then the heading (term, lead-in) as line 15; what follows
    # cannot split, so it starts the next page.
    rest = text(5, "Following")
    tail = STRANDED[kind].format(rest=rest) + ("" if kind != "heading" else f"<p class='keep'>{rest}</p>")
    path = pdf(tmp_path, part(f"<p>{text(13)}</p>{tail}"), ".keep { break-inside: avoid; }")
    found = findings(path)
    assert found == [f"page 1: PDF-LAYOUT-STRANDED the {kind} "
                     f"'{'Here is what to do:' if kind == 'lead-in line' else 'Stranded ' + kind}' "
                     "is the last line of page 1; what it introduces starts page 2"], found
    # kept with what follows (as styles/print.css does), it is not
    kept = pdf(tmp_path, part(f"<p>{text(13)}</p>{tail}"),
               ".keep { break-inside: avoid; } h2, dt, p:has(+ ul) { break-after: avoid; }")
    assert findings(kept) == []


def test_a_paragraph_without_a_colon_before_a_list_is_no_lead_in(tmp_path):
    path = pdf(tmp_path, part(f"<p>{text(13)}</p><p>A sentence.</p><ul class='keep'><li>{text(5)}</li></ul>"),
               ".keep { break-inside: avoid; }")
    assert findings(path) == []


# --- split: a callout, list or table with too few lines on a side -------------

def callout(before: int) -> str:
    return part(f"<p>{text(13 - before)}</p>"
                f'<section class="block"><h3>Case study</h3><p class="loose">{text(8, "Story")}</p></section>')


def test_a_callout_split_after_one_line_is_found(tmp_path):
    path = pdf(tmp_path, callout(1), ".loose { orphans: 1; widows: 1; }")
    found = findings(path)
    assert len(found) == 1 and found[0].startswith("page 1: PDF-LAYOUT-SPLIT a block ('Case study Story line 1 "), found
    assert found[0].endswith("is split from page 1 to page 2 with 1 line(s) before the break and 7 after")
    # three lines on either side pass
    assert findings(pdf(tmp_path, callout(3), ".loose { orphans: 1; widows: 1; }")) == []


def test_a_callout_split_before_its_last_two_lines_is_found(tmp_path):
    path = pdf(tmp_path, callout(6), ".loose { orphans: 1; widows: 1; }")
    assert [f for f in findings(path, "PDF-LAYOUT-SPLIT") if "6 line(s) before the break and 2 after" in f]


def test_a_list_item_alone_keeps_three_lines(tmp_path):
    # Four items: three fill page 1 after six lines; the last is alone on page 2.
    def items(last: int) -> str:
        return "".join(f"<li>{text(3 if n < 4 else last, f'Item {n}')}</li>" for n in range(1, 5))
    found = findings(pdf(tmp_path, part(f"<p>{text(5)}</p><ul>{items(2)}</ul>"), "li { break-inside: avoid; }"))
    assert len(found) == 1 and "a list ('Item 1 line 1" in found[0], found
    assert found[0].endswith("is split from page 1 to page 2 with 9 line(s) before the break and 2 after")
    # an item of three lines may stand alone: a side of three lines is what any split keeps
    assert findings(pdf(tmp_path, part(f"<p>{text(5)}</p><ul>{items(3)}</ul>"), "li { break-inside: avoid; }")) == []


def test_a_table_split_after_one_short_row_is_found(tmp_path):
    rows = "".join(f"<tr><td>Row {n}</td><td>Value</td></tr>" for n in range(1, 9))
    table = f'<div class="wrap"><table><thead><tr><th scope="col">A</th><th scope="col">B</th></tr></thead>' \
            f"<tbody>{rows}</tbody></table></div>"
    path = pdf(tmp_path, part(f"<p>{text(11)}</p>{table}"), "td, th { padding: 0; } tr { break-inside: avoid; }")
    found = findings(path, "PDF-LAYOUT-SPLIT")
    assert len(found) == 1 and "a table ('A B Row 1 Value" in found[0] and "1 line(s) before" in found[0], found


def table(rows: int, lines: int) -> str:
    body = "".join(f"<tr><td>{text(lines, f'Row {n}')}</td></tr>" for n in range(1, rows + 1))
    return (f'<div class="table-wrap"><table id="tbl-a"><caption>Table 1. Rows</caption>'
            f'<thead><tr><th scope="col">Head</th></tr></thead><tbody>{body}</tbody></table></div>')


def test_a_table_that_leaves_one_row_alone_is_found(tmp_path):
    # the title, three lines, caption and header, three rows of three lines: the fourth row is alone on page 2
    css = ("table { width: 100%; border-collapse: collapse; } td, th, caption { padding: 0; border: 0; } "
           "tr { break-inside: avoid; }")
    found = findings(pdf(tmp_path, part(f"<p>{text(3)}</p>{table(4, 3)}"), css))
    assert len(found) == 1 and found[0].startswith("page 1: PDF-LAYOUT-SPLIT a table ('Table 1. Rows"), found
    assert found[0].endswith("with one row alone on one side of the break")
    # the last two rows kept together (as print.css does): two and two
    assert findings(pdf(tmp_path, part(f"<p>{text(3)}</p>{table(4, 3)}"),
                        css + "tr:last-child { break-before: avoid; }")) == []


@pytest.mark.parametrize("side, css", [("first", "orphans: 1; widows: 2;"), ("last", "orphans: 2; widows: 1;")])
def test_a_paragraph_split_with_one_line_alone_is_found(tmp_path, side, css):
    # the title and 13 (11) lines, then a paragraph of four lines: one (three) on page 1
    before = 13 if side == "first" else 11
    path = pdf(tmp_path, part(f"<p>{text(before)}</p><p class='split'>{text(4, 'Split')}</p>"), f".split {{ {css} }}")
    found = findings(path)
    assert found == [f"page 1: PDF-LAYOUT-SPLIT a paragraph ('Split line 1 Split line 2 Split line 3 Split line 4') "
                     f"is split from page 1 to page 2 with its {side} line alone"], found
    assert findings(pdf(tmp_path, part(f"<p>{text(before)}</p><p>{text(4, 'Split')}</p>"))) == []


# --- gap: a split callout whose box runs on, empty, to the foot of a page --------

def tinted(colour: str, css: str = "") -> Path:
    # the title, four lines, then a callout: its title and five lines fit page
    # 1; its last part (eight lines, unbreakable) does not, and leaves five empty
    body = part(f"<p>{text(3)}</p><section class='block'><h3 class='block-title'>Box</h3>"
                f"<p>{text(5, 'Inside')}</p><p class='whole'>{text(8, 'Last')}</p></section>"
                f"<p>{text(22, 'After')}</p>")          # full pages after it: the text area's foot is measured
    return body, f".block {{ background: {colour}; }} .whole {{ break-inside: avoid; }}" + css


def test_a_callout_that_leaves_its_box_empty_at_a_page_foot_is_found(tmp_path):
    found = findings(pdf(tmp_path, *tinted("#e8edee")))
    assert len(found) == 1 and re.fullmatch(r"page 1: PDF-LAYOUT-GAP a block \('Box Inside line 1 .*'\) split from "
                                            r"page 1 to page 2 leaves room for 5\.\d of its lines empty inside its "
                                            r"box, below its last line", found[0]), found
    # the same space, unpainted, is an ordinary page foot
    assert findings(pdf(tmp_path, *tinted("transparent"))) == []


def test_flow_lets_a_callout_break_before_a_last_part_of_three_lines(tmp_path):
    # print.css keeps a callout's last part with the one before; a last part
    # of three lines may stand alone, and flow.py marks the callout "tail".
    # Page 1: the title, a line, the callout's title and 3 + 4 + 4 lines, then
    # five lines' room; its last part (3 lines) held to the one before took both.
    body = part(f'<p>{text(1)}</p><section class="block"><h3 class="block-title">Box</h3>'
                f"<p class='whole'>{text(3, 'Inside')}</p><p class='whole'>{text(4, 'Second')}</p>"
                f"<p class='whole'>{text(4, 'Middle')}</p><p class='whole'>{text(3, 'Last')}</p></section>"
                f"<p>{text(30, 'After')}</p>")
    html = PAGE.format(body=body)
    css = CSS + PAGINATION + ".block { background: #e8edee; } .whole { break-inside: avoid; }"
    path = tmp_path / "callout.pdf"
    document, logged = layout(html, css, MINI)
    document.write_pdf(path, pdf_variant="pdf/ua-1")
    complete_tags(path)
    assert [f for f in findings(path) if "PDF-LAYOUT-GAP" in f], findings(path)
    relaid = []

    def relayout(changed):
        relaid.append(changed)
        return layout(changed, css, MINI)

    document, _ = flow_past(document, logged, html, relayout)
    assert relaid and '<section data-break="' in relaid[0], relaid
    assert re.search(r'<section data-break="[^"]*\btail\b', relaid[0])
    document.write_pdf(path, pdf_variant="pdf/ua-1")
    complete_tags(path)
    assert findings(path) == []


# --- lines: a heading's last word alone, a web address broken at a hyphen ------

def test_a_heading_ending_in_one_word_is_found_and_joined(tmp_path):
    from guidepub.pdf.linebreak import keep_last_words
    heading = "<h2 style='width: 62mm'>Leading across boundaries and systems</h2>"
    found = findings(pdf(tmp_path, part(heading)))
    assert found == ["page 1: PDF-LAYOUT-RUNT the heading 'Leading across boundaries and systems' ends with one "
                     "word ('systems') on a line of its own"], found
    assert findings(pdf(tmp_path, keep_last_words(part(heading)))) == []


def test_a_web_address_broken_at_a_hyphen_is_found(tmp_path):
    from guidepub.render import url_breaks
    address = "www.example.org/guides/leading-across-boundaries-and-systems-in-health-and-care-services"
    found = findings(pdf(tmp_path, part(f"<p>Read more ({address}).</p>")))
    assert len(found) == 1 and "PDF-LAYOUT-URL the printed address or file name '(www.example.org/" in found[0], found
    # with breaks before a slash or a hyphen, and never after a hyphen: none
    assert findings(pdf(tmp_path, part(f"<p>Read more ({url_breaks(address)}).</p>"))) == []
    # nor inside the domain name
    assert "\u200b" not in url_breaks(address).split("/")[0]


def test_a_web_address_broken_inside_its_domain_is_found(tmp_path):
    found = findings(pdf(tmp_path, part("<p>See (www.kingsfund<br />.org.uk) for more.</p>")))
    assert found == ["page 1: PDF-LAYOUT-URL the printed web address '(www.kingsfund.org.uk)' breaks inside its "
                     "domain name"], found


def test_a_caption_ending_in_one_word_is_joined():
    from guidepub.pdf.linebreak import keep_last_words
    caption = '<caption><span class="caption-text"><span class="label">Table 2.</span> Who usually attends</span></caption>'
    assert keep_last_words(caption).endswith("Who usually\u00a0attends</span></caption>")


# --- empty: a page inside a chapter left mostly empty --------------------------

def gap(body_css: str = "") -> tuple[str, str]:
    body = part(f"<p>{text(14)}</p><p>{text(3, 'Short')}</p>"
                f'<div class="big">{text(13, "Unbreakable")}</div><p>{text(20, "After")}</p>', "One") \
        + part(f"<p>{text(3)}</p>", "Two")
    return body, ".big { break-inside: avoid; }" + body_css


def test_a_page_left_mostly_empty_inside_a_chapter_is_found(tmp_path):
    path = pdf(tmp_path, *gap())
    found = findings(path)
    # three lines of fifteen: 20%, measured from the glyphs' boxes
    assert len(found) == 1 and re.fullmatch(r"page 2: PDF-LAYOUT-EMPTY page 2 is only 1\d% full inside a "
                                            r"chapter; page 3 starts with 'Unbreakable line 1'", found[0]), found
    layout_ = read_layout(path)
    assert len(layout_.pages) == 6           # the part's last page (5) and the next part's (6) are not counted
    # the block allowed to split: no gap
    assert findings(pdf(tmp_path, *gap(".big { break-inside: auto; widows: 3; }"))) == []


def test_the_pdf_check_runs_the_layout_check(tmp_path):
    path = pdf(tmp_path, *gap())
    result = check_pdf(path)
    assert "PDF-LAYOUT-EMPTY" in {f.code for f in result.findings}
    assert result.facts["layout findings"]["PDF-LAYOUT-EMPTY"] == 1


def test_a_pdf_without_tags_gives_no_layout_findings_and_no_error(tmp_path):
    from weasyprint import HTML
    path = tmp_path / "plain.pdf"
    HTML(string=PAGE.format(body=part(f"<p>{text(40)}</p>"))).write_pdf(path)
    assert findings(path) == []


# --- flow.py: text flows past a figure that does not fit -----------------------

def figure_page(after: str) -> str:
    # page 1: the title and 14 lines; page 2: 6 lines, then a figure taller
    # than the 9 lines left
    return part(f"<p>{text(20)}</p>"
                '<figure id="fig-a" class="figure"><div style="height: 55mm"></div>'
                "<figcaption>Figure 1. A tall figure</figcaption></figure>" + after)


@pytest.mark.parametrize("after, moved", [
    (f'<p id="next">{text(10, "Flowing")}</p>', True),
    (f'<h3 id="next">A subsection</h3><p>{text(10, "Flowing")}</p>', True),    # a subsection with its text
    (f"<h2>Next section</h2><p>{text(10)}</p>", False),     # never past a section's heading
])
def test_text_flows_past_a_figure_that_does_not_fit(after, moved):
    html = PAGE.format(body=figure_page(after))
    document, logged = layout(html, CSS, MINI)
    assert "fig-a" in document.pages[2].anchors                # the figure left page 2 half empty
    relaid = []

    def relayout(changed):
        relaid.append(changed)
        return layout(changed, CSS, MINI)

    document, _ = flow_past(document, logged, html, relayout)
    if moved:
        assert relaid and relaid[0].index('id="next"') < relaid[0].index('id="fig-a"')
        assert "next" in document.pages[1].anchors and "fig-a" in document.pages[2].anchors
    else:
        assert relaid == []


PAGINATION = (ROOT / "styles" / "print.css").read_text().split("/* Pagination", 1)[1].split("*/", 1)[1]


def test_a_list_held_together_may_break_where_its_lines_allow(tmp_path):
    # print.css keeps three items on either side of a break: five two-line
    # items cannot split, and leave page 2 under half full. Their lines
    # allow a break after the second or third item: flow.py marks them.
    items = "".join(f"<li>{text(2, f'Item {n}')}</li>" for n in range(1, 6))
    html = PAGE.format(body=part(f"<p>{text(20)}</p><ul>{items}</ul><p>{text(10, 'After')}</p>"))
    css = CSS + PAGINATION
    document, logged = layout(html, css, MINI)
    relaid = []

    def relayout(changed):
        relaid.append(changed)
        return layout(changed, css, MINI)

    document, _ = flow_past(document, logged, html, relayout)
    assert relaid and relaid[0].count('<li data-break=') == 3, relaid
    assert '<li data-break="after before">' in relaid[0]
    path = tmp_path / "flowed.pdf"
    document.write_pdf(path, pdf_variant="pdf/ua-1")
    complete_tags(path)
    assert findings(path) == []
    # without flow.py, the same page is left mostly empty
    document, _ = layout(html, css, MINI)
    document.write_pdf(path, pdf_variant="pdf/ua-1")
    complete_tags(path)
    assert [f for f in findings(path) if "PDF-LAYOUT-EMPTY page 2 " in f], findings(path)


def test_a_table_held_together_may_break_after_its_second_row(tmp_path):
    # print.css keeps three rows on either side: four rows of three lines
    # cannot split, and leave page 2 mostly empty. Their lines allow a break
    # after the second row (never one row alone): flow.py marks it.
    html = PAGE.format(body=part(f"<p>{text(18)}</p>{table(4, 3)}<h2>Next</h2><p>{text(10, 'After')}</p>"))
    css = CSS + PAGINATION + "table { width: 100%; } td, th, caption { padding: 0; border: 0; }"
    document, logged = layout(html, css, MINI)
    assert "tbl-a" not in document.pages[1].anchors             # held together, it left page 2
    document, _ = flow_past(document, logged, html, lambda changed: layout(changed, css, MINI))
    assert "tbl-a" in document.pages[1].anchors
    path = tmp_path / "table.pdf"
    document.write_pdf(path, pdf_variant="pdf/ua-1")
    complete_tags(path)
    assert findings(path) == []


# --- the real guide ------------------------------------------------------------

@pytest.fixture(scope="module")
def editions(tmp_path_factory):
    built = build(Project.at(ROOT, ROOT / "content", tmp_path_factory.mktemp("layout")),
                  ["screen", "large-print", "print"])
    return built.outputs


@pytest.mark.parametrize("variant", ["screen", "large-print", "print"])
def test_the_real_guide_has_no_layout_findings(editions, variant):
    assert findings(editions[variant]) == []
