"""The EPUB's cover page fits the reading window: measured in Chromium at
600 x 800 and 1024 x 768 (EPUB-COVER-FIT), and shown able to fail on covers
broken on purpose."""

from __future__ import annotations

import re
import zipfile

from guidepub.check import CheckResult
from guidepub.check import epub as epub_check
from guidepub.check.epub import COVER_WINDOWS, _cover_fit, cover_fit


def rewrite(source, target, name, change):
    """A copy of the EPUB `source` with the entry `name` changed by `change`."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename == name:
                data = change(data.decode("utf-8")).encode("utf-8")
            new.writestr(info, data)
    return target


def test_the_built_cover_fits_every_window(mini):
    assert COVER_WINDOWS == ((600, 800), (1024, 768))
    assert cover_fit(mini.epub) == []
    assert cover_fit(mini.epub, windows=((320, 480), (2000, 900))) == []
    result = CheckResult("epub", "EPUB")
    _cover_fit(mini.epub, result)
    assert result.findings == [] and result.facts["cover_windows"] == ["600 x 800", "1024 x 768"]


def test_an_inline_cover_picture_overflows_and_is_found(mini, tmp_path):
    # The fault as it was: the picture as tall as the window, but inline, on
    # a text baseline, so the page was a few pixels taller than the window.
    broken = rewrite(mini.epub, tmp_path / "inline.epub", "EPUB/css/guide.css",
                     lambda css: css + "\n.cover-page img { display: inline; }\n")
    problems = cover_fit(broken)
    assert len(problems) == 2, problems
    assert re.match(r"in a 600 x 800 px window the cover page is 600 x 80\d px: it does not fit", problems[0])
    assert problems[1].startswith("in a 1024 x 768 px window the cover page is 1024 x 7")
    result = CheckResult("epub", "EPUB")
    _cover_fit(broken, result)
    assert {f.code for f in result.findings} == {"EPUB-COVER-FIT"}
    assert all(f.hint and f.where == "cover" for f in result.findings)


def test_a_cover_too_big_or_stretched_is_found(mini, tmp_path):
    big = rewrite(mini.epub, tmp_path / "big.epub", "EPUB/cover.xhtml",
                  lambda page: page.replace('role="doc-cover"', 'role="doc-cover" style="max-height:none"'))
    problems = cover_fit(big)          # 600 x 800 is the cover's own shape: only landscape fails
    assert problems == ["in a 1024 x 768 px window the cover page is 1024 x 1365 px: it does not fit and scrolls",
                        "in a 1024 x 768 px window the cover picture (1024 x 1365 px at 0, 0) is not all in view"]
    # filling a landscape window distorts a portrait cover
    stretched = rewrite(mini.epub, tmp_path / "stretched.epub", "EPUB/cover.xhtml",
                        lambda page: page.replace('role="doc-cover"', 'role="doc-cover" style="width:100vw;'
                                                  'height:100vh;max-width:none;object-fit:fill"'))
    problems = cover_fit(stretched)
    assert [p for p in problems if "stretched" in p] == [
        "in a 1024 x 768 px window the cover picture is stretched: shown at 1024 x 768 px, drawn at 1200 x 1600"]


def test_a_cover_that_cannot_be_measured_is_a_finding(mini, monkeypatch):
    monkeypatch.setattr(epub_check, "CHROMIUM", "/nonexistent/chromium")
    result = CheckResult("epub", "EPUB")
    _cover_fit(mini.epub, result)
    assert [f.code for f in result.findings] == ["EPUB-COVER-RUN"]


def test_the_cover_page_is_found_without_its_role(mini, tmp_path):
    # without role="doc-cover" the page is still found, through the manifest's cover-image
    plain = rewrite(mini.epub, tmp_path / "plain.epub", "EPUB/cover.xhtml",
                    lambda page: page.replace(' role="doc-cover"', ' style="display:inline"'))
    assert any("scrolls" in p for p in cover_fit(plain))
