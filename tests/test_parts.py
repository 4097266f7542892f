"""The build part by part (guidepub/pdf/parts.py): an edit in one chapter
lays out that part alone and splices it with the parts the last build kept,
and the PDF and EPUB are the very files a clean build of the same sources
makes. A few parts changed (a heading renamed: its chapter and the
contents) are laid out again each alone, the same way. Anything else (a
part that changes its page count, many parts changed, a damaged store) is a
clean build, with the same result."""

from __future__ import annotations

import json
import shutil

import pytest

from conftest import MINI, ROOT
from guidepub.pdf import parts, plan
from guidepub.pipeline import Project, build

KEPT = "laid out again, the others kept"


@pytest.fixture
def guide(tmp_path):
    folder = tmp_path / "guide"
    shutil.copytree(MINI, folder)
    return folder


def made(content, out, variants=None):
    """(the outputs' bytes, the build's steps)."""
    steps: list[str] = []
    built = build(Project.at(ROOT, content, out), variants, step=steps.append)
    return {name: path.read_bytes() for name, path in built.outputs.items()}, steps


def clean(content, tmp_path):
    """What a clean build of these sources makes, in a folder of its own."""
    out = tmp_path / f"clean-{len(list(tmp_path.glob('clean-*')))}"
    files, steps = made(content, out)
    assert not any(KEPT in step for step in steps)
    return files


def edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_an_edit_in_one_chapter_lays_out_that_part_alone(guide, tmp_path):
    out = tmp_path / "dist"
    first, steps = made(guide, out)
    assert any("Laying out and writing" in step for step in steps)
    kept = json.loads((out / parts.STORE / "screen" / "parts.json").read_text(encoding="utf-8"))
    assert len(kept["pdfs"]) == len(kept["parts"]) > 4
    edit(guide / "one.md", "Some text with a note.", "Some other text with a note.")
    files, steps = made(guide, out)
    chapter = next(n for n, part in enumerate(kept["parts"]) if 'id="ch-one"' in part)
    assert [step for step in steps if KEPT in step] == [f"Screen and home printing: part {chapter + 1} {KEPT}"]
    assert files["screen"] != first["screen"]
    assert files == clean(guide, tmp_path)             # the PDF and the EPUB, byte for byte


def test_a_part_that_changes_its_page_count_is_a_clean_build(guide, tmp_path, monkeypatch):
    """Every later part moves: each is laid out again, once, with the plan
    the changed part's layout gives (not first with the old plan, found
    wrong, then again)."""
    out = tmp_path / "dist"
    made(guide, out)
    edit(guide / "one.md", "Some text with a note.", "Some text with a note.\n\n" +
         "\n\n".join(f"A paragraph {n} that makes the chapter longer than a page or two." for n in range(60)))
    passes, planned = [], parts._lay_out_planned
    monkeypatch.setattr(parts, "_lay_out_planned", lambda *args: passes.append(1) or planned(*args))
    files, steps = made(guide, out)
    assert not any(KEPT in step for step in steps)
    assert passes == [1]
    assert files == clean(guide, tmp_path)


def test_a_renamed_heading_lays_out_its_chapter_and_the_contents(guide, tmp_path):
    """The heading's id changes with its text: the contents refer to an
    element no kept part has, so they wait for the chapter's layout, and
    print its page."""
    out = tmp_path / "dist"
    made(guide, out)
    kept = json.loads((out / parts.STORE / "screen" / "parts.json").read_text(encoding="utf-8"))
    number = {ident: n + 1 for n, part in enumerate(kept["parts"]) for ident in ("toc", "ch-one", "ch-two")
              if f'id="{ident}"' in part}
    edit(guide / "one.md", "Some text with a note.", "Some other text with a note.")
    two = (guide / "two.md").read_text(encoding="utf-8")
    (guide / "two.md").write_text(two.replace("## ", "## New ", 1), encoding="utf-8")
    files, steps = made(guide, out)
    laid = sorted(number.values())
    assert [step for step in steps if KEPT in step] == [
        f"Screen and home printing: parts {laid[0]}, {laid[1]} and {laid[2]} {KEPT}"]
    assert files == clean(guide, tmp_path)


