"""The brand's fonts in the outputs: which ones a text needs, and a
WeasyPrint font configuration that keeps emoji to them.

Both formats declare (and the EPUB packs) only the families their text is
set in: for each character, the first font of its role's stack (the role's
own font, then the brand's fallbacks, in order) that has it. So a guide
without symbols loads no symbol font, and WeasyPrint spends no time reading
the large fallback fonts it would not use. Code is set in the monospace font
and headings in the heading font; the body font is always declared."""

from __future__ import annotations

import functools
from pathlib import Path
from tempfile import mkdtemp
from xml.sax.saxutils import escape

from lxml import etree
from weasyprint.text.ffi import ffi, fontconfig, pangoft2
from weasyprint.text.fonts import FontConfiguration

from .model import Brand, Font

CODE_ELEMENTS = {"code", "pre", "kbd", "samp"}
HEADING_ELEMENTS = {"h1", "h2", "h3", "h4", "h5", "h6"}
UNSEEN_ELEMENTS = {"head", "style", "script"}


def text_by_role(root, chars: dict[str, set[str]] | None = None) -> dict[str, set[str]]:
    """The characters of an (X)HTML tree by the role of the font they are
    set in: monospace (code), heading or body."""
    chars = chars if chars is not None else {"body": set(), "heading": set(), "monospace": set()}

    def walk(element, role: str) -> None:
        name = etree.QName(element).localname
        if name in UNSEEN_ELEMENTS:
            return
        if role != "monospace":
            role = "monospace" if name in CODE_ELEMENTS else "heading" if name in HEADING_ELEMENTS else role
        chars[role].update(element.text or "")
        for child in element:
            if isinstance(child.tag, str):
                walk(child, role)
            chars[role].update(child.tail or "")

    walk(root, "body")
    return chars


def needed_families(brand: Brand, base: Path, chars: dict[str, set[str]]) -> set[str]:
    """The stylesheet families (Font.layers: a package's latin-ext subset is
    one of its own) that set these characters, by role; always the body font."""
    from .load import font_glyphs
    fonts = brand.fonts
    layers = {font.family: [(name, font_glyphs(Font(family=font.family, faces=faces), base))
                            for name, faces in font.layers()] for font in fonts.all()}
    needed = {layers[fonts.body.family][0][0]}
    for role, found in chars.items():
        stack = [layer for font in fonts.stack(role) for layer in layers[font.family]]
        for ch in found:
            needed.add(next((name for name, glyphs in stack if ord(ch) in glyphs), stack[0][0]))
    return needed


@functools.lru_cache(maxsize=4096)       # `watch`: after an edit in one chapter, the other pieces are the same
def piece_roles(markup: bytes, html: bool) -> dict[str, frozenset[str]]:
    """text_by_role() of one piece of HTML (parsed as in <body>) or XHTML."""
    root = (etree.fromstring(markup, etree.HTMLParser(encoding="utf-8", no_network=True, huge_tree=True))
            if html else etree.fromstring(markup))
    return {role: frozenset(found) for role, found in (text_by_role(root) if root is not None else {}).items()}


def book_families(brand: Brand, base: Path, pieces: list[str]) -> set[str]:
    """needed_families for a book's HTML (the PDF), given as pieces whose
    characters by role add up to the whole's: the book around its parts,
    and each part (a child of <body>, whose role is the body's)."""
    chars: dict[str, set[str]] = {"body": set(), "heading": set(), "monospace": set()}
    for piece in pieces:
        for role, found in piece_roles(piece.encode("utf-8"), html=True).items():
            chars[role] |= found
    return needed_families(brand, base, chars)


class BrandFontConfiguration(FontConfiguration):
    """WeasyPrint's font configuration, with emoji kept to the fonts the
    stylesheet declares.

    Pango sets an emoji (✅, ❓, 🚀) in the generic family "emoji", whatever
    the CSS says, and the system's fontconfig rules map that to the system's
    emoji fonts: a colour one if installed, which WeasyPrint cannot draw and
    which PDF-FONT-FALLBACK would (rightly) refuse, so the build would depend
    on the machine. Pango 1.50 applies those rules from fontconfig's default
    configuration, so one rule is added there, once a process: "emoji" means
    the family "guidepub-declared", and no colour is asked for. Every font
    this configuration loads from an @font-face rule (all in its own folder)
    gets that family too. A character none of them has still reaches a
    system font, which PDF-FONT-FALLBACK reports."""

    ALIAS = "guidepub-declared"
    _emoji_rule_loaded = False

    def __init__(self) -> None:
        super().__init__()
        if not BrandFontConfiguration._emoji_rule_loaded:
            _load_rules(_default_config(),
                        f'<match target="pattern"><test name="family"><string>emoji</string></test>'
                        f'<edit name="family" mode="assign_replace" binding="strong"><string>{self.ALIAS}</string>'
                        f'</edit><edit name="color" mode="delete_all"/></match>')
            BrandFontConfiguration._emoji_rule_loaded = True
        # WeasyPrint writes each @font-face font into this folder (made here
        # rather than on the first font, so the rule can name it).
        self._folder = Path(mkdtemp(prefix="weasyprint-"))
        _load_rules(self._config, f'<match target="scan"><test name="file" compare="contains">'
                                  f'<string>{escape(self._folder.as_posix())}/</string></test>'
                                  f'<edit name="family" mode="append_last"><string>{self.ALIAS}</string>'
                                  f'</edit></match>')
        pangoft2.pango_fc_font_map_config_changed(ffi.cast("PangoFcFontMap *", self.font_map))


def _default_config():
    """fontconfig's default configuration (FcConfigGetCurrent, which
    WeasyPrint's bindings leave out), as WeasyPrint's FcConfig pointer."""
    import cffi
    own = cffi.FFI()
    own.cdef("void *FcConfigGetCurrent (void);")
    for name in ("libfontconfig.so.1", "fontconfig", "libfontconfig.1.dylib", "libfontconfig-1.dll"):
        try:
            library = own.dlopen(name)
            break
        except OSError:
            continue
    else:
        raise RuntimeError("cannot open fontconfig")
    return ffi.cast("FcConfig *", int(own.cast("uintptr_t", library.FcConfigGetCurrent())))


def _load_rules(config, rules: str) -> None:
    """Add fontconfig rules to a configuration."""
    xml = ('<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n'
           f'<fontconfig>{rules}</fontconfig>').encode("utf-8")
    if not fontconfig.FcConfigParseAndLoadFromMemory(config, xml, True):
        raise RuntimeError("fontconfig refused the build's font rules")
