"""Shared fixtures: real builds of the small fixture guide and of content/,
each made once per test session with the real WeasyPrint and ebooklib."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from guidepub.model import Guide
from guidepub.pipeline import Project, build

ROOT = Path(__file__).resolve().parent.parent
# Builds in tests are dated by the fixture's edition date, not by the commit
# that last touched it (tests/test_variants.py tests that fallback itself).
os.environ["SOURCE_DATE_EPOCH"] = "1768435200"      # 2026-01-15T00:00:00Z
MINI = ROOT / "tests" / "fixtures" / "mini"
BRAND = ROOT / "styles" / "brand.yaml"


@dataclass
class Built:
    guide: Guide
    pdf: Path                     # the screen PDF
    epub: Path
    outputs: dict[str, Path]
    manifest: Path


def _build(content: Path, out: Path) -> Built:
    built = build(Project.at(ROOT, content, out))
    return Built(built.guide, built.outputs["screen"], built.outputs["epub"], built.outputs, built.manifest)


@pytest.fixture(scope="session")
def mini(tmp_path_factory) -> Built:
    return _build(MINI, tmp_path_factory.mktemp("mini-dist"))


@pytest.fixture(scope="session")
def real(tmp_path_factory) -> Built:
    return _build(ROOT / "content", tmp_path_factory.mktemp("real-dist"))


@pytest.fixture
def guide_copy(tmp_path) -> Path:
    """A writable copy of the fixture guide, for tests that break it."""
    target = tmp_path / "guide"
    shutil.copytree(MINI, target)
    return target
