"""Loading and validation: every mistake names its file, line and field."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from guidepub.errors import GuideError
from guidepub.load import load
from conftest import BRAND, MINI


def problems(content: Path):
    with pytest.raises(GuideError) as info:
        load(content, BRAND)
    return info.value.problems


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"fixture no longer contains {old!r}"
    path.write_text(text.replace(old, new))


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line)


def test_fixture_loads_in_order_with_numbers():
    guide = load(MINI, BRAND)
    assert [d.id for d in guide.documents] == ["intro", "ch-one", "ch-two", "terms"]
    assert [d.number for d in guide.documents] == [None, 1, 2, None]
    assert [(f.id, f.number, f.alt) for f in guide.figures] == [
        ("fig-box", 1, "A square box with a tick inside")]
    assert [(t.id, t.number, t.caption) for t in guide.tables] == [("tbl-data", 1, "Some data")]


def test_headings_get_ids_from_text():
    guide = load(MINI, BRAND)
    one = guide.documents[1]
    assert [(h.level, h.id) for h in one.headings] == [
        (2, "ch-one-opening-section"), (3, "ch-one-deeper-section")]


def test_missing_field_in_guide_yaml_names_file_line_and_field(guide_copy):
    edit(guide_copy / "guide.yaml", "publisher: Test publisher\n", "")
    [p] = problems(guide_copy)
    assert p.code == "CONTENT-SCHEMA"
    assert p.path == guide_copy / "guide.yaml"
    assert "'publisher'" in p.message and "Field required" in p.message
    assert p.line == line_of(guide_copy / "guide.yaml", "slug:")   # the mapping that lacks it


def test_wrong_value_in_guide_yaml_points_at_its_line(guide_copy):
    path = guide_copy / "guide.yaml"
    edit(path, "language: en-GB", "language: English")
    [p] = problems(guide_copy)
    assert "'language'" in p.message
    assert p.line == line_of(path, "language: English")


def test_nested_field_error_names_the_path(guide_copy):
    path = guide_copy / "guide.yaml"
    edit(path, "  number: 2", "  number: two")
    [p] = problems(guide_copy)
    assert "'edition.number'" in p.message
    assert p.line == line_of(path, "number: two")


def test_front_matter_error_points_into_the_chapter(guide_copy):
    path = guide_copy / "one.md"
    edit(path, "id: ch-one", "id: Chapter One")
    [p] = problems(guide_copy)
    assert (p.code, p.path, p.line) == ("CONTENT-SCHEMA", path, line_of(path, "id: Chapter One"))
    assert "'id'" in p.message


def test_invalid_yaml_names_the_line(guide_copy):
    path = guide_copy / "guide.yaml"
    edit(path, "title: Mini guide", "title: [Mini guide")
    [p] = problems(guide_copy)
    assert (p.code, p.path, p.line) == ("CONTENT-YAML", path, line_of(path, "title: [Mini guide"))


def test_unclosed_yaml_at_end_of_file_names_its_line(guide_copy):
    path = guide_copy / "guide.yaml"
    path.write_text(path.read_text() + "extra: [unclosed\n")
    [p] = problems(guide_copy)
    assert (p.code, p.line) == ("CONTENT-YAML", line_of(path, "extra: [unclosed"))


def test_byte_order_mark_is_accepted(guide_copy):
    for name in ("guide.yaml", "one.md"):
        path = guide_copy / name
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert len(load(guide_copy, BRAND).documents) == 4


def test_missing_front_matter(guide_copy):
    path = guide_copy / "terms.md"
    path.write_text("Just text.\n")
    [p] = problems(guide_copy)
    assert (p.code, p.path, p.line) == ("CONTENT-FRONT-MATTER", path, 1)


def test_inline_image_is_not_a_figure(guide_copy):
    edit(guide_copy / "two.md", "has data.", "has data ![A box with a tick](figures/box.svg \"Box\").")
    assert [p.code for p in problems(guide_copy)] == ["CONTENT-FIGURE"]


def test_link_that_is_neither_internal_nor_web(guide_copy):
    path = guide_copy / "two.md"
    edit(path, "has data.", "has [data](ftp://example.org/data.csv).")
    [p] = problems(guide_copy)
    assert (p.code, p.line) == ("CONTENT-LINK", line_of(path, "ftp:"))


@pytest.mark.parametrize("src, why", [("figures/box.bmp", "not SVG, PNG, JPEG, GIF or WebP"),
                                      ("../mini/figures/box.svg", "leads outside the guide's folder")])
def test_image_type_and_place(guide_copy, src, why):
    edit(guide_copy / "one.md", "(figures/box.svg", f"({src}")
    [p] = problems(guide_copy)
    assert p.code == "CONTENT-IMAGE" and why in p.message


def test_unclosed_block(guide_copy):
    path = guide_copy / "two.md"
    path.write_text(path.read_text() + "\n::: key-points\n- Never closed.\n")
    [p] = problems(guide_copy)
    assert (p.code, p.line) == ("CONTENT-BLOCK", len(path.read_text().splitlines()) - 1)
    assert "never closed" in p.message


def test_nested_block_needs_more_colons(guide_copy):
    edit(guide_copy / "one.md", "::::: case-study", "::: case-study")
    edit(guide_copy / "one.md", "Quoted words.\n:::\n:::::", "Quoted words.\n:::\n:::")
    assert "CONTENT-BLOCK" in {p.code for p in problems(guide_copy)}


@pytest.mark.parametrize("ident", ["toc", "page-3", "cover"])
def test_reserved_ids(guide_copy, ident):
    edit(guide_copy / "two.md", "## Tables and terms", f"{{#{ident}}}\n## Tables and terms")
    found = problems(guide_copy)
    assert any(p.code == "CONTENT-DUPLICATE-ID" and "reserved" in p.message for p in found)


def test_invalid_explicit_id(guide_copy):
    edit(guide_copy / "two.md", "{#tbl-data", "{#Tbl_Data")
    edit(guide_copy / "two.md", "[](#tbl-data)", "[](#Tbl_Data)")
    assert [p.code for p in problems(guide_copy)] == ["CONTENT-ID"]


def test_generated_ids_never_clash_with_headings(guide_copy):
    edit(guide_copy / "two.md", "## Tables and terms", "## Title\n\n## P1\n\n## Über café")
    guide = load(guide_copy, BRAND)
    assert [h.id for h in guide.documents[2].headings] == ["ch-two-title", "ch-two-p1", "ch-two-uber-cafe"]


def test_chapter_without_learning_outcomes_is_an_error(guide_copy):
    edit(guide_copy / "two.md", "learning_outcomes:\n  - read a table\n", "")
    [p] = problems(guide_copy)
    assert p.code == "CONTENT-SCHEMA" and "learning_outcomes" in p.message


def test_missing_chapter_file(guide_copy):
    (guide_copy / "two.md").unlink()
    found = problems(guide_copy)
    assert found[0].code == "CONTENT-MISSING" and "'two.md'" in found[0].message
    assert found[0].line == line_of(guide_copy / "guide.yaml", "- two.md")


def test_figure_without_alt_text_is_an_error(guide_copy):
    path = guide_copy / "one.md"
    edit(path, "![A square box with a tick inside]", "![]")
    [p] = problems(guide_copy)
    assert (p.code, p.path, p.line) == ("CONTENT-ALT", path, line_of(path, "![](figures/box.svg"))


def test_figure_without_caption_or_file(guide_copy):
    """A caption is optional (tests/test_inline.py); a file is not."""
    edit(guide_copy / "one.md", '(figures/box.svg "A box")', "(figures/nothing.svg)")
    codes = {p.code for p in problems(guide_copy)}
    assert codes == {"CONTENT-IMAGE"}


def test_skipped_heading_level(guide_copy):
    path = guide_copy / "two.md"
    edit(path, "## Tables and terms", "#### Tables and terms")
    [p] = problems(guide_copy)
    assert (p.code, p.line) == ("CONTENT-HEADING", line_of(path, "#### Tables"))
    assert "skips from level 1 to level 4" in p.message


def test_level_one_heading_in_body(guide_copy):
    edit(guide_copy / "two.md", "## Tables and terms", "# Tables and terms")
    assert [p.code for p in problems(guide_copy)] == ["CONTENT-HEADING"]


def test_heading_inside_a_block(guide_copy):
    edit(guide_copy / "one.md", "::: activity Try this\n", "::: activity Try this\n## Inside\n")
    assert any(p.code == "CONTENT-HEADING" and "inside a block" in p.message for p in problems(guide_copy))


def test_unknown_block_type(guide_copy):
    path = guide_copy / "one.md"
    edit(path, "::: self-check", "::: quiz")
    found = problems(guide_copy)
    assert found[0].code == "CONTENT-BLOCK" and "quiz" in found[0].message
    assert found[0].line == line_of(path, "::: quiz")


def test_broken_cross_reference(guide_copy):
    path = guide_copy / "two.md"
    edit(path, "[](#tbl-data)", "[](#tbl-nothing)")
    [p] = problems(guide_copy)
    assert (p.code, p.path, p.line) == ("CONTENT-XREF", path, line_of(path, "#tbl-nothing"))


def test_table_needs_a_caption(guide_copy):
    edit(guide_copy / "two.md", '{#tbl-data caption="Some data"}\n', "")
    codes = [p.code for p in problems(guide_copy)]
    assert "CONTENT-TABLE-CAPTION" in codes


def test_duplicate_ids(guide_copy):
    edit(guide_copy / "two.md", "id: ch-two", "id: ch-one")
    assert "CONTENT-DUPLICATE-ID" in {p.code for p in problems(guide_copy)}


def test_all_problems_reported_together(guide_copy):
    edit(guide_copy / "one.md", "![A square box with a tick inside]", "![]")
    edit(guide_copy / "two.md", "[](#tbl-data)", "[](#tbl-nothing)")
    assert {p.code for p in problems(guide_copy)} == {"CONTENT-ALT", "CONTENT-XREF"}


def test_build_date_from_source_date_epoch_then_git_then_edition(monkeypatch, guide_copy):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert load(guide_copy, BRAND).build_date.isoformat() == "2023-11-14T22:13:20+00:00"
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    # not in a git repository: the edition date
    assert load(guide_copy, BRAND).build_date.isoformat() == "2026-01-15T00:00:00+00:00"
    # in one: the last commit that touched the content
    env = dict(os.environ, GIT_AUTHOR_DATE="2025-03-04T05:06:07Z", GIT_COMMITTER_DATE="2025-03-04T05:06:07Z",
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.org", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@example.org")
    for args in (["init", "-q"], ["add", "."], ["commit", "-q", "-m", "content"]):
        subprocess.run(["git", *args], cwd=guide_copy, env=env, check=True)
    assert load(guide_copy, BRAND).build_date.isoformat() == "2025-03-04T05:06:07+00:00"
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(GuideError) as info:
        load(MINI, BRAND)
    assert info.value.problems[0].code == "BUILD-DATE"


def test_a_document_read_again_gets_tokens_of_its_own(monkeypatch):
    """`watch` reads the guide after every save: a document parsed before
    comes from this process's cache, as its own copy (reading numbers and
    marks the tokens), and the same as a fresh parse."""
    from guidepub import markdown
    monkeypatch.setattr(markdown, "PARSED", {})
    first = load(MINI, BRAND)
    assert len(markdown.PARSED) == len(first.documents)

    class NoParser:
        def parse(self, *_args):
            raise AssertionError("parsed again")
    monkeypatch.setattr(markdown, "document_parser", NoParser)
    second = load(MINI, BRAND)                           # every document from the cache
    for a, b in zip(first.documents, second.documents):
        assert [t.as_dict() for t in a.tokens] == [t.as_dict() for t in b.tokens]
        assert not set(map(id, a.tokens)) & set(map(id, b.tokens))
        assert a.headings == b.headings and a.title_inline.as_dict() == b.title_inline.as_dict()
    monkeypatch.setattr(markdown, "PARSED", {})
    with pytest.raises(AssertionError, match="parsed again"):   # the check above can fail
        load(MINI, BRAND)


def test_yaml_is_read_by_libyaml_and_errors_by_the_python_parser(monkeypatch):
    """libyaml reads what parses (a fifth of the time); what it refuses is
    read again by PyYAML's own parser, so messages and lines are its."""
    from guidepub.load import yamlio
    assert yamlio.FAST is not None                       # PyYAML built with libyaml, as pinned
    fast = []
    monkeypatch.setattr(yamlio, "_read_fast", lambda *a, _f=yamlio._read_fast: fast.append(1) or _f(*a))
    data, node = yamlio.read_yaml(Path("x.yaml"), "id: ch-one\ntitle: One\nlist:\n  - a\n  - b\n")
    assert fast == [1] and data == {"id": "ch-one", "title": "One", "list": ["a", "b"]}
    assert yamlio.node_line(node, ("list", 1)) == 5
    with pytest.raises(GuideError) as caught:
        yamlio.read_yaml(Path("x.yaml"), "id: ch-one\ntitle: [One\n")
    monkeypatch.setattr(yamlio, "FAST", None)
    with pytest.raises(GuideError) as python:
        yamlio.read_yaml(Path("x.yaml"), "id: ch-one\ntitle: [One\n")
    assert str(caught.value) == str(python.value) and "x.yaml:2" in str(caught.value)
    with pytest.raises(GuideError) as twice:
        yamlio.read_yaml(Path("x.yaml"), "id: a\nid: b\n")
    assert "appears twice" in str(twice.value)
