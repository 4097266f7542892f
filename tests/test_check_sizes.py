"""`check`'s large-print rule, PDF-TEXT-SIZE: no text of the large-print
edition below its 18 pt minimum, measured from the content stream; passes on
the real large-print edition and is proven able to fail."""

from __future__ import annotations

import shutil

import pytest

from conftest import MINI, ROOT
from guidepub import check
from guidepub.check import CheckResult
from guidepub.check.sizes import MINIMUM_PT, check_text_sizes, minimum_size, printed_text_sizes
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
