"""Hostile input, tried as an attacker and an unlucky user would: reads
outside the guide, unsafe figures, text that would be lost, input that would
hang the build, values YAML would accept silently. Each case breaks a copy of
the fixture guide and names the exact code and place the build must report
(one line per problem, exit status 2, no traceback), well within a timeout."""

from __future__ import annotations

import io
import os
import shutil
import time
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from conftest import MINI, ROOT
from test_corpus import file, line, replace, run, write
from guidepub.load import load
from guidepub.load import figures as figure_rules
from guidepub.errors import GuideError

BRAND = ROOT / "styles" / "brand.yaml"
OUTSIDE = "---\nid: ch-secret\ntitle: Secret\nlearning_outcomes: [leak]\n---\n\nSECRET-OUTSIDE-TEXT\n"


def outside_file(guide: Path) -> Path:
    path = guide.parent / "outside.md"
    path.write_text(OUTSIDE)
    return path


def list_chapter(entry):
    """List `entry(guide)` in place of two.md."""
    def apply(guide: Path):
        text = (guide / "guide.yaml").read_text()
        (guide / "guide.yaml").write_text(text.replace("  - two.md", f"  - {entry(guide)}"))
        (guide / "two.md").unlink()
    return apply


def symlink(name, to):
    def apply(guide: Path):
        (guide / name).unlink(missing_ok=True)
        (guide / name).symlink_to(to(guide))
    return apply


def fifo(name):
    def apply(guide: Path):
        (guide / name).unlink(missing_ok=True)
        os.mkfifo(guide / name)
    return apply


def both(*breakers):
    def apply(guide: Path):
        for b in breakers:
            b(guide)
    return apply


def resources(value):
    return lambda guide: (guide / "guide.yaml").write_text(
        (guide / "guide.yaml").read_text() + f"resources: {value}\n")


def svg(body: str, head: str = ""):
    """A figure file with `body` inside the svg element; box.svg is replaced."""
    text = (f'<?xml version="1.0"?>\n{head}<svg xmlns="http://www.w3.org/2000/svg" '
            f'xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">\n{body}\n</svg>\n')
    return write("figures/box.svg", text.encode())


def png_figure(data: bytes, name="figures/pic.png"):
    def apply(guide: Path):
        (guide / name).write_bytes(data)
        replace("one.md", "(figures/box.svg", f"({name}")(guide)
    return apply


def png(width, height, **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (0, 94, 184)).save(out, "PNG", **save)
    return out.getvalue()


def nested_list(depth: int) -> str:
    return "\n".join("  " * i + f"- level {i + 1}" for i in range(depth)) + "\n"


def bomb(levels: int = 7) -> str:
    names = "abcdefghij"
    rows = ["  a: &a [x, x, x, x, x, x, x, x, x]"]
    rows += [f"  {n}: &{n} [{', '.join(['*' + p] * 9)}]" for p, n in zip(names, names[1:levels])]
    return "\n".join(rows) + "\n"


def many_chapters(n: int):
    def apply(guide: Path):
        text = (guide / "guide.yaml").read_text()
        extra = "".join(f"  - c{i}.md\n" for i in range(n))
        (guide / "guide.yaml").write_text(text.replace("  - two.md\n", "  - two.md\n" + extra))
    return apply


