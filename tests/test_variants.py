"""Editions and variants: one source, several downloadable editions, each
reproducible and listed in dist/manifest.json."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import pikepdf
import pytest

from conftest import BRAND, MINI, ROOT
from guidepub.check.pdf import check_pdf
from guidepub.errors import GuideError
from guidepub.load import load
from guidepub.manifest import output_sha256
from guidepub.pipeline import Project, build
from pdf_helpers import page_texts, printed_text_sizes

MM = 72 / 25.4


@pytest.fixture(scope="module")
def every_variant(tmp_path_factory):
    return build(Project.at(ROOT, MINI, tmp_path_factory.mktemp("variants")), ["all"])


def run(*args, env=None, cwd=ROOT):
    return subprocess.run([sys.executable, str(ROOT / "build.py"), *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=600)


def test_list_prints_every_variant():
    result = run("--list", "--content", str(MINI))
    assert result.returncode == 0
    lines = result.stderr.splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["screen", "mini-2-screen.pdf"], ["large-print", "mini-2-large-print.pdf"],
        ["print", "mini-2-print.pdf"], ["epub", "mini-2-epub.epub"], ["web", "mini-2-web/"]]


def test_unknown_variant_is_a_clear_error(tmp_path):
    result = run("--variant", "braille", "--content", str(MINI), "--out", str(tmp_path))
    assert result.returncode == 2
    assert "VARIANT-UNKNOWN no variant called 'braille'" in result.stderr
    assert "Traceback" not in result.stderr


def test_every_variant_is_named_and_passes_the_structure_checks(every_variant):
    assert {name: path.name for name, path in every_variant.outputs.items()} == {
        "screen": "mini-2-screen.pdf", "large-print": "mini-2-large-print.pdf",
        "print": "mini-2-print.pdf", "epub": "mini-2-epub.epub", "web": "mini-2-web"}
    for name in ("screen", "large-print", "print"):
        assert check_pdf(every_variant.outputs[name], every_variant.guide).findings == [], name


def test_large_print_text_measures_at_least_18pt(every_variant):
    large = printed_text_sizes(every_variant.outputs["large-print"])
    assert large.most_common(1)[0][0] == 18                         # the body
    assert min(large) >= 18, sorted(large.items())[:5]              # and nothing smaller
    screen = printed_text_sizes(every_variant.outputs["screen"])
    assert screen.most_common(1)[0][0] == 12 and min(screen) < 12   # body 12 pt on screen
    with pikepdf.open(every_variant.outputs["large-print"]) as big, \
            pikepdf.open(every_variant.outputs["screen"]) as small:
        assert len(big.pages) > len(small.pages), "laid out again, not scaled up"
        assert big.pages[0].MediaBox == small.pages[0].MediaBox, "still A4"


def test_print_variant_has_bleed_and_trim_boxes(every_variant):
    with pikepdf.open(every_variant.outputs["print"]) as pdf:
        for page in pdf.pages:
            trim = [float(x) for x in page.TrimBox]
            bleed = [float(x) for x in page.BleedBox]
            assert trim == pytest.approx([0, 0, 595.28, 841.89], abs=0.01)          # A4
            assert [t - b for t, b in zip(trim[:2], bleed[:2])] == pytest.approx([3 * MM] * 2, abs=0.01)


def test_whats_new_page_comes_from_the_changelog(every_variant):
    text = " ".join(page_texts(every_variant.outputs["screen"])[:4])
    assert "What is new in this edition" in text
    assert "Edition 2, version 2.1 (this edition)" in text and "Added a second chapter. To test the changelog." in text
    assert "Edition 1, version 1.0" in text


def test_changelog_must_start_with_this_edition(guide_copy):
    path = guide_copy / "guide.yaml"
    path.write_text(path.read_text().replace('  - edition: 2\n    version: "2.1"', '  - edition: 2\n    version: "2.0"'))
    with pytest.raises(GuideError) as info:
        load(guide_copy, BRAND)
    assert "add an entry for this edition" in info.value.problems[0].message


def test_isbn_check_digit_is_validated(guide_copy):
    path = guide_copy / "guide.yaml"
    text = path.read_text()
    path.write_text(text.replace("  urn: ", "  isbn: {screen: 978-0-306-40615-6}\n  urn: "))
    with pytest.raises(GuideError) as info:
        load(guide_copy, BRAND)
    [problem] = info.value.problems
    assert "identifiers.isbn.screen" in problem.message and "check digit should be 7" in problem.message
    path.write_text(text.replace("  urn: ", "  isbn: {screen: 978-0-306-40615-7}\n  urn: "))
    assert load(guide_copy, BRAND).meta.identifiers.isbn == {"screen": "978-0-306-40615-7"}


def test_imprint_shows_the_isbn_of_each_format(guide_copy, tmp_path):
    path = guide_copy / "guide.yaml"
    path.write_text(path.read_text().replace(
        "  urn: ", "  isbn: {screen: 978-0-306-40615-7, epub: 978-1-86197-876-9}\n  urn: "))
    built = build(Project.at(ROOT, guide_copy, tmp_path), ["screen"])
    imprint = page_texts(built.outputs["screen"])[1]
    assert "ISBN (Screen and home printing) 978-0-306-40615-7" in imprint
    assert "ISBN (EPUB) 978-1-86197-876-9" in imprint


def test_manifest_lists_every_output(every_variant):
    manifest = json.loads(every_variant.manifest.read_text())
    assert (manifest["guide"], manifest["edition"], manifest["version"]) == ("mini", 2, "2.1")
    assert manifest["build_date"] == "2026-01-15T00:00:00Z"
    assert manifest["toolchain"]["weasyprint"] == "70.0"
    assert manifest["toolchain"]["@fontsource/atkinson-hyperlegible"] == "5.3.0"
    assert len(manifest["source_commit"] or "") == 40
    assert [e["variant"] for e in manifest["outputs"]] == ["screen", "large-print", "print", "epub", "web"]
    for entry in manifest["outputs"][:-1]:
        data = (every_variant.manifest.parent / entry["file"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["bytes"] == len(data)
    site = every_variant.manifest.parent / manifest["outputs"][-1]["file"]      # a folder (tests/test_web.py)
    assert manifest["outputs"][-1]["sha256"] == output_sha256(site) and site.is_dir()
    assert manifest["outputs"][1]["pages"] > manifest["outputs"][0]["pages"]


def test_two_clean_builds_give_identical_manifest_hashes(every_variant, tmp_path):
    env = dict(os.environ, TZ="America/Los_Angeles", LC_ALL="C.UTF-8", PYTHONHASHSEED="7")
    result = run("--variant", "all", "-q", "--content", str(MINI), "--out", str(tmp_path / "b"),
                 env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    first = json.loads(every_variant.manifest.read_text())["outputs"]
    second = json.loads((tmp_path / "b" / "manifest.json").read_text())["outputs"]
    assert [(e["file"], e["sha256"]) for e in first] == [(e["file"], e["sha256"]) for e in second]