def test_many_parts_changed_is_a_clean_build(guide, tmp_path, monkeypatch):
    out = tmp_path / "dist"
    made(guide, out)
    monkeypatch.setattr(parts, "MAX_CHANGED", 1)
    edit(guide / "one.md", "Some text with a note.", "Some other text with a note.")
    two = (guide / "two.md").read_text(encoding="utf-8")
    (guide / "two.md").write_text(two.replace("## ", "## New ", 1), encoding="utf-8")
    files, steps = made(guide, out)
    assert not any(KEPT in step for step in steps)
    assert files == clean(guide, tmp_path)


@pytest.mark.parametrize("damage", ["part", "record"])
def test_a_damaged_store_is_a_clean_build(guide, tmp_path, damage):
    out = tmp_path / "dist"
    made(guide, out)
    store = out / parts.STORE / "screen"
    if damage == "part":
        victim = sorted(store.glob("*.pdf"))[0]
        victim.write_bytes(victim.read_bytes()[:-100])
    else:
        (store / "parts.json").write_text("{not json", encoding="utf-8")
    edit(guide / "one.md", "Some text with a note.", "Some other text with a note.")
    files, steps = made(guide, out)
    assert not any(KEPT in step for step in steps)
    assert files == clean(guide, tmp_path)


def test_a_print_ready_edition_is_laid_out_whole(guide, tmp_path):
    out = tmp_path / "dist"
    made(guide, out, ["print"])
    assert not (out / parts.STORE / "print").exists()


def test_no_cache_lays_out_every_part(guide, tmp_path):
    out = tmp_path / "dist"
    made(guide, out)
    edit(guide / "one.md", "Some text with a note.", "Some other text with a note.")
    steps: list[str] = []
    build(Project.at(ROOT, guide, out), None, step=steps.append, use_cache=False)
    assert not any(KEPT in step for step in steps)
    files, steps = made(guide, out)
    assert not any(KEPT in step for step in steps) and any("unchanged inputs" in step for step in steps)


def test_an_epub_alone_takes_its_page_list_from_the_kept_parts(guide, tmp_path):
    out = tmp_path / "dist"
    first, _ = made(guide, out)
    (out / "manifest.json").unlink()                     # else the build cache keeps the EPUB as it is
    files, steps = made(guide, out, ["epub"])
    assert not any("pages for the EPUB's page list" in step for step in steps)
    assert files["epub"] == first["epub"]
    edit(guide / "one.md", "Some text with a note.", "Some other text with a note.")
    files, steps = made(guide, out, ["epub"])            # a part changed: the page source is laid out
    assert any("pages for the EPUB's page list" in step for step in steps)


def test_a_clean_build_with_a_plan_lays_out_part_by_part_into_the_same_file(guide, tmp_path, monkeypatch):
    """No plan: the whole book is laid out once. With the plan that build
    kept: each part alone, into the same bytes. A plan that does not hold (a
    part's first page wrong) is found out, and the parts are laid out again
    with the plan that layout gave; a plan without a part's page gives way
    to the whole book's layout."""
    monkeypatch.setattr(plan, "PLANS", {})
    monkeypatch.setattr(plan, "STORE", tmp_path / "plans")
    used, original = [], parts._from_plan

    def recording(*args):
        found = original(*args)
        used.append(found is not None)
        return found
    monkeypatch.setattr(parts, "_from_plan", recording)
    whole, _ = made(guide, tmp_path / "a")
    by_parts, _ = made(guide, tmp_path / "b")
    assert used == [False, True]
    assert by_parts == whole
    key = next(k for k in plan.PLANS if k[1:] == ("screen", "parts"))
    right = plan.PLANS[key]
    plan.keep(key, dict(right, **{"ch-two": right["ch-two"] + 1}))     # as after an edit that added a page
    laid, planned = [], parts._lay_out_planned
    monkeypatch.setattr(parts, "_lay_out_planned", lambda *args: laid.append(1) or planned(*args))
    again, _ = made(guide, tmp_path / "c")
    assert used[2:] == [True] and len(laid) == 2          # laid out with the plan that layout gave
    assert again == whole
    plan.keep(key, {k: v for k, v in right.items() if k != "ch-two"})   # no page for a part: the whole book
    again, _ = made(guide, tmp_path / "d")
    assert used[3:] == [False]
    assert again == whole


