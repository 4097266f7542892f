"""Reading the guide's files safely. A build opens only the files the guide
uses; each path is resolved and checked to lie inside its allowed folder
before it is opened, only regular files are read (never a device, a FIFO or
a folder), and every read stops at a size limit."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from ..errors import GuideError, Problem

MAX_FILE_BYTES = 2 * 1024 * 1024       # a chapter is tens of kilobytes; this is a mistake
MAX_IMAGE_BYTES = 10 * 1024 * 1024     # one figure file
MAX_GUIDE_BYTES = 64 * 1024 * 1024     # everything a guide's content folder gives a build

# What XML (and so every edition) cannot carry, or must not: C0 and C1-style
# control characters, and Unicode noncharacters (U+FDD0..U+FDEF, U+xFFFE, U+xFFFF).
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(f"{chr(p * 0x10000 + 0xFFFE)}{chr(p * 0x10000 + 0xFFFF)}"
                                           for p in range(17))
CONTROL = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f{_NONCHARACTERS}]")


class Refused(Exception):
    """A path the build will not open; `why` completes a sentence about it."""

    def __init__(self, why: str, hint: str):
        super().__init__(why)
        self.why, self.hint = why, hint


def inside(root: Path, rel: str) -> Path:
    """The real path of `rel`, a path written in the guide relative to `root`.
    Refused when it is absolute, leads out of `root` (`../`, a symlink out),
    uses Windows separators or names a URL. Nothing is opened."""
    text = str(rel)
    if not text.strip():
        raise Refused("is an empty path", "give the file's path inside the guide's folder")
    if "\\" in text or re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", text):
        raise Refused("is not a plain relative path", "write paths with '/', relative to the guide's "
                      "folder, e.g. figures/map.svg")
    if Path(text).is_absolute():
        raise Refused("is an absolute path", "write the path relative to the guide's folder, "
                      "and keep the file inside it")
    base = root.resolve()
    real = (base / text).resolve()
    if not real.is_relative_to(base):
        raise Refused("leads outside the guide's folder", f"keep the file inside {root} "
                      "(no '../', no symbolic link that points out)")
    return real


def kind_of(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_limited(path: Path, limit: int) -> bytes:
    """At most `limit` bytes of a regular file. Raises Refused for a special
    file or one over the limit, OSError when it cannot be opened. A FIFO is
    opened without blocking, and nothing past the limit is read."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(Path(path).resolve(), flags)     # callers have checked where it leads (inside())
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Refused(f"is {kind_of(info.st_mode)}", "list only ordinary files")
        if info.st_size > limit:
            raise Refused(f"is {info.st_size // 1024} KB, over the {limit // 1024} KB limit",
                          "split it, or check that it is the file you meant")
        os.set_blocking(fd, True)
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:               # it grew while we read it
            raise Refused(f"is over the {limit // 1024} KB limit", "split it, or check that it is the file you meant")
        return b"".join(chunks)
    finally:
        os.close(fd)


def decode(data: bytes, path: Path) -> str:
    """UTF-8 (a byte order mark is fine), any line endings, no control
    characters or noncharacters; else a CONTENT-ENCODING error with the place."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise GuideError(Problem("CONTENT-ENCODING", f"byte 0x{data[exc.start]:02x} is not UTF-8", path, line,
                                 "save the file as UTF-8 (most editors have this under 'Save as' or 'Encoding')",
                                 column))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    control = CONTROL.search(text)
    if control:
        line = text.count("\n", 0, control.start()) + 1
        column = control.start() - text.rfind("\n", 0, control.start())
        kind = "control character" if ord(control.group(0)) < 0x80 else "Unicode noncharacter"
        raise GuideError(Problem("CONTENT-ENCODING", f"{kind} U+{ord(control.group(0)):04X} in the text",
                                 path, line, "delete it; it is invisible in most editors", column))
    return text


def read_text(path: Path, missing_code: str = "CONTENT-MISSING", hint: str | None = None,
              limit: int = MAX_FILE_BYTES, shown: Path | None = None) -> str:
    """A text file of the guide, read safely (see `read_limited`) and decoded.
    Too large, special, unreadable or not UTF-8 is a GuideError naming the
    place (`shown`, the path as the guide names it, if given)."""
    data = _read(path, missing_code, hint, limit, shown or path)
    return decode(data, shown or path)


def _read(path: Path, missing_code: str, hint: str | None, limit: int, shown: Path) -> bytes:
    try:
        return read_limited(path, limit)
    except Refused as exc:
        code = "CONTENT-TOO-LARGE" if "limit" in exc.why else "CONTENT-PATH"
        raise GuideError.one(code, f"the file {exc.why}", shown, None, exc.hint)
    except OSError as exc:
        raise GuideError.one(missing_code, f"cannot read file ({exc.strerror})", shown, None, hint)


def user_cache(name: str) -> Path:
    """A folder of the user's own cache (XDG_CACHE_HOME, else ~/.cache) for
    what is worth keeping between builds: decoded fonts, fonts' character
    maps. Never a shared temporary folder, where another user could plant a
    file. What is kept there is named by the digest of what it was made
    from, and its form is checked when read back."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "guidepub" / name


def keep_file(path: Path, data: bytes) -> None:
    """Write a cache's file whole or not at all (a temporary file beside it,
    then renamed). A cache is a hint: a failure to write costs the next
    build only time, so it is not an error."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError:
        try:
            temporary.unlink(missing_ok=True)
        except OSError:
            pass
