"""The EPUB's cover picture, self-contained: a reading system shows
images/cover.svg as an image, and an SVG shown as an image loads nothing
else, neither the mark file nor a font. So the brand's mark is drawn inside
the cover (an SVG mark cleaned and inlined, a raster mark as a data: URL), and
the lettering is drawn as outlines of the brand's heading font (fontTools:
each glyph's outline, advance widths and the font's pair kerning), so the
cover looks the same wherever it is shown. The words stay readable to
assistive technology through the SVG's <title> and the cover's alt text."""

from __future__ import annotations

import base64
import functools
import re
import unicodedata
from pathlib import Path

from lxml import etree

from .model import Brand, Font, Guide

SVG_NS = "http://www.w3.org/2000/svg"
WIDTH, HEIGHT, MARGIN = 1200, 1600, 96
RASTER_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


# --- lettering -------------------------------------------------------------

@functools.lru_cache(maxsize=16)
def _font(path: Path):
    from .fontfiles import open_font
    font = open_font(path)
    return font, font.getBestCmap(), font.getGlyphSet(), font["head"].unitsPerEm, _kerning(font)


def _kerning(font) -> dict[tuple[str, str], int]:
    """Pair kerning from the GPOS 'kern' feature (PairPos formats 1 and 2,
    also inside Extension lookups): (left glyph, right glyph) -> adjustment."""
    pairs: dict[tuple[str, str], int] = {}
    if "GPOS" not in font:
        return pairs
    table = font["GPOS"].table
    wanted = {i for record in table.FeatureList.FeatureRecord if record.FeatureTag == "kern"
              for i in record.Feature.LookupListIndex}
    for index in sorted(wanted):
        lookup = table.LookupList.Lookup[index]
        for sub in lookup.SubTable:
            if lookup.LookupType == 9:
                sub = sub.ExtSubTable
            if getattr(sub, "LookupType", 2) != 2 or not hasattr(sub, "Coverage"):
                continue
            firsts = sub.Coverage.glyphs
            if sub.Format == 1:
                for first, pair_set in zip(firsts, sub.PairSet):
                    for record in pair_set.PairValueRecord:
                        value = getattr(record.Value1, "XAdvance", 0) if record.Value1 else 0
                        pairs.setdefault((first, record.SecondGlyph), value)
            elif sub.Format == 2:
                class1, class2 = sub.ClassDef1.classDefs, sub.ClassDef2.classDefs
                seconds: dict[int, list[str]] = {}
                for glyph, cls in class2.items():
                    seconds.setdefault(cls, []).append(glyph)
                for first in firsts:
                    row = sub.Class1Record[class1.get(first, 0)].Class2Record
                    for cls, record in enumerate(row):
                        value = getattr(record.Value1, "XAdvance", 0) if record.Value1 else 0
                        if value and cls in seconds:
                            for second in seconds[cls]:
                                pairs.setdefault((first, second), value)
    return pairs


class Lettering:
    """Text set in the brand's heading font as SVG path data."""

    def __init__(self, brand: Brand, base: Path):
        self.brand, self.base = brand, base

    def _files(self, weight: int) -> list[Path]:
        """The font files to draw with, in order: the heading font's files
        nearest this weight (upright), then the fallbacks'."""
        files: list[Path] = []
        for font in [self.brand.fonts.headings, *self.brand.fonts.fallbacks]:
            files += [(self.base / face.file).resolve() for face in _nearest(font, weight)]
        return files

    def _glyphs(self, text: str, weight: int):
        """(font file, glyph name) of each character; .notdef of the first
        font for a character none has (load reports none: the title is
        checked against the fonts by the PDF too)."""
        files = self._files(weight)
        for char in unicodedata.normalize("NFC", text):
            found = next((f for f in files if ord(char) in _font(f)[1]), None)
            yield (found, _font(found)[1][ord(char)]) if found else (files[0], ".notdef")

    def _placed(self, text: str, size: float, weight: int) -> tuple[list, float]:
        """`text` set at `size`: each glyph as (its font's glyph set, its
        name, scale, x), and the width."""
        placed, pen_x, previous = [], 0.0, None
        for file, glyph in self._glyphs(text, weight):
            font, _, glyphs, units, kerning = _font(file)
            scale = size / units
            if previous and previous[0] == file:
                pen_x += kerning.get((previous[1], glyph), 0) * scale
            placed.append((glyphs, glyph, scale, pen_x))
            pen_x += font["hmtx"][glyph][0] * scale
            previous = (file, glyph)
        return placed, pen_x

    def width(self, text: str, size: float, weight: int) -> float:
        return self._placed(text, size, weight)[1]

    def path(self, text: str, size: float, weight: int, x: float, y: float) -> tuple[str, float]:
        """Path data for `text` with its baseline starting at (x, y), and its width."""
        from fontTools.pens.svgPathPen import SVGPathPen
        from fontTools.pens.transformPen import TransformPen
        placed, width = self._placed(text, size, weight)
        parts: list[str] = []
        for glyphs, glyph, scale, pen_x in placed:
            pen = SVGPathPen(glyphs, ntos=lambda v: f"{v:.1f}".rstrip("0").rstrip("."))
            glyphs[glyph].draw(TransformPen(pen, (scale, 0, 0, -scale, x + pen_x, y)))
            parts.append(pen.getCommands())
        return "".join(p for p in parts if p), width

    def wrap(self, text: str, size: float, weight: int, width: float) -> list[str]:
        """Lines of `text` no wider than `width` (a word wider than it stands alone)."""
        lines: list[str] = []
        for word in text.split():
            if lines and self.width(f"{lines[-1]} {word}", size, weight) <= width:
                lines[-1] += f" {word}"
            else:
                lines.append(word)
        return lines