def test_parts_laid_out_in_worker_processes_give_the_same_file(guide, tmp_path, monkeypatch):
    """A clean build with a plan, its parts laid out in this process and a
    worker started ahead (on any machine: the cost model is told the guide
    is long), makes the file the build in one process makes; no worker
    outlives it, used or not."""
    import os

    from guidepub import pipeline
    used, original = [], parts._from_plan

    def recording(*args):
        used.append(args[5])                               # processes
        return original(*args)
    monkeypatch.setattr(parts, "_from_plan", recording)
    made(guide, tmp_path / "a")                           # keeps the plan
    one, _ = made(guide, tmp_path / "b")
    monkeypatch.setattr(pipeline, "PARTS_WORTH", 0.0)
    monkeypatch.setattr(pipeline, "available_cores", lambda: 2)
    monkeypatch.setattr(parts, "HEAD_START", 0)           # the worker gets half, small as the guide is
    here, laying = [], parts.lay_out                      # (a worker imports the module afresh: not recorded)
    monkeypatch.setattr(parts, "lay_out", lambda book, index, fragment: here.append(index) or
                        laying(book, index, fragment))
    two, _ = made(guide, tmp_path / "c")
    assert used[1:] == [1, 2]
    assert two == one
    parts_count = len(json.loads((tmp_path / "c" / parts.STORE / "screen" / "parts.json").read_text())["parts"])
    assert 0 < len(here) < parts_count            # this process laid out its share, a worker the rest
    monkeypatch.setattr(plan, "PLANS", {})                # no plan: the workers started ahead go unused
    monkeypatch.setattr(plan, "STORE", tmp_path / "no-plans")
    whole, _ = made(guide, tmp_path / "d")
    assert whole == one
    # Python's own resource tracker (one for the interpreter, which ends with it) may stay
    children = [open(f"/proc/{p}/cmdline").read() for p in os.listdir("/proc") if p.isdigit()
                and open(f"/proc/{p}/stat").read().split()[3] == str(os.getpid())]
    assert [c for c in children if "resource_tracker" not in c] == []


def test_merged_fonts_are_kept_and_checked(guide, tmp_path, monkeypatch):
    """Merging the parts' font subsets (pdf/subsets.py) is done again only
    when a part's glyphs change: an edit that keeps them uses the merged
    programs the last build kept; a kept program that does not match its
    digest is made again. The file is a clean build's either way."""
    from guidepub.pdf import subsets
    out = tmp_path / "dist"
    made(guide, out)
    store = out / parts.STORE / "screen"
    kept = json.loads((store / "parts.json").read_text(encoding="utf-8"))["fonts"]
    assert kept and all((store / f"{digest}.ttf").is_file() for digest in kept.values())
    merges, merge = [], subsets.merged_program
    monkeypatch.setattr(subsets, "merged_program", lambda data: merges.append(1) or merge(data))
    edit(guide / "one.md", "Some text with a note.", "Some note with a text.")     # the same letters
    files, steps = made(guide, out)
    assert any(KEPT in step for step in steps) and merges == []
    assert files == clean(guide, tmp_path)
    merges.clear()                                       # the clean build merged its own
    for path in store.glob("*.ttf"):
        path.write_bytes(path.read_bytes()[:-10] + b"0123456789")       # planted or damaged
    edit(guide / "one.md", "Some note with a text.", "Some text with a note.")
    files, steps = made(guide, out)
    assert any(KEPT in step for step in steps) and len(merges) == len(kept)      # made again, not trusted
    assert files == clean(guide, tmp_path)
    assert sorted(p.stem for p in store.glob("*.ttf")) == sorted(
        json.loads((store / "parts.json").read_text(encoding="utf-8"))["fonts"].values())


def test_a_build_spaces_garbage_collections_and_puts_them_back(guide, tmp_path):
    import gc
    from guidepub import workers
    before = gc.get_threshold()
    seen = []
    build(Project.at(ROOT, guide, tmp_path / "dist"), step=lambda _: seen.append(gc.get_threshold()))
    assert seen and all(threshold == workers.GC_THRESHOLD for threshold in seen)
    assert gc.get_threshold() == before != workers.GC_THRESHOLD
