"""What changed in the sources between two git revisions: the cause beside
the effect. `styles/brand.yaml: colours.primary: #005EB8 → #0B5CAD`, a
stylesheet's changed declarations, a figure's new file, a chapter's lines."""

from __future__ import annotations

import difflib
import subprocess
from pathlib import Path

import yaml

from .css import declarations_diff, mapping_diff
from .model import SourceChange

IMAGES = (".svg", ".png", ".jpg", ".jpeg", ".gif", ".webp")
MAX_BYTES = 2_000_000            # a source file larger than this is described by size only
DETAILS = 12


def _git(root: Path, *args: str, binary: bool = False):
    run = subprocess.run(["git", *args], cwd=root, capture_output=True, timeout=120)
    if run.returncode != 0:
        return None
    return run.stdout if binary else run.stdout.decode("utf-8", errors="replace")


def _blob(root: Path, rev: str, path: str) -> bytes | None:
    size = _git(root, "cat-file", "-s", f"{rev}:{path}")
    if size is None or not size.strip().isdigit() or int(size) > MAX_BYTES:
        return None
    return _git(root, "show", f"{rev}:{path}", binary=True)


def source_changes(root: Path, base: str, head: str, paths: list[str]) -> list[SourceChange]:
    """Every file under `paths` that differs between the two commits, with
    what changed in it."""
    listing = _git(root, "diff", "--name-status", "-M", "--no-color", "-z", base, head, "--", *paths)
    if not listing:
        return []
    fields = listing.split("\0")
    changes = []
    i = 0
    while i < len(fields) and fields[i]:
        status = fields[i]
        if status.startswith(("R", "C")):
            old, new = fields[i + 1], fields[i + 2]
            i += 3
        else:
            old = new = fields[i + 1]
            i += 2
        kind = {"A": "added", "D": "removed", "R": "renamed", "C": "added"}.get(status[0], "changed")
        change = SourceChange(new, kind, old if kind == "renamed" else "")
        change.details = _details(root, base, head, old, new, kind)
        changes.append(change)
    return changes


def _details(root: Path, base: str, head: str, old: str, new: str, kind: str) -> list[str]:
    a = _blob(root, base, old) if kind != "added" else b""
    b = _blob(root, head, new) if kind != "removed" else b""
    if a is None or b is None:
        return ["a large file"]
    suffix = Path(new).suffix.lower()
    if suffix in IMAGES:
        if kind == "added":
            return [f"new image ({len(b):,} bytes)"]
        if kind == "removed":
            return [f"image removed ({len(a):,} bytes)"]
        return ["image changed" + (f" ({len(a):,} → {len(b):,} bytes)" if a != b else " (same bytes)")]
    text_a, text_b = a.decode("utf-8", errors="replace"), b.decode("utf-8", errors="replace")
    if suffix in (".yaml", ".yml") and kind == "changed":
        found = _yaml_diff(text_a, text_b)
        if found is not None:
            return found or ["comments or layout only"]
    if suffix == ".css" and kind == "changed":
        return declarations_diff(text_a, text_b, limit=DETAILS) or ["comments or layout only"]
    return _line_summary(text_a, text_b, kind)


def _flatten(value, prefix: str = "") -> dict[str, str]:
    if isinstance(value, dict):
        flat: dict[str, str] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    if isinstance(value, list) and any(isinstance(x, (dict, list)) for x in value):
        flat = {}
        for n, item in enumerate(value):
            flat.update(_flatten(item, f"{prefix}[{n}]"))
        return flat
    return {prefix: ", ".join(map(str, value)) if isinstance(value, list) else str(value)}


def _yaml_diff(a: str, b: str) -> list[str] | None:
    try:
        old, new = _flatten(yaml.safe_load(a) or {}), _flatten(yaml.safe_load(b) or {})
    except yaml.YAMLError:
        return None
    return mapping_diff(old, new, DETAILS, _short)


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _line_summary(a: str, b: str, kind: str) -> list[str]:
    old, new = a.splitlines(), b.splitlines()
    if kind == "added":
        return [f"new file, {len(new)} lines"]
    if kind == "removed":
        return [f"removed, {len(old)} lines"]
    plus = minus = 0
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if tag != "equal":
            minus += i2 - i1
            plus += j2 - j1
    return [f"+{plus} −{minus} lines"] if plus or minus else ["renamed only"]
