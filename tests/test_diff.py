"""`build.py diff`: what a change does to every built edition, on real
builds (every variant) of the fixture guide; `--rev` on a temporary git
repository of two and more commits."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import MINI, ROOT
from gitrepo import git, make_repo
from guidepub.diff import KINDS, compare
from guidepub.diff.extract import read_pdf
from guidepub.diff.pages import NOISE, Renderer, difference
from guidepub.pipeline import Project, build


EDITIONS = ["screen", "large-print", "print", "epub"]


def build_all(root: Path, content: Path, out: Path) -> Path:
    """The PDF editions and the EPUB (named: a website edition, where there
    is one, is compared by its hash alone)."""
    build(Project.at(root, content, out), EDITIONS)
    return out


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return build_all(ROOT, MINI, tmp_path_factory.mktemp("base"))


def guide_with(tmp_path: Path, *edits, name: str = "guide") -> Path:
    """A copy of the fixture guide with (file, old, new) replacements."""
    guide = tmp_path / name
    shutil.copytree(MINI, guide)
    for file, old, new in edits:
        path = guide / file
        text = path.read_text() if path.exists() else ""
        assert old in text, (file, old)
        path.write_text(text.replace(old, new, 1))
    return guide


def head_with(tmp_path: Path, *edits) -> Path:
    return build_all(ROOT, guide_with(tmp_path, *edits), tmp_path / "head")


def root_with(tmp_path: Path, *edits) -> Path:
    """A copy of the project (templates, styles, code) with (file, old, new)
    replacements, building with the real node_modules."""
    root = tmp_path / "root"
    for name in ("templates", "styles", "guidepub", "build.py"):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / name)
    (root / "node_modules").symlink_to(ROOT / "node_modules")
    for file, old, new in edits:
        path = root / file
        assert old in path.read_text(), (file, old)
        path.write_text(path.read_text().replace(old, new, 1))
    return root


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, str((cwd or ROOT) / "build.py"), "diff", *args],
                          capture_output=True, text=True, timeout=600, cwd=cwd)


def changed_pages(diff) -> dict[str, list]:
    return {v: [(p.status, p.base, p.head) for p in pages if p.status != "unchanged"]
            for v, pages in diff.pages.items()}


# --- nothing that changed is missed ----------------------------------------------

def test_identical_builds_exit_0(base, tmp_path):
    again = build_all(ROOT, MINI, tmp_path / "again")
    diff, _, _ = compare(base, again)
    assert diff.identical and not diff.changed
    assert [e.status for e in diff.editions] == ["unchanged"] * 4
    result = cli(str(base), str(again), "--out", str(tmp_path / "report"))
    assert result.returncode == 0, result.stderr
    assert "No change" in (tmp_path / "report" / "summary.md").read_text()


def test_render_noise_between_identical_pages_is_zero(base, tmp_path):
    """The threshold is measured: renders of pages that draw the same thing
    (the same page twice; the same page from a build made in another
    process) differ by nothing, so no difference is noise."""
    again = tmp_path / "again"
    subprocess.run([sys.executable, str(ROOT / "build.py"), "-q", *[f"--variant={v}" for v in EDITIONS],
                    "--content", str(MINI),
                    "--out", str(again)], check=True, timeout=600,
                   env=dict(os.environ, TZ="Pacific/Auckland", PYTHONHASHSEED="99"))
    largest = 0
    with Renderer() as one, Renderer() as other:
        for pdf in sorted(base.glob("*.pdf")):
            for index in range(len(read_pdf("x", pdf).pages)):
                first = one.render(pdf, index)
                largest = max(largest, difference(first, other.render(pdf, index)).getextrema()[1],
                              difference(first, other.render(again / pdf.name, index)).getextrema()[1])
    assert largest == NOISE == 0


def test_one_changed_word_is_one_section_and_its_page_in_every_edition(base, tmp_path):
    head = head_with(tmp_path, ("one.md", "Some text with a note.", "Some words with a note."))
    diff, _, _ = compare(base, head)
    changed = [s for s in diff.sections if s.status != "unchanged"]
    assert [(s.id, s.status, s.title) for s in changed] == [
        ("ch-one-opening-section", "changed", "Chapter 1: First chapter › Opening section")]
    assert "[-text-] {+words+}" in changed[0].diff
    pages = changed_pages(diff)
    assert set(pages) == {"screen", "large-print", "print"}
    assert pages["screen"] == [("changed", 6, 6)] and pages["print"] == [("changed", 6, 6)]
    assert len(pages["large-print"]) == 1
    assert all(p.boxes for pages in diff.pages.values() for p in pages if p.status == "changed")
    assert diff.changed == {"text", "pages"}


def test_an_inserted_paragraph_renumbers_pages_instead_of_changing_them(base, tmp_path):
    paragraph = "A new paragraph that is long enough to need room. " * 40
    head = head_with(tmp_path, ("one.md", "Some text with a note.", f"Some text with a note.\n\n{paragraph}"))
    diff, _, _ = compare(base, head)
    changed = [s for s in diff.sections if s.status != "unchanged"]
    assert [(s.id, s.status) for s in changed] == [("ch-one-opening-section", "changed")]
    counts = diff.counts("pages", "screen")
    assert counts.get("added") == 1, counts
    assert counts.get("changed", 0) <= 3, counts            # the pages of that chapter reflow
    assert counts.get("renumbered", 0) >= 2, counts          # everything after it only moves
    assert {"field": "pages", "edition": "screen, print", "base": "10", "head": "11"} in diff.metadata
    from guidepub.diff.report import renumbering
    assert re.match(r"\d+–\d+ → \d+–\d+(; |$)", renumbering(diff.pages["screen"])), renumbering(diff.pages["screen"])


def test_one_step_of_one_brand_colour_channel_is_caught(base, tmp_path):
    """#005EB8 → #005EB9: the smallest change a colour can make."""
    root = root_with(tmp_path, ("styles/brand.yaml", 'primary: "#005EB8"', 'primary: "#005EB9"'))
    head = build_all(root, MINI, tmp_path / "head")
    diff, _, _ = compare(base, head)
    assert all(s.status == "unchanged" for s in diff.sections)
    pages = diff.pages_changed()
    assert set(pages) == {"screen", "large-print", "print"}, changed_pages(diff)
    assert all(n >= 1 for n in pages.values())
    [css] = [f for f in diff.files if f.file == "css/guide.css"]
    assert any("#005EB8 → #005EB9" in d for d in css.details), css.details
    assert {"pages", "files"} <= diff.changed


