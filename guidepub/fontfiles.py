"""Font files as the build reads them, without WeasyPrint: a WOFF2 font
decoded once a machine and kept in the user's cache."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

from .load.files import keep_file, user_cache

DECODED: dict[str, bytes] = {}      # sha256 of a WOFF2 font -> the font WeasyPrint would decode it to


def font_cache() -> Path:
    """Where decoded fonts are kept (load.files.user_cache)."""
    return user_cache("fonts")


def decoded(data: bytes) -> bytes:
    """A WOFF2 font (`data`) decoded as WeasyPrint decodes it (fontTools'
    woff2.decompress), which is most of what parsing our stylesheet costs
    (about 0.1 s a font, every layout), and of reading a font's character
    map or glyphs. Kept in the process and on disk, named by the digests of
    both forms and checked when read back, so the bytes WeasyPrint embeds are
    the same either way. Any other font is returned as it is."""
    if data[:4] != b"wOF2":
        return data
    key = hashlib.sha256(data).hexdigest()
    if key in DECODED:
        return DECODED[key]
    folder = font_cache()
    for path in folder.glob(f"{key}-*.ttf"):
        try:
            font = path.read_bytes()
        except OSError:
            continue
        if hashlib.sha256(font).hexdigest() == path.stem.split("-", 1)[1]:
            DECODED[key] = font
            return font
    from fontTools.ttLib import woff2
    out = io.BytesIO()
    woff2.decompress(io.BytesIO(data), out)
    font = DECODED[key] = out.getvalue()
    keep_file(folder / f"{key}-{hashlib.sha256(font).hexdigest()}.ttf", font)
    return font


def open_font(path: Path, **options):
    """fontTools' TTFont of a font file, a WOFF2 one read decoded."""
    from fontTools.ttLib import TTFont
    return TTFont(io.BytesIO(decoded(path.read_bytes())), **options)
