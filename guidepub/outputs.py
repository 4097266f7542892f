"""Writing outputs safely: a failed or interrupted build never destroys the
last good file, and two builds into one folder take turns."""

from __future__ import annotations

import errno
import fcntl
import glob
import os
import shutil
import tempfile
from contextlib import contextmanager, suppress
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from . import interrupt
from .errors import GuideError

MANIFEST = "manifest.json"      # moved into place last: its presence marks a finished commit
BACKUP = ".backup"              # `.x.pdf.backup`: an old output moved aside during a commit
FULL = (errno.ENOSPC, errno.EFBIG, getattr(errno, "EDQUOT", errno.ENOSPC))


def _cannot_write(folder: Path, exc: OSError) -> GuideError:
    return GuideError.one("OUTPUT-WRITE", f"cannot write to {folder} ({exc.strerror or exc})", folder, None,
                          "choose another --out folder, or make this one writable")


def cannot_write_file(path: Path, exc: OSError) -> GuideError:
    """OUTPUT-WRITE for an output that could not be written (a full disk, a
    file size limit, no permission), with the system's reason."""
    hint = ("free some space on the disk (or raise the file size limit), or choose another --out folder"
            if exc.errno in FULL else "make the folder writable, or choose another --out folder")
    return GuideError.one("OUTPUT-WRITE", f"cannot write {path.name}: {exc.strerror or exc}", path, None,
                          f"{hint}; no output was replaced")


@contextmanager
def disk_errors(path: Path) -> Iterator[None]:
    """Report a full disk or a file size limit met anywhere in the block
    (WeasyPrint writes temporary files while it lays out) as OUTPUT-WRITE
    for `path`, the output being made."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in FULL + (errno.EROFS,):
            raise
        raise cannot_write_file(path, exc) from exc


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; move it into place only if the
    block finishes without an exception. An OSError while writing (a full
    disk, a file size limit) becomes OUTPUT-WRITE."""
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
    except OSError as exc:
        raise cannot_write_file(final_path(target), exc) from exc
    finally:
        with suppress(OSError):
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
        try:
            recover(folder)
        except OSError as exc:
            raise _cannot_write(folder, exc) from exc

    def path(self, final: Path) -> Path:
        staged = final.with_name(f".{final.name}.staged")
        self.staged[final] = staged
        return staged

    def commit(self) -> None:
        """Move every staged file into place, all or none: check every final
        path first, move the old files aside, move the new ones in (the
        manifest last), and put the old ones back if any move fails."""
        moves = sorted(self.staged.items(), key=lambda item: item[0].name == MANIFEST)
        for final, staged in moves:
            if final.is_dir() and not final.is_symlink() and not staged.is_dir():
                raise GuideError.one("OUTPUT-WRITE", f"there is a folder where the file {final.name} should go",
                                     final, None, "move or delete that folder, or choose another --out folder; "
                                     "no output was replaced")
        with interrupt.held():              # a signal now takes effect once the moves are done
            aside: list[tuple[Path, Path]] = []
            placed: list[Path] = []
            final = self.folder
            try:
                for final, _ in reversed(moves):            # the manifest first
                    if os.path.lexists(final):
                        backup = final.with_name(f".{final.name}{BACKUP}")
                        os.replace(final, backup)
                        aside.append((final, backup))
                for final, staged in moves:
                    os.replace(staged, final)
                    placed.append(final)
            except OSError as exc:
                _undo(aside, placed)
                raise cannot_write_file(final, exc) from exc
            interrupt.note_written()
            self.staged.clear()
            for _, backup in reversed(aside):              # the manifest's last
                with suppress(OSError):
                    remove(backup)

    def discard(self) -> None:
        """Remove what is still staged, with the temporary files made from
        its name (ours, `..x.pdf.staged.XXXX.tmp`, and pikepdf's) by a worker
        that was stopped while writing."""
        for staged in self.staged.values():
            with suppress(OSError):
                remove(staged)
                for tmp in staged.parent.glob(f"*{glob.escape(staged.name)}*"):
                    tmp.unlink(missing_ok=True)
        self.staged.clear()


def remove(path: Path) -> None:
    """Delete an output, staged file or backup: a file, or a folder (the web edition)."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _undo(aside: list[tuple[Path, Path]], placed: list[Path]) -> None:
    kept = {final for final, _ in aside}
    for final in placed:
        if final not in kept or final.is_dir():        # a folder cannot be replaced by a rename
            with suppress(OSError):
                remove(final)
    for final, backup in aside:
        with suppress(OSError):
            os.replace(backup, final)


def recover(folder: Path) -> None:
    """Clear what a build killed outright (SIGKILL, a power cut) left behind:
    staged files and their temporary files, and the old outputs a commit had
    moved aside: put back if it had not moved the new manifest in, else
    deleted. Runs under the lock, so no other build is writing."""
    finished = os.path.lexists(folder / MANIFEST)
    for backup in sorted(folder.glob(f".*{BACKUP}"), key=lambda p: p.name == f".{MANIFEST}{BACKUP}"):
        if finished:
            remove(backup)
        else:
            final = backup.with_name(backup.name[1:-len(BACKUP)])
            if final.is_dir() and not final.is_symlink():     # a new folder output moved in: not finished
                remove(final)
            os.replace(backup, final)
    for stale in folder.glob(".*.staged*"):
        remove(stale)


def _owner(fd: int) -> str:
    """Who holds the lock, from what it wrote into the lock file."""
    with suppress(OSError, ValueError):
        pid, started = os.pread(fd, 200, 0).decode().split()[:2]
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return f"build PID {pid} (started {started}) has exited; a process it started still holds it"
        except PermissionError:
            pass
        return f"held by build PID {pid}, started {started}"
    return "held by another build"


@contextmanager
def build_lock(folder: Path, say: Callable[[str], None] = lambda _msg: None) -> Iterator[None]:
    """Hold an exclusive lock on the output folder for a whole build, so a
    second build into it waits (saying which PID it waits for) instead of
    mixing its files and manifest with the first's. The lock file names its
    owner. The operating system releases the lock when the build ends, even
    if it is killed: no other process holds the file open (workers are
    spawned, not forked, and the file is not inherited across exec)."""
    lock = folder / ".build.lock"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise _cannot_write(folder, exc) from exc
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"Waiting for {lock}: {_owner(fd)}")
            fcntl.flock(fd, fcntl.LOCK_EX)
        with suppress(OSError):         # naming the owner is a courtesy: a full disk must not stop the build
            started = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()} {started}\n".encode(), 0)
        try:
            yield
        finally:
            with suppress(OSError):
                os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
