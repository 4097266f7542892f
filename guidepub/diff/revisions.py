"""Build a git revision of the guide, for `diff --rev BASE..HEAD`: check it
out in a worktree, build it with the same SOURCE_DATE_EPOCH as the other
side, and keep the build in a cache keyed by the revision's sources, so a
revision whose sources did not change is not built again."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from ..errors import GuideError

SOURCES = ("content", "templates", "styles", "guidepub", "build.py", "requirements.lock", "package-lock.json")


def _git(root: Path, *args: str) -> str:
    run = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        raise GuideError.one("DIFF-REV", f"git {' '.join(args)} failed: {run.stderr.strip()[:200]}",
                             hint="name revisions git knows, e.g. --rev main..HEAD")
    return run.stdout.strip()


def source_key(root: Path, rev: str) -> str:
    """A hash of the revision's sources: the same sources give the same key."""
    trees = [_git(root, "rev-parse", "--verify", "--quiet", f"{rev}:{path}") if _exists(root, rev, path) else "-"
             for path in SOURCES]
    return hashlib.sha256("\n".join(trees).encode()).hexdigest()[:20]


def _exists(root: Path, rev: str, path: str) -> bool:
    return subprocess.run(["git", "cat-file", "-e", f"{rev}:{path}"], cwd=root,
                          capture_output=True).returncode == 0


def build_revision(root: Path, rev: str, epoch: str, cache: Path) -> Path:
    """A build folder holding the default outputs of `rev`."""
    _git(root, "rev-parse", "--verify", f"{rev}^{{commit}}")
    folder = cache / f"{source_key(root, rev)}-{epoch}"
    if (folder / "manifest.json").is_file():
        return folder
    cache.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="guide-rev-"))
    worktree = scratch / "tree"
    staging = Path(tempfile.mkdtemp(prefix=folder.name + ".partial-", dir=cache))
    try:
        _git(root, "worktree", "add", "--detach", str(worktree), rev)
        if (root / "node_modules").is_dir() and not (worktree / "node_modules").exists():
            (worktree / "node_modules").symlink_to(root / "node_modules")
        env = dict(os.environ, SOURCE_DATE_EPOCH=epoch)
        try:
            run = subprocess.run([sys.executable, str(worktree / "build.py"), "-q", "--out", str(staging)],
                                 cwd=worktree, env=env, capture_output=True, text=True, timeout=1800)
        except subprocess.TimeoutExpired:
            raise GuideError.one("DIFF-REV", f"building {rev} took more than 30 minutes") from None
        if run.returncode != 0:
            raise GuideError.one("DIFF-REV", f"building {rev} failed: {run.stderr.strip()[-300:]}",
                                 hint=f"check out {rev} and run `python build.py` to see why")
        try:
            staging.rename(folder)
        except OSError:
            if not (folder / "manifest.json").is_file():   # another run did not finish it either
                raise
    finally:
        # Clean up without hiding the error that brought us here.
        subprocess.run(["git", "worktree", "remove", "--force", str(worktree)], cwd=root,
                       capture_output=True, timeout=120)
        subprocess.run(["git", "worktree", "prune"], cwd=root, capture_output=True, timeout=120)
        shutil.rmtree(scratch, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)
    return folder


def revision_epoch(root: Path, rev: str) -> str:
    """One SOURCE_DATE_EPOCH for both sides: the head revision's commit time."""
    return os.environ.get("SOURCE_DATE_EPOCH") or _git(root, "log", "-1", "--format=%ct", rev)