def test_a_change_of_appearance_alone_is_found(base, tmp_path):
    """Same words, drawn differently: only the pixels show it."""
    root = root_with(tmp_path)
    css = root / "styles" / "base.css"
    css.write_text(css.read_text() + "\nth { background: var(--colour-case-study); }\n")
    head = build_all(root, MINI, tmp_path / "head")
    diff, _, _ = compare(base, head)
    assert all(s.status == "unchanged" for s in diff.sections)
    changed = [p for p in diff.pages["screen"] if p.status == "changed"]
    assert len(changed) == 1 and changed[0].boxes
    assert "pages" in diff.changed


def test_large_print_and_epub_styles_are_compared(base, tmp_path):
    """The commit from the issue: EPUB text made plum, large print cut from
    18 pt to 14 pt. The screen and print editions are byte for byte the same."""
    root = root_with(tmp_path, ("styles/variants/large-print.css", "html { font-size: 18pt;", "html { font-size: 14pt;"))
    (root / "styles" / "epub.css").write_text((root / "styles" / "epub.css").read_text() + "\nbody { color: #8E3A59; }\n")
    head = build_all(root, MINI, tmp_path / "head")
    diff, _, _ = compare(base, head)
    status = {e.variant: e.status for e in diff.editions}
    assert status == {"screen": "unchanged", "large-print": "changed", "print": "unchanged", "epub": "changed"}
    assert any(m["field"] == "pages" and m["edition"] == "large-print" for m in diff.metadata) \
        or diff.pages_changed().get("large-print")
    assert diff.pages_changed()["large-print"] >= 1
    [css] = [f for f in diff.files if f.kind == "stylesheet"]
    assert any("color: added #8E3A59" in d or "#8E3A59" in d for d in css.details), css.details
    assert {"pages", "files"} <= diff.changed
    assert cli(str(base), str(head), "--out", str(tmp_path / "r")).returncode == 1


