"""What a build part by part keeps for the next (pdf/parts.py), in
`<out>/.guidepub-parts/<variant>/`: each part's PDF and each merged font
program under its digest, and parts.json (the HTML each part was laid out
from, the plan, each part's first page, page count and anchors, and a key of
everything else the layouts read). A hint, never trusted: read back only when
its key matches, every file checked against its digest; a failure to write
it costs the next build only time."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from ..load.files import MAX_IMAGE_BYTES, Refused, keep_file, read_limited

STORE = ".guidepub-parts"
FORMAT = 1
LOCAL = re.compile(r'(?:src|href|data)="(?![a-z][a-z0-9+.-]*:|#)([^"]+)"')
FILE_URL = re.compile(r"""url\(\s*['"]?(file://[^'")]+)""")


def _digest(*items) -> str:
    digest = hashlib.sha256()
    for item in items:
        digest.update(item if isinstance(item, bytes) else str(item).encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _file_bytes(path: Path, source) -> bytes:
    if path in source.served:
        return source.served[path][0]
    try:
        return read_limited(path, MAX_IMAGE_BYTES)
    except (OSError, Refused):
        return b"\0unreadable\0"


def key(source, variant: str, head: str, tail: str) -> str:
    """Everything a part's layout reads beside its own HTML: the book's
    HTML around the parts, its stylesheet and the files it names (fonts),
    the figures, the code and the toolchain."""
    import weasyprint
    import pydyf
    import pikepdf
    from ..cache import CODE, _hash_tree
    code = hashlib.sha256()
    _hash_tree(code, CODE)
    files = [_file_bytes(Path(url2pathname(unquote(urlsplit(url).path))).resolve(), source)
             for url in sorted(set(FILE_URL.findall(source.css)))]
    served = [(str(path), hashlib.sha256(data).hexdigest()) for path, (data, _) in sorted(source.served.items())]
    return _digest(FORMAT, variant, head, tail, source.css, *files, served, source.root, sorted(map(str, source.allowed)), code.hexdigest(),
                   weasyprint.__version__, pydyf.__version__, pikepdf.__version__)


def part_key(part: str, source) -> str:
    """A part's HTML as rendered, and the files it names (images)."""
    named = sorted({(source.root / unquote(ref)).resolve() for ref in LOCAL.findall(part)})
    return _digest(part, *[_file_bytes(path, source) for path in named])


def recall(folder: Path, key: str, count: int) -> dict | None:
    """What the last build kept, if it was made with this key and every
    part's PDF is there, unchanged; else None (a clean build)."""
    try:
        kept = json.loads((folder / "parts.json").read_text(encoding="utf-8"))
        if kept.get("format") != FORMAT or kept.get("key") != key or len(kept.get("sources", ())) != count:
            return None
        pdfs = []
        for digest in kept["pdfs"]:
            data = (folder / f"{digest}.pdf").read_bytes()
            if hashlib.sha256(data).hexdigest() != digest:
                return None
            pdfs.append(data)
        if not all(len(kept[name]) == count for name in ("parts", "starts", "counts", "anchors")):
            return None
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None
    kept["pdfs"] = pdfs
    return kept


def fonts(folder: Path) -> dict[str, bytes]:
    """The merged font programs the last build kept (subsets.py), each checked against its digest."""
    fonts = {}
    try:
        listed = json.loads((folder / "parts.json").read_text(encoding="utf-8")).get("fonts", {})
        for key, digest in listed.items():
            try:
                data = (folder / f"{digest}.ttf").read_bytes()
            except OSError:
                continue
            if hashlib.sha256(data).hexdigest() == digest:
                fonts[str(key)] = data
    except (OSError, ValueError, AttributeError, TypeError):
        pass
    return fonts


def keep(folder: Path, state: dict, pdfs: list[bytes], fonts: dict[str, bytes]) -> None:
    """Keep the parts for the next build (a hint: a failure to write loses
    only speed). Each PDF and merged font under its digest; parts.json
    last, replaced whole; files the next build will not read removed."""
    digests = [hashlib.sha256(data).hexdigest() for data in pdfs]
    programs = {key: hashlib.sha256(data).hexdigest() for key, data in fonts.items()}
    files = [(f"{digest}.pdf", data) for digest, data in zip(digests, pdfs)]
    files += [(f"{programs[key]}.ttf", data) for key, data in fonts.items()]
    for name, data in files:
        if not (folder / name).is_file():
            keep_file(folder / name, data)
    keep_file(folder / "parts.json", json.dumps({**state, "pdfs": digests, "fonts": programs}).encode())
    try:
        for old in folder.iterdir():
            if (old.suffix == ".pdf" and old.stem not in digests
                    or old.suffix == ".ttf" and old.stem not in programs.values()):
                old.unlink(missing_ok=True)
    except OSError:
        pass
