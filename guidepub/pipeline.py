"""The story of a build, in one function: load, render, write."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .cache import input_keys, reusable, with_check
from .check.record import last_check
from .errors import GuideError
from .load import load
from .manifest import manifest_text
from .model import Guide, Variant
from .outputs import Staging, atomic_path, build_lock, disk_errors, final_path
from . import workers as worker_pool

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
    if fmt == "web":            # a folder: the static site
        return f"{slug}-{edition}-{variant}"
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


# The cost model that spreads the layouts over processes (seconds on one core
# of this project's machine; the choices depend only on their ratios): a PDF
# variant is laid out and written in about PDF_FIXED + PDF_PER_WORD x the
# guide's words (the real guide, 16,000 words: 4 to 5 s a variant laid out
# once; pdf/flow.py may lay it out again, which only makes a worker's start
# matter less); the EPUB adds a twentieth to its page source's layout;
# laying the page source out for the EPUB's page list alone, without writing
# it, is two thirds of a PDF; and a worker takes WORKER_START to start
# (Python, WeasyPrint, the guide unpickled), on a core of its own.
PDF_FIXED = 0.5
PDF_PER_WORD = 0.00024
COST_EPUB = 0.05                # in PDFs
COST_PAGE_LIST = 0.65           # in PDFs
WORKER_START = 0.7
PARTS_WORTH = 4 * WORKER_START  # a PDF's expected seconds above which its parts are laid out in workers


@dataclass
class Job:
    """Outputs one process builds. The EPUB goes with the page-source PDF:
    its page list needs that PDF's layout."""

    pdfs: list[Variant]
    epub: Variant | None
    paths: dict[str, Path]              # variant name -> where to write it (staged)
    page_source: str                    # the page-source PDF's file name, for the EPUB
    last_check: object = None          # the record of the last check (check/record.py)
    reuse: bool = True                 # may use the parts the last build kept (pdf/parts.py)
    part_processes: int = 1            # processes a clean build may lay a PDF's parts out in

    @property
    def cost(self) -> float:
        """Expected time, in PDF variants (laid out and written)."""
        epub = 0.0 if self.epub is None else COST_EPUB + (0.0 if self.pdfs else COST_PAGE_LIST)
        return len(self.pdfs) + epub


def _jobs(guide: Guide, todo: list[Variant], paths: dict[str, Path], page_source: str) -> list[Job]:
    source = guide.page_source
    epub = next((v for v in todo if v.format == "epub"), None)
    pdfs = [v for v in todo if v.format == "pdf"]
    jobs = [Job([v], None, paths, page_source) for v in pdfs if v != source]
    if epub or source in pdfs:
        jobs.insert(0, Job([source] if source in pdfs else [], epub, paths, page_source))
    return sorted(jobs, key=lambda job: -job.cost)      # the longest first (stable: else in variant order)


def pdf_seconds(guide: Guide) -> float:
    """Expected seconds to lay out and write one PDF variant of the guide."""
    words = sum(len(token.content.split()) for doc in guide.documents for token in doc.tokens
                if token.type == "inline")
    return PDF_FIXED + PDF_PER_WORD * words


def finish_time(costs: list[float], processes: int, cores: int) -> float:
    """Expected seconds until jobs of these costs are done in this many
    worker processes on this many cores: the busiest process (the longest
    jobs first, each to the least loaded) or, with more processes than
    cores, the cores' share of all the work, whichever is longer."""
    loads = [WORKER_START] * processes
    for cost in sorted(costs, reverse=True):
        loads[loads.index(min(loads))] += cost
    return max(max(loads), (sum(costs) + processes * WORKER_START) / cores)


