"""A corpus of broken guides. Each case breaks a copy of the fixture guide in
one way and names the exact code and place the build must report: one line
per problem, exit status 2, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT


def replace(name, old, new):
    def apply(guide: Path):
        path = guide / name
        text = path.read_text()
        assert old in text, f"{old!r} not in {name}"
        path.write_text(text.replace(old, new, 1))
    return apply


def append(name, text):
    def apply(guide: Path):
        path = guide / name
        path.write_text(path.read_text() + text)
    return apply


def write(name, data: bytes):
    def apply(guide: Path):
        (guide / name).write_bytes(data)
    return apply


def remove(name):
    return lambda guide: (guide / name).unlink()


def line(name, needle, last=False):
    """Where the expected problem is: the line holding `needle`."""
    def find(guide: Path):
        lines = [n for n, text in enumerate((guide / name).read_text().splitlines(), 1) if needle in text]
        return f"{guide / name}:{lines[-1] if last else lines[0]}"
    return find


def file(name):
    return lambda guide: str(guide / name)


FRONT = "---\nid: ch-three\ntitle: Third chapter\nlearning_outcomes: [do a thing]\n---\n"
CASES = {
    # YAML and the schema
    "yaml syntax error": (replace("guide.yaml", "title: Mini guide", "title: [Mini guide"),
                          "CONTENT-YAML", line("guide.yaml", "title: [Mini")),
    "yaml syntax in front matter": (replace("one.md", "title: First chapter", "title: First: chapter: [x"),
                                    "CONTENT-YAML", line("one.md", "title: First:")),
    "unknown field": (replace("guide.yaml", "slug: mini", "slug: mini\ncolour: blue"),
                      "CONTENT-SCHEMA", line("guide.yaml", "colour: blue")),
    "missing field": (replace("guide.yaml", "publisher: Test publisher\n", ""),
                      "CONTENT-SCHEMA", line("guide.yaml", "slug: mini")),
    "wrongly typed field": (replace("guide.yaml", "  number: 2", "  number: second"),
                            "CONTENT-SCHEMA", line("guide.yaml", "number: second")),
    "bad date": (replace("guide.yaml", "  date: 2026-01-15", "  date: 2026-13-45"),
                 "CONTENT-YAML", line("guide.yaml", "date: 2026-13-45")),
    "bad language tag": (replace("guide.yaml", "language: en-GB", "language: British"),
                         "CONTENT-SCHEMA", line("guide.yaml", "language: British")),
    "bad isbn": (replace("guide.yaml", "  urn: ", "  isbn: {screen: 978-0-306-40615-6}\n  urn: "),
                 "CONTENT-SCHEMA", line("guide.yaml", "isbn:")),
    "bad id in front matter": (replace("two.md", "id: ch-two", "id: Chapter Two"),
                               "CONTENT-SCHEMA", line("two.md", "id: Chapter Two")),
    "chapter without outcomes": (replace("two.md", "learning_outcomes:\n  - read a table\n", ""),
                                 "CONTENT-SCHEMA", file("two.md")),
    # files
    "chapter listed but missing": (remove("two.md"), "CONTENT-MISSING", line("guide.yaml", "- two.md")),
    "chapter on disk but not listed": (write("three.md", (FRONT + "Text.\n").encode()),
                                       "CONTENT-UNLISTED", file("three.md")),
    "no front matter": (write("terms.md", b"Just text.\n"), "CONTENT-FRONT-MATTER", line("terms.md", "Just")),
    "empty chapter": (write("two.md", b"---\nid: ch-two\ntitle: Second chapter\nlearning_outcomes: [x]\n---\n\n"),
                      "CONTENT-EMPTY", file("two.md")),
    "invalid utf-8": (write("terms.md", b"---\nid: terms\ntitle: Terms\ntype: glossary\n---\n\nCaf\xe9\n: A place.\n"),
                      "CONTENT-ENCODING", lambda g: f"{g / 'terms.md'}:7:4"),
    "control character in a file": (write("terms.md", b"---\nid: terms\ntitle: Terms\n---\n\nA\x1fB\n"),
                                    "CONTENT-ENCODING", lambda g: f"{g / 'terms.md'}:6:2"),
    "control character from a YAML escape": (replace("guide.yaml", "title: Mini guide", 'title: "Mini\\x1f guide"'),
                                             "CONTENT-SCHEMA", line("guide.yaml", "title: \"Mini")),
    "a 50 MB chapter": (write("terms.md", b"---\nid: terms\ntitle: Terms\n---\n" + b"word " * 10_000_000),
                        "CONTENT-TOO-LARGE", file("terms.md")),
    "duplicate ids": (replace("two.md", "id: ch-two", "id: ch-one"), "CONTENT-DUPLICATE-ID", line("two.md", "id: ch-one")),
    "reserved id": (replace("two.md", "## Tables and terms", "{#toc}\n## Tables and terms"),
                    "CONTENT-DUPLICATE-ID", line("two.md", "## Tables and terms")),
    "invalid explicit id": (replace("one.md", "{#fig-box}", "{#Fig_Box}"), "CONTENT-ID", line("one.md", "{#Fig_Box}")),
    # links and cross-references
    "cross-reference to an unknown id": (replace("two.md", "[](#tbl-data)", "[](#tbl-nothing)"),
                                         "CONTENT-XREF", line("two.md", "#tbl-nothing")),
    "javascript link": (replace("two.md", "has data.", "has [data](javascript:alert(1))."),
                        "CONTENT-LINK", line("two.md", "javascript:")),
    "file link": (replace("two.md", "has data.", "has [data](file:///etc/passwd)."),
                  "CONTENT-LINK", line("two.md", "file:///")),
    # figures and images
    "image missing": (replace("one.md", "figures/box.svg", "figures/gone.svg"),
                      "CONTENT-IMAGE", line("one.md", "figures/gone.svg")),
    "image in an unsupported format": (replace("one.md", "figures/box.svg", "figures/box.bmp"),
                                       "CONTENT-IMAGE", line("one.md", "figures/box.bmp")),
    "image outside the guide": (replace("one.md", "(figures/box.svg", "(../../etc/box.svg"),
                                "CONTENT-IMAGE", line("one.md", "../../etc/box.svg")),
    "figure without alt": (replace("one.md", "![A square box with a tick inside]", "![]"),
                           "CONTENT-ALT", line("one.md", "![](")),
    "figure with a width that is not one": (replace("one.md", "{#fig-box}", '{#fig-box width="wide"}'),
                                            "CONTENT-ATTRIBUTE", line("one.md", "box.svg")),
    "image inside a sentence": (replace("two.md", "has data.", "has ![A box with a tick](figures/box.svg \"B\")."),
                                "CONTENT-FIGURE", line("two.md", "has ![")),
    # Markdown structure
    "unclosed container block": (append("two.md", "\n::: key-points\n- Never closed.\n"),
                                 "CONTENT-BLOCK", line("two.md", "::: key-points", last=True)),
    "unknown block type": (replace("one.md", "::: self-check", "::: quiz"), "CONTENT-BLOCK", line("one.md", "::: quiz")),
    "stray closing fence": (append("two.md", "\nText.\n\n:::\n"), "CONTENT-BLOCK", line("two.md", ":::", last=True)),
    "heading level skipped": (replace("two.md", "## Tables and terms", "#### Tables and terms"),
                              "CONTENT-HEADING", line("two.md", "#### Tables")),
    "second level 1 heading": (replace("two.md", "## Tables and terms", "# Tables and terms"),
                               "CONTENT-HEADING", line("two.md", "# Tables")),
    "heading inside a block": (replace("one.md", "Do something.", "## Inside\n\nDo something."),
                               "CONTENT-HEADING", line("one.md", "## Inside")),
    "raw html": (replace("two.md", "has data.", "has <b>data</b>."), "CONTENT-HTML", line("two.md", "<b>data")),
    "script tag": (append("two.md", "\n<script>alert(1)</script>\n"), "CONTENT-HTML", line("two.md", "<script>")),
    "table without caption": (replace("two.md", '{#tbl-data caption="Some data"}\n', "{#tbl-data}\n"),
                              "CONTENT-TABLE-CAPTION", line("two.md", "| Name")),
    "a 10,000-row table": (replace("two.md", "| A    | 1     |", "| A    | 1     |\n" + "| x | 1 |\n" * 10_000),
                           "CONTENT-TABLE-TOO-LARGE", line("two.md", "| Name")),
}


def run(guide: Path, *extra: str, out: Path | None = None):
    args = [sys.executable, str(ROOT / "build.py"), "--content", str(guide), "--out",
            str(out or guide.parent / "dist"), *extra]
    return subprocess.run(args, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("name", CASES)
def test_broken_input(guide_copy, name):
    breaker, code, where = CASES[name]
    breaker(guide_copy)
    result = run(guide_copy, "-q")
    assert result.returncode == 2, result.stderr[-500:]
    assert "Traceback" not in result.stderr
    lines = [l for l in result.stderr.splitlines() if f" {code} " in l]
    expected = where(guide_copy)
    assert any(l.startswith(expected + ":") or l.startswith(expected + " ") or l.startswith(expected + ": ")
               for l in lines), f"wanted {code} at {expected}, got:\n{result.stderr}"
    assert all(" — " in l for l in lines), "every problem says how to fix it"


def test_corpus_is_large_enough():
    assert len(CASES) >= 30


def test_tabs_and_crlf_just_work(guide_copy, tmp_path):
    for path in guide_copy.glob("*.md"):
        text = path.read_text().replace("learning_outcomes:\n  - ", "learning_outcomes:\n\t- ")
        path.write_bytes(text.replace("\n", "\r\n").encode())
    guide = guide_copy / "guide.yaml"
    guide.write_bytes(guide.read_text().replace("\n", "\r\n").encode())
    result = run(guide_copy, "-q", "--variant", "screen", out=tmp_path)
    assert result.returncode == 0, result.stderr


def test_unwritable_output_folder(tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where dist/ should be")
    result = run(ROOT / "tests" / "fixtures" / "mini", "-q", out=blocker / "dist")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "OUTPUT-WRITE" in result.stderr and str(blocker) in result.stderr


def test_unknown_variant(tmp_path):
    result = run(ROOT / "tests" / "fixtures" / "mini", "--variant", "audio", out=tmp_path)
    assert result.returncode == 2 and "VARIANT-UNKNOWN" in result.stderr
