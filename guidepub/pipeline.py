"""The story of a build, in one function: load, render, write."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from .epub import build_epub
from .load import load
from .model import Guide
from .pdf import layout_book, page_starts, write_pdf
from .render import Renderer

FORMATS = ("pdf", "epub")


@dataclass(frozen=True)
class Project:
    """Where a build reads from and writes to."""

    root: Path
    content: Path
    out: Path

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def styles(self) -> Path:
        return self.root / "styles"

    @classmethod
    def at(cls, root: Path, content: Path | None = None, out: Path | None = None) -> "Project":
        root = root.resolve()
        return cls(root, (content or root / "content").resolve(), (out or root / "dist").resolve())


def output_name(slug: str, edition: int, fmt: str) -> str:
    return f"{slug}-{edition}.{fmt}"


@dataclass
class Built:
    guide: Guide
    outputs: list[Path]


def build(project: Project, formats: tuple[str, ...] = FORMATS,
          step: Callable[[str], None] = lambda _msg: None) -> Built:
    """Build the guide into project.out; return it with the files written.

    Raises GuideError for anything wrong with the input; outputs from an
    earlier build stay in place unless this one succeeds."""
    step("Loading and validating content")
    guide = load(project.content, project.styles / "brand.yaml")
    renderer = Renderer(guide, project.templates, project.styles)
    written = []
    meta = guide.meta
    # The PDF's layout is needed for the EPUB too: its page-list marks where
    # each page of the PDF edition begins.
    step("Laying out pages")
    document, logged = layout_book(guide, renderer)
    if "pdf" in formats:
        step("Writing PDF")
        target = project.out / output_name(meta.slug, meta.edition.number, "pdf")
        write_pdf(document, logged, target, guide.brand.font.family)
        written.append(target)
    if "epub" in formats:
        step("Writing EPUB")
        target = project.out / output_name(meta.slug, meta.edition.number, "epub")
        build_epub(guide, renderer, target, page_starts(document),
                   page_source=output_name(meta.slug, meta.edition.number, "pdf"))
        written.append(target)
    return Built(guide, written)
