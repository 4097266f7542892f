"""Rendering pages with pypdfium2 and finding where two of them differ."""

from __future__ import annotations

from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image, ImageChops

DPI = 60


def render(pdf: Path, index: int, dpi: int = DPI) -> Image.Image:
    document = pdfium.PdfDocument(str(pdf))
    try:
        return document[index].render(scale=dpi / 72).to_pil().convert("RGB")
    finally:
        document.close()


MARGIN_PT = 22 * 72 / 25.4          # the running head and page number live in the top and bottom margins


def page_boxes(base: Path, base_index: int, head: Path, head_index: int,
               gap: int = 6, threshold: int = 40, skip_margins: bool = False) -> list[list[float]]:
    """Boxes (x0, y0, x1, y1 in points from the top left of the head page)
    around the regions that differ between two rendered pages."""
    a, b = render(base, base_index), render(head, head_index)
    if a.size != b.size:
        return [[0, 0, b.width * 72 / DPI, b.height * 72 / DPI]]
    # Colour counts: the largest difference of any channel, so dark blue and
    # purple, alike in grey, still differ.
    red, green, blue = ImageChops.difference(a, b).split()
    largest = ImageChops.lighter(ImageChops.lighter(red, green), blue)
    mask = largest.point(lambda v: 255 if v > threshold else 0)
    if skip_margins:
        margin = int(MARGIN_PT * DPI / 72)
        mask.paste(0, (0, 0, mask.width, margin))
        mask.paste(0, (0, mask.height - margin, mask.width, mask.height))
    if mask.getbbox() is None:
        return []
    width, height = mask.size
    data = mask.load()
    rows = [y for y in range(height) if any(data[x, y] for x in range(0, width, 2))]
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
