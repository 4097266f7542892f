"""A PDF edition built part by part, and kept part by part (issue 15).

A part is a child of the book's <body>: cover, imprint, contents, each
front matter part, chapter, back matter part. A clean build with a page
plan from an earlier build lays each part out alone (_from_plan; a long
guide's parts in one process a core) and proves the plan; without one, it
lays the whole book out once and writes each part's PDF from that layout.
Either way the parts are spliced into the edition (pdf/splice.py), and
kept beside the outputs (pdf/store.py).

The next build renders the book again and compares it with what was kept,
part by part. When one part changed (an edit in one chapter), or a few (a
heading renamed: its chapter and the contents), it lays each out alone (with
the kept page numbers of the others, flow.py's mending decided on the part's
own pages) and splices it with the kept PDFs of the others. That is the file
a clean build makes of the same sources, byte for byte (tests/test_parts.py),
provided each part keeps its page count and every page number the book
prints stays right; when that fails, or more changed, the build is a clean
one (after a page-count change, with the plan that part's layout gave).

A print-ready edition (bleed) and a stylesheet that carries state from part
to part are laid out whole, as before (splice.unsafe)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from . import plan, splice, store
from .flow import flow_past
from .store import FORMAT, STORE


@dataclass
class Made:
    """A PDF edition written, and how: "clean" (every part laid out), "part"
    (the changed parts laid out again), "kept" (every part kept) or "whole"
    (not part by part)."""
    how: str
    starts: dict[int, list[str]]          # page -> ids of the elements that begin on it (the EPUB's page list)
    laid: list[int]                       # the parts laid out (by number)


def build(guide, renderer, variant, target: Path, out: Path, families, reuse: bool = True,
          processes: int = 1) -> Made:
    """Lay out and write one PDF edition at `target`, part by part when it
    can, keeping its parts in `out` (and using what was kept there, if
    `reuse`: else the build is a clean one). A clean build with a known
    plan lays the parts out in `processes` processes."""
    folder = out / STORE / variant.name
    warm = None
    if processes > 1 and not (reuse and (folder / "parts.json").is_file()):
        # A clean build is likely: start the workers now, while the book is rendered.
        from .. import workers
        warm = workers.Workers(processes - 1, _warm)
    try:
        return _build(guide, renderer, variant, target, folder, families, reuse, processes, [warm] if warm else [])
    finally:
        if warm is not None:
            warm.close()


def _warm() -> None:
    """A worker's first job: nothing; unpickled, it imports this module (WeasyPrint)."""


def _build(guide, renderer, variant, target: Path, folder: Path, families, reuse: bool, processes: int,
           started: list) -> Made:
    from . import book_source, layout_book, page_starts, write_pdf
    source = book_source(guide, renderer, variant)
    head, rendered, tail = splice.split(source.html)
    key = store.key(source, variant.name, head, tail)
    sources = [store.part_key(part, source) for part in rendered]
    kept = store.recall(folder, key, len(rendered)) if reuse else None
    fonts = store.fonts(folder) if reuse else {}
    hint = None
    if kept is not None:
        made = _update(kept, folder, source, rendered, sources, target, families, variant.name, fonts)
        if isinstance(made, Made):
            return made
        hint = made                             # a part's page count changed: the plan that gives
    planned = (str(guide.root.resolve()), variant.name, "parts")
    found = _from_plan(hint or plan.recall(planned), source, head, rendered, tail, processes, started)
    if found is not None:                       # every part laid out alone, with the plan's numbers
        book, pdfs, anchors, logged = found
    else:                                       # the whole book laid out once, each part written from it
        laid: dict = {}
        document, logged = layout_book(guide, renderer, variant, source, laid)
        try:
            document, logged, book = splice.book_of(document, logged, laid["html"], source)
        except ValueError:
            write_pdf(document, logged, target, families)
            return Made("whole", page_starts(document), [])
        pdfs = splice.whole_book_parts(document, book)
        starts = page_starts(document)
        anchors = [[starts[page] for page in range(start, start + count)]
                   for start, count in zip(book.starts, book.counts)]
    fonts = splice_to(pdfs, logged, target, families, fonts)
    plan.keep(planned, book.plan)
    store.keep(folder, {"format": FORMAT, "key": key, "sources": sources, "head": book.head,
                        "parts": book.parts, "tail": book.tail, "starts": book.starts, "counts": book.counts,
                        "plan": book.plan, "anchors": anchors}, pdfs, fonts)
    return Made("clean", _page_starts(book.starts, anchors), list(range(len(book.parts))))


def _page_starts(starts: list[int], anchors: list[list[list[str]]]) -> dict[int, list[str]]:
    return {page: ids for n, start in enumerate(starts) for page, ids in enumerate(anchors[n], start)}