def _nearest(font: Font, weight: int):
    upright = [f for f in font.faces if f.style == "normal"] or font.faces
    best = min(abs(f.weight - weight) for f in upright)
    return [f for f in upright if abs(f.weight - weight) == best]


def lettering(guide: Guide, brand_base: Path) -> list[dict]:
    """The cover's lines of text, each {d, size, weight}: series, title,
    subtitle and publisher, wrapped to the cover's width; the title is made
    smaller when it would take more than four lines."""
    meta = guide.meta
    letters = Lettering(guide.brand, brand_base)
    measure = WIDTH - 2 * MARGIN
    drawn: list[dict] = []

    def draw(text: str, size: float, weight: int, top: float, gap: float, last: bool = False) -> float:
        """Set `text` from baseline `top` (or, `last`, ending on it), a line
        every `gap`; return the next baseline."""
        lines = letters.wrap(text, size, weight, measure)
        top -= gap * (len(lines) - 1) if last else 0
        for line in lines:
            drawn.append({"d": letters.path(line, size, weight, MARGIN, top)[0]})
            top += gap
        return top

    y = 560.0
    if meta.series:
        y = draw(meta.series, 44, 700, y, 56) + 64
    else:
        y += 120
    size = 92
    while size > 56 and len(letters.wrap(meta.title, size, 700, measure)) > 4:
        size -= 8
    y = draw(meta.title, size, 700, y, size * 1.13)
    if meta.subtitle:
        draw(meta.subtitle, 72, 400, y + 20, 84)
    draw(meta.publisher, 44, 400, 1480, 56, last=True)
    return drawn


# --- the mark ----------------------------------------------------------------

def mark_markup(path: Path, x: int, y: int, size: int) -> str:
    """The brand's mark, drawn inside the cover at (x, y), `size` square: an
    SVG mark (checked like a figure by load_brand) inlined as a nested <svg>,
    without comments, titles or descriptions, its ids made unique; a PNG or
    JPEG mark as a data: URL."""
    data = path.read_bytes()
    suffix = path.suffix.lower()
    if suffix in RASTER_TYPES:
        url = f"data:{RASTER_TYPES[suffix]};base64,{base64.b64encode(data).decode()}"
        return f'<image href="{url}" x="{x}" y="{y}" width="{size}" height="{size}"/>'
    # load_brand has checked the mark like a figure: no scripts, nothing outside it.
    root = etree.fromstring(data, etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                                                  remove_comments=True, remove_pis=True))
    for element in list(root.iter(f"{{{SVG_NS}}}title", f"{{{SVG_NS}}}desc", f"{{{SVG_NS}}}metadata")):
        element.getparent().remove(element)
    ids = {e.get("id") for e in root.iter() if isinstance(e.tag, str) and e.get("id")}
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        for attr, value in element.attrib.items():
            if attr == "id":
                element.set(attr, f"cover-mark-{value}")
            elif ids:
                element.set(attr, _renamed(value, ids))
        if etree.QName(element).localname == "style" and element.text and ids:
            element.text = _renamed(element.text, ids)
    for attr in ("width", "height", "x", "y", "aria-hidden", "role", "aria-label", "aria-labelledby"):
        root.attrib.pop(attr, None)
    if root.get("viewBox") is None:
        root.set("viewBox", f"0 0 {size} {size}")
    root.attrib.update({"x": str(x), "y": str(y), "width": str(size), "height": str(size)})
    etree.cleanup_namespaces(root)
    text = etree.tostring(root, encoding="unicode")
    return re.sub(r">\s+<", "><", text)


def _renamed(value: str, ids: set[str]) -> str:
    """References to the mark's own ids (#id, url(#id)) made to follow their new names."""
    return re.sub(r"#([A-Za-z_][\w.-]*)", lambda m: f"#cover-mark-{m.group(1)}" if m.group(1) in ids
                  else m.group(0), value)
