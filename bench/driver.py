"""Our build, as `build.py` runs it, with two knobs the benchmark needs:

    python bench/driver.py --processes N -- [build.py's arguments]
        lay out in at most N processes (1: all in this one)
    python bench/driver.py --capture DIR -- [build.py's arguments]
        also save what the last layout of the build was given: its HTML and
        CSS as DIR/book.html and DIR/book.css, and the figures it served
        (the cleaned ones) under DIR/root/, at their place in the guide, so
        that DIR/root/ can stand for the guide's folder as the base URL.
        Build one PDF variant: its last layout is its final one (the first
        may be laid out again, with figures moved: pdf/flow.py). The build
        runs in one process, so every layout is this process's, and lays
        the whole book out (no page plan or kept parts are used).
    python bench/driver.py --edit FILE --mark N -- [build.py's arguments]
        as `watch` rebuilds, in this one process: build, change one word of
        FILE (" team " -> " team<N>"), build again (untimed: it imports and
        warms what a rebuild uses), change it again (" team<N+1>"), build
        again; print that last rebuild's seconds, and what it laid out; put
        FILE back as it was.

A module of its own, not `python -c`: workers are spawned and import it."""

from __future__ import annotations

import argparse
import functools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    sys.path.insert(0, str(ROOT))
    p = argparse.ArgumentParser()
    p.add_argument("--processes", type=int)
    p.add_argument("--capture", type=Path)
    p.add_argument("--edit", type=Path)
    p.add_argument("--mark", type=int, default=1)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    args = p.parse_args()
    rest = args.rest[1:] if args.rest[:1] == ["--"] else args.rest
    from guidepub import cli, pipeline
    processes = 1 if args.capture else args.processes
    if processes is not None:
        cli.build = functools.partial(pipeline.build, processes=processes)
    if args.capture:
        import guidepub.pdf as pdf
        from guidepub.pdf import plan, store
        # The whole book laid out, whatever an earlier build kept: no page
        # plan, no kept parts (else each part is laid out alone, or none).
        plan.recall = lambda _key: None
        store.recall = lambda *_args: None
        original, folder = pdf.layout, args.capture

        def layout(html, css, base_url, allowed=None, served=None):
            root = folder / "root"
            root.mkdir(parents=True, exist_ok=True)
            (folder / "book.html").write_text(html, encoding="utf-8")
            (folder / "book.css").write_text(css, encoding="utf-8")
            for path, (data, _media_type) in (served or {}).items():
                if path.is_relative_to(Path(base_url).resolve()):
                    target = root / path.relative_to(Path(base_url).resolve())
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data)
            return original(html, css, base_url, allowed, served)
        pdf.layout = layout
    if args.edit:
        return edits(cli, rest, args.edit, args.mark)
    return cli.main(rest)


def edits(cli, rest: list[str], path: Path, mark: int) -> int:
    """The --edit run: rebuilds in one process, as `watch` makes them."""
    import time
    from guidepub.later import freed_later
    from guidepub.pipeline import PARTS, Project, build
    args = cli.parser().parse_args(rest)
    project = Project.at(ROOT, args.content, args.out)
    original = path.read_text(encoding="utf-8")
    try:
        build(project)
        for n in (mark, mark + 1):
            path.write_text(original.replace(" team ", f" team{n} ", 1), encoding="utf-8")
            laid: list[str] = []
            with freed_later():                 # as watch.rebuild(): freed after it has reported
                started = time.perf_counter()
                build(project, step=lambda message: laid.append(message) if PARTS in message else None)
                seconds = time.perf_counter() - started
    finally:
        path.write_text(original, encoding="utf-8")
    print(f"{seconds:.4f} {'; '.join(laid) or 'no part laid out alone'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
