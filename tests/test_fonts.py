"""The brand's fonts: body, headings, monospace and a chain of fallbacks,
every one embedded, and nothing set in any other font.

Code is set in the brand's monospace font; symbols, Greek, mathematics and
emoji come from the declared fallbacks; a character none of them has is
CONTENT-GLYPH at its place in the content; text the PDF sets in any other
font (a style that names one, or a system emoji font) is PDF-FONT-FALLBACK."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pikepdf
import pytest

from conftest import BRAND, MINI, ROOT
from guidepub.errors import GuideError
from guidepub.load import load, load_brand
from guidepub.pdf import _declared_font, layout, write_pdf
from guidepub.pdf.tagtree import _to_unicode
from guidepub.render import Renderer, pdf_format

brand = load_brand(BRAND)

SAMPLE = textwrap.dedent("""\
    has data. Run `make --jobs=2` or `naïve_café()` first.

    ```python
    def mean(xs):  # ✅ α ≤ ∑ →
        return sum(xs) / len(xs)
    ```

    Done ✅, next → α ≤ ∑ with 🚀 — Zoë Łukasiewicz and Dvořák.""")


def run_build(*args):
    return subprocess.run([sys.executable, str(ROOT / "build.py"), *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True, timeout=600)


def with_text(guide: Path, old: str, new: str, name: str = "two.md") -> Path:
    path = guide / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    return path


@pytest.fixture(scope="module")
def symbols(tmp_path_factory):
    """The fixture guide with code, symbols and emoji, built by the command."""
    root = tmp_path_factory.mktemp("symbols")
    guide = root / "guide"
    shutil.copytree(MINI, guide)
    with_text(guide, "has data.", SAMPLE)
    result = run_build("--content", guide, "--out", root / "out", "--variant", "screen", "--variant", "epub", "-q")
    return result, root / "out" / "mini-2-screen.pdf", root / "out" / "mini-2-epub.epub"


def embedded(pdf_path: Path) -> dict[str, set[str]]:
    """Each font in the PDF (without its subset tag) and the text it draws."""
    found: dict[str, set[str]] = {}
    with pikepdf.open(pdf_path) as pdf:
        for page in pdf.pages:
            for font in page.obj.get("/Resources", {}).get("/Font", {}).values():
                name = str(font.get("/BaseFont")).split("+", 1)[-1]
                found.setdefault(name, set()).update(_to_unicode(font).values())
    return found


def test_the_brand_declares_the_chain():
    fonts = brand.fonts
    assert fonts.body.family == fonts.headings.family == "Atkinson Hyperlegible"
    assert fonts.monospace.family == "Atkinson Hyperlegible Mono"
    assert [f.family for f in fonts.fallbacks] == ["Noto Sans Math", "Noto Sans Symbols", "Noto Sans Symbols 2",
                                                  "Noto Emoji"]
    assert [f.family for f in fonts.stack("monospace")] == ["Atkinson Hyperlegible Mono",
                                                            *(f.family for f in fonts.fallbacks)]
    # latin and latin-ext of the text fonts: one family name a file for each weight and style
    assert [name for name, _ in fonts.monospace.layers()] == ["Brand Atkinson Hyperlegible Mono",
                                                             "Brand Atkinson Hyperlegible Mono part 2"]
    assert all("latin-ext" in face.file for face in fonts.body.layers()[1][1])
    assert len(brand.font_families) == len(set(brand.font_families)) == 8


def test_every_font_package_is_pinned():
    """Each font file comes from an npm package pinned to one version in
    package.json and package-lock.json (with its integrity hash)."""
    package = json.loads((ROOT / "package.json").read_text())["dependencies"]
    lock = json.loads((ROOT / "package-lock.json").read_text())["packages"]
    used = {re.search(r"node_modules/(@fontsource/[^/]+)/", f).group(1) for f in brand.font_files}
    assert used == {"@fontsource/atkinson-hyperlegible", "@fontsource/atkinson-hyperlegible-mono",
                    "@fontsource/noto-sans-math", "@fontsource/noto-sans-symbols",
                    "@fontsource/noto-sans-symbols-2", "@fontsource/noto-emoji"}
    for name in used:
        assert re.fullmatch(r"\d+\.\d+\.\d+", package[name]), f"{name} is not pinned: {package[name]}"
        assert lock[f"node_modules/{name}"]["version"] == package[name]
        assert lock[f"node_modules/{name}"]["integrity"].startswith("sha512-")


def test_stylesheet_lists_each_roles_font_then_the_fallbacks(mini):
    css = Renderer(mini.guide, ROOT / "templates", ROOT / "styles").stylesheet(pdf_format(), lambda p: p.as_uri())
    fallbacks = '"Brand Noto Sans Math", "Brand Noto Sans Symbols", "Brand Noto Sans Symbols 2", "Brand Noto Emoji"'
    assert (f'code, kbd, samp, pre {{ font-family: "Brand Atkinson Hyperlegible Mono", '
            f'"Brand Atkinson Hyperlegible Mono part 2", {fallbacks}, monospace;') in css
    assert f'font-family: "Brand Atkinson Hyperlegible", "Brand Atkinson Hyperlegible part 2", {fallbacks}, ' \
           'sans-serif;' in css
    assert css.count("@font-face") == sum(len(f.faces) for f in brand.fonts.all())


def test_code_symbols_and_emoji_print_in_the_brand_fonts(symbols):
    result, pdf, _ = symbols
    assert result.returncode == 0, result.stderr
    fonts = embedded(pdf)
    assert all(_declared_font(name, brand.font_families) for name in fonts), fonts
    assert not [name for name in fonts if "DejaVu" in name]
    drawn = lambda family: set().union(*(text for name, text in fonts.items()  # noqa: E731
                                         if name.replace(",", "").startswith(family)))
    assert set("defmanxsru_()") <= drawn("Brand-Atkinson-Hyperlegible-Mono"), "code is set in the monospace font"
    assert {"α", "≤", "∑", "→"} <= drawn("Brand-Noto-Sans-Math")
    assert {"✅", "🚀"} <= drawn("Brand-Noto-Emoji")
    assert "Ł" in drawn("Brand-Atkinson-Hyperlegible-part-2"), "the latin-ext subset sets accented names"
    # poppler reads the same fonts, embedded, with their Unicode
    listed = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in listed.splitlines()[2:]]
    assert {row[0].split("+", 1)[1] for row in rows} == set(fonts)
    assert all(row[-5:-2] == ["yes", "yes", "yes"] for row in rows), listed     # emb sub uni
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for piece in ("make --jobs=2", "naïve_café()", "def mean(xs): # ✅ α ≤ ∑ →", "return sum(xs) / len(xs)",
                  "Done ✅, next → α ≤ ∑ with 🚀", "Zoë Łukasiewicz and Dvořák"):
        assert piece in text


def test_the_epub_packs_the_fonts_its_text_needs(symbols, mini):
    _, _, epub = symbols
    with zipfile.ZipFile(epub) as z:
        packed = {Path(n).name for n in z.namelist() if n.startswith("EPUB/fonts/")}
        css = z.read("EPUB/css/guide.css").decode()
    assert {"atkinson-hyperlegible-mono-latin-400-normal.woff2", "atkinson-hyperlegible-latin-ext-400-normal.woff2",
            "noto-sans-math-latin-400-normal.woff2", "noto-emoji-emoji-400-normal.woff2"} <= packed
    assert {Path(u).name for u in re.findall(r'url\("\.\./fonts/([^"]+)"\)', css)} == packed
    assert 'code, kbd, samp, pre { font-family: "Brand Atkinson Hyperlegible Mono"' in css
    # a guide with no code and no symbols packs neither the monospace font nor a fallback
    with zipfile.ZipFile(mini.epub) as z:
        plain = {Path(n).name for n in z.namelist() if n.startswith("EPUB/fonts/")}
    assert plain and all(name.startswith("atkinson-hyperlegible-latin") for name in plain), plain


def test_a_character_in_no_font_is_content_glyph_at_its_place(guide_copy):
    """Code is checked against the monospace font and the fallbacks, other
    text against the body font and the fallbacks."""
    path = with_text(guide_copy, "has data.", "has data.\n\nA private use character \ue000 here, İstanbul "
                     "in text, `İ µs` in code, and µs in text.")
    with pytest.raises(GuideError) as info:
        load(guide_copy, BRAND)
    problems = [p for p in info.value.problems if p.code == "CONTENT-GLYPH"]
    lines = path.read_text().splitlines()
    line = next(n for n, text in enumerate(lines, 1) if "\ue000" in text)
    where = {p.message.split("(")[1].split(")")[0]: (p.path, p.line, p.column, p.message) for p in problems}
    assert set(where) == {"U+E000", "U+0130", "U+00B5"}, [p.message for p in problems]
    assert where["U+E000"][:3] == (path, line, lines[line - 1].index("\ue000") + 1)
    assert "the brand's fonts" in where["U+0130"][3]           # İ: in the monospace font, not the body font
    assert "the fonts for code" in where["U+00B5"][3]          # µ: in the body font, not the monospace one
    # as the command prints it: path:line:column
    result = run_build("--content", guide_copy, "--out", guide_copy.parent / "out", "-q")
    assert result.returncode == 2
    assert f"{path}:{line}:{lines[line - 1].index(chr(0xE000)) + 1}: CONTENT-GLYPH character" in result.stderr
    assert "(U+E000)" in result.stderr


BAD_HTML = '<html lang="en-GB"><head><title>t</title></head><body><p>{}</p></body></html>'


def test_a_style_naming_a_font_outside_the_brand_fails(tmp_path):
    target = tmp_path / "out.pdf"
    with pytest.raises(GuideError) as info:
        document, logged = layout(BAD_HTML.format("x"), "p { font-family: 'DejaVu Sans' }", tmp_path)
        write_pdf(document, logged, target, brand.font_families)
    [problem] = info.value.problems
    assert problem.code == "PDF-FONT-FALLBACK" and "'DejaVu-Sans'" in problem.message
    assert not target.exists()


def test_the_brand_css_naming_another_font_fails_the_build(guide_copy, tmp_path):
    """The same through a whole build: the guide's own brand gives code a
    system font."""
    brand_dir = guide_copy / "brand"
    brand_dir.mkdir()
    text = BRAND.read_text().replace("../node_modules", str(ROOT / "node_modules"))
    (brand_dir / "brand.yaml").write_text(text.replace("mark: brand/mark.svg", f"mark: {BRAND.parent}/brand/mark.svg")
                                          + "css: [code.css]\n")
    (brand_dir / "code.css").write_text("code { font-family: 'DejaVu Sans Mono'; }\n")
    with_text(guide_copy, "has data.", "has data, like `this`.")
    with_text(guide_copy, "accessibility_summary:", "brand: brand/brand.yaml\naccessibility_summary:", "guide.yaml")
    result = run_build("--content", guide_copy, "--out", tmp_path, "--variant", "screen", "-q")
    assert result.returncode != 0
    assert "PDF-FONT-FALLBACK text was set in 'DejaVu-Sans-Mono'" in result.stderr
    assert not (tmp_path / "mini-2-screen.pdf").exists()


def test_a_character_no_font_has_outside_the_content_fails(tmp_path, mini):
    """Text the content check never sees (guide.yaml, a template) with a
    character in no font at all would print as an empty box: WeasyPrint
    says so, and that fails the build too."""
    css = Renderer(mini.guide, ROOT / "templates", ROOT / "styles").stylesheet(
        pdf_format(), lambda p: p.as_uri(), {"Brand Atkinson Hyperlegible"})
    with pytest.raises(GuideError) as info:
        document, logged = layout(BAD_HTML.format("a \ue000 b"), css, tmp_path, [tmp_path, ROOT])
        write_pdf(document, logged, tmp_path / "out.pdf", brand.font_families)
    [problem] = info.value.problems
    assert problem.code == "PDF-WEASYPRINT" and "(U+E000)" in problem.message


@pytest.mark.parametrize("name, ok", [
    ("Brand-Atkinson-Hyperlegible", True),
    ("Brand-Atkinson-Hyperlegible-Bold-Italic", True),
    ("Brand-Atkinson-Hyperlegible-part-2,", True),
    ("Brand-Noto-Sans-Symbols-2,", True),
    ("Brand-Noto-Emoji-Bold", True),
    ("Atkinson-Hyperlegible", False),         # the same font from the system, not the brand's file
    ("DejaVu-Sans", False),
    ("Noto-Color-Emoji", False),
    ("Brand-Atkinson-Hyperlegible-Serif", False),
])
def test_declared_font_names(name, ok):
    assert _declared_font(name, brand.font_families) is ok
    assert not _declared_font("Brand-Noto-Sans-Symbols-2,", ["Brand Noto Sans Symbols"])


SYSTEM_EMOJI = """
import json, sys
from pathlib import Path
from conftest import BRAND, MINI, ROOT
from guidepub.errors import GuideError
from guidepub.load import load
from guidepub.render import Renderer, pdf_format
import guidepub.pdf
if sys.argv[1] == "plain":     # what WeasyPrint's own configuration does
    from weasyprint.text.fonts import FontConfiguration
    guidepub.pdf.BrandFontConfiguration = FontConfiguration
