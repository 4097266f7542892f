"""`check`'s large-print rule, PDF-TEXT-SIZE: no text of the large-print
edition below its 18 pt minimum, the labels inside figures included, measured
from the content stream (and the form XObjects it calls); passes on the real
large-print edition and is proven able to fail."""

from __future__ import annotations

import shutil

import pytest

from conftest import MINI, ROOT
from guidepub import check
from guidepub.check import CheckResult
from guidepub.check.sizes import MINIMUM_PT, check_text_sizes, figure_labels, minimum_size, printed_text_sizes
from guidepub.pipeline import Project, build


def large_print(root, out):
    return build(Project.at(root, MINI, out), ["large-print"]).outputs["large-print"]


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    return large_print(ROOT, tmp_path_factory.mktemp("large"))


def test_the_large_print_edition_passes(good):
    result = check_text_sizes(CheckResult("pdf", "PDF"), good, "large-print")
    assert result.findings == []
    assert result.facts["smallest text (pt)"] >= 18
    assert result.facts["smallest text in figures (pt)"] is None          # the fixture's figure has no text
    assert min(printed_text_sizes(good)) >= MINIMUM_PT["large-print"]


def test_text_below_the_minimum_is_found(tmp_path):
    root = tmp_path / "root"
    for name in ("templates", "styles", "guidepub", "build.py"):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / name)
    (root / "node_modules").symlink_to(ROOT / "node_modules")
    css = root / "styles" / "variants" / "large-print.css"
    css.write_text(css.read_text().replace("html { font-size: 18pt;", "html { font-size: 14pt;")
                   .replace("sup { font-size: 1em; }", "sup { font-size: 0.7em; }"))
    built = build(Project.at(root, MINI, tmp_path / "out"), ["large-print"])
    result = check_text_sizes(CheckResult("pdf", "PDF"), built.outputs["large-print"], "large-print")
    found = [f for f in result.findings if f.code == "PDF-TEXT-SIZE"]
    assert found and any("set at 14 pt, below the 18 pt minimum" in f.message for f in found), found
    assert any(f.message.split(" set at ")[1].startswith("9.8 pt") for f in found), [f.message for f in found]
    assert all(f.where.startswith("page") for f in found)
    # and `check` reports it under the large-print edition's PDF checks
    report = check.run(built.guide, built.outputs | {"screen": _screen(root, tmp_path), "epub": _epub(tmp_path)})
    large = next(r for r in report.results if r.name == "pdf-large-print")
    assert "PDF-TEXT-SIZE" in {f.code for f in large.findings}
    assert all("PDF-TEXT-SIZE" not in {f.code for f in r.findings} for r in report.results if r is not large)


def _screen(root, tmp_path):
    return build(Project.at(root, MINI, tmp_path / "out"), ["screen", "epub"]).outputs["screen"]


def _epub(tmp_path):
    return next((tmp_path / "out").glob("*.epub"))


def test_editions_without_a_minimum_are_not_measured():
    assert minimum_size("screen") is None and minimum_size("large-print") == 18
    result = check_text_sizes(CheckResult("pdf", "PDF"), ROOT / "no-such.pdf", "screen")
    assert result.findings == [] and result.facts == {}


# A figure 600 units wide fills the large-print column (about 487 pt), so a
# unit prints at about 0.81 pt: 14 units is about 11.4 pt, 30 about 24.4 pt.
# A label anchored at its start is drawn in the page's own stream; one
# anchored at its middle or end, in a form XObject WeasyPrint calls (it
# measures the text first): both must be measured.
LABELLED = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 600 240" width="600" height="240">
  <rect x="10" y="10" width="580" height="220" fill="none" stroke="#003087" stroke-width="6"/>
  <g font-family="Atkinson Hyperlegible, sans-serif" fill="#231F20">
    <text x="30" y="60" font-size="14">Small start label</text>
    <text x="300" y="120" font-size="14" text-anchor="middle" fill="#005EB8">Small middle label</text>
    <text x="570" y="200" font-size="30" text-anchor="end">Big enough</text>
  </g>
</svg>
"""


def test_small_labels_in_a_figure_are_found_with_the_figure_and_label(guide_copy, tmp_path):
    (guide_copy / "figures" / "box.svg").write_text(LABELLED)
    pdf = build(Project.at(ROOT, guide_copy, tmp_path / "out"), ["large-print"]).outputs["large-print"]
    labels = {label["label"]: label for label in figure_labels(pdf)}
    assert set(labels) == {"Small start label", "Small middle label", "Big enough"}, labels
    assert all(label["figure"] == 1 for label in labels.values())
    assert 11 < labels["Small start label"]["size"] == labels["Small middle label"]["size"] < 12
    assert labels["Big enough"]["size"] > 18
    result = check_text_sizes(CheckResult("pdf", "PDF"), pdf, "large-print")
    found = [f for f in result.findings if f.code == "PDF-TEXT-SIZE"]
    assert len(found) == 1, [f.message for f in found]          # one finding for the figure
    message = found[0].message
    assert message.startswith("Figure 1: 2 label(s) below the 18 pt minimum"), message
    assert "'Small start label' at 11." in message and "'Small middle label' at 11." in message
    assert "Big enough" not in message
    assert found[0].where.startswith("Figure 1, page ")
    assert "SVG" in found[0].hint
    assert result.facts["smallest text in figures (pt)"] == labels["Small start label"]["size"]
    # the text outside figures is still all at 18 pt or more, and counted apart
    assert min(printed_text_sizes(pdf)) >= 18 and min(printed_text_sizes(pdf, figures=True)) < 12
