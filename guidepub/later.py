"""Objects freed after a rebuild has answered, not while it runs.

Freeing a spliced book (pikepdf's objects of every page, part and font) takes
a tenth of a second at 700 pages, once its file is written. `watch` rebuilds
inside freed_later(): what is handed to hold() is freed when the block ends,
after the rebuild has said what it wrote. Elsewhere hold() holds nothing, and
each object is freed as soon as it is done with."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterator

_held: list | None = None


def hold(obj: object) -> None:
    """Keep `obj` until the freed_later() block around this call ends, if any."""
    if _held is not None:
        _held.append(obj)


@contextmanager
def freed_later() -> Iterator[None]:
    global _held
    outer, _held = _held, []
    try:
        yield
    finally:
        held, _held = _held, outer
        held.clear()
