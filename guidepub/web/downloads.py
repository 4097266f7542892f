"""The "download this guide" block of the web edition: the other editions,
with format, file size and page count, as GOV.UK lists a publication's
attachments.

An edition is listed when this build made it, or when it is in the output
folder with a manifest entry that still matches its bytes (built earlier);
otherwise it is left out, so the block never holds a broken link. The site
carries a copy of each listed file (downloads/), so it works wherever it is
put, and its cache key covers what it lists (`site_keys`)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from ..manifest import describe, output_sha256
from ..model import Guide

KINDS = {"pdf": ("PDF", "application/pdf"), "epub": ("EPUB", "application/epub+zip")}
CODE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Download:
    variant: str
    title: str
    description: str
    format: str
    file: str              # its name in the output folder and in the site's downloads/
    bytes: int
    sha256: str
    pages: int | None      # a PDF's page count
    source: Path           # where its bytes are now (staged, when this build made it)

    @property
    def kind(self) -> str:
        return KINDS[self.format][0]

    @property
    def media_type(self) -> str:
        return KINDS[self.format][1]

    @property
    def size(self) -> str:
        """As GOV.UK writes it: 309 KB, 1.2 MB."""
        if self.bytes >= 1024 * 1024:
            return f"{self.bytes / (1024 * 1024):.1f} MB"
        return f"{max(1, round(self.bytes / 1024))} KB"

    def key(self) -> dict:
        return {"variant": self.variant, "file": self.file, "sha256": self.sha256, "bytes": self.bytes,
                "pages": self.pages, "title": self.title, "description": self.description}


def listing(out: Path, guide: Guide, fresh: dict[str, tuple[Path, Path]]) -> list[Download]:
    """The editions a site offers, in the order of styles/variants.yaml:
    `fresh` maps a variant built in this run to (final path, where its bytes
    are now); any other comes from `out` when its manifest entry matches."""
    try:
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        earlier = {e.get("variant"): e for e in manifest.get("outputs", [])}
    except (OSError, ValueError, AttributeError):
        earlier = {}
    found = []
    for variant in guide.variants:
        if variant.format not in KINDS:
            continue
        if variant.name in fresh:
            final, data = fresh[variant.name]
            entry = describe(data, variant.name, variant.format, final.name)
            source = data
        else:
            entry = earlier.get(variant.name)
            if not entry or entry.get("format") != variant.format or "/" in entry.get("file", "/"):
                continue
            source = out / entry["file"]
            if output_sha256(source) != entry.get("sha256"):
                continue
        found.append(Download(variant.name, variant.title, variant.description, variant.format, entry["file"],
                              entry["bytes"], entry["sha256"], entry.get("pages"), source))
    return found


def site_keys(keys: dict[str, str], guide: Guide, shown: list[Download]) -> dict[str, str]:
    """The build cache's keys, with each web edition's covering what its
    download block lists (and the node script that builds its search index,
    which is code too)."""
    listed = json.dumps([d.key() for d in shown], sort_keys=True).encode()
    changed = dict(keys)
    for variant in guide.variants:
        if variant.format == "web" and variant.name in keys:
            digest = hashlib.sha256(keys[variant.name].encode() + b"\0" + listed)
            changed[variant.name] = digest.hexdigest()
    return changed
