"""Writing outputs safely: a failed or interrupted build never destroys the
last good file, and two builds into one folder take turns."""

from __future__ import annotations

import fcntl
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from .errors import GuideError


def _cannot_write(folder: Path, exc: OSError) -> GuideError:
    return GuideError.one("OUTPUT-WRITE", f"cannot write to {folder} ({exc.strerror})", folder, None,
                          "choose another --out folder, or make this one writable")


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; move it into place only if the
    block finishes without an exception."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise _cannot_write(target.parent, exc) from exc
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def final_path(path: Path) -> Path:
    """The output a staged path stands for (`.x.pdf.staged` -> `x.pdf`), for messages."""
    name = path.name
    if name.startswith(".") and name.endswith(".staged"):
        return path.with_name(name[1:-len(".staged")])
    return path


class Staging:
    """Outputs of one build, written under hidden names and moved into place
    together only when every one of them is ready: a build that fails or is
    killed leaves the earlier outputs and their manifest as they were."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.staged: dict[Path, Path] = {}          # final path -> staged path
        for stale in folder.glob(".*.staged"):      # left by a build that was killed
            stale.unlink()

    def path(self, final: Path) -> Path:
        staged = final.with_name(f".{final.name}.staged")
        self.staged[final] = staged
        return staged

    def commit(self) -> None:
        for final, staged in self.staged.items():
            os.replace(staged, final)
        self.staged.clear()

    def discard(self) -> None:
        for staged in self.staged.values():
            staged.unlink(missing_ok=True)


@contextmanager
def build_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on the output folder for a whole build, so a
    second build into it waits instead of mixing its files and manifest with
    the first's. The operating system releases it if the build is killed."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle = open(folder / ".build.lock", "w")
    except OSError as exc:
        raise _cannot_write(folder, exc) from exc
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
