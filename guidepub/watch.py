"""`python build.py watch`: rebuild when a file under content/, templates/ or
styles/ changes, say what was rebuilt and how long it took, and keep going
after an error. The build cache means only affected outputs are rebuilt."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Callable

from watchfiles import watch as watch_files

from .errors import GuideError
from .later import freed_later
from .pipeline import PARTS, Built, Project, build


def rebuild(project: Project, variants: list[str] | None, say: Callable[[str], None]) -> Built | None:
    started = time.perf_counter()
    notes: list[str] = []
    with freed_later():             # what the rebuild is done with is freed once it has reported
        try:
            # an edit in one chapter lays out only that part of each PDF (pdf/parts.py)
            built = build(project, variants, step=lambda message: notes.append(message) if PARTS in message else None)
        except GuideError as exc:
            for problem in exc.problems:
                say(str(problem))
            say(f"Build failed ({len(exc.problems)} problem(s)); the last good outputs are kept. Watching…")
            return None
        fresh = sorted(set(built.outputs) - built.reused)
        say(f"Rebuilt {', '.join(fresh) or 'nothing (no output affected)'} in "
            f"{time.perf_counter() - started:.1f} s{''.join(f' ({note})' for note in notes)}. Watching…")
    return built


def run(project: Project, variants: list[str] | None, say: Callable[[str], None],
        stop: threading.Event | None = None) -> None:
    """Build once, then again after every change, until `stop` is set. Ctrl+C
    (or SIGTERM, SIGHUP) stops it, during a rebuild too: it raises, and the
    command line reports it in one line (the rebuild's staged files removed)."""
    folders = [project.content, project.templates, project.styles]
    say(f"Watching {', '.join(str(f) for f in folders)}")
    rebuild(project, variants, say)
    for changes in watch_files(*folders, stop_event=stop, debounce=300, raise_interrupt=True):
        names = sorted({Path(path).name for _, path in changes})
        say(f"Changed: {', '.join(names)}")
        rebuild(project, variants, say)