FM = "---\nid: ch-two\ntitle: Second chapter\nlearning_outcomes: [read a table]\n---\n\n"
DEFLIST = "".join(f"Term {i}\n: Meaning {i}.\n\n" for i in range(20_000))
CASES = {
    # reads outside the guide: refused before anything is opened
    "chapter by absolute path": (list_chapter(lambda g: outside_file(g)), "CONTENT-PATH",
                                 line("guide.yaml", "outside.md")),
    "chapter through ../": (list_chapter(lambda g: outside_file(g) and "../outside.md"), "CONTENT-PATH",
                            line("guide.yaml", "../outside.md")),
    "chapter symlinked out": (symlink("two.md", outside_file), "CONTENT-PATH", line("guide.yaml", "- two.md")),
    "/etc/passwd as a chapter": (list_chapter(lambda g: "../../../../../../etc/passwd"), "CONTENT-PATH",
                                 line("guide.yaml", "etc/passwd")),
    # A FIFO outside: if the build opened it, it would wait for ever.
    "a FIFO outside as a chapter": (list_chapter(lambda g: os.mkfifo(g.parent / "pipe.md") or "../pipe.md"),
                                    "CONTENT-PATH", line("guide.yaml", "../pipe.md")),
    "a FIFO inside as a chapter": (fifo("two.md"), "CONTENT-PATH", file("two.md")),
    "/etc/passwd as the resources file": (resources("../../../../../etc/passwd"), "CONTENT-PATH",
                                          line("guide.yaml", "resources: ../")),
    "/dev/zero as the resources file": (resources("/dev/zero"), "CONTENT-PATH", line("guide.yaml", "resources: /dev")),
    "a FIFO as the resources file": (both(fifo("res.yaml"), resources("res.yaml")), "CONTENT-PATH", file("res.yaml")),
    # figures
    "svg with an entity": (svg('<text>&x;</text>', '<!DOCTYPE svg [<!ENTITY x "lol">]>\n'),
                           "CONTENT-IMAGE", file("figures/box.svg")),
    "svg with an external entity": (svg('<text>&x;</text>', '<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'),
                                    "CONTENT-IMAGE", file("figures/box.svg")),
    "svg with a file: image": (svg('<image href="file:///etc/passwd" width="5" height="5"/>'),
                               "CONTENT-IMAGE", line("figures/box.svg", "<image")),
    "svg with a web use": (svg('<use xlink:href="https://example.org/a.svg#x"/>'),
                           "CONTENT-IMAGE", line("figures/box.svg", "<use")),
    "svg with a relative image": (svg('<image href="../../secret.png" width="5" height="5"/>'),
                                  "CONTENT-IMAGE", line("figures/box.svg", "<image")),
    "svg with a CSS url()": (svg('<rect width="5" height="5" style="fill: url(https://example.org/p)"/>'),
                             "CONTENT-IMAGE", line("figures/box.svg", "<rect")),
    "svg with a style sheet import": (svg('<style>@import "https://example.org/a.css";</style>'),
                                      "CONTENT-IMAGE", line("figures/box.svg", "<style")),
    "svg with a script": (svg('<rect width="5" height="5"/>\n<script>alert(1)</script>'),
                          "CONTENT-IMAGE", line("figures/box.svg", "<script")),
    "svg with onload": (svg('<rect width="5" height="5" onload="alert(1)"/>'),
                        "CONTENT-IMAGE", line("figures/box.svg", "onload")),
    "svg with a javascript: link": (svg('<a href="javascript:alert(1)"><rect width="5" height="5"/></a>'),
                                    "CONTENT-IMAGE", line("figures/box.svg", "javascript")),
    "svg with foreign HTML": (svg('<foreignObject><p xmlns="http://www.w3.org/1999/xhtml">Hi</p></foreignObject>'),
                              "CONTENT-IMAGE", line("figures/box.svg", "foreignObject")),
    # figures the PDF engine would draw otherwise than a browser
    "svg marker with orient auto": (svg('<defs><marker id="a" orient="auto"><path d="M0,0 L5,2 L0,5 z"/></marker>'
                                        '</defs>\n<path d="M1,1 L9,9" stroke="black" marker-end="url(#a)"/>'),
                                    "CONTENT-SVG-FEATURE", line("figures/box.svg", "<marker")),
    "svg marker with auto-start-reverse": (svg('<marker id="a" orient="auto-start-reverse"><path d="M0,0 L5,2 z"/>'
                                               '</marker>'),
                                           "CONTENT-SVG-FEATURE", line("figures/box.svg", "<marker")),
    "svg with textPath": (svg('<path id="p" d="M1,5 Q5,0 9,5"/>\n<text><textPath href="#p">Curved</textPath></text>'),
                          "CONTENT-SVG-FEATURE", line("figures/box.svg", "<textPath")),
    "svg with a blur filter": (svg('<filter id="f">\n<feGaussianBlur stdDeviation="2"/></filter>'),
                               "CONTENT-SVG-FEATURE", line("figures/box.svg", "<feGaussianBlur")),
    "svg with paint-order in a style": (svg('<text style="paint-order: stroke" x="1" y="5">A</text>'),
                                        "CONTENT-SVG-FEATURE", line("figures/box.svg", "paint-order")),
    "HTML named .svg": (write("figures/box.svg", b"<html><body><script>alert(1)</script></body></html>"),
                        "CONTENT-IMAGE", file("figures/box.svg")),
    "svg that is not XML": (write("figures/box.svg", b"<svg xmlns='http://www.w3.org/2000/svg'><rect>"),
                            "CONTENT-IMAGE", file("figures/box.svg")),
    "truncated PNG": (png_figure(png(300, 300, compress_level=0)[:20_000]), "CONTENT-IMAGE",
                      file("figures/pic.png")),
    "JPEG named .png": (png_figure(b"\xff\xd8\xff\xe0" + b"\0" * 100), "CONTENT-IMAGE", file("figures/pic.png")),
    "PNG over the pixel limit": (png_figure(png(8000, 6000)), "CONTENT-IMAGE", file("figures/pic.png")),
    "absolute figure path": (lambda g: replace("one.md", "(figures/box.svg", f"({g}/figures/box.svg")(g),
                             "CONTENT-IMAGE", line("one.md", "/figures/box.svg")),
    # text that would be lost
    "quotation nested 25 deep": (write("two.md", (FM + "Before.\n\n" + "> " * 25 + "Deep.\n\nAfter.\n").encode()),
                                 "CONTENT-NESTING", line("two.md", "> > >")),
    "list nested 20 deep": (write("two.md", (FM + "Before.\n\n" + nested_list(20) + "\nAfter.\n").encode()),
                            "CONTENT-NESTING", line("two.md", "- level 17")),
    # input that would hang
    "alias bomb in guide.yaml": (lambda g: (g / "guide.yaml").write_text(
        (g / "guide.yaml").read_text() + "bomb:\n" + bomb()), "CONTENT-YAML", line("guide.yaml", "f: &f")),
    "alias bomb in front matter": (write("two.md", (FM.replace("---\n\n", "bomb:\n" + bomb() + "---\n\n")
                                                    + "Text.\n").encode()),
                                   "CONTENT-YAML", line("two.md", "f: &f")),
    "alias that refers to itself": (replace("guide.yaml", "keywords: [test]", "keywords: &k [test, *k]"),
                                    "CONTENT-YAML", line("guide.yaml", "keywords:")),
    "a 20,000-item definition list": (write("two.md", (FM + "Terms.\n\n" + DEFLIST).encode()),
                                      "CONTENT-LIST-TOO-LARGE", line("two.md", "Term 0")),
    "2,000 chapters": (many_chapters(2000), "CONTENT-TOO-MANY", line("guide.yaml", "chapters:")),
    "one chapter listed 2,000 times": (replace("guide.yaml", "  - two.md\n", "  - two.md\n" * 2000),
                                       "CONTENT-TOO-MANY", line("guide.yaml", "chapters:")),
    # silent acceptance
    "one chapter listed twice": (replace("guide.yaml", "  - two.md\n", "  - two.md\n  - ./two.md\n"),
                                 "CONTENT-REPEATED", line("guide.yaml", "./two.md")),
    "duplicated key in guide.yaml": (replace("guide.yaml", "slug: mini", "slug: mini\nslug: other"),
                                     "CONTENT-YAML", line("guide.yaml", "slug: other")),
    "duplicated key in front matter": (replace("two.md", "id: ch-two", "id: ch-two\nid: ch-dup"),
                                       "CONTENT-YAML", line("two.md", "id: ch-dup")),
    "blank guide title": (replace("guide.yaml", "title: Mini guide", 'title: "   "'),
                          "CONTENT-SCHEMA", line("guide.yaml", 'title: "   "')),
    "blank chapter title": (replace("two.md", "title: Second chapter", 'title: "  "'),
                            "CONTENT-SCHEMA", line("two.md", 'title: "  "')),
    "prefixed attribute": (replace("two.md", "has data.", "has data.\n\n{foo:bar=1}\nMore text.\n"),
                           "CONTENT-ATTRIBUTE", line("two.md", "More text.")),
    "style attribute": (replace("two.md", "has data.", "has [data](https://example.org){style=\"x\"}."),
                        "CONTENT-ATTRIBUTE", line("two.md", "has [data]")),
    "noncharacter in the text": (replace("two.md", "has data.", "has da\ufffeta."), "CONTENT-ENCODING",
                                 lambda g: f"{line('two.md', 'has da')(g)}:{(g / 'two.md').read_text().splitlines()[int(line('two.md', 'has da')(g).rsplit(':', 1)[1]) - 1].index(chr(0xfffe)) + 1}"),
    "a character no font has": (replace("two.md", "has data.", "has data \ue000."), "CONTENT-GLYPH",
                                lambda g: f"{line('two.md', 'has data')(g)}:{(g / 'two.md').read_text().splitlines()[int(line('two.md', 'has data')(g).rsplit(':', 1)[1]) - 1].index(chr(0xe000)) + 1}"),
    "noncharacter from a YAML escape": (replace("two.md", "title: Second chapter", 'title: "Second \\uFDD0"'),
                                        "CONTENT-SCHEMA", line("two.md", "title:")),
}


