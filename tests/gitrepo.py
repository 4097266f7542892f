"""A throwaway git repository holding the project's build (code, templates,
styles, lock files, Makefile, scripts) and the fixture guide in guide/, for
tests of `diff --rev` and of the pull-request job. node_modules and .venv
are links to the real ones; nothing in them is changed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from conftest import MINI, ROOT

PARTS = ("build.py", "guidepub", "templates", "styles", "requirements.lock", "package.json", "package-lock.json",
         "Makefile", "scripts")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True, timeout=120,
                          env=dict(os.environ, GIT_AUTHOR_NAME="T", GIT_AUTHOR_EMAIL="t@example.org",
                                   GIT_COMMITTER_NAME="T", GIT_COMMITTER_EMAIL="t@example.org")).stdout.strip()


def make_repo(path: Path) -> Path:
    path.mkdir(parents=True)
    for name in PARTS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, path / name)
    shutil.copytree(MINI, path / "guide")
    (path / "node_modules").symlink_to(ROOT / "node_modules")
    (path / ".venv").symlink_to(ROOT / ".venv")
    (path / ".gitignore").write_text("/.venv\n/node_modules\n/.cache/\n/dist/\n__pycache__/\n")
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "The mini guide")
    return path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