guide = load(MINI, BRAND)
css = Renderer(guide, ROOT / "templates", ROOT / "styles").stylesheet(
    pdf_format(), lambda p: p.as_uri(), {"Brand Atkinson Hyperlegible", "Brand Noto Emoji"})
out = Path(sys.argv[2])
document, logged = guidepub.pdf.layout("<html lang='en'><head><title>t</title></head><body><p>Done ✅ 🚀 ❓</p>"
                                       "</body></html>", css, out, [out, ROOT])
try:
    guidepub.pdf.write_pdf(document, logged, out / "out.pdf", guide.brand.font_families)
    codes = []
except GuideError as exc:
    codes = [p.code for p in exc.problems]
print(json.dumps({"fonts": sorted(f.name.decode().split("+")[1] for f in document.fonts.values()), "codes": codes}))
"""


def test_emoji_never_come_from_a_system_font(tmp_path):
    """A machine with a colour emoji font installed (here a stand-in named
    Noto Color Emoji, made from Noto Emoji with a COLR table) builds the same
    PDF: Pango asks fontconfig for "emoji", and the build's rule answers with
    the brand's fonts. WeasyPrint's own configuration would take the system's."""
    from fontTools.colorLib.builder import buildCOLR, buildCPAL
    from fontTools.ttLib import TTFont
    fonts = tmp_path / "fonts"
    fonts.mkdir()
    font = TTFont(ROOT / "node_modules/@fontsource/noto-emoji/files/noto-emoji-emoji-400-normal.woff2")
    font.flavor = None
    for record in font["name"].names:
        if record.nameID in (1, 4, 16, 6):
            record.string = "NotoColorEmoji" if record.nameID == 6 else "Noto Color Emoji"
    glyph = font.getBestCmap()[0x2705]
    font["COLR"] = buildCOLR({glyph: [(glyph, 0)]})
    font["CPAL"] = buildCPAL([[(1.0, 0.0, 0.0, 1.0)]])
    font.save(fonts / "NotoColorEmoji.ttf")
    conf = tmp_path / "fonts.conf"
    conf.write_text(f'<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd"><fontconfig>'
                    f'<include ignore_missing="yes">/etc/fonts/fonts.conf</include><dir>{fonts}</dir>'
                    f'<cachedir>{tmp_path / "cache"}</cachedir></fontconfig>')
    env = {**os.environ, "FONTCONFIG_FILE": str(conf), "PYTHONPATH": f"{ROOT}:{ROOT / 'tests'}"}
    results = {}
    for mode in ("brand", "plain"):
        out = tmp_path / mode
        out.mkdir()
        run = subprocess.run([sys.executable, "-c", SYSTEM_EMOJI, mode, str(out)], capture_output=True, text=True,
                             env=env, cwd=ROOT, timeout=300)
        assert run.returncode == 0, run.stderr
        results[mode] = json.loads(run.stdout.strip().splitlines()[-1])
    assert results["brand"] == {"fonts": ["Brand-Atkinson-Hyperlegible", "Brand-Noto-Emoji"], "codes": []}
    # the stand-in is real: without the rule, the system's colour font is taken, and the build fails
    assert "Noto-Color-Emoji" in results["plain"]["fonts"]
    assert "PDF-FONT-FALLBACK" in results["plain"]["codes"]