@pytest.mark.parametrize("name", CASES)
def test_hostile_input(guide_copy, name):
    breaker, code, where = CASES[name]
    breaker(guide_copy)
    started = time.monotonic()
    result = run(guide_copy, "-q")
    assert time.monotonic() - started < 60, "refused quickly, not after a minute"
    assert result.returncode == 2, result.stderr[-800:]
    assert "Traceback" not in result.stderr
    lines = [l for l in result.stderr.splitlines() if f" {code} " in l]
    expected = where(guide_copy)
    assert any(l.startswith(expected + ":") or l.startswith(expected + " ") for l in lines), \
        f"wanted {code} at {expected}, got:\n{result.stderr[-2000:]}"
    assert all(" — " in l for l in lines), "every problem says how to fix it"
    assert "SECRET-OUTSIDE-TEXT" not in result.stderr
    problems = [l for l in result.stderr.splitlines()[1:] if l.strip()]
    assert len(problems) <= 5, f"one mistake, a few lines at most:\n{result.stderr[-2000:]}"


def test_hostile_corpus_is_large_enough():
    assert len(CASES) >= 40


def problems(guide: Path) -> list:
    try:
        load(guide, BRAND)
    except GuideError as exc:
        return exc.problems
    return []


def test_scheme_matching_is_case_insensitive(guide_copy):
    replace("two.md", "has data.", "has [data](HTTPS://EXAMPLE.ORG/Data) and [mail](MAILTO:a@example.org).")(guide_copy)
    assert problems(guide_copy) == []


