"""A page plan: the page of every element the book refers to by page number.

The contents and the cross-references print page numbers with
`target-counter()`. Those are forward references, so WeasyPrint lays the book
out, finds the numbers, and lays out again every page from the contents on
until nothing changes: about twice the pages it makes. With a plan, the
numbers are written into the HTML (`data-page`, which print.css prints in
place of the counter), so one pass makes the book; the pass then proves the
plan (every referenced element is on its planned page) or gives a better
one to lay out with again. The numbers printed are the same either way, and
so are the PDF's bytes (tests/test_plan.py).

Plans are kept for the process and in the system's temporary folder (a
build's layouts run in worker processes), keyed by the guide's folder, the
edition and the layout's round (flow.py may lay a book out again). A plan is
only a hint: every use is proven by the layout it made, so a stale or
damaged one costs a pass, never a wrong number. A round with no plan of its
own starts from the one the round before it gave; a build with none at all
lays out as WeasyPrint does, proves the numbers that layout printed (on a
long book WeasyPrint may stop before they settle: then it lays out again
with the plan the layout gives, until one holds) and keeps the plan.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path

REFERENCE = re.compile(r'data-ref="#([^"]+)"')
PLANS: dict[tuple, dict[str, int]] = {}
TRIES = 3


def pages_of(document) -> dict[str, int]:
    """The page number (1-based: the page counter is never reset) of every
    element with an id: the page it begins on (an element that goes on over
    pages is an anchor on each)."""
    pages: dict[str, int] = {}
    for number, page in enumerate(document.pages, 1):
        for anchor in page.anchors:
            pages.setdefault(anchor, number)
    return pages


def referenced(html: str) -> set[str]:
    return set(REFERENCE.findall(html))


def written(html: str, plan: dict[str, int]) -> str | None:
    """The HTML with each reference's planned page (None if the plan lacks one)."""
    wanted = referenced(html)
    if not wanted <= plan.keys():
        return None
    return REFERENCE.sub(lambda m: f'{m.group(0)} data-page="{plan[m.group(1)]}"', html)


def holds(document, html: str, plan: dict[str, int]) -> dict[str, int] | None:
    """None if every referenced element is on its planned page, else the
    plan this layout gives."""
    pages = pages_of(document)
    if all(pages.get(ref) == plan.get(ref) for ref in referenced(html)):
        return None
    return pages


# The system's temporary folder, also in a build's worker process, whose own
# is a scratch folder removed after the build (workers.py).
STORE = Path(os.environ.get("GUIDEPUB_SYSTEM_TEMP") or tempfile.gettempdir()) / "guidepub-plans"


def store() -> Path:
    return STORE


def _file(key: tuple) -> Path:
    return STORE / (hashlib.sha256(repr(key).encode()).hexdigest()[:32] + ".json")


def recall(key: tuple) -> dict[str, int] | None:
    if key in PLANS:
        return PLANS[key]
    try:
        known = json.loads(_file(key).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(known, dict) and all(isinstance(v, int) for v in known.values()):
        PLANS[key] = known
        return known
    return None


def keep(key: tuple, known: dict[str, int]) -> None:
    PLANS[key] = known
    try:
        STORE.mkdir(exist_ok=True)
        temporary = _file(key).with_suffix(f".{os.getpid()}.tmp")
        temporary.write_text(json.dumps(known, sort_keys=True), encoding="utf-8")
        os.replace(temporary, _file(key))
    except OSError:
        pass                              # a plan is a hint: the next build lays out without it


def lay_out(html: str, layout, key: tuple | None = None, guess: dict[str, int] | None = None):
    """Lay out `html` with `layout(html)` in one pass when a plan is known
    (kept under `key`, else `guess`), checking it; else as WeasyPrint does,
    keeping the plan. Returns layout's (document, log)."""
    plan = (recall(key) if key else None) or guess
    for _ in range(TRIES):
        planned = written(html, plan) if plan else None
        if planned is None:
            break
        document, logged = layout(planned)
        better = holds(document, html, plan)
        if better is None:
            if key:
                keep(key, plan)
            return document, logged
        plan = better
    document, logged = layout(html)
    pages = pages_of(document)
    if printed(document) != {ref: pages.get(ref) for ref in printed(document)}:
        # WeasyPrint stops laying out again after a few passes, and a long
        # book's forward references may not have settled: the numbers it
        # printed are not where the elements are. Lay out with the plan the
        # layout gives until one holds.
        plan = pages
        for _ in range(TRIES):
            document, logged = layout(written(html, plan))
            better = holds(document, html, plan)
            if better is None:
                break
            plan = better
        else:
            raise RuntimeError("the page numbers of the contents and cross-references did not settle")
    if key:
        keep(key, pages_of(document))
    return document, logged


def printed(document) -> dict[str, int]:
    """The page number the layout printed for each reference (the number
    at the end of the text generated after an element with data-ref: the
    contents' page numbers, "(page N)")."""
    from weasyprint.formatting_structure import boxes
    found: dict[str, int] = {}
    for page in document.pages:
        stack = [page._page_box]
        while stack:
            box = stack.pop()
            element = getattr(box, "element", None)
            if (box.element_tag or "").endswith("::after") and element is not None and element.get("data-ref"):
                text = "".join(b.text for b in _texts(box))
                number = re.search(r"(\d+)\D*$", text)
                if number:
                    found.setdefault(element.get("data-ref").lstrip("#"), int(number.group(1)))
                continue
            stack.extend(getattr(box, "children", ()) if not isinstance(box, boxes.MarginBox) else ())
    return found


def _texts(box):
    if hasattr(box, "text"):
        yield box
    for child in getattr(box, "children", ()):
        yield from _texts(child)