def test_a_figure_is_reported_as_a_figure(base, tmp_path):
    guide = guide_with(tmp_path, ("one.md", "![A square box with a tick inside](figures/box.svg \"A box\")",
                                  "![A square box with a cross inside](figures/box.svg \"A crossed box\")"))
    svg = guide / "figures" / "box.svg"
    svg.write_text(svg.read_text().replace("#009639", "#DA291C"))
    head = build_all(ROOT, guide, tmp_path / "head")
    diff, a, b = compare(base, head)
    [figure] = [f for f in diff.figures if f.status != "unchanged"]
    assert figure.label == "Figure 1" and figure.place == "Chapter 1: First chapter"
    assert figure.changes == ["image changed", "alt text changed", "caption changed"]
    assert (figure.base["alt"], figure.head["alt"]) == ("A square box with a tick inside",
                                                         "A square box with a cross inside")
    assert (figure.base["caption"], figure.head["caption"]) == ("A box", "A crossed box")
    # alt text and captions are not in the body's word diff
    assert all(s.status == "unchanged" for s in diff.sections), [s for s in diff.sections if s.status != "unchanged"]
    assert [f.file for f in diff.files] == ["figures/box.svg"] and diff.files[0].figure == "Figure 1"
    from guidepub.diff.report import report_html, summary
    text = summary(diff, a, b)
    assert "**Figure 1** (Chapter 1: First chapter): image changed; alt text changed; caption changed" in text
    assert "alt text: “A square box with a tick inside” → “A square box with a cross inside”" in text
    assert text.count("data:image") == 0
    page = report_html(diff, a, b)
    assert page.count("data:image/svg+xml;base64,") == 2            # the figure before and after


def test_moves_and_renumbering_are_named(tmp_path):
    """A section moved to another chapter, and a chapter inserted before it:
    the move is shown from → to, the renumbering in one line each."""
    moving = "\n## Moving part\n\nThis paragraph moves to another chapter with its heading.\n"
    chapter = ("---\nid: ch-new\ntitle: New chapter\nlearning_outcomes:\n  - read more\n---\n\n"
               "## Brand new\n\n" + "A new chapter with enough words to fill its pages. " * 60 + "\n")
    before = guide_with(tmp_path, ("one.md", "[^a]: The note.", f"[^a]: The note.\n{moving}"), name="before")
    after = guide_with(tmp_path, ("two.md", "[^b]: A note in the second chapter.",
                                  f"[^b]: A note in the second chapter.\n{moving}"),
                       ("guide.yaml", "  - two.md", "  - new.md\n  - two.md"), ("new.md", "", chapter), name="after")
    diff, a, b = compare(build_all(ROOT, before, tmp_path / "a"), build_all(ROOT, after, tmp_path / "b"))
    [moved] = [s for s in diff.sections if s.status == "moved"]
    assert (moved.heading, moved.base_place, moved.place) == ("Moving part", "Chapter 1: First chapter",
                                                              "Chapter 3: Second chapter")
    assert diff.renumbered_documents == ["Chapter 2 → Chapter 3: Second chapter"]
    assert [(s.title, s.status) for s in diff.sections if s.status in ("added", "removed")] == [
        ("Chapter 2: New chapter", "added"), ("Chapter 2: New chapter › Brand new", "added")]
    from guidepub.diff.report import summary
    text = summary(diff, a, b)
    assert "- **moved** Moving part: from Chapter 1: First chapter" in text
    assert "to Chapter 3: Second chapter" in text
    assert "- **renumbered** (1): Chapter 2 → Chapter 3: Second chapter" in text
    contents = next(s for s in diff.structure if s.kind == "epub contents")
    assert contents.renumbered == ["2. Second chapter → 3. Second chapter"]
    assert text.count("renumbered") < 12, text                     # one line each, not one a page
    assert re.search(r"renumbered \d+(–\d+)? → \d+", text)


def test_adding_a_block_before_another_does_not_scramble_the_blocks(base, tmp_path):
    head = head_with(tmp_path, ("one.md", "::: key-points", "::: activity A new one\nDo it.\n:::\n\n::: key-points"))
    diff, _, _ = compare(base, head)
    changed = [(s.heading, s.status) for s in diff.sections if s.status != "unchanged"]
    assert changed == [("A new one", "added")]


# --- reports ------------------------------------------------------------------------

