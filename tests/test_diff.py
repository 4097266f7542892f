"""`build.py diff`: what a change does to the built PDF and EPUB, on real
builds of the fixture guide."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys

import pytest

from conftest import MINI, ROOT
from guidepub.diff import compare
from guidepub.pipeline import Project, build


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    out = tmp_path_factory.mktemp("base")
    build(Project.at(ROOT, MINI, out))
    return out


def head_with(tmp_path, *edits):
    guide = tmp_path / "guide"
    shutil.copytree(MINI, guide)
    for name, old, new in edits:
        path = guide / name
        assert old in path.read_text()
        path.write_text(path.read_text().replace(old, new, 1))
    out = tmp_path / "head"
    build(Project.at(ROOT, guide, out))
    return out


def cli(*args):
    return subprocess.run([sys.executable, str(ROOT / "build.py"), "diff", *args],
                          capture_output=True, text=True, timeout=600)


def test_identical_builds_exit_0(base, tmp_path):
    again = tmp_path / "again"
    build(Project.at(ROOT, MINI, again))
    diff, _, _ = compare(base, again)
    assert diff.identical and not diff.changed
    result = cli(str(base), str(again), "--out", str(tmp_path / "report"))
    assert result.returncode == 0, result.stderr
    assert "No change" in (tmp_path / "report" / "summary.md").read_text()


def test_one_changed_word_is_one_section_and_its_page(base, tmp_path):
    head = head_with(tmp_path, ("one.md", "Some text with a note.", "Some words with a note."))
    diff, _, _ = compare(base, head)
    changed = [s for s in diff.sections if s.status != "unchanged"]
    assert [(s.id, s.status) for s in changed] == [("ch-one-opening-section", "changed")]
    assert "[-text-] {+words+}" in changed[0].diff
    pages = [p for p in diff.pages if p.status != "unchanged"]
    assert [(p.status, p.base, p.head) for p in pages] == [("changed", 6, 6)]
    assert pages[0].boxes, "the changed region is boxed"
    assert diff.changed == {"text", "pages"}


def test_an_inserted_paragraph_renumbers_pages_instead_of_changing_them(base, tmp_path):
    paragraph = "A new paragraph that is long enough to need room. " * 40
    head = head_with(tmp_path, ("one.md", "Some text with a note.", f"Some text with a note.\n\n{paragraph}"))
    diff, _, _ = compare(base, head)
    changed = [s for s in diff.sections if s.status != "unchanged"]
    assert [(s.id, s.status) for s in changed] == [("ch-one-opening-section", "changed")]
    counts = diff.counts("pages")
    assert counts.get("added") == 1, counts
    assert counts.get("changed", 0) <= 3, counts            # the pages of that chapter reflow
    assert counts.get("renumbered", 0) >= 2, counts          # everything after it only moves
    assert diff.metadata == [{"field": "pages", "base": "10", "head": "11"}]


def test_a_changed_alt_text_shows_under_structure(base, tmp_path):
    head = head_with(tmp_path, ("one.md", "![A square box with a tick inside]", "![A square box with a cross inside]"))
    diff, _, _ = compare(base, head)
    assert diff.structure["figures"]["removed"] == ["A square box with a tick inside"]
    assert diff.structure["figures"]["added"] == ["A square box with a cross inside"]
    assert "structure" in diff.changed


def test_reports_and_exit_status(base, tmp_path):
    head = head_with(tmp_path, ("two.md", "## Tables and terms", "## Tables and their terms"))
    out = tmp_path / "report"
    result = cli(str(base), str(head), "--out", str(out))
    assert result.returncode == 1
    summary = (out / "summary.md").read_text()
    assert len(summary.encode()) < 60_000 and "<img" not in summary and "data:image" not in summary
    assert "Tables and their terms" in summary
    report = (out / "report.html").read_text()
    assert re.findall(r'src="([^"]+)"', report) and all(s.startswith("data:image/png;base64,")
                                                        for s in re.findall(r'src="([^"]+)"', report))
    data = json.loads((out / "diff.json").read_text())
    assert "text" in data["changed"] and data["identical"] is False
    assert cli(str(base), str(head), "--out", str(out), "--fail-on", "metadata").returncode == 0


def test_diff_errors_exit_2(tmp_path):
    assert cli(str(tmp_path), str(tmp_path)).returncode == 2                      # no manifest
    assert cli("--rev", "no-such-branch..HEAD").returncode == 2
    assert cli("--fail-on", "colour", str(tmp_path), str(tmp_path)).returncode == 2


def test_rev_builds_revisions_in_worktrees_and_caches_them(tmp_path):
    result = cli("--rev", "HEAD..HEAD", "--out", str(tmp_path / "r"))
    assert result.returncode == 0, result.stderr
    assert "No change" in (tmp_path / "r" / "summary.md").read_text()
    worktrees = subprocess.run(["git", "worktree", "list"], cwd=ROOT, capture_output=True, text=True).stdout
    assert len(worktrees.strip().splitlines()) == 1, "worktrees are removed"


def test_the_command_line_knows_the_same_kinds():
    from guidepub import cli, diff
    assert cli.KINDS == diff.KINDS


def test_a_change_of_appearance_alone_is_found(base, tmp_path):
    """Same words, drawn differently: only the pixels show it."""
    root = tmp_path / "root"
    for name in ("templates", "styles", "guidepub", "build.py"):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / name)
    (root / "node_modules").symlink_to(ROOT / "node_modules")
    css = root / "styles" / "base.css"
    css.write_text(css.read_text() + "\nth { background: var(--colour-purple); }\n")
    head = tmp_path / "head"
    build(Project.at(root, MINI, head))
    diff, _, _ = compare(base, head)
    assert all(s.status == "unchanged" for s in diff.sections)
    changed = [p for p in diff.pages if p.status == "changed"]
    assert len(changed) == 1 and changed[0].boxes
    assert "pages" in diff.changed


def test_adding_a_block_before_another_does_not_scramble_the_blocks(base, tmp_path):
    head = head_with(tmp_path, ("one.md", "::: key-points", "::: activity A new one\nDo it.\n:::\n\n::: key-points"))
    diff, _, _ = compare(base, head)
    changed = [(s.heading, s.status) for s in diff.sections if s.status != "unchanged"]
    assert changed == [("A new one", "added")]


def test_a_broken_build_folder_is_an_error_not_a_change(base, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(base, broken)
    next(broken.glob("*-screen.pdf")).unlink()
    result = cli(str(base), str(broken), "--out", str(tmp_path / "r"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "DIFF-ERROR" in result.stderr