def _from_plan(known: dict[str, int] | None, source, head: str, rendered: list[str], tail: str,
               processes: int = 1, started: list | None = None, tries: int = 2):
    """A clean build without the whole book's layout: when the page plan of
    the last build (plan.py: the page of every element) gives each part's
    first page and every page number the parts print, each part is laid out
    alone (one part's layout in memory at a time; in `processes` processes
    when more than one), and the result is proven: every part starts on its
    planned page and every element the book refers to by page number is on
    it. When it is not (an edit changed a part's page count), the plan the
    layout gives is tried once more. (book, pdfs, anchors, logged), or None
    when no plan holds (a whole layout)."""
    ids = [re.match(r'<[A-Za-z][\w:-]*\s[^>]*?\bid="([^"]+)"', part) for part in rendered]
    if not all(ids):
        return None
    for _ in range(tries):
        if not known or any(match.group(1) not in known for match in ids):
            return None
        found = _lay_out_planned(known, [match.group(1) for match in ids], source, head, rendered, tail, processes,
                                 started if started is not None else [])
        if not isinstance(found, dict):
            return found
        known = found
    return None


def _lay_out_planned(known: dict[str, int], ids: list[str], source, head: str, rendered: list[str], tail: str,
                     processes: int, started: list):
    """Every part laid out alone with the plan `known`: (book, pdfs,
    anchors, logged) if the plan holds, else the plan this layout gives
    (a dict). `started`: workers started ahead (workers.Workers), taken
    from the list when used."""
    # An element the plan has no page for (a heading renamed) is given page
    # 1 for now: the layout says where it is, and the parts are laid out again.
    fragments = [plan.written(part, {**dict.fromkeys(plan.referenced(part), 1), **known}) for part in rendered]
    starts = [known[ident] for ident in ids]
    book = splice.Book(head, fragments, tail, source.css, source.root, list(source.allowed), source.served,
                       starts, [0] * len(rendered), dict(known))
    results: dict[int, tuple] = {}
    if processes > 1 and len(rendered) > processes:
        # This process lays out its share (the first, HEAD_START larger)
        # while the workers start and lay out theirs.
        from .. import workers
        mine, *theirs = _chunks(fragments, processes, HEAD_START)
        theirs = [chunk for chunk in theirs if chunk]

        def done(found: list[tuple]) -> None:
            results.update((found_part[0], found_part[1:]) for found_part in found)
        if theirs:
            team = started.pop() if started and started[-1].count == len(theirs) else None
            workers.run(lay_out_parts, [(book, chunk) for chunk in theirs], len(theirs), done,
                        meanwhile=lambda: done(lay_out_parts(book, mine)), started=team)
        else:
            done(lay_out_parts(book, mine))
    else:
        results = {found[0]: found[1:] for found in lay_out_parts(book, range(len(rendered)))}
    pdfs, anchors, logged, pages, first = [], [], [], {}, 1
    for index in range(len(rendered)):
        book.parts[index], pdf, on_pages, count, log = results[index]
        book.counts[index] = count
        for page, ids_on_page in enumerate(on_pages, first):      # where they are, whatever the plan said
            for anchor in ids_on_page:
                pages.setdefault(anchor, page)
        first += count
        pdfs.append(pdf)
        anchors.append(on_pages)
        logged += log
    if [pages.get(ident) for ident in ids] != starts or \
            any(pages.get(ref) != known.get(ref) for ref in plan.referenced("".join(book.parts))):
        return pages
    book.plan = pages
    return book, pdfs, anchors, logged


class Logged(str):
    """What WeasyPrint logged, as a message (from a worker process)."""

    def getMessage(self) -> str:  # noqa: N802 (logging.LogRecord's name)
        return str(self)


def lay_out_parts(book: splice.Book, indexes) -> list[tuple]:
    """Lay out these parts alone (in this process or a worker): for each,
    (index, its HTML as laid out, its PDF, the ids beginning on each page,
    its page count, what WeasyPrint logged)."""
    found = []
    for index in indexes:
        document, log = lay_out(book, index, book.parts[index])
        found.append((index, book.parts[index], splice.part_pdf(document, index),
                      [list(page.anchors) for page in document.pages], len(document.pages),
                      [Logged(record.getMessage()) for record in log]))
        del document
    return found


# What a worker spends starting (the stylesheet, and whatever of its start
# (Python, WeasyPrint: 0.6 s here) the rendering of the book did not
# cover), in characters of the book's HTML this process lays out meanwhile
# (about 60,000 a second here; both scale with the machine).
HEAD_START = 30_000


def _chunks(fragments: list[str], count: int, head_start: float = 0.0) -> list[list[int]]:
    """The parts in `count` groups of about equal size (their HTML's length),
    the first group given `head_start` more (it starts at once)."""
    groups: list[list[int]] = [[] for _ in range(count)]
    sizes = [-head_start] + [0.0] * (count - 1)
    for index in sorted(range(len(fragments)), key=lambda n: -len(fragments[n])):
        least = sizes.index(min(sizes))
        groups[least].append(index)
        sizes[least] += len(fragments[index])
    return [sorted(group) for group in groups]


