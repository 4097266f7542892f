"""Property tests: whatever Markdown and front matter an editor writes, the
build either renders well-formed XHTML or reports problems; never a traceback."""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from pathlib import Path

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from lxml import etree

from conftest import BRAND, MINI, ROOT
from guidepub.errors import GuideError
from guidepub.load import load
from guidepub.pipeline import Project, build
from guidepub.render import Renderer, epub_format
from test_epub import epubcheck_messages

PLAIN = st.sampled_from(["care", "team", "NHS", "lead", "you", "‘quoted’", "a&b", "x*y", "_z_", "*em*",
                         "**strong**", "(#ch-one)", "|", "`code`", "\\\\", "—", "é", "-", "1.", "&amp;", "'", '"',
                         "<3", "a < b", "[link]", "{#id}", "::", "http://x"])
NASTY = st.sampled_from(["<tag>", "<b>", ":::", "#", "\t", ">", "![img]", "[^n]", "😀", "{.class}"])
WORDS = st.one_of(PLAIN, PLAIN, PLAIN, PLAIN, PLAIN, PLAIN, PLAIN, PLAIN, PLAIN, NASTY)
LINE = st.lists(WORDS, min_size=0, max_size=8).map(" ".join)
BLOCK = st.one_of(
    LINE,
    LINE.map(lambda t: f"## {t}"),
    LINE.map(lambda t: f"### {t}"),
    LINE.map(lambda t: f"- {t}\n- {t}"),
    LINE.map(lambda t: f"1. {t}"),
    LINE.map(lambda t: f"> {t}"),
    LINE.map(lambda t: f"| a | b |\n|---|---|\n| {t} | x |"),
    st.sampled_from(["key-points", "activity", "case-study", "self-check", "resources", "quote"])
      .flatmap(lambda b: LINE.map(lambda t: f"::: {b} {t}\n{t}\n:::")),
    LINE.map(lambda t: f"[{t}](#ch-one)"),
    LINE.map(lambda t: f"[{t}](https://example.org/)"),
    LINE.map(lambda t: f'![{t}](figures/box.svg "{t}")'),
    LINE.map(lambda t: f"Note[^a].\n\n[^a]: {t}"),
    LINE.map(lambda t: f"Term\n: {t}"),
)
BODY = st.lists(BLOCK, min_size=0, max_size=10).map("\n\n".join)
TITLE = st.one_of(st.text(min_size=1, max_size=40), st.text(min_size=1, max_size=40), st.text(max_size=3))
FRONT = st.fixed_dictionaries({"title": TITLE, "summary": TITLE,
                               "outcome": st.one_of(TITLE, TITLE, TITLE, st.just(None))})


def chapter(front: dict, body: str) -> str:
    lines = ["---", "id: ch-two", f"title: {front['title']!r}" if front["title"] else "title:",
             f"summary: {front['summary']!r}"]
    if front["outcome"] is not None:
        lines += ["learning_outcomes:", f"  - {front['outcome']!r}"]
    return "\n".join(lines) + "\n---\n\n" + body + "\n"


def guide_with(text: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="fuzz-")) / "guide"
    shutil.copytree(MINI, folder)
    (folder / "two.md").write_text(chapter(*text) if isinstance(text, tuple) else text, encoding="utf-8")
    return folder


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(FRONT, BODY)
def test_any_chapter_loads_or_reports_problems_and_renders_well_formed_xhtml(front, body):
    folder = guide_with((front, body))
    try:
        guide = load(folder, BRAND)
    except GuideError as exc:
        assert exc.problems and all(p.code and p.message for p in exc.problems)
        event("reported problems")
        return
    event("rendered")
    renderer = Renderer(guide, ROOT / "templates", ROOT / "styles")
    fmt = epub_format(guide)
    for doc in guide.documents:
        content = renderer.partial("partials/document.html.j2", doc=doc, body=renderer.body(doc, fmt))
        page = renderer.page("epub/page.xhtml.j2", fmt, title=doc.meta.title, content=content, body_class=None)
        etree.fromstring(page.encode("utf-8"))          # raises if not well-formed XML
    shutil.rmtree(folder.parent, ignore_errors=True)


@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(BODY.filter(lambda b: b.strip()))
def test_a_sample_that_builds_passes_epubcheck(body):
    folder = guide_with(({"title": "Second chapter", "summary": "S", "outcome": "x"}, body))
    try:
        built = build(Project.at(ROOT, folder, folder.parent / "dist"), ["epub"])
    except GuideError:
        return
    messages, _ = epubcheck_messages(built.outputs["epub"])
    assert messages == []
    with zipfile.ZipFile(built.outputs["epub"]) as z:
        assert "EPUB/ch-two.xhtml" in z.namelist()
    shutil.rmtree(folder.parent, ignore_errors=True)
