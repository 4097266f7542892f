"""guidepub/pdf/linebreak.py: WeasyPrint 70 leaves a word alone on a line
when the text before an inline element (a link, a cross-reference) fits the
line only if its trailing space hangs ("also" / "apply to how you treat
yourself ..."). The fix puts the whole run on the line and changes nothing
else."""

from __future__ import annotations

import pytest
from weasyprint import HTML
from weasyprint.formatting_structure import boxes
from weasyprint.layout import inline

from conftest import ROOT
from guidepub.pdf import linebreak

FONT = ROOT / "node_modules" / "@fontsource" / "atkinson-hyperlegible" / "files"
RUN = "also apply to how you treat yourself, and on inclusion, in"


def lines(width: float, tail: str = '<a href="#x">Chapter 4</a>.') -> list[str]:
    html = f"""<style>
      @font-face {{ font-family: T; src: url("{(FONT / 'atkinson-hyperlegible-latin-400-normal.woff2').as_uri()}"); }}
      @page {{ size: 900px 400px; margin: 0 }} body {{ margin: 0; font: 16px T }} p {{ width: {width}px }}
    </style><p>{RUN} {tail}</p><h1 id="x">x</h1>"""
    page = HTML(string=html).render().pages[0]
    return ["".join(t.text for t in line.descendants() if isinstance(t, boxes.TextBox))
            for line in page._page_box.descendants()
            if isinstance(line, boxes.LineBox) and line.element_tag == "p"]


@pytest.fixture
def run_width(monkeypatch) -> float:
    """The width of RUN without its trailing space (WeasyPrint's own layout)."""
    monkeypatch.setattr(inline, "split_first_line", linebreak._original)
    wide = HTML(string=f"""<style>
      @font-face {{ font-family: T; src: url("{(FONT / 'atkinson-hyperlegible-latin-400-normal.woff2').as_uri()}"); }}
      body {{ margin: 0; font: 16px T }}</style><p><span>{RUN}</span></p>""").render().pages[0]
    span = next(b for b in wide._page_box.descendants() if getattr(b, "element_tag", "") == "span")
    return span.width


def test_weasyprint_alone_strands_the_first_word(run_width, monkeypatch):
    monkeypatch.setattr(inline, "split_first_line", linebreak._original)
    # Room for the words, not for the space after "in": the bug this module works around.
    assert lines(run_width + 1)[0] == "also"


def test_the_fix_keeps_the_words_on_the_line_and_breaks_before_the_link(run_width, monkeypatch):
    monkeypatch.setattr(inline, "split_first_line", linebreak.split_first_line)
    assert lines(run_width + 1) == [RUN, "Chapter 4."]
    # Any width in the window, and the same with emphasis instead of a link.
    assert lines(run_width + 3)[0] == RUN
    assert lines(run_width + 1, "<em>Chapter 4</em>.")[0] == RUN
    # On a later line too: at 200 px WeasyPrint alone leaves "yourself," by itself.
    assert lines(200) == ["also apply to how you treat", "yourself, and on inclusion, in", "Chapter 4."]


def test_the_fix_changes_nothing_else(run_width, monkeypatch):
    for width in (run_width - 30, run_width - 1, run_width + 40, 150, 250, 300, 700):
        monkeypatch.setattr(inline, "split_first_line", linebreak._original)
        before = lines(width)
        monkeypatch.setattr(inline, "split_first_line", linebreak.split_first_line)
        assert lines(width) == before, width


def test_install_is_idempotent(monkeypatch):
    monkeypatch.setattr(inline, "split_first_line", linebreak._original)
    linebreak.install()
    linebreak.install()
    assert inline.split_first_line is linebreak.split_first_line