def test_a_woff2_font_is_decoded_once_and_checked_when_read_back(tmp_path, monkeypatch):
    """fontfiles.decoded: the bytes WeasyPrint's own decoding gives, kept in the
    user's cache folder; a damaged copy there is decoded again, not used."""
    import io

    from fontTools.ttLib import woff2

    from guidepub import fontfiles as fonts
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(fonts, "DECODED", {})
    data = (ROOT / "node_modules/@fontsource/atkinson-hyperlegible/files/"
            "atkinson-hyperlegible-latin-400-normal.woff2").read_bytes()
    expected = io.BytesIO()
    woff2.decompress(io.BytesIO(data), expected)
    assert fonts.decoded(data) == expected.getvalue()
    [kept] = (tmp_path / "guidepub" / "fonts").glob("*.ttf")
    assert kept.read_bytes() == expected.getvalue()
    kept.write_bytes(b"\0" + expected.getvalue()[1:])          # damaged on disk
    monkeypatch.setattr(fonts, "DECODED", {})
    assert fonts.decoded(data) == expected.getvalue()
    assert kept.read_bytes() == expected.getvalue()              # and written again
    assert fonts.decoded(b"OTTO not a woff2") == b"OTTO not a woff2"


def test_a_fonts_character_map_is_kept_and_a_damaged_copy_is_not_used(tmp_path, monkeypatch):
    from fontTools.ttLib import TTFont

    from guidepub.load import _cmap
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    font = ROOT / "node_modules/@fontsource/atkinson-hyperlegible/files/atkinson-hyperlegible-latin-400-normal.woff2"
    with TTFont(font) as face:
        expected = frozenset(face.getBestCmap())
    _cmap.cache_clear()
    assert _cmap(font, 0.0) == expected
    [kept] = (tmp_path / "guidepub" / "cmaps").glob("*.json")
    kept.write_text('["not", "a", "map"]', encoding="utf-8")
    _cmap.cache_clear()
    assert _cmap(font, 0.0) == expected                   # read from the font again
    assert json.loads(kept.read_text(encoding="utf-8")) == sorted(expected)
    _cmap.cache_clear()