def test_reports_and_exit_status(base, tmp_path):
    head = head_with(tmp_path, ("two.md", "## Tables and terms", "## Tables and their terms"))
    out = tmp_path / "report"
    result = cli(str(base), str(head), "--out", str(out))
    assert result.returncode == 1, result.stderr
    summary = (out / "summary.md").read_text()
    assert len(summary.encode()) < 60_000 and "<img" not in summary and "data:image" not in summary
    assert "Chapter 2: Second chapter › Tables and their terms" in summary
    report = (out / "report.html").read_text()
    assert re.findall(r"src='([^']+)'", report) and all(s.startswith("data:image/png;base64,")
                                                        for s in re.findall(r"src='([^']+)'", report))
    data = json.loads((out / "diff.json").read_text())
    assert "text" in data["changed"] and data["identical"] is False
    assert set(data["timings"]) >= {"read", "compare", "pages", "reports", "total"}
    # progress while comparing, and what it found
    assert "Comparing pages of large-print" in result.stderr and "Took" in result.stderr
    assert cli(str(base), str(head), "--out", str(out), "--fail-on", "metadata").returncode == 0
    assert cli(str(base), str(head), "--out", str(out), "--fail-on", "").returncode == 0


def test_report_stays_small_when_every_page_changes(base, tmp_path, monkeypatch):
    """Full pictures for the first pages, thumbnails after, then page
    numbers only once the picture budget is spent."""
    from guidepub.diff import report
    root = root_with(tmp_path, ("styles/brand.yaml", 'text: "#231F20"', 'text: "#2A1F20"'))
    head = build_all(root, MINI, tmp_path / "head")
    diff, a, b = compare(base, head)
    assert sum(diff.pages_changed().values()) >= 25, diff.pages_changed()      # nearly every page
    page = report.report_html(diff, a, b)
    assert len(page.encode()) < 3_000_000
    assert page.count("<h4>") == 2 * 3                                        # two full pairs an edition
    monkeypatch.setattr(report, "IMAGE_BUDGET", 200_000)
    small = report.report_html(diff, a, b)
    assert len(small.encode()) < 200_000 + 60_000 and "Not pictured, to keep this report small" in small


def test_diff_errors_exit_2(tmp_path):
    assert cli(str(tmp_path), str(tmp_path)).returncode == 2                      # no manifest
    assert cli("--rev", "no-such-branch..HEAD").returncode == 2
    result = cli(str(tmp_path), str(tmp_path), "--fail-on", "colour")
    assert result.returncode == 2 and "DIFF-USAGE" in result.stderr


