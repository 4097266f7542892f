"""The EPUB's cover picture is self-contained (issue 12, item 6): a reading
system shows images/cover.svg as an image, which loads nothing else, so the
mark is drawn inside it and the lettering is outlines of the brand's font.
Proven in Chromium: the cover shown alone as an <img> is pixel for pixel the
cover opened as a document beside every other file of the EPUB (where a
browser would load a referenced mark and fall back to a system font)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from lxml import etree
from PIL import Image, ImageChops

from conftest import ROOT

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}href"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def cover_of(epub: Path) -> bytes:
    with zipfile.ZipFile(epub) as z:
        return z.read("EPUB/images/cover.svg")


def outside_references(svg: bytes) -> list[str]:
    """Everything in an SVG that would make a viewer load another file or a
    font: hrefs that are not #id or data:, CSS url() that is not #id or
    data:, @import, and text (set in whatever font the viewer has)."""
    found = []
    root = etree.fromstring(svg)
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag in (f"{SVG}text", f"{SVG}tspan", f"{SVG}textPath", f"{SVG}foreignObject"):
            found.append(f"<{etree.QName(element).localname}> (set in a font the viewer chooses)")
        for attr, value in element.attrib.items():
            if (attr in ("href", XLINK) and not value.startswith(("#", "data:"))) or "font-family" in attr:
                found.append(f"{etree.QName(attr).localname}={value[:60]}")
        css = " ".join(filter(None, [element.get("style"), element.text if element.tag == f"{SVG}style" else ""]))
        for url in re.findall(r"url\(\s*['\"]?([^'\")]*)", css):
            if not url.startswith(("#", "data:")):
                found.append(f"url({url})")
        if "@import" in css or "font-family" in css:
            found.append(css[:60])
    return found


def test_the_cover_svg_references_no_other_file(mini):
    svg = cover_of(mini.epub)
    assert outside_references(svg) == []
    root = etree.fromstring(svg)
    mark = [e for e in root.iter(f"{SVG}svg") if e is not root]
    assert len(mark) == 1 and len(list(mark[0].iter(f"{SVG}rect"))) == 4, "the brand's mark, inlined"
    assert len(list(root.iter(f"{SVG}path"))) >= 4, "series, title, subtitle and publisher, as outlines"
    assert root.find(f"{SVG}title").text == "Cover of Mini guide: Every block once, published by Test publisher"
    with zipfile.ZipFile(mini.epub) as z:
        assert "EPUB/images/mark.svg" not in z.namelist(), "no file is packed for the cover to miss"


def test_the_check_finds_a_cover_that_needs_another_file():
    """The test above can fail: the cover this project made before (the mark
    by reference, the title in a font) has three such references."""
    old = (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
           b'<image xlink:href="mark.svg"/><g font-family="Atkinson Hyperlegible, Arial">'
           b'<text>Title</text></g></svg>')
    assert len(outside_references(old)) == 3


def test_a_mark_that_refers_outside_itself_is_a_brand_error(guide_copy):
    brand = guide_copy / "brand"
    brand.mkdir()
    project = (ROOT / "styles" / "brand.yaml").read_text(encoding="utf-8")
    fonts = os.path.relpath(ROOT / "node_modules", brand)
    (brand / "brand.yaml").write_text(re.sub(r"(?m)^mark: .*$", "mark: mark.svg",
                                             project.replace("../node_modules", fonts)), encoding="utf-8")
    (brand / "mark.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"><image href="logo.png" '
                                    'width="10" height="10"/></svg>', encoding="utf-8")
    (guide_copy / "guide.yaml").write_text((guide_copy / "guide.yaml").read_text()
                                           + "brand: brand/brand.yaml\n", encoding="utf-8")
    result = subprocess.run([sys.executable, str(ROOT / "build.py"), "lint", "--content", str(guide_copy)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if " BRAND-MARK " in line]
    assert len(lines) == 1 and "refers to 'logo.png'" in lines[0], result.stderr
    mark_line = next(n for n, text in enumerate((brand / "brand.yaml").read_text().splitlines(), 1)
                     if text.startswith("mark:"))
    assert lines[0].startswith(f"{brand / 'brand.yaml'}:{mark_line}: BRAND-MARK"), lines[0]


def _shot(url: str, png: Path, width: int, height: int) -> Image.Image:
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                    "--disable-background-networking", "--hide-scrollbars", "--force-device-scale-factor=1",
                    f"--window-size={width},{height}", f"--screenshot={png}", url],
                   capture_output=True, timeout=120, check=True)
    return Image.open(png).convert("RGB")


@pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium")
def test_the_cover_looks_the_same_alone_as_an_image_in_chromium(mini, tmp_path):
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "cover.svg").write_bytes(cover_of(mini.epub))
    (alone / "page.html").write_text('<!DOCTYPE html><html><body style="margin:0">'
                                     '<img src="cover.svg" width="1200" height="1600" alt=""></body></html>')
    unpacked = tmp_path / "unpacked"
    with zipfile.ZipFile(mini.epub) as z:
        z.extractall(unpacked)
    shutil.copy(ROOT / "styles" / "brand" / "mark.svg", unpacked / "EPUB" / "images" / "mark.svg")
    as_image = _shot((alone / "page.html").as_uri(), tmp_path / "image.png", 1200, 1600)
    as_document = _shot((unpacked / "EPUB" / "images" / "cover.svg").as_uri(), tmp_path / "document.png",
                        1200, 1600)
    assert ImageChops.difference(as_image, as_document).getbbox() is None, "the same pixels either way"
    primary = (0x00, 0x5E, 0xB8)
    assert as_image.getpixel((600, 5)) == primary, "the brand's colour fills the cover"
    mark = as_image.crop((960, 96, 1104, 240))
    assert (255, 255, 255) in {colour for _, colour in mark.getcolors(1 << 16)}, "the mark is drawn"
    title = as_image.crop((96, 580, 1104, 800))
    assert sum(1 for _, colour in title.getcolors(1 << 16) if colour != primary) > 10, "the title is drawn"
