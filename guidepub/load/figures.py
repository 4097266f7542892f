"""Figures are validated and cleaned before they reach any edition, and every
edition gets the same bytes: the PDF's layout is served them from memory and
the EPUB packs them.

- SVG is parsed with DTDs and entities forbidden (defusedxml). Scripts,
  event handlers, foreign HTML and any reference outside the figure (a web
  or `file:` address, another file, `javascript:`, CSS `url()` or `@import`
  that is not `#id`) are refused with the SVG's line. Element count is bounded.
- PNG and JPEG are decoded in full with Pillow: a truncated file, one whose
  contents are not what its name says, or one over MAX_PIXELS is refused.
  GIF (its first frame) and WebP are converted to PNG at build time.
- SVG features the PDF engine draws otherwise than a browser (a marker's
  orient="auto", <textPath>, most filters, paint-order, vector-effect) are
  CONTENT-SVG-FEATURE at the SVG's line: every edition must show the same picture.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import Problem

MAX_SVG_ELEMENTS = 20_000
MAX_PIXELS = 40_000_000           # 40 megapixels: a full-page photo at 600 dpi is under 35
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
# Embedded pictures are the one outside thing a figure may hold: they are in the file itself.
SAFE_DATA = re.compile(r"^data:image/(png|jpeg|gif|webp);base64,", re.I)
CSS_URL = re.compile(r"url\(\s*(['\"]?)(.*?)\1\s*\)|@import", re.I | re.S)
RASTER = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".gif": "GIF", ".webp": "WEBP"}
CONVERTED = {"GIF", "WEBP"}        # what a reading system may not show: converted to PNG
MEDIA = {"PNG": "image/png", "JPEG": "image/jpeg"}
TYPES = {".svg", *RASTER}


@dataclass(frozen=True)
class CleanFigure:
    href: str            # where every edition finds it, relative to the guide (and the EPUB package)
    media_type: str
    data: bytes


class FigureRefused(Exception):
    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


def _refuse(what: str, path: Path, line: int | None, hint: str) -> FigureRefused:
    return FigureRefused(Problem("CONTENT-IMAGE", what, path, line, hint))


def clean(path: Path, href: str, data: bytes) -> CleanFigure:
    """Validate a figure file (at `path`, named `href` inside the guide)."""
    suffix = Path(href).suffix.lower()
    if suffix == ".svg":
        return CleanFigure(href, "image/svg+xml", _svg(path, data))
    return _raster(path, href, suffix, data)


def _svg(path: Path, data: bytes) -> bytes:
    import defusedxml.ElementTree as SafeTree
    from defusedxml import DefusedXmlException
    from lxml import etree
    try:
        SafeTree.fromstring(data)        # refuses DTDs, entities and external references
    except DefusedXmlException as exc:
        raise _refuse(f"SVG declares a DTD or entity ({type(exc).__name__})", path, None,
                      "remove the <!DOCTYPE ...> and <!ENTITY ...> declarations; save as plain SVG")
    except SafeTree.ParseError as exc:
        line = exc.position[0] if getattr(exc, "position", None) else None
        raise _refuse(f"SVG is not well-formed XML ({exc})", path, line,
                      "save the figure again from a drawing program as plain SVG")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
    root = etree.fromstring(data, parser)
    if root.tag != f"{{{SVG_NS}}}svg":
        raise _refuse(f"the file is not SVG (its root element is <{etree.QName(root).localname}>)", path,
                      root.sourceline, "save the figure as SVG, with the svg namespace")
    count = 0
    for element in root.iter():
        count += 1
        if count > MAX_SVG_ELEMENTS:
            raise _refuse(f"SVG has over {MAX_SVG_ELEMENTS:,} elements", path, element.sourceline,
                          "simplify the drawing, or export it as PNG")
        if not isinstance(element.tag, str):        # comments and processing instructions
            continue
        name = etree.QName(element).localname
        if name in ("script", "foreignObject", "iframe", "embed", "object"):
            raise _refuse(f"SVG holds a <{name}> element", path, element.sourceline,
                          "a figure is a picture: remove scripts and embedded HTML")
        for attr, value in element.attrib.items():
            local = etree.QName(attr).localname
            if local.lower().startswith("on"):
                raise _refuse(f"SVG has an event handler ({local}=)", path, element.sourceline,
                              "remove it: a figure runs no code")
            if "javascript:" in value.lower().replace(" ", ""):
                raise _refuse(f"SVG has a javascript: address ({local}=)", path, element.sourceline,
                              "remove it: a figure runs no code")
            if attr in ("href", XLINK_HREF) or local == "href":
                _reference(value, path, element.sourceline)
            elif "url(" in value.lower() or "@import" in value.lower():
                _css(value, path, element.sourceline)
        if name == "style" and element.text:
            _css(element.text, path, element.sourceline)
        _drawn_alike(element, name, path)
    return data


# SVG features WeasyPrint 70 (the PDF engine) draws differently from a browser
# (the EPUB and web editions), read from its source (weasyprint/svg/): a
# figure must look the same in every edition, so each is refused, never
# silently drawn wrong.
FILTERS_DRAWN = {"feOffset", "feBlend"}     # the only filter primitives svg/defs.py applies
IGNORED_CSS = re.compile(r"(?<![\w-])(paint-order|vector-effect)\s*:", re.I)


def _unlike(what: str, path: Path, line: int | None, hint: str) -> FigureRefused:
    return FigureRefused(Problem("CONTENT-SVG-FEATURE", what, path, line, hint))


def _drawn_alike(element, name: str, path: Path) -> None:
    """Refuse what the PDF would draw otherwise than the EPUB and web editions."""
    line = element.sourceline
    orient = (element.get("orient") or "").strip()
    if name == "marker" and orient in ("auto", "auto-start-reverse"):
        raise _unlike(f'SVG marker has orient="{orient}", which the PDF engine (WeasyPrint) does not '
                      "follow: its arrowheads would point another way in the PDF", path, line,
                      "draw each arrowhead as a <polygon> or <path> of its own, or give the marker "
                      'an explicit angle (orient="90")')
    if name == "textPath":
        raise _unlike("SVG has <textPath>: the PDF engine sets the text on a straight line", path, line,
                      "set the text with <text> and a rotate transform, or convert it to outlines")
    if name.startswith("fe") and name not in FILTERS_DRAWN:
        raise _unlike(f"SVG filter uses <{name}>, which the PDF engine ignores", path, line,
                      "draw the effect (a shadow, a blur) as shapes, or leave it out")
    for attr in ("paint-order", "vector-effect"):
        if element.get(attr) is not None:
            raise _unlike(f"SVG uses {attr}=, which the PDF engine ignores", path, line,
                          f"remove {attr}: draw the outline and the fill as two shapes")
    css = (element.get("style") or "") + (element.text or "" if name == "style" else "")
    found = IGNORED_CSS.search(css)
    if found:
        raise _unlike(f"SVG style uses {found.group(1)}, which the PDF engine ignores", path, line,
                      f"remove {found.group(1)}: draw the outline and the fill as two shapes")


def _reference(value: str, path: Path, line: int | None) -> None:
    value = value.strip()
    if value.startswith("#") or SAFE_DATA.match(value):
        return
    raise _refuse(f"SVG refers to '{value[:80]}', outside the figure", path, line,
                  "a figure must hold everything it draws: embed the picture, or refer only to "
                  "#ids inside the SVG (no web, file: or javascript: addresses)")


def _css(text: str, path: Path, line: int | None) -> None:
    for match in CSS_URL.finditer(text):
        if match.group(0).lower() == "@import":
            raise _refuse("SVG style uses @import", path, line, "put the styles in the SVG itself")
        _reference(match.group(2), path, line)


def _raster(path: Path, href: str, suffix: str, data: bytes) -> CleanFigure:
    from PIL import Image, UnidentifiedImageError
    expected = RASTER[suffix]
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != expected:
                raise _refuse(f"the file is {image.format or 'not an image'}, not {expected} as its name says",
                              path, None, f"save it as {expected}, or give it the right extension")
            width, height = image.size
            if width * height > MAX_PIXELS:
                raise _refuse(f"image is {width}×{height} pixels, over the {MAX_PIXELS // 1_000_000} "
                              "megapixel limit", path, None, "scale it down; a page needs far fewer pixels")
            image.load()                  # decode it all: a truncated file fails here
            if expected not in CONVERTED:
                return CleanFigure(href, MEDIA[expected], data)
            # The first frame, in its own mode: a GIF stays a palette image
            # (a fifth of the size, and quick to write), its transparency kept.
            frame = image.copy() if image.mode in ("P", "L", "RGB", "RGBA", "LA") else image.convert("RGBA")
            transparency = image.info.get("transparency") if frame.mode in ("P", "L") else None
    except FigureRefused:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise _refuse(f"image cannot be read as {expected} ({exc})", path, None,
                      "the file is damaged or not an image: export it again")
    out = io.BytesIO()
    options = {"transparency": transparency} if transparency is not None else {}
    frame.save(out, "PNG", optimize=False, compress_level=6, **options)   # no date, no metadata: reproducible
    return CleanFigure(f"{href}.png", "image/png", out.getvalue())