def test_a_broken_build_folder_is_an_error_not_a_change(base, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(base, broken)
    next(broken.glob("*-screen.pdf")).unlink()
    result = cli(str(base), str(broken), "--out", str(tmp_path / "r"))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "DIFF-INPUT" in result.stderr and "is listed in" in result.stderr


def test_the_command_line_knows_the_same_kinds():
    from guidepub import cli, diff
    assert cli.KINDS == diff.KINDS == KINDS


# --- --rev: revisions built in worktrees, cached by their sources --------------------

@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    return make_repo(tmp_path_factory.mktemp("repo") / "project")


def test_rev_names_the_cause_and_caches_by_sources_not_commits(repo, tmp_path):
    brand = repo / "styles" / "brand.yaml"
    brand.write_text(brand.read_text().replace('primary: "#005EB8"', 'primary: "#0B5CAD"'))
    git(repo, "commit", "-qam", "Brand: a new primary colour")
    out = tmp_path / "r1"
    first = cli("--rev", "HEAD~1..HEAD", "--content", "guide", "--out", str(out), cwd=repo)
    assert first.returncode == 1, first.stderr
    assert first.stderr.count("every edition, in a git worktree") == 2          # progress: both built
    summary = (out / "summary.md").read_text()
    assert re.search(r"\*\*Base\*\* `[0-9a-f]{7}` The mini guide · \*\*Head\*\* `[0-9a-f]{7}` Brand: a new "
                     r"primary colour", summary), summary
    assert "`styles/brand.yaml (changed): colours.primary: #005EB8 → #0B5CAD`; " in summary, summary
    assert re.search(r"pages changed in 3 PDF edition\(s\)", summary)
    data = json.loads((out / "diff.json").read_text())
    assert data["sources"] == [{"path": "styles/brand.yaml", "status": "changed", "old_path": "",
                                "details": ["colours.primary: #005EB8 → #0B5CAD"]}]
    # A new commit with the same sources (a commit of something no build
    # reads, made later): nothing is built again.
    (repo / "NOTES.txt").write_text("not read by any build\n")
    git(repo, "add", "NOTES.txt")
    git(repo, "commit", "-qm", "Notes")
    second = cli("--rev", "HEAD~2..HEAD", "--content", "guide", "--out", str(tmp_path / "r2"), cwd=repo)
    assert second.returncode == 1, second.stderr
    assert "every edition, in a git worktree" not in second.stderr
    assert second.stderr.count("from the cache") == 2
    builds = [p for p in (repo / ".cache" / "builds").iterdir() if p.is_dir()]
    assert len(builds) == 2
    worktrees = git(repo, "worktree", "list")
    assert len(worktrees.splitlines()) == 1, "worktrees are removed"


def test_rev_same_revision_is_no_change(repo, tmp_path):
    result = cli("--rev", "HEAD..HEAD", "--content", "guide", "--out", str(tmp_path / "r"), cwd=repo)
    assert result.returncode == 0, result.stderr
    assert "No change" in (tmp_path / "r" / "summary.md").read_text()


def test_rev_outside_the_repository_is_a_usage_error(repo, tmp_path):
    result = cli("--rev", "HEAD..HEAD", "--content", str(MINI), "--out", str(tmp_path / "r"), cwd=repo)
    assert result.returncode == 2 and "DIFF-USAGE" in result.stderr


def test_rev_stopped_while_building_leaves_nothing_behind(repo, tmp_path):
    """SIGTERM while a revision is being built: the build and its workers
    stop, the worktree and the partial build are removed, exit 128 + 15."""
    import signal
    import time
    (repo / "guide" / "terms.md").write_text((repo / "guide" / "terms.md").read_text() + "\nOne more line.\n")
    git(repo, "commit", "-qam", "One more line")
    process = subprocess.Popen([sys.executable, str(repo / "build.py"), "diff", "--rev", "HEAD~1..HEAD", "--content",
                                "guide", "--out", str(tmp_path / "r")], cwd=repo, stderr=subprocess.PIPE, text=True)
    try:
        seen = ""
        for line in process.stderr:
            seen += line
            if "Loading and validating content" in line:
                break
        process.send_signal(signal.SIGTERM)
        rest, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 128 + signal.SIGTERM, seen + rest
    cache = repo / ".cache" / "builds"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        running = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _cmdline(p).count(str(cache))]
        if not running:
            break
        time.sleep(0.2)
    assert not running, "the build and its workers are stopped"
    assert not [p for p in cache.iterdir() if ".partial-" in p.name]
    assert len(git(repo, "worktree", "list").splitlines()) == 1


def _cmdline(proc: Path) -> str:
    try:
        return (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


@pytest.fixture(scope="module")
def with_web(tmp_path_factory):
    out = tmp_path_factory.mktemp("web-base")
    build(Project.at(ROOT, MINI, out), ["screen", "epub", "web"])
    return out


def test_the_web_edition_text_and_structure_are_compared(with_web, tmp_path):
    """A change only the website shows (here made by hand in its page) is
    reported by section and structure; one the EPUB shows too is not said twice."""
    head = tmp_path / "head"
    shutil.copytree(with_web, head)
    page = head / "mini-2-web" / "ch-two.html"
    page.write_text(page.read_text().replace("has data.", "has numbers.", 1).replace(
        "Tables and terms</h2>", "Tables and words</h2>", 1))
    manifest = json.loads((head / "manifest.json").read_text())
    for entry in manifest["outputs"]:
        if entry["variant"] == "web":
            entry["sha256"] = "0" * 64
    (head / "manifest.json").write_text(json.dumps(manifest))
    diff, _, _ = compare(with_web, head)
    web = [s for s in diff.sections if s.place.startswith("web edition:")]
    assert web and any("{+numbers." in s.diff for s in web), [(s.title, s.diff) for s in diff.sections]
    assert "text" in diff.changed and "structure" in diff.changed
    assert any(c.kind == "web headings" for c in diff.structure)


def test_a_source_edit_seen_in_epub_and_web_is_reported_once(with_web, tmp_path):
    guide = guide_with(tmp_path, ("two.md", "has data.", "has numbers."))
    head = tmp_path / "head"
    build(Project.at(ROOT, guide, head), ["screen", "epub", "web"])
    diff, _, _ = compare(with_web, head)
    changed = [s for s in diff.sections if s.status != "unchanged"]
    assert len(changed) == 1 and not changed[0].place.startswith("web edition:"), \
        [(s.title, s.diff) for s in changed]
