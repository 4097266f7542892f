"""`python build.py diff BASE HEAD` and `diff --rev A..B`: build what is
needed (saying so), compare, write the reports, and exit 0 when nothing
changed, 1 when something in --fail-on did, 2 on an error."""

from __future__ import annotations

import os
import time
from pathlib import Path

from ..errors import GuideError
from .model import KINDS


def cache_folder(root: Path) -> Path:
    return Path(os.environ.get("GUIDEPUB_DIFF_CACHE") or root / ".cache" / "builds")


def fail_on_kinds(text: str) -> set[str]:
    kinds = {k.strip() for k in text.split(",") if k.strip()}
    if kinds - set(KINDS):
        raise GuideError.one("DIFF-USAGE", f"--fail-on knows {', '.join(KINDS)}, not "
                             f"{', '.join(sorted(kinds - set(KINDS)))}",
                             hint=f"e.g. --fail-on {','.join(KINDS)}, or --fail-on '' to only report")
    return kinds


def run(args, project, console, root: Path) -> int:
    try:
        return _run(args, project, console, root)
    except GuideError as exc:
        console.print(f"Diff failed: {len(exc.problems)} problem(s)", markup=False, highlight=False)
        for problem in exc.problems:
            console.print(str(problem), markup=False, highlight=False)
        if getattr(args, "debug", False):
            console.print_exception()
        return 2


def _run(args, project, console, root: Path) -> int:
    started = time.perf_counter()

    def say(message: str) -> None:
        if not args.quiet:
            console.print(f"• {message}", markup=False, highlight=False)

    fail_on = fail_on_kinds(args.fail_on)
    timings: dict[str, float] = {}
    labels: dict[str, dict] = {}
    sources = []
    if args.rev:
        if args.sides or ".." not in args.rev:
            raise GuideError.one("DIFF-USAGE", "give either --rev A..B or two build folders",
                                 hint="e.g. python build.py diff --rev main..HEAD")
        from .revisions import build_revision, prune, resolve
        from .sources import source_changes
        content = _content_in(project.content, root)
        base_name, head_name = args.rev.split("..", 1)
        base_rev, head_rev = resolve(root, base_name or "HEAD"), resolve(root, head_name or "HEAD")
        cache = cache_folder(root)
        folders = []
        for side, revision in (("base", base_rev), ("head", head_rev)):
            step = time.perf_counter()
            folder, cached = build_revision(root, revision, cache, content, say)
            timings[f"build {side}"] = round(time.perf_counter() - step, 2)
            say(f"{side.capitalize()} {revision.label}: " + ("from the cache" if cached else
                f"built in {timings[f'build {side}']:.1f} s") + f" ({folder})")
            folders.append(folder)
            labels[side] = {"label": revision.label, "short": revision.short, "commit": revision.commit,
                            "subject": revision.subject,
                            "folder": str(folder), "cached": cached}
        prune(cache, protect=tuple(folders))
        base, head = folders
        sources = source_changes(root, base_rev.commit, head_rev.commit,
                                 sorted({content, "styles", "templates", "guidepub", "build.py",
                                         "requirements.lock", "package-lock.json"}))
    elif len(args.sides) == 2:
        base, head = (Path(p).resolve() for p in args.sides)
        for side, folder in (("base", base), ("head", head)):
            labels[side] = {"label": str(folder), "folder": str(folder)}
    else:
        raise GuideError.one("DIFF-USAGE", "diff needs BASE and HEAD build folders, or --rev A..B")
    from .comparison import compare
    from .report import edition_line, effect, write_reports
    out = project.out if args.out else root / "dist" / "diff"
    diff, a, b = compare(base, head, say)
    diff.base, diff.head, diff.sources = labels["base"], labels["head"], sources
    step = time.perf_counter()
    say(f"Writing reports into {out}")
    diff.timings.update(timings)
    written = write_reports(diff, a, b, out, fail_on)
    diff.timings["reports"] = round(time.perf_counter() - step, 2)
    diff.timings["total"] = round(time.perf_counter() - started, 2)
    _rewrite_timings(out / "diff.json", diff.timings)
    changed = diff.changed & fail_on
    if diff.identical:
        console.print("No change: every edition is byte for byte the same.", markup=False)
    else:
        console.print(f"Changed: {', '.join(sorted(diff.changed)) or 'nothing that counts'}"
                      + (f" (fails on: {', '.join(sorted(changed))})" if changed else ""), markup=False)
        if not args.quiet:
            for line in [effect(diff)] + [edition_line(v, p) for v, p in diff.pages.items()]:
                console.print(f"  {line}", markup=False, highlight=False)
    if not args.quiet:
        console.print("Took " + ", ".join(f"{k} {v:.1f} s" for k, v in diff.timings.items() if k != "total")
                      + f"; {diff.timings['total']:.1f} s in all", markup=False, highlight=False)
    console.print(f"Reports: {', '.join(str(p) for p in written)}", markup=False, highlight=False)
    return 1 if changed else 0


def _rewrite_timings(path: Path, timings: dict) -> None:
    """diff.json with the time the reports took too."""
    import json
    from ..outputs import atomic_path
    data = json.loads(path.read_text(encoding="utf-8"))
    data["timings"] = timings
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _content_in(content: Path, root: Path) -> str:
    """The content folder as a path inside the repository, for each revision."""
    try:
        return content.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        raise GuideError.one("DIFF-USAGE", f"--rev builds the guide from git, but {content} is outside the "
                             f"repository {root}", hint="give --content a folder inside the repository") from None
