"""The build cache: an output whose inputs have not changed is not built
again. The key of a variant hashes everything that can change its bytes: the
content, templates, styles (its own variant layers only), fonts, the
pipeline's code, the toolchain's versions, the build date and the variant's
name. It is stored in dist/manifest.json beside the file's sha256, and an
output is reused only when both still match, so a stale file is never served.

The content part of the key comes from the files the guide uses (Guide.sources,
checked by load to lie inside the content folder), never from a walk of the
folder: a stray symlink or a huge file beside the guide is never read."""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from .load.files import MAX_IMAGE_BYTES, Refused, read_limited
from .manifest import output_sha256, toolchain
from .model import Guide, Variant

CODE = Path(__file__).resolve().parent


def _contents(path: Path) -> bytes:
    """A file's bytes for the key, read with the same limits as the build;
    one that has gone or turned into something else keys as unreadable."""
    try:
        return read_limited(path, MAX_IMAGE_BYTES)
    except (OSError, Refused):
        return b"\0unreadable\0"


def _hash_tree(digest, folder: Path, skip: set[Path] = frozenset()) -> None:
    """The project's own folders (templates, styles, code): regular files only."""
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()):
        if path in skip or "__pycache__" in path.parts:
            continue
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + _contents(path) + b"\0")


def _hash_sources(digest, guide: Guide, content: Path) -> None:
    root = content.resolve()
    for path in guide.sources:
        digest.update(str(path.relative_to(root)).encode() + b"\0" + _contents(path) + b"\0")


def input_keys(guide: Guide, content: Path, templates: Path, styles: Path) -> dict[str, str]:
    """variant name -> key of everything its output depends on."""
    layers = {(styles / css).resolve() for v in guide.variants for css in v.css}
    common = hashlib.sha256()
    _hash_sources(common, guide, content)
    for folder in (templates, CODE):
        _hash_tree(common, folder)
    _hash_tree(common, styles, skip=layers)
    # The brand: its file, and every file it names (fonts, mark, its own CSS).
    brand_file = guide.brand_path or styles / "brand.yaml"
    brand = guide.brand
    for name in [brand_file.name, *brand.font_files, brand.mark, *brand.css]:
        common.update(name.encode() + b"\0" + _contents((brand_file.parent / name).resolve()) + b"\0")
    common.update(json.dumps(toolchain(guide, styles), sort_keys=True).encode())
    common.update(sys.version.encode() + guide.build_date.isoformat().encode())
    keys = {v.name: _variant_key(common.copy(), v, styles, guide.page_source) for v in guide.variants}
    return with_check(keys, guide.last_check)


def with_check(keys: dict[str, str], last_check) -> dict[str, str]:
    """The keys with the record of the last `check` folded in (check/record.py):
    every edition's accessibility statement reports it, so it is an input."""
    if last_check is None:
        return keys
    return {name: hashlib.sha256(f"{key}\0{last_check.digest}".encode()).hexdigest() for name, key in keys.items()}


def _variant_key(digest, variant: Variant, styles: Path, page_source: Variant) -> str:
    digest.update(variant.model_dump_json().encode())
    # The EPUB's page list follows the page-source PDF's layout: its layers count too.
    layers = variant.css + (page_source.css if variant.format == "epub" else [])
    for css in layers:
        digest.update((styles / css).read_bytes())
    return digest.hexdigest()


def reusable(out: Path, keys: dict[str, str]) -> set[str]:
    """The variants whose output in `out` was built from exactly these inputs
    and has not been touched since."""
    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    found = set()
    for entry in manifest.get("outputs", []):
        file = out / entry.get("file", "")
        if (entry.get("inputs") == keys.get(entry.get("variant")) and entry.get("file")
                and output_sha256(file) == entry.get("sha256")):      # a file, or the web edition's folder
            found.add(entry["variant"])
    return found
