"""The brand tokens: every colour pair the theme uses passes WCAG 2.2 AA."""

from __future__ import annotations

import pytest

from guidepub.colour import contrast_ratio, required_ratio
from guidepub.load import load_brand
from conftest import BRAND

brand = load_brand(BRAND)


def test_contrast_ratio_matches_known_values():
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21.0)
    assert contrast_ratio("#FFFFFF", "#FFFFFF") == pytest.approx(1.0)
    assert contrast_ratio("#005EB8", "#FFFFFF") == pytest.approx(6.38, abs=0.01)
    assert contrast_ratio("#768692", "#FFFFFF") < 4.5        # NHS mid grey fails for body text


@pytest.mark.parametrize("pair", brand.pairs, ids=lambda p: p.use)
def test_every_pair_passes_aa(pair):
    ratio = contrast_ratio(brand.colours[pair.text], brand.colours[pair.background])
    assert ratio >= required_ratio(pair.large_text), f"{pair.use}: {ratio:.2f}:1"


def test_font_files_are_installed():
    for face in brand.font.faces:
        assert (BRAND.parent / face.file).is_file(), face.file
