"""Rendering pages with pypdfium2 and finding where two of them differ.

NOISE is the largest difference of any colour channel between two renders of
pages that draw the same thing. pypdfium2 renders deterministically: two
renders of one page, and renders of byte-identical pages from two builds,
made in different processes, differ by 0 (measured by bench/diff.py on every
page of the real guide and tested in tests/test_diff.py). So any difference
counts: one step of one channel of a brand colour is a change."""

from __future__ import annotations

import io
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image, ImageChops, ImageDraw

DPI = 60                    # rendering for comparison and for the report's full-size images
THUMB_DPI = 18              # the report's thumbnails
NOISE = 0                   # measured: see the module's docstring
BOX_COLOUR = (174, 37, 115)
# The running head and the page number sit in these bands of the trim box:
# a renumbered page is compared without them.
HEAD_BAND_PT = 18 * 72 / 25.4
FOOT_BAND_PT = 20 * 72 / 25.4


class Renderer:
    """Renders pages, each PDF opened once; close() when done."""

    def __init__(self) -> None:
        self._docs: dict[Path, pdfium.PdfDocument] = {}
        self._cache: dict[tuple[Path, int, int], Image.Image] = {}

    def render(self, pdf: Path, index: int, dpi: int = DPI) -> Image.Image:
        key = (pdf, index, dpi)
        if key not in self._cache:
            if len(self._cache) > 64:
                self._cache.clear()
            if pdf not in self._docs:
                self._docs[pdf] = pdfium.PdfDocument(str(pdf))
            page = self._docs[pdf][index]
            try:
                self._cache[key] = page.render(scale=dpi / 72).to_pil().convert("RGB")
            finally:
                page.close()
        return self._cache[key]

    def number_bands(self, pdf: Path, index: int) -> list[tuple[float, float]]:
        """The lines of a page that hold a digit, as (top, bottom) in points
        from the top of the page."""
        if pdf not in self._docs:
            self._docs[pdf] = pdfium.PdfDocument(str(pdf))
        page = self._docs[pdf][index]
        try:
            height = page.get_height()
            text = page.get_textpage()
            try:
                bands = []
                for i in range(text.count_chars()):
                    if text.get_text_range(i, 1).isdigit():
                        _left, bottom, _right, top = text.get_charbox(i)
                        bands.append((height - top - 2, height - bottom + 2))
                return bands
            finally:
                text.close()
        finally:
            page.close()

    def close(self) -> None:
        self._cache.clear()
        for doc in self._docs.values():
            doc.close()
        self._docs.clear()

    def __enter__(self) -> "Renderer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def difference(a: Image.Image, b: Image.Image) -> Image.Image:
    """The largest difference of any channel, pixel by pixel (so dark blue
    and purple, alike in grey, still differ)."""
    red, green, blue = ImageChops.difference(a, b).split()
    return ImageChops.lighter(ImageChops.lighter(red, green), blue)


def page_boxes(renderer: Renderer, base: Path, base_index: int, head: Path, head_index: int,
               frame: tuple[float, float, float, float] | None = None, skip_margins: bool = False,
               skip_numbers: bool = False, gap: int = 6, threshold: int = NOISE) -> list[list[float]]:
    """Boxes (x0, y0, x1, y1 in points from the top left of the head page)
    around the regions that differ between two rendered pages. With
    skip_margins, the running head and page number are left out; with
    skip_numbers, the lines that hold a number (of either page): for pages
    whose text differs only in the page numbers it prints."""
    a, b = renderer.render(base, base_index), renderer.render(head, head_index)
    if a.size != b.size:
        return [[0, 0, round(b.width * 72 / DPI, 1), round(b.height * 72 / DPI, 1)]]
    mask = difference(a, b).point(lambda v: 255 if v > threshold else 0)
    if skip_numbers:
        s = DPI / 72
        for top, bottom in renderer.number_bands(base, base_index) + renderer.number_bands(head, head_index):
            mask.paste(0, (0, max(int(top * s), 0), mask.width, min(int(bottom * s) + 1, mask.height)))
    if skip_margins:
        left, top, right, bottom = frame or (0, 0, b.width * 72 / DPI, b.height * 72 / DPI)
        s = DPI / 72
        mask.paste(0, (0, 0, mask.width, int((top + HEAD_BAND_PT) * s)))
        mask.paste(0, (0, int((bottom - FOOT_BAND_PT) * s), mask.width, mask.height))
        mask.paste(0, (0, 0, int(left * s), mask.height))
        mask.paste(0, (int(right * s) + 1, 0, mask.width, mask.height))
    if mask.getbbox() is None:
        return []
    width, height = mask.size
    # Rows with any changed pixel, grouped into bands; a box around each band.
    rows = [y for y in range(height) if mask.crop((0, y, width, y + 1)).getbbox()]
    bands: list[list[int]] = []
    for y in rows:
        if bands and y - bands[-1][1] <= gap:
            bands[-1][1] = y
        else:
            bands.append([y, y])
    boxes = []
    for top, bottom in bands:
        box = mask.crop((0, top, width, bottom + 1)).getbbox()
        if box:
            x0, _, x1, _ = box
            boxes.append([round(v * 72 / DPI, 1) for v in (x0, top, x1, bottom + 1)])
    return boxes


def picture(renderer: Renderer, pdf: Path, index: int, boxes=(), dpi: int = DPI) -> bytes:
    """A page as a small PNG (a 64-colour palette), changed regions boxed."""
    image = renderer.render(pdf, index, dpi).copy()
    if boxes:
        draw = ImageDraw.Draw(image)
        s = dpi / 72
        width = 3 if dpi >= 40 else 2
        for x0, y0, x1, y1 in boxes:             # kept inside the picture: a whole page's box shows too
            draw.rectangle([max(x0 * s - width, 0), max(y0 * s - width, 0), min(x1 * s + width, image.width - 1),
                            min(y1 * s + width, image.height - 1)], outline=BOX_COLOUR, width=width)
    buffer = io.BytesIO()
    image.quantize(64, method=Image.Quantize.MEDIANCUT).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()