def test_readme_and_licence_files_are_not_parts(guide_copy):
    (guide_copy / "README.md").write_text("# Notes for the editor\n")
    (guide_copy / "LICENSE.md").write_text("Licence text\n")
    assert problems(guide_copy) == []


def test_total_size_is_bounded(guide_copy, monkeypatch):
    import guidepub.load as loading
    monkeypatch.setattr(loading, "MAX_GUIDE_BYTES", 1000)
    [p] = problems(guide_copy)
    assert p.code == "CONTENT-TOO-LARGE" and p.path == guide_copy / "guide.yaml"


@pytest.mark.parametrize("body", [
    '<defs><linearGradient id="g"/></defs><rect width="5" height="5" fill="url(#g)"/>',
    '<defs><path id="p" d="M0 0h5"/></defs><use href="#p"/><use xlink:href="#p"/>',
    '<image width="1" height="1" href="data:image/png;base64,iVBORw0KGgo="/>',
    '<style>rect { fill: url("#g"); }</style><rect width="5" height="5"/>',
])
def test_svg_that_holds_everything_it_draws_is_accepted(tmp_path, body):
    data = (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
            f'{body}</svg>').encode()
    clean = figure_rules.clean(tmp_path / "x.svg", "figures/x.svg", data)
    assert clean.data == data and clean.media_type == "image/svg+xml"


def test_stray_files_are_never_read_and_do_not_change_the_key(guide_copy, tmp_path):
    """A FIFO (which would block any read), a symlink to /etc/passwd and a
    sparse 5 GB file beside the guide: the build ignores them, and the next
    build still reuses its outputs."""
    out = tmp_path / "dist"
    assert run(guide_copy, "-q", out=out).returncode == 0
    os.mkfifo(guide_copy / "notes.fifo")
    (guide_copy / "secret.txt").symlink_to("/etc/passwd")
    with open(guide_copy / "big.bin", "wb") as handle:
        handle.truncate(5 * 1024 ** 3)
    result = run(guide_copy, out=out)
    assert result.returncode == 0, result.stderr[-800:]
    assert "unchanged inputs" in result.stderr


