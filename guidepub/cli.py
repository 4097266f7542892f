"""The command line: `python build.py --help`."""

from __future__ import annotations

import argparse
import difflib
import re
import signal
import sys
import time
from pathlib import Path

from rich.console import Console

from . import interrupt
from .errors import GuideError
from .load import load
from .pipeline import Project, build, output_name

from .diff import KINDS                                    # what `diff` compares

ROOT = Path(__file__).resolve().parent.parent


COMMANDS = ["build", "check", "lint", "diff", "watch", "new", "serve"]


class _Parser(argparse.ArgumentParser):
    """argparse, with "did you mean" for a mistyped command or option."""

    _argv: list[str] = []

    def parse_args(self, args=None, namespace=None):
        """Options may come before or after the positional words
        (`diff --fail-on text BASE HEAD` as well as `diff BASE HEAD --fail-on text`)."""
        self._argv = list(sys.argv[1:] if args is None else args)
        return super().parse_intermixed_args(args, namespace)

    def error(self, message: str):
        known = [o for a in self._actions for o in a.option_strings]
        for arg in self._argv:
            name = arg.split("=", 1)[0]
            if name.startswith("--") and not any(o.startswith(name) for o in known):
                close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
                message = f"unknown option {name}" + (f" — did you mean '{close[0]}'?" if close else "")
                super().error(message)
        words = re.findall(r"invalid choice: '([^']*)'|unrecognized arguments: (.*)", message)
        for choice, unknown in words:
            options = COMMANDS if choice else known
            for word in ([choice] if choice else unknown.split()):
                close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
                if close:
                    message += f" — did you mean '{close[0]}'?"
        super().error(message)


def _version() -> str:
    from importlib.metadata import version
    from . import __version__
    return (f"guidepub {__version__} (WeasyPrint {version('weasyprint')}, ebooklib {version('ebooklib')}, "
            f"Python {sys.version.split()[0]})")


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python build.py",
        description="Build the guide in content/ into accessible editions (PDF/UA-1, EPUB 3 and a website) in "
                    "dist/, prove their accessibility, or show what a change did to them.",
        epilog="Exit status: 0 on success; 1 when `check` or `lint` finds a problem, or `diff` "
               "finds a change; 2 for a mistake in the input or the options (each printed on one "
               "line as path:line:column: CODE what is wrong — how to fix it), or for an output that "
               "cannot be written (OUTPUT-WRITE); 128 + the signal's number (130 for Ctrl+C) when "
               "SIGINT, SIGTERM or SIGHUP stops it, leaving the earlier outputs as they were. "
               "Dates in the outputs come from SOURCE_DATE_EPOCH when it is set, else from the "
               "last git commit that touched the content folder, else from the edition date in guide.yaml.",
    )
    p.add_argument("command", nargs="?", default="build", choices=COMMANDS,
                   help="build: write the PDF and EPUB (the default); check: build, then prove "
                        "accessibility (content lint, PDF/UA-1 structure, EPUBCheck, Ace by DAISY, "
                        "cross-format parity, honest metadata) and write dist/check-report.json and .md; "
                        "lint: only validate the content and run the content lint (fast, writes nothing); "
                        "diff BASE HEAD: show what changed between two build folders (or --rev A..B); "
                        "watch: build, then rebuild the affected outputs whenever content/, templates/ "
                        "or styles/ change (Ctrl+C stops); new DIR: start a new guide in DIR that "
                        "builds and passes check at once (asks for --title, --language and --colour "
                        "when they are not given); serve: build the web edition, serve it on "
                        "127.0.0.1 (--port, --host) and rebuild and reload the page whenever a file "
                        "is saved (Ctrl+C stops)")
    p.add_argument("sides", nargs="*", metavar="BASE HEAD", help="for diff: two build folders; for new: DIR")
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
    p.add_argument("--format", choices=["all", "pdf", "epub", "web"], default="all",
                   help="build only the PDF, the EPUB or the web editions of those chosen (default: all)")
    p.add_argument("--port", type=int, default=0, metavar="N",
                   help="for serve: the port to listen on (default: a free one)")
    p.add_argument("--host", default="127.0.0.1", metavar="ADDRESS",
                   help="for serve: the address to listen on (default: 127.0.0.1, this computer only)")
    p.add_argument("--title", help="for new: the guide's title")
    p.add_argument("--language", help="for new: its language tag, e.g. en-GB (default) or cy")
    p.add_argument("--colour", metavar="#RRGGBB",
                   help="for new: the brand's main colour (darkened if it needs more contrast)")
    p.add_argument("--version", action="version", version=_version())
    p.add_argument("--list", action="store_true",
                   help="list the edition variants that can be built, with their file names, and exit")
    p.add_argument("--no-cache", action="store_true",
                   help="build every output again, even those whose inputs have not changed, and lay out "
                        "every part of each PDF (not only the parts an edit changed)")
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
    if args.command in ("watch", "serve"):
        text = f"{args.command.capitalize()} stopped ({name}); the last good outputs are kept."
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
    step = _Steps(console, args.quiet)

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
        if args.command == "new":
            return _new(args, console)
        if args.sides:
            parser().error("BASE and HEAD are only for diff (and DIR for new)")
        if args.command == "watch":
            from . import watch
            watch.run(project, args.variant, lambda text: console.print(text, markup=False))
            return 0
        if args.command == "serve":
            from .web import serve
            serve.run(project, args.variant, lambda text: console.print(text, markup=False),
                      host=args.host, port=args.port)
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
        if args.format != "all":
            variants = _of_format(project, variants, args.format, keep=args.command == "check")
        built = build(project, variants, step, use_cache=not args.no_cache)
        step.done()
        if args.command == "check":
            from . import check
            report = check.run(built.guide, built.outputs, step)
            step.done()
            report.write(project.out)
            if _stamp_due(project, built.guide):
                # Each edition's accessibility statement gives the date and result
                # of its last check (check/record.py): build again with this one,
                # then check what is now in the output folder. The second check
                # writes the same record (same sources, day and results), so the
                # editions say what their own check found.
                step("Writing this check into each edition's accessibility statement")
                built = build(project, variants, step, use_cache=not args.no_cache)
                report = check.run(built.guide, built.outputs, step)
                step.done()
            return _report(report, project.out, console)
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
            size = (sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) if path.is_dir()
                    else path.stat().st_size)
            console.print(f"[green]✓[/] {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}"
                          f"{'/' if path.is_dir() else ''} ({size // 1024} KB)")
        console.print(f"Done in {time.perf_counter() - started:.1f} s")
    return 0