def processes_for(jobs: list[Job], cores: int, seconds: float) -> int:
    """How many processes lay out these jobs at once (`seconds`: one PDF
    variant's expected time): 1 (this process, no worker) for one job or
    one core; else at least one a core (up to one a job), and more, up to
    one a job or two a core, when the cost model says they finish sooner.

    A job is one book's layout, which cannot be split. Jobs of about equal
    cost run all at once rather than a core at a time: the operating system
    shares the cores, so three layouts on two cores end after about 1.5
    layouts' time, not 2, when a layout takes longer than a worker's start
    (bench/parallel.py measures it). Two a core bounds the memory: each
    worker holds one layout."""
    if len(jobs) <= 1 or cores <= 1:
        return 1
    costs = [job.cost * seconds for job in jobs]
    fewest = min(len(jobs), cores)
    return min(range(fewest, min(len(jobs), 2 * cores) + 1),
               key=lambda n: (round(finish_time(costs, n, cores), 6), n))


def available_cores() -> int:
    """The cores this process may run on (its affinity, as `taskset` or a
    container's cpuset leaves it), else the machine's."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _job(guide: Guide, renderer, job: Job, step: Callable[[str], None]) -> list[str]:
    # The layout stages are imported here, not at the top: a build whose
    # outputs all come from the cache never pays for importing WeasyPrint.
    from .epub import build_epub
    from .pdf import layout_book, page_starts, parts
    starts = None
    for variant in job.pdfs:
        step(f"Laying out and writing {variant.title} PDF")
        target = job.paths[variant.name]
        made = parts.build(guide, renderer, variant, target, _out(job), guide.brand.font_families,
                           reuse=job.reuse, processes=job.part_processes)
        if made.how in ("part", "kept"):
            step(f"{variant.title}: {_laid_out(made)}")
        if variant == guide.page_source:
            starts = made.starts
    if job.epub:
        if starts is None and job.reuse:
            starts = parts.kept_starts(guide, renderer, guide.page_source, _out(job))
        if starts is None:
            step(f"Laying out {guide.page_source.title} pages for the EPUB's page list")
            starts = page_starts(layout_book(guide, renderer, guide.page_source)[0])
        step("Writing EPUB")
        build_epub(guide, renderer, job.paths[job.epub.name], starts, page_source=job.page_source)
    return [v.name for v in job.pdfs] + ([job.epub.name] if job.epub else [])


PARTS = "the others kept"      # in the step that says which parts of a PDF were laid out again


def _laid_out(made) -> str:
    if not made.laid:
        return "no part changed, every part kept"
    numbers = [str(n + 1) for n in made.laid]
    which = f"part {numbers[0]}" if len(numbers) == 1 else f"parts {', '.join(numbers[:-1])} and {numbers[-1]}"
    return f"{which} laid out again, {PARTS}"


def _run_job(project: Project, guide: Guide, job: Job) -> list[str]:
    """A job in a worker process. The guide comes from the parent (pickled:
    30 ms, where loading it again took 0.2 s), so every output of a build is
    made from the one reading of the sources that its cache keys describe."""
    from .render import Renderer
    guide.last_check = job.last_check
    with disk_errors(_first_output(job)):
        return _job(guide, Renderer(guide, project.templates, project.styles), job, lambda _msg: None)


def _out(job: Job) -> Path:
    """The output folder (where the parts of its PDFs are kept)."""
    return _first_output(job).parent


def _first_output(job: Job) -> Path:
    return final_path(job.paths[(job.pdfs or [job.epub])[0].name])


def build(project: Project, variants: list[str] | None = None,
          step: Callable[[str], None] = lambda _msg: None, use_cache: bool = True,
          processes: int | None = None) -> Built:
    """Build the chosen variants of the guide into project.out; return them.

    `processes` caps how many processes lay out at once (1: all in this
    one); by default processes_for() chooses from the jobs and the cores.
    The bytes are the same either way. Raises GuideError for anything wrong
    with the input; outputs from an earlier build stay in place unless this
    one succeeds."""
    with worker_pool.spaced_collections():
        return _build(project, variants, step, use_cache, processes)


def _build(project: Project, variants: list[str] | None, step: Callable[[str], None], use_cache: bool,
           processes: int | None) -> Built:
    step("Loading and validating content")
    guide = load(project.content, project.styles / "brand.yaml")
    chosen = choose(guide, variants)
    meta = guide.meta
    outputs: dict[str, Path] = {}

    def target(variant: Variant) -> Path:
        return project.out / output_name(meta.slug, meta.edition.number, variant.name, variant.format)

    keys = input_keys(guide, project.content, project.templates, project.styles)
    # The statement in every edition reports the last check of this output folder.
    guide.last_check = last_check(project.out, guide, keys)
    keys = with_check(keys, guide.last_check)
    sites = [v for v in chosen if v.format == "web"]       # built last: they list the other editions
    with build_lock(project.out, step):
        stage = Staging(project.out)        # first clears what a killed build left
        base_keys = keys
        if sites:
            from .web.downloads import listing, site_keys
            keys = site_keys(base_keys, guide, listing(project.out, guide, {}))
        cached = reusable(project.out, keys) if use_cache else set()
        for variant in chosen:
            if variant.name in cached:
                if variant.format != "web" or all(v.name in cached for v in chosen):
                    step(f"{variant.title}: unchanged inputs, kept {target(variant).name}")
                outputs[variant.name] = target(variant)
        if all(v.name in cached for v in chosen):
            return Built(guide, outputs, project.out / "manifest.json", reused=set(cached) & set(outputs))
        try:
            todo = [v for v in chosen if v.name not in cached and v.format != "web"]
            jobs = _jobs(guide, todo, {v.name: stage.path(target(v)) for v in todo},
                         target(guide.page_source).name) if todo else []
            for job in jobs:
                job.last_check, job.reuse = guide.last_check, use_cache
            workers = processes_for(jobs, available_cores(), pdf_seconds(guide))
            if processes is not None:
                workers = max(1, min(workers, processes))
            if workers == 1 and len(jobs) == 1 and processes != 1 and pdf_seconds(guide) > PARTS_WORTH:
                # One job, in this process: the cores lay out its PDF's parts
                # (pdf/parts.py), when the layout outweighs starting workers.
                jobs[0].part_processes = available_cores()
            if workers > 1:
                # Independent outputs are laid out in parallel, one process each
                # (WeasyPrint's documents cannot move between processes), the
                # longest jobs first. A failure or a signal stops every worker at once.
                step(f"Building {', '.join(v.title for v in todo)} in {workers} processes")

                def written(names: list[str]) -> None:
                    for name in names:
                        step(f"{guide.variant(name).title}: written")
                worker_pool.run(_run_job, [(project, guide, job) for job in jobs], workers, written)
            else:
                from .render import Renderer
                renderer = Renderer(guide, project.templates, project.styles)
                for job in jobs:
                    with disk_errors(_first_output(job)):
                        _job(guide, renderer, job, step)
            outputs.update({v.name: target(v) for v in todo})
            shown = None
            if sites:
                shown = listing(project.out, guide, {n: (p, stage.staged.get(p, p)) for n, p in outputs.items()})
                keys = site_keys(base_keys, guide, shown)     # what the sites list now
                kept = reusable(project.out, {v.name: keys[v.name] for v in sites}) if use_cache else set()
                for site in sites:
                    if site.name in kept:
                        step(f"{site.title}: unchanged inputs, kept {target(site).name}")
                        outputs[site.name] = target(site)
                        cached.add(site.name)
                        continue
                    from .render import Renderer
                    from .web import build_site
                    with disk_errors(target(site)):
                        build_site(guide, Renderer(guide, project.templates, project.styles),
                                   stage.path(target(site)), shown, step)
                    outputs[site.name] = target(site)
                    cached.discard(site.name)
            manifest = project.out / "manifest.json"
            fresh = {n: (p, stage.staged.get(p, p)) for n, p in outputs.items()}
            # A file saved while this build ran must not be recorded as built from
            # its new content: keep only the keys that are still true.
            after = input_keys(guide, project.content, project.templates, project.styles)
            if sites:
                after = site_keys(after, guide, shown)
            keys = {name: key for name, key in keys.items() if after.get(name) == key}
            text = manifest_text(project.out, guide, fresh, project.root, project.styles, keys)
            with atomic_path(stage.path(manifest)) as tmp:
                tmp.write_text(text, encoding="utf-8")
            stage.commit()
        finally:
            stage.discard()
    return Built(guide, outputs, manifest, reused=set(cached) & set(outputs))
