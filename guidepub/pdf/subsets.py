"""Font subsets of one font, merged (for pdf/splice.py): WeasyPrint writes a
subset of each font for each document it lays out, keeping the font's
original glyph ids, so the parts of a spliced book carry one subset a part.
merge_fonts() makes one font program, /Widths and /ToUnicode of them, so the
spliced file holds each font once (PDF/UA-1 widths stay consistent with the
program: tests/test_splice.py).

Merging decodes and re-encodes every subset (fontTools): the most costly
step of a splice, and its result depends on nothing but the subsets'
programs. So merge_fonts() is given the programs merged before, by the
digest of their subsets (`known`), and gives back those it used: after an
edit that keeps a part's glyphs (most do), nothing is merged again."""

from __future__ import annotations

import hashlib
import io

import pikepdf
from pikepdf import Array, Dictionary, Name


def _program(font):
    """A font's embedded program (a stream, or None), and the dictionary that describes it."""
    described = font.DescendantFonts[0] if "/DescendantFonts" in font else font
    descriptor = described.get("/FontDescriptor")
    key = next((k for k in ("/FontFile2", "/FontFile3", "/FontFile")
                if descriptor is not None and k in descriptor), None)
    return (descriptor[key] if key else None), described


def _resources(out: pikepdf.Pdf):
    """Every resource dictionary of the pages and their drawings, once."""
    seen, stack = set(), [page.obj.get("/Resources") for page in out.pages]
    while stack:
        resources = stack.pop()
        if isinstance(resources, Dictionary) and not (resources.is_indirect and resources.objgen in seen):
            seen.add(resources.objgen)
            yield resources
            stack += [x.get("/Resources") for x in resources.get("/XObject", {}).values()
                      if x.get("/Subtype") == "/Form"]


def merge_fonts(out: pikepdf.Pdf, known: dict[str, bytes] | None = None) -> dict[str, bytes]:
    """WeasyPrint names a subset after its font, not its glyphs: every part
    has its own subset of a font under one name. The subsets of a TrueType
    font (which keep the font's glyph ids) become one, the union of their
    glyphs, widths and ToUnicode maps; any other font's subsets are kept,
    each under a tag of its own. `known`: merged programs, by the digest of
    their subsets; returns the merged programs this file holds, so keyed."""
    known = {} if known is None else known
    used: dict[str, bytes] = {}
    groups: dict[str, dict] = {}
    for resources in _resources(out):
        for font in resources.get("/Font", {}).values():
            groups.setdefault(str(font.get("/BaseFont", "")), {})[font.objgen] = font
    for base, fonts in groups.items():
        fonts = list(fonts.values())
        if len(fonts) < 2:
            continue
        programs = [_program(font) for font in fonts]
        replace = {}
        if all(font.get("/Subtype") == "/Type0" and described.get("/Subtype") == "/CIDFontType2"
               and str(described.get("/CIDToGIDMap", "/Identity")) == "/Identity" and stream is not None
               and "/FontFile2" in described.FontDescriptor for font, (stream, described) in zip(fonts, programs)):
            subsets = [stream.read_bytes() for stream, _ in programs]
            key = hashlib.sha256(b"".join(hashlib.sha256(data).digest() for data in subsets)).hexdigest()
            used[key] = known[key] if key in known else merged_program(subsets)
            merged = _merged(out, fonts, programs, used[key])
            replace = {font.objgen: merged for font in fonts}
        else:
            for font, (stream, described) in list(zip(fonts, programs))[1:]:
                digest = hashlib.md5(stream.read_raw_bytes() if stream is not None else b"").digest()
                font.BaseFont = described.BaseFont = Name("/" + "".join(chr(65 + b % 26) for b in digest[:6])
                                                          + "+" + base.split("+", 1)[-1].lstrip("/"))
                if "/FontDescriptor" in described:
                    described.FontDescriptor.FontName = font.BaseFont
        for resources in _resources(out):
            table = resources.get("/Font", {})
            for name in list(table.keys()):
                table[name] = replace.get(table[name].objgen, table[name])
    return used