class _Steps:
    """Progress: one line a step, and how long a step took when it took
    more than a second (`-q`: nothing)."""

    def __init__(self, console: Console, quiet: bool):
        self.console, self.quiet = console, quiet
        self.current: tuple[str, float] | None = None

    def __call__(self, message: str) -> None:
        self.done()
        if not self.quiet:
            self.console.print(f"[bold blue]•[/] {message}", markup=True, highlight=False)
        self.current = (message, time.perf_counter())

    def done(self) -> None:
        if self.current and not self.quiet:
            took = time.perf_counter() - self.current[1]
            if took >= 1:
                self.console.print(f"  [dim]{took:.1f} s[/]", markup=True, highlight=False)
        self.current = None


def _of_format(project: Project, variants: list[str] | None, fmt: str, keep: bool) -> list[str]:
    """The chosen variants of one format (`check` still builds what it checks)."""
    guide = load(project.content, project.styles / "brand.yaml")
    from .pipeline import choose
    chosen = [v.name for v in choose(guide, variants) if v.format == fmt or (keep and v.default)]
    if not chosen:
        raise GuideError.one("VARIANT-UNKNOWN", f"none of the chosen editions is {fmt.upper()}",
                             hint="`--list` shows the editions and their formats")
    return chosen


def _new(args, console: Console) -> int:
    """`new DIR`: ask for what is missing (when a person is there to answer)."""
    from .scaffold import create
    if len(args.sides) != 1:
        raise GuideError.one("NEW-USAGE", "new needs one folder", hint="python build.py new my-guide")
    answers = {"title": args.title, "language": args.language, "colour": args.colour}
    defaults = {"title": "My guide", "language": "en-GB", "colour": "#005EB8"}
    questions = {"title": "Title of the guide", "language": "Language tag (en-GB, cy, fr, ...)",
                 "colour": "Main colour of the brand (#RRGGBB)"}
    for key, value in answers.items():
        if value is None:
            if sys.stdin.isatty():
                typed = console.input(f"{questions[key]} [{defaults[key]}]: ").strip()
                answers[key] = typed or defaults[key]
            else:
                answers[key] = defaults[key]
    folder = Path(args.sides[0])
    notes = create(folder, answers["title"], answers["language"], answers["colour"],
                   ROOT / "styles" / "brand.yaml")
    for note in notes:
        console.print(f"Note: {note}", markup=False)
    if not args.quiet:
        console.print(f"[green]✓[/] A new guide in {folder}. Build it with:\n"
                      f"  python build.py --content {folder} --variant all\n"
                      f"  python build.py check --content {folder}", highlight=False)
    return 0


def _diff(args, project: Project, console: Console) -> int:
    """Exit 0 when nothing changed, 1 when something in --fail-on did, 2 on error."""
    from .diff.command import run
    return run(args, project, console, ROOT)


def _list(project: Project, console: Console) -> int:
    guide = load(project.content, project.styles / "brand.yaml")
    meta = guide.meta
    for v in guide.variants:
        name = output_name(meta.slug, meta.edition.number, v.name, v.format) + ("/" if v.format == "web" else "")
        console.print(f"{v.name:<12} {name:<40} {v.description}{'  (default)' if v.default else ''}",
                      markup=False, highlight=False)
    return 0


def _stamp_due(project: Project, guide) -> bool:
    """Whether the record the check just wrote changes what the built
    editions' statements say (a build would read it and say more)."""
    from .check.record import inputs, last_check
    now = last_check(project.out, guide, inputs(guide))
    before = guide.last_check
    return (now.digest if now else None) != (before.digest if before else None)


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