def test_a_books_characters_by_role_add_up_from_its_parts(monkeypatch):
    """The PDF's fonts are chosen from the characters of the book around its
    parts and of each part (kept by digest, so `watch` reads only what
    changed): the same characters, by role, as the whole book's HTML."""
    from lxml import etree
    from guidepub import fonts
    from guidepub.pdf import _pieces, book_source
    guide = load(ROOT / "content", BRAND)
    html = book_source(guide, Renderer(guide, ROOT / "templates", ROOT / "styles"), guide.page_source).html
    whole = fonts.text_by_role(etree.fromstring(html.encode(), etree.HTMLParser(encoding="utf-8", huge_tree=True)))
    pieces = _pieces(html)
    assert len(pieces) > 10 and sum(map(len, pieces)) == len(html)      # the parts, and what is around them
    added: dict[str, set[str]] = {"body": set(), "heading": set(), "monospace": set()}
    fonts.piece_roles.cache_clear()
    for piece in pieces:
        for role, found in fonts.piece_roles(piece.encode(), html=True).items():
            added[role] |= found
    assert added == whole and whole["heading"] and whole["body"]
    assert fonts.piece_roles.cache_info().currsize == len(set(pieces))
    monkeypatch.setattr(fonts, "text_by_role", lambda *_: (_ for _ in ()).throw(AssertionError("read again")))
    fonts.piece_roles(pieces[3].encode(), html=True)                    # kept: not read again
    assert fonts.piece_roles.cache_info().hits >= 1