def merged_program(subsets: list[bytes]) -> bytes:
    """One TrueType program with the glyphs of all these subsets of one font."""
    from fontTools.ttLib import TTFont
    # Glyphs are copied as they are stored (their components are glyph ids,
    # the same in every subset), never decoded; the bounds are the subsets'.
    # The subsets' own 'modified' time is kept: builds stay byte-reproducible.
    faces = [TTFont(io.BytesIO(data), recalcBBoxes=False, recalcTimestamp=False) for data in subsets]
    base = max(faces, key=lambda face: face["maxp"].numGlyphs)
    order, glyphs, hmtx = base.getGlyphOrder(), base["glyf"].glyphs, base["hmtx"].metrics
    empty = lambda glyph: not glyph.data if hasattr(glyph, "data") else glyph.numberOfContours == 0  # noqa: E731
    for face in faces:
        their_glyphs, their_hmtx = face["glyf"].glyphs, face["hmtx"].metrics
        for gid, name in enumerate(face.getGlyphOrder() if face is not base else []):
            if hmtx[order[gid]][0] == 0:             # advances agree with /W (PDF/UA-1 7.21.5)
                hmtx[order[gid]] = their_hmtx[name]
            if not empty(their_glyphs[name]) and empty(glyphs[order[gid]]):
                glyphs[order[gid]] = their_glyphs[name]
    for table, names, pick in (("maxp", [k for k in vars(base["maxp"]) if k.startswith("max")], max),
                               ("head", ["xMin", "yMin"], min), ("head", ["xMax", "yMax"], max),
                               ("hhea", ["advanceWidthMax", "xMaxExtent"], max),
                               ("hhea", ["minLeftSideBearing", "minRightSideBearing"], min)):
        for name in names:
            setattr(base[table], name, pick(getattr(face[table], name) for face in faces))
    data = io.BytesIO()
    base.save(data)
    return data.getvalue()


def _merged(out: pikepdf.Pdf, fonts: list, programs: list, program: bytes):
    """One Type0 font for several subsets of one TrueType font, `program` their glyphs merged."""
    from .tagtree import _to_unicode
    widths: dict[int, object] = {}
    text: dict[int, str] = {}
    for font, (_, described) in zip(fonts, programs):
        widths.update(_widths(described.get("/W", Array())))
        text.update(_to_unicode(font))
    described = programs[0][1]
    descriptor = Dictionary({k: v for k, v in described.FontDescriptor.items() if k != "/FontFile2"})
    descriptor.FontFile2 = out.make_stream(program)
    cid = Dictionary({k: v for k, v in described.items() if k not in ("/W", "/FontDescriptor")})
    cid.FontDescriptor = out.make_indirect(descriptor)
    runs: list = []
    for gid in sorted(widths):                       # /W as runs: first glyph id, [widths]
        if runs and gid == runs[-1][0] + len(runs[-1][1]):
            runs[-1][1].append(widths[gid])
        else:
            runs.append((gid, Array([widths[gid]])))
    cid.W = Array([v for run in runs for v in run])
    font = Dictionary({k: v for k, v in fonts[0].items() if k not in ("/DescendantFonts", "/ToUnicode")})
    font.DescendantFonts = Array([out.make_indirect(cid)])
    font.ToUnicode = out.make_stream(_cmap(text))
    return out.make_indirect(font)


def _widths(w) -> dict[int, object]:
    """A CIDFont's /W array (`c [w ...]` and `c1 c2 w`) as glyph id -> width."""
    found, items, i = {}, list(w), 0
    while i < len(items):
        if isinstance(items[i + 1], Array):
            found.update({int(items[i]) + n: v for n, v in enumerate(items[i + 1])})
        else:
            found.update(dict.fromkeys(range(int(items[i]), int(items[i + 1]) + 1), items[i + 2]))
        i += 2 if isinstance(items[i + 1], Array) else 3
    return found


CMAP = ("/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n/CIDSystemInfo\n<< /Registry (Adobe)\n"
        "/Ordering (UCS)\n/Supplement 0\n>> def\n/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <ffff>\nendcodespacerange\n%s\nendcmap\n"
        "CMapName currentdict /CMap defineresource pop\nend\nend")


def _cmap(text: dict[int, str]) -> bytes:
    """A ToUnicode CMap of single codes, as WeasyPrint writes them."""
    codes = sorted(text)
    return (CMAP % "\n".join(f"{len(chunk)} beginbfchar\n" + "".join(
        f"<{code:04x}> <{text[code].encode('utf-16-be').hex()}>\n" for code in chunk) + "endbfchar"
        for chunk in (codes[at:at + 100] for at in range(0, len(codes), 100)))).encode()