def test_nested_list_and_quotation_keep_every_word(guide_copy, tmp_path):
    """Nesting within the limit builds, and no text is dropped (the parser
    used to drop a 12-deep list and the rest of the chapter)."""
    text = (FM + "Before the list.\n\n" + nested_list(12) + "\nAfter the list.\n\n"
            + "> " * 15 + "Deep quotation.\n\nThe last words.\n")
    (guide_copy / "two.md").write_text(text)
    out = tmp_path / "dist"
    result = run(guide_copy, "-q", out=out)
    assert result.returncode == 0, result.stderr[-800:]
    with zipfile.ZipFile(out / "mini-2-epub.epub") as z:
        chapter = z.read("EPUB/ch-two.xhtml").decode()
    for words in ["level 1", "level 12", "After the list.", "Deep quotation.", "The last words."]:
        assert words in chapter, words
    # In the PDF each nested list sits in its item's LBody, twelve levels deep.
    import pikepdf
    from guidepub.check.pdf import check_pdf
    pdf_path = out / "mini-2-screen.pdf"
    assert [f.code for f in check_pdf(pdf_path, load(guide_copy, BRAND)).findings] == []
    with pikepdf.open(pdf_path) as pdf:
        def depth(element, level=0):
            kids = element.get("/K")
            kids = list(kids) if isinstance(kids, pikepdf.Array) else [kids] if kids is not None else []
            here = level + (element.get("/S") == "/L")
            assert element.get("/S") != "/L" or all(
                k.get("/S") == "/LI" for k in kids if isinstance(k, pikepdf.Dictionary) and "/S" in k)
            return max([here] + [depth(k, here) for k in kids if isinstance(k, pikepdf.Dictionary) and "/S" in k])
        assert depth(pdf.Root.StructTreeRoot) >= 12


def test_gif_and_webp_are_converted_and_every_edition_gets_the_clean_bytes(guide_copy, tmp_path):
    frames = [Image.new("RGB", (40, 30), c) for c in ((0, 94, 184), (200, 0, 0))]
    frames[0].save(guide_copy / "figures" / "anim.gif", save_all=True, append_images=frames[1:])
    Image.new("RGB", (40, 30), (0, 150, 57)).save(guide_copy / "figures" / "photo.webp", "WEBP")
    replace("two.md", "has data.", "has data.\n\n![A blue rectangle, the first frame](figures/anim.gif \"Anim\")"
            "\n\n![A green rectangle](figures/photo.webp \"Photo\")\n\n")(guide_copy)
    out = tmp_path / "dist"
    result = run(guide_copy, "-q", out=out)
    assert result.returncode == 0, result.stderr[-800:]
    guide = load(guide_copy, BRAND)
    clean = {f.href: f.data for f in guide.figures}
    assert set(clean) == {"figures/box.svg", "figures/anim.gif.png", "figures/photo.webp.png"}
    first = Image.open(io.BytesIO(clean["figures/anim.gif.png"]))
    assert first.convert("RGB").getpixel((1, 1)) == (0, 94, 184), "the first frame"
    with zipfile.ZipFile(out / "mini-2-epub.epub") as z:
        names = z.namelist()
        assert all(not n.startswith("/") and ".." not in n for n in names)
        for href, data in clean.items():
            assert z.read(f"EPUB/{href}") == data
        assert 'src="figures/anim.gif.png"' in z.read("EPUB/ch-two.xhtml").decode()
    import pikepdf
    with pikepdf.open(out / "mini-2-screen.pdf") as pdf:
        images = [x for page in pdf.pages for x in page.get_images()]
    assert len(images) >= 2, "both raster figures drawn in the PDF"


# --- a guide's own settings: each mistake has its code and guide.yaml's line ---

SETTINGS = {
    "brand file missing": ("brand: brand/none.yaml\n", "BRAND-MISSING", "brand:"),
    "brand file outside the guide": ("brand: ../../styles/brand.yaml\n", "CONTENT-PATH", "brand:"),
    "unknown edition": ("editions: [screen, epub, audio]\n", "CONTENT-SCHEMA", "audio"),
    "EPUB without its page source": ("editions: [epub]\n", "CONTENT-SCHEMA", "editions:"),
}


@pytest.mark.parametrize("name", SETTINGS)
def test_settings_mistakes(guide_copy, name):
    text, code, needle = SETTINGS[name]
    (guide_copy / "guide.yaml").write_text((guide_copy / "guide.yaml").read_text() + text)
    result = run(guide_copy, "-q")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    expected = line("guide.yaml", needle)(guide_copy)
    assert any(l.startswith(expected + ":") and f" {code} " in l for l in result.stderr.splitlines()), \
        result.stderr[-1500:]


def test_editions_narrow_what_all_builds(guide_copy, tmp_path):
    (guide_copy / "guide.yaml").write_text((guide_copy / "guide.yaml").read_text() + "editions: [screen, epub]\n")
    result = run(guide_copy, "-q", "--variant", "all", out=tmp_path / "d")
    assert result.returncode == 0, result.stderr[-1500:]
    assert sorted(p.name for p in (tmp_path / "d").iterdir() if not p.name.startswith(".")) == [
        "manifest.json", "mini-2-epub.epub", "mini-2-screen.pdf"]