def kept_starts(guide, renderer, variant, out: Path) -> dict[int, list[str]] | None:
    """The page of every element in `variant`'s PDF (the EPUB's page list)
    from what the last build kept in `out`, if no part has changed since;
    else None (lay the book out)."""
    from . import book_source
    source = book_source(guide, renderer, variant)
    head, rendered, tail = splice.split(source.html)
    kept = store.recall(out / STORE / variant.name, store.key(source, variant.name, head, tail), len(rendered))
    if kept is None or kept["sources"] != [store.part_key(part, source) for part in rendered]:
        return None
    return _page_starts(kept["starts"], kept["anchors"])


MAX_CHANGED = 4     # more parts changed: laid out again from the plan, in parallel (a clean build)


def _update(kept: dict, folder: Path, source, rendered: list[str], sources: list[str], target: Path,
            families, variant: str, fonts: dict[str, bytes]) -> Made | dict[str, int] | None:
    """The edition from the kept parts and the changed ones laid out again
    (a few, each keeping its page count: an edit in a chapter, or a heading
    renamed there and so in the contents too); None when a clean build is
    needed. A part that refers to an element no part has yet (a heading's
    new id) waits for the part that has it; a part whose printed page
    numbers an edit moved is laid out again too, within a bound. So every
    page number printed in the book is the page its element is on. When a
    part's page count changed (every later part moves), the plan that layout
    gives instead, for a clean build laid out once with it, not twice."""
    changed = [n for n, (new, old) in enumerate(zip(sources, kept["sources"])) if new != old]
    if len(changed) > MAX_CHANGED:
        return None
    book = splice.Book(kept["head"], list(kept["parts"]), kept["tail"], source.css, source.root,
                       list(source.allowed), source.served, list(kept["starts"]), list(kept["counts"]),
                       dict(kept["plan"]))
    pdfs, logged, todo, laid = list(kept["pdfs"]), [], list(changed), []
    while todo:
        ready = [n for n in todo if plan.referenced(rendered[n]) <= book.plan.keys()]
        if not ready or len(laid) + len(ready) > 2 * MAX_CHANGED:
            return None                            # they refer to elements no part has; or too many
        for index in ready:
            document, log = lay_out(book, index, plan.written(rendered[index], book.plan))
            if len(document.pages) != book.counts[index]:
                return splice.shifted_plan(book, index, document)      # every later part moves
            logged += log
            book.plan.update({anchor: book.starts[index] + page - 1
                              for anchor, page in plan.pages_of(document).items()})
            pdfs[index] = splice.part_pdf(document, index)
            kept["anchors"][index] = [list(page.anchors) for page in document.pages]
            laid.append(index)
        todo = [n for n in todo if n not in ready] or [n for n, part in enumerate(book.parts) if _stale(part, book.plan)]
    fonts = splice_to(pdfs, logged, target, families, fonts)
    kept.update(sources=sources, parts=book.parts, plan=book.plan)
    store.keep(folder, {k: v for k, v in kept.items() if k not in ("pdfs", "fonts")}, pdfs, fonts)
    plan.keep((str(source.root), variant, "parts"), book.plan)
    return Made("part" if laid else "kept", _page_starts(book.starts, kept["anchors"]), sorted(set(laid)))


def _stale(part: str, planned: dict[str, int]) -> bool:
    """Whether the part, as laid out, prints a page number the plan no longer gives."""
    return any(planned.get(ref) != int(page) for _, ref, page in splice.PAGED.findall(part))


def lay_out(book: splice.Book, index: int, fragment: str):
    """Part `index` laid out alone from `fragment` (its HTML with the page
    plan's numbers), mended by flow.py on its own pages as in the whole
    book: (document, logged); book.parts[index] becomes the HTML laid out."""
    book.parts[index] = fragment
    document, logged = splice.lay_out_part(book, index)
    head, tail = len(book.head) + 1, len(book.tail) + 1

    def relayout(html: str):
        book.parts[index] = re.sub(f'href="{re.escape(splice.SCHEME)}', 'href="#', html[head:len(html) - tail])
        return splice.lay_out_part(book, index)

    return flow_past(document, logged, book.html(index), relayout)


def splice_to(pdfs: list[bytes], logged, target: Path, families, fonts: dict[str, bytes]) -> dict[str, bytes]:
    """Splice the parts' PDFs into `target`, as write_pdf() writes a PDF:
    moved into place only when WeasyPrint logged nothing and every font is
    the brand's. `fonts`: programs merged before (subsets.py); returns
    those the file holds."""
    from . import _check_fonts
    from ..errors import Problems
    from ..outputs import atomic_path, final_path
    shown = final_path(target)
    with atomic_path(target) as tmp:
        used = splice.splice(pdfs, tmp, fonts)
        problems = Problems()
        for record in logged:
            problems.add("PDF-WEASYPRINT", record.getMessage(), shown, None,
                         "fix the content or stylesheet it names; the PDF was not replaced")
        _check_fonts(tmp, shown, families, problems)
        problems.raise_if_any()
    return used
