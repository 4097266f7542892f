"""`python build.py new DIR`, and a guide with a brand of its own: a new
guide builds and passes `check` at once, and its editions show its brand
(colours in the PDF's content stream and the EPUB's CSS, its fonts embedded,
its mark), while its lint follows its own house rules."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pikepdf
import pytest
import yaml

from conftest import ROOT
from guidepub.colour import contrast_ratio
from guidepub.scaffold import palette


def cli(*args, stdin=subprocess.DEVNULL, timeout=600):
    return subprocess.run([sys.executable, str(ROOT / "build.py"), *map(str, args)], capture_output=True,
                          text=True, stdin=stdin, timeout=timeout)


def fills(pdf: Path) -> set[tuple[float, float, float]]:
    """Every RGB fill and stroke colour set on any page or form of the PDF."""
    found = set()
    with pikepdf.open(pdf) as doc:
        for page in doc.pages:
            objects = [page] + [x for x in page.obj.get("/Resources", {}).get("/XObject", {}).values()
                                if x.get("/Subtype") == "/Form"]
            for obj in objects:
                for operands, op in pikepdf.parse_content_stream(obj):
                    if str(op) in ("rg", "RG") and len(operands) == 3:
                        found.add(tuple(round(float(v), 3) for v in operands))
    return found


def rgb(colour: str) -> tuple[float, float, float]:
    return tuple(round(int(colour[i:i + 2], 16) / 255, 3) for i in (1, 3, 5))


@pytest.fixture(scope="module")
def new_guide(tmp_path_factory):
    folder = tmp_path_factory.mktemp("new") / "carers"
    result = cli("new", folder, "--title", "Caring for carers", "--language", "en-GB", "--colour", "#7FBF3F")
    assert result.returncode == 0, result.stderr
    assert "darkened" in result.stderr, "the editor is told the colour changed, and why"
    return folder


def test_new_guide_builds_and_passes_check(new_guide, tmp_path):
    out = tmp_path / "dist"
    result = cli("check", "--content", new_guide, "--out", out, "--variant", "all")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "FAIL" not in result.stderr
    meta = yaml.safe_load((new_guide / "guide.yaml").read_text())
    assert (new_guide / "guide.yaml").read_text().startswith("# yaml-language-server: $schema=")
    schema = (new_guide / "guide.yaml").read_text().split("$schema=", 1)[1].split("\n", 1)[0]
    assert (new_guide / schema).resolve() == ROOT / "docs" / "guide.schema.json"
    assert re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", meta["identifiers"]["urn"])
    assert (new_guide / "README.md").is_file()
    # The guide's own brand, in both formats.
    brand = yaml.safe_load((new_guide / "brand" / "brand.yaml").read_text())
    primary = brand["colours"]["primary"]
    pdf = next(out.glob("*-screen.pdf"))
    assert rgb(primary) in fills(pdf), "the cover and labels are drawn in the guide's own colour"
    assert rgb("#005EB8") not in fills(pdf), "nothing of the default brand is left"
    with zipfile.ZipFile(next(out.glob("*.epub"))) as z:
        css = z.read("EPUB/css/guide.css").decode()
        assert primary.lower() in css.lower() and "#005eb8" not in css.lower()
        cover = z.read("EPUB/images/cover.svg").decode()
        assert primary.lower() in cover.lower()


def test_every_chapter_shows_every_block(new_guide):
    text = "".join(p.read_text() for p in (new_guide / "chapters").glob("*.md"))
    for block in ("::: key-points", "::: activity", "::: case-study", "::: self-check", "::: resources",
                  "::: quote", "![", "caption=", "[^", "\n: "):
        assert block in text, block


@pytest.mark.parametrize("colour", ["#7FBF3F", "#FFFF00", "#005EB8", "#000000", "#FF00FF"])
def test_palette_always_meets_aa(colour):
    colours, _ = palette(colour)
    for text, background, ratio in (("primary", "background", 4.5), ("primary", "surface", 4.5),
                                    ("heading", "surface", 4.5), ("on-primary", "primary", 4.5),
                                    ("text", "surface", 4.5), ("muted", "background", 4.5)):
        assert contrast_ratio(colours[text], colours[background]) >= ratio, (colour, text, background)


@pytest.mark.parametrize("args, words", [
    (["--colour", "blue"], "not a colour"),
    (["--language", "English"], "not a language tag"),
    (["--title", "   "], "title is empty"),
])
def test_new_refuses_bad_answers(tmp_path, args, words):
    result = cli("new", tmp_path / "g", *args)
    assert result.returncode == 2 and "NEW-USAGE" in result.stderr and words in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "g").exists()


def test_new_never_writes_into_a_folder_that_has_files(tmp_path):
    (tmp_path / "g").mkdir()
    (tmp_path / "g" / "notes.txt").write_text("mine")
    result = cli("new", tmp_path / "g", "--title", "T")
    assert result.returncode == 2 and "NEW-USAGE" in result.stderr
    assert [p.name for p in (tmp_path / "g").iterdir()] == ["notes.txt"]


def test_a_second_brand_with_its_own_fonts_and_rules(new_guide, tmp_path):
    """Another body font (the mono family the project installs), another mark,
    extra CSS, and house rules of its own: short sentences, no chapter parts."""
    guide = tmp_path / "guide"
    subprocess.run(["cp", "-r", str(new_guide), str(guide)], check=True)
    brand_file = guide / "brand" / "brand.yaml"
    brand = yaml.safe_load(brand_file.read_text())
    brand["fonts"]["body"] = brand["fonts"]["monospace"]
    brand["css"] = ["extra.css"]
    brand_file.write_text(yaml.safe_dump(brand, sort_keys=False, allow_unicode=True))
    (guide / "brand" / "extra.css").write_text(".chapter-label { letter-spacing: 0.05em; }\n")
    settings = guide / "guide.yaml"
    settings.write_text(settings.read_text().replace("  sentence_case: true\n",
                                                     "  sentence_case: true\n  max_sentence_words: 8\n"))
    out = tmp_path / "dist"
    result = cli("--content", guide, "--out", out, "--variant", "screen", "-q")
    assert result.returncode == 0, result.stderr[-2000:]
    with pikepdf.open(next(out.glob("*-screen.pdf"))) as pdf:
        fonts = {str(f.get("/BaseFont")) for p in pdf.pages
                 for f in p.obj.get("/Resources", {}).get("/Font", {}).values()}
    assert any(f.endswith("Atkinson-Hyperlegible-Mono") for f in fonts), fonts
    lint = cli("lint", "--content", guide)
    assert lint.returncode == 1
    codes = set(re.findall(r" (CONTENT-[A-Z-]+) ", lint.stderr))
    assert codes == {"CONTENT-SENTENCE-LONG"}, lint.stderr[-2000:]
