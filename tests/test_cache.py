"""The build cache: unchanged inputs are not built again, and a stale file
is never served."""

from __future__ import annotations

import shutil

import pytest

from conftest import MINI, ROOT
from guidepub.pipeline import Project, build


@pytest.fixture
def guide(tmp_path):
    folder = tmp_path / "guide"
    shutil.copytree(MINI, folder)
    return folder


def stamps(built):
    return {name: (path.stat().st_mtime_ns, path.read_bytes()) for name, path in built.outputs.items()}


def test_a_second_build_with_no_change_reuses_every_output(guide, tmp_path):
    project = Project.at(ROOT, guide, tmp_path / "dist")
    first = build(project)
    assert first.reused == set()
    second = build(project)
    assert second.reused == {"screen", "epub"}
    assert stamps(second) == stamps(first)


def test_a_content_change_rebuilds(guide, tmp_path):
    project = Project.at(ROOT, guide, tmp_path / "dist")
    before = build(project).outputs["screen"].read_bytes()
    chapter = guide / "one.md"
    chapter.write_text(chapter.read_text().replace("Some text", "Other text"))
    second = build(project)
    assert second.reused == set()
    assert second.outputs["screen"].read_bytes() != before


def test_a_variant_layer_change_rebuilds_only_that_variant(guide, tmp_path):
    styles = tmp_path / "root" / "styles"
    for name in ("templates", "styles", "guidepub", "build.py"):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / "root" / name)
    (tmp_path / "root" / "node_modules").symlink_to(ROOT / "node_modules")
    project = Project.at(tmp_path / "root", guide, tmp_path / "dist")
    build(project, ["all"])
    layer = styles / "variants" / "large-print.css"
    layer.write_text(layer.read_text() + "\n.summary { font-weight: 700; }\n")
    again = build(project, ["all"])
    assert again.reused == {"screen", "print", "epub"}


def test_a_touched_output_or_another_date_is_rebuilt(guide, tmp_path, monkeypatch):
    project = Project.at(ROOT, guide, tmp_path / "dist")
    first = build(project)
    first.outputs["screen"].write_bytes(b"edited by hand")
    assert build(project).reused == {"epub"}
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1770000000")
    assert build(project).reused == set()


def test_no_cache_builds_everything(guide, tmp_path):
    project = Project.at(ROOT, guide, tmp_path / "dist")
    build(project)
    assert build(project, use_cache=False).reused == set()
