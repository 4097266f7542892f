"""The brand tokens: every colour pair the theme uses passes WCAG 2.2 AA."""

from __future__ import annotations

import shutil

import pytest

from guidepub.colour import contrast_ratio, required_ratio
from guidepub.errors import GuideError
from guidepub.load import load_brand
from conftest import BRAND

brand = load_brand(BRAND)


def test_contrast_ratio_matches_known_values():
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast_ratio("#FFFFFF", "#FFFFFF") == pytest.approx(1.0)
    assert contrast_ratio("#005EB8", "#FFFFFF") == pytest.approx(6.38, abs=0.01)
    assert contrast_ratio("#768692", "#FFFFFF") < 4.5        # NHS mid grey fails for body text


@pytest.mark.parametrize("pair", brand.all_pairs, ids=lambda p: p.use)
def test_every_pair_passes_aa(pair):
    ratio = contrast_ratio(brand.colours[pair.text], brand.colours[pair.background])
    assert ratio >= required_ratio(pair.large_text), f"{pair.use}: {ratio:.2f}:1"


@pytest.mark.parametrize("old, new, code", [
    ("atkinson-hyperlegible-latin-400-normal.woff2", "missing.woff2", "BRAND-FONT"),    # body and headings
    ("atkinson-hyperlegible-mono-latin-ext-700-italic.woff2", "missing.woff2", "BRAND-FONT"),
    ("noto-sans-math-latin-400-normal.woff2", "missing.woff2", "BRAND-FONT"),           # a fallback
    ("noto-emoji-emoji-400-normal.woff2", "noto-emoji-emoji-400-normal.ttf", "BRAND-SCHEMA"),   # WOFF2 only
    ("  heading: *body", "  heading: Atkinson", "BRAND-SCHEMA"),                           # a role with no faces
    ("    - family: Noto Sans Math", "    - family: \"Noto Sans Math; x\"", "BRAND-SCHEMA"),
    ("mark: brand/mark.svg", "mark: brand/missing.svg", "BRAND-MARK"),
    ("  surface: \"#E8EDEE\"", "  grey: \"#E8EDEE\"", "BRAND-COLOUR"),        # a role left out
    ("mark_alt:", "pairs: [{use: notes, text: ink, background: background}]\nmark_alt:", "BRAND-COLOUR"),
    ("mark_alt:", "css: [missing.css]\nmark_alt:", "BRAND-CSS"),
    ("  primary: \"#005EB8\"", "  primary: blue", "BRAND-SCHEMA"),
])
def test_brand_mistakes(tmp_path, old, new, code):
    styles = tmp_path / "styles"
    shutil.copytree(BRAND.parent, styles)
    path = styles / "brand.yaml"
    text = path.read_text().replace("../node_modules", str(BRAND.parent.parent / "node_modules"))
    assert old in text
    path.write_text(text.replace(old, new))
    with pytest.raises(GuideError) as info:
        load_brand(path)
    assert [p.code for p in info.value.problems] == [code]
    [problem] = info.value.problems
    assert problem.path == path and problem.line, "every brand mistake names its file and line"
    assert problem.hint
