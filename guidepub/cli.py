"""The command line: `python build.py --help`."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from rich.console import Console

from . import interrupt
from .errors import GuideError
from .load import load
from .pipeline import Project, build, output_name

KINDS = ("metadata", "text", "structure", "pages")      # what `diff` compares (guidepub.diff.KINDS)

ROOT = Path(__file__).resolve().parent.parent


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python build.py",
        description="Build the guide in content/ into accessible editions (PDF/UA-1 and EPUB 3) in "
                    "dist/, prove their accessibility, or show what a change did to them.",
        epilog="Exit status: 0 on success; 1 when `check` or `lint` finds a problem, or `diff` "
               "finds a change; 2 for a mistake in the input or the options (each printed on one "
               "line as path:line:column: CODE what is wrong — how to fix it), or for an output that "
               "cannot be written (OUTPUT-WRITE); 128 + the signal's number (130 for Ctrl+C) when "
               "SIGINT, SIGTERM or SIGHUP stops it, leaving the earlier outputs as they were. "
               "Dates in the outputs come from SOURCE_DATE_EPOCH when it is set, else from the "
               "last git commit that touched the content folder, else from the edition date in guide.yaml.",
    )
    p.add_argument("command", nargs="?", default="build", choices=["build", "check", "lint", "diff", "watch"],
                   help="build: write the PDF and EPUB (the default); check: build, then prove "
                        "accessibility (content lint, PDF/UA-1 structure, EPUBCheck, Ace by DAISY, "
                        "cross-format parity, honest metadata) and write dist/check-report.json and .md; "
                        "lint: only validate the content and run the content lint (fast, writes nothing); "
                        "diff BASE HEAD: show what changed between two build folders (or --rev A..B); "
                        "watch: build, then rebuild the affected outputs whenever content/, templates/ "
                        "or styles/ change (Ctrl+C stops)")
    p.add_argument("sides", nargs="*", metavar="BASE HEAD", help="for diff: two build folders")
    p.add_argument("--rev", metavar="A..B",
                   help="for diff: build git revisions A and B (in worktrees, cached) and compare them")
    p.add_argument("--fail-on", default=",".join(KINDS), metavar="KINDS",
                   help=f"for diff: which changes make the exit status 1 (default: {','.join(KINDS)})")
    p.add_argument("--content", type=Path, default=None, metavar="DIR",
                   help="the guide to build: a folder holding guide.yaml (default: content/)")
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="where to write the outputs (default: dist/)")
    p.add_argument("--variant", action="append", metavar="NAME",
                   help="build this edition variant (repeat for more; 'all' for every one). "
                        "Default: screen and epub. `--list` shows them all")
    p.add_argument("--list", action="store_true",
                   help="list the edition variants that can be built, with their file names, and exit")
    p.add_argument("--no-cache", action="store_true",
                   help="build every output again, even those whose inputs have not changed")
    p.add_argument("-q", "--quiet", action="store_true", help="print only problems")
    p.add_argument("--debug", action="store_true",
                   help="also print the Python traceback behind a reported problem")
    return p


def main(argv: list[str] | None = None) -> int:
    # SIGINT, SIGTERM and SIGHUP stop a command cleanly: workers stopped,
    # staged files removed, the lock released, one line and 128 + the signal.
    with interrupt.handled():
        args = parser().parse_args(argv)
        console = Console(stderr=True, highlight=False, soft_wrap=True)
        try:
            return _main(args, console)
        except (interrupt.Stopped, KeyboardInterrupt) as exc:
            return _stopped(exc, args, console)


def _stopped(exc: BaseException, args, console: Console) -> int:
    signum = getattr(exc, "signum", None) or interrupt.received() or signal.SIGINT
    name = signal.Signals(signum).name
    if args.command == "watch":
        text = f"Watch stopped ({name}); the last good outputs are kept."
    elif interrupt.outputs_written():
        text = f"Stopped ({name}) after the new outputs were written."
    elif args.command in ("build", "check"):
        text = f"Build stopped ({name}); earlier outputs were left as they were."
    else:
        text = f"Stopped ({name})."
    console.print(text, markup=False, highlight=False)
    if args.debug:
        console.print_exception()
    return 128 + signum


def _main(args, console: Console) -> int:
    project = Project.at(ROOT, args.content, args.out)
    started = time.perf_counter()

    def step(message: str) -> None:
        if not args.quiet:
            console.print(f"[bold blue]•[/] {message}")

    try:
        if args.list:
            return _list(project, console)
        if args.command == "diff":
            try:
                return _diff(args, project, console)
            except GuideError:
                raise
            except Exception as exc:         # exit 1 means "changed" to CI: an error must not look like it
                console.print(f"DIFF-ERROR the diff could not be made: {type(exc).__name__}: {exc} — "
                              "check both sides are complete build folders; --debug shows the traceback",
                              markup=False)
                if args.debug:
                    console.print_exception()
                return 2
        if args.sides:
            parser().error("BASE and HEAD are only for diff")
        if args.command == "watch":
            from . import watch
            watch.run(project, args.variant, lambda text: console.print(text, markup=False))
            return 0
        if args.command == "lint":
            step("Linting content")
            from .check.content import check_content
            result = check_content(load(project.content, project.styles / "brand.yaml"))
            for finding in result.findings:
                console.print(str(finding), markup=False)
            if not args.quiet:
                console.print(f"{len(result.findings)} finding(s) in {result.facts['documents']} documents")
            return 0 if result.passed else 1
        variants = args.variant
        if args.command == "check":      # the checks need the page-source PDF and the EPUB
            defaults = [v.name for v in load(project.content, project.styles / "brand.yaml").variants if v.default]
            variants = defaults + [v for v in (args.variant or []) if v not in defaults]
        built = build(project, variants, step, use_cache=not args.no_cache)
        if args.command == "check":
            step("Checking accessibility")
            from . import check
            return _report(check.run(built.guide, built.outputs), project.out, console)
    except GuideError as exc:
        console.print(f"[bold red]Build failed[/]: {len(exc.problems)} problem(s); "
                      "earlier outputs were left as they were.", highlight=False)
        for problem in exc.problems:
            console.print(str(problem), markup=False)
        if args.debug:
            console.print_exception()
        return 2
    if not args.quiet:
        for path in built.outputs.values():
            console.print(f"[green]✓[/] {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}"
                          f" ({path.stat().st_size // 1024} KB)")
        console.print(f"Done in {time.perf_counter() - started:.1f} s")
    return 0


def _diff(args, project: Project, console: Console) -> int:
    """Exit 0 when nothing changed, 1 when something in --fail-on did, 2 on error."""
    from .diff import compare
    from .diff.report import write_reports
    from .diff.revisions import build_revision, revision_epoch
    fail_on = {k.strip() for k in args.fail_on.split(",") if k.strip()}
    if fail_on - set(KINDS):
        raise GuideError.one("DIFF-USAGE", f"--fail-on knows {', '.join(KINDS)}, not {', '.join(fail_on - set(KINDS))}")
    if args.rev:
        if args.sides or ".." not in args.rev:
            raise GuideError.one("DIFF-USAGE", "give either --rev A..B or two build folders",
                                 hint="e.g. python build.py diff --rev main..HEAD")
        base_rev, head_rev = args.rev.split("..", 1)
        epoch = revision_epoch(ROOT, head_rev or "HEAD")
        cache = ROOT / ".cache" / "builds"
        base = build_revision(ROOT, base_rev, epoch, cache)
        head = build_revision(ROOT, head_rev or "HEAD", epoch, cache)
    elif len(args.sides) == 2:
        base, head = (Path(p).resolve() for p in args.sides)
    else:
        raise GuideError.one("DIFF-USAGE", "diff needs BASE and HEAD build folders, or --rev A..B")
    out = project.out if args.out else ROOT / "dist" / "diff"
    diff, a, b = compare(base, head)
    written = write_reports(diff, a, b, out)
    changed = diff.changed & fail_on
    console.print(f"{'No change' if diff.identical else 'Changed: ' + (', '.join(sorted(diff.changed)) or 'nothing that counts')}"
                  f"; reports: {', '.join(str(p) for p in written)}", markup=False)
    return 1 if changed else 0


def _list(project: Project, console: Console) -> int:
    guide = load(project.content, project.styles / "brand.yaml")
    meta = guide.meta
    for v in guide.variants:
        name = output_name(meta.slug, meta.edition.number, v.name, v.format)
        console.print(f"{v.name:<12} {name:<40} {v.description}{'  (default)' if v.default else ''}",
                      markup=False, highlight=False)
    return 0


def _report(report, out: Path, console: Console) -> int:
    json_path, md_path = report.write(out)
    for result in report.results:
        mark = "[green]pass[/]" if result.passed else f"[bold red]FAIL[/] ({len(result.findings)})"
        console.print(f"  {result.title}: {mark}")
    for finding in report.findings:
        console.print(str(finding), markup=False)
    console.print(f"Report: {md_path} and {json_path.name}")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
