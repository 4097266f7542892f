"""The story of a build, in one function: load, render, write."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .cache import input_keys, reusable
from .epub import build_epub
from .errors import GuideError
from .load import load
from .manifest import manifest_text
from .model import Guide, Variant
from .outputs import Staging, atomic_path, build_lock
from .pdf import layout_book, page_starts, write_pdf
from .render import Renderer

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


def output_name(slug: str, edition: int, variant: str, fmt: str) -> str:
    return f"{slug}-{edition}-{variant}.{fmt}"


@dataclass
class Built:
    guide: Guide
    outputs: dict[str, Path]          # variant name -> file
    manifest: Path
    reused: set[str] = field(default_factory=set)    # variants whose inputs had not changed


def choose(guide: Guide, names: list[str] | None) -> list[Variant]:
    """The variants to build: the named ones ('all' for every one), else the defaults."""
    if not names:
        return [v for v in guide.variants if v.default]
    if "all" in names:
        return list(guide.variants)
    known = {v.name for v in guide.variants}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise GuideError.one("VARIANT-UNKNOWN", f"no variant called {', '.join(repr(n) for n in unknown)}",
                             hint=f"use one of: {', '.join(sorted(known))}, or all; `--list` shows them")
    return [v for v in guide.variants if v.name in names]


def build(project: Project, variants: list[str] | None = None,
          step: Callable[[str], None] = lambda _msg: None, use_cache: bool = True) -> Built:
    """Build the chosen variants of the guide into project.out; return them.

    Raises GuideError for anything wrong with the input; outputs from an
    earlier build stay in place unless this one succeeds."""
    step("Loading and validating content")
    guide = load(project.content, project.styles / "brand.yaml")
    chosen = choose(guide, variants)
    renderer = Renderer(guide, project.templates, project.styles)
    meta = guide.meta
    outputs: dict[str, Path] = {}

    def target(variant: Variant) -> Path:
        return project.out / output_name(meta.slug, meta.edition.number, variant.name, variant.format)

    keys = input_keys(guide, project.content, project.templates, project.styles)
    with build_lock(project.out):
        cached = reusable(project.out, keys) if use_cache else set()
        for variant in chosen:
            if variant.name in cached:
                step(f"{variant.title}: unchanged inputs, kept {target(variant).name}")
                outputs[variant.name] = target(variant)
        if all(v.name in cached for v in chosen):
            return Built(guide, outputs, project.out / "manifest.json", reused=set(cached) & set(outputs))
        stage = Staging(project.out)
        try:
            # The EPUB's page list marks where each page of the page-source PDF
            # begins, so that PDF is laid out whenever the EPUB is built.
            source = guide.page_source
            source_document = None
            for variant in chosen:
                if variant.format == "pdf" and variant.name not in cached:
                    step(f"Laying out and writing {variant.title} PDF")
                    document, logged = layout_book(guide, renderer, variant)
                    write_pdf(document, logged, stage.path(target(variant)), guide.brand.font.family)
                    outputs[variant.name] = target(variant)
                    if variant == source:
                        source_document = document
            for variant in chosen:
                if variant.format == "epub" and variant.name not in cached:
                    if source_document is None:
                        step(f"Laying out {source.title} pages for the EPUB's page list")
                        source_document, _ = layout_book(guide, renderer, source)
                    step("Writing EPUB")
                    build_epub(guide, renderer, stage.path(target(variant)), page_starts(source_document),
                               page_source=target(source).name)
                    outputs[variant.name] = target(variant)
            manifest = project.out / "manifest.json"
            fresh = {n: (p, stage.staged.get(p, p)) for n, p in outputs.items()}
            text = manifest_text(project.out, guide, fresh, project.root, project.styles, keys)
            with atomic_path(stage.path(manifest)) as tmp:
                tmp.write_text(text, encoding="utf-8")
            stage.commit()
        finally:
            stage.discard()
    return Built(guide, outputs, manifest, reused=set(cached) & set(outputs))
