"""Page breaks inside blocks, read from the laid-out PDF (check/layout.py
reads it and calls check_splits for each pair of pages): a callout, list or
table split with fewer than three lines on a side, a table leaving one row
alone, a paragraph, list item or definition leaving one line alone
(PDF-LAYOUT-SPLIT), and a callout whose box runs on, empty, below its last
line at the foot of a page (PDF-LAYOUT-GAP)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pypdfium2 as pdfium

from .layout import BLOCKS, HEADINGS, MIN_LINES, Item, Layout, lines, text_area

if TYPE_CHECKING:
    from . import CheckResult

MAX_TINTED = 4.0           # lines' room a split block may leave empty inside its box at a page's foot
FRAME = 36.0               # how far left of a block's text its side border may be, in points


def _side(layout: Layout, items: list[Item], key: int) -> tuple[int, set[int]]:
    """How many lines of block `key` a page holds (its title, a table's
    caption and header rows left out), and which of its children they are in."""
    counted, children = [], set()
    for item in items:
        chain = layout.chain(item.element)
        if key not in chain:
            continue
        below = chain[:chain.index(key)]
        if below:
            children.add(below[-1])
        if below and layout.elements[below[-1]].role in HEADINGS:
            continue                                  # the block's own title
        if any(_table_head(layout, k) for k in below):
            continue
        counted.append(item)
    return len(lines(counted)), children


def _table_head(layout: Layout, key: int) -> bool:
    """A table's header row or caption: repeated or left behind, not its lines."""
    element = layout.elements[key]
    parent = layout.elements.get(element.parent) if element.parent is not None else None
    return element.role in ("THead", "TH") or (element.role == "Caption" and parent is not None
                                               and parent.role == "Table")


def _kind(layout: Layout, key: int) -> str:
    element = layout.elements[key]
    roles = [element.role] + [layout.elements[k].role for k in element.children]
    return "list" if roles[0] == "L" else "table" if "Table" in roles[:1] or roles[1:] == ["Table"] else "block"


def check_splits(layout: Layout, p: int, result: "CheckResult", stranded: list[Item]) -> None:
    """Blocks with content on pages p and p + 1 and too little on one side
    (a stranded line, already reported, does not count)."""
    here = [i for i in layout.pages[p] if not any(i is s for s in stranded)]
    there = layout.pages[p + 1]
    on_here = {k for i in here for k in layout.chain(i.element)}
    on_there = {k for i in there for k in layout.chain(i.element)}
    straddling = sorted((k for k in on_here & on_there
                         if layout.elements[k].role in BLOCKS and layout.elements[k].depth >= 2
                         and not _a_section(layout, k)),
                        key=lambda k: layout.elements[k].depth)
    failed: set[int] = set()
    for key in straddling:
        if failed & set(layout.chain(key)):
            continue
        (above, _), (below, _) = _side(layout, here, key), _side(layout, there, key)
        if above == 0:
            continue                                   # only its title: a stranded heading
        why = None
        if min(above, below) < MIN_LINES:
            why = f"{above} line(s) before the break and {below} after"
        elif _kind(layout, key) == "table" and 1 in (_rows(layout, here, key), _rows(layout, there, key)):
            why = "one row alone on one side of the break"
        if why:
            failed.add(key)
            result.add("PDF-LAYOUT-SPLIT", f"a {_kind(layout, key)} ('{layout.text_of(key)}') is split from page "
                       f"{p + 1} to page {p + 2} with {why}",
                       f"a callout, list or table keeps at least {MIN_LINES} lines on either side of a "
                       "page break, a table two rows (orphans, widows, break-before and break-after in "
                       "styles/print.css)", f"page {p + 1}")
    for key in sorted(on_here & on_there):
        if layout.elements[key].role not in ("P", "LBody") or failed & set(layout.chain(key)):
            continue
        counts = [len(lines([i for i in items if layout.under(i, key)])) for items in (here, there)]
        if 1 in counts:
            what = "definition" if _defines(layout, key) else "paragraph" \
                if layout.elements[key].role == "P" else "list item"
            result.add("PDF-LAYOUT-SPLIT", f"a {what} ('{layout.text_of(key)}') is split from page {p + 1} to "
                       f"page {p + 2} with {'its first' if counts[0] == 1 else 'its last'} line alone",
                       "a paragraph keeps two lines on either side of a page break (orphans and widows in "
                       "styles/print.css)", f"page {p + 1}")
    _tinted(layout, p, here, there, [k for k in straddling if not failed & set(layout.chain(k))], result)


def _a_section(layout: Layout, key: int) -> bool:
    """A section of its part (titled at the part's second level, H2, as
    the generated accessibility statement is), not a block inside one: it
    breaks like the text of a chapter."""
    return any(layout.elements[k].role in ("H1", "H2") for k in layout.elements[key].children)


def _rows(layout: Layout, items: list[Item], key: int) -> int:
    """How many body rows of table `key` a page holds (header rows repeated
    on later pages are artifacts, so not among the items)."""
    return len({k for i in items if layout.under(i, key) for k in layout.chain(i.element)
                if layout.elements[k].role == "TR"
                and not any(layout.elements[a].role == "THead" for a in layout.chain(k))})


def _defines(layout: Layout, key: int) -> bool:
    """An LBody that is a definition (its list item has a term, Lbl)."""
    parent = layout.elements[key].parent
    return layout.elements[key].role == "LBody" and parent is not None and any(
        layout.elements[k].role == "Lbl" and layout.text_of(k, 2) for k in layout.elements[parent].children)


def _tinted(layout: Layout, p: int, here: list[Item], there: list[Item], straddling: list[int], result: "CheckResult") -> None:
    """A block split from page p whose box (a background, or a side border)
    runs on below its last line there, to the foot of the text area: empty,
    coloured space, which a reader takes for a fault, unless nothing could
    have come back: what follows on the next page is no more than the three
    lines a split keeps, or one part (a quotation, a paragraph) too short to
    split with three lines on either side. What is painted is read
    from the page as rendered, so a background, a border drawn any way, or
    only a top rule (no box below it, so no finding) are told apart."""
    area = text_area(layout)
    if area is None or layout.path is None:
        return
    for key in straddling:
        if _kind(layout, key) != "block" or layout.elements[key].role == "L":
            continue
        mine = [i for i in here if layout.under(i, key)]
        if not mine:
            continue
        bottom = max(i.bottom for i in mine)
        tops = [min(i.top for i in line) for line in lines([i for i in mine if i.is_text])]
        steps = sorted(b - a for a, b in zip(tops, tops[1:]) if b > a)
        if not steps:
            continue
        empty = (area[1] - bottom) / steps[len(steps) // 2]          # in the block's lines
        rest, parts = _side(layout, there, key)
        _, parts_here = _side(layout, here, key)
        # nothing could have come back: the three lines a split keeps, or one
        # part too short to split with three lines on each side
        whole = len(parts) == 1 and not parts & parts_here and rest < 2 * MIN_LINES
        if empty > MAX_TINTED and rest > MIN_LINES and not whole and _painted(layout, p, (min(i.left for i in mine) - FRAME, bottom + 4,
                                                       max(i.right for i in mine), area[1] - 4)):
            result.add("PDF-LAYOUT-GAP", f"a block ('{layout.text_of(key)}') split from page {p + 1} to page "
                       f"{p + 2} leaves room for {empty:.1f} of its lines empty inside its box, below its last line",
                       "let the block break between its parts (guidepub/pdf/flow.py marks the breaks "
                       "styles/print.css allows)", f"page {p + 1}")
            return


def _painted(layout: Layout, p: int, region: tuple[float, float, float, float]) -> bool:
    """Whether some column of the region (left, top, right, bottom, in points
    from the page's top left) is painted, not white, from its top to its foot."""
    scale = 0.5
    document = pdfium.PdfDocument(str(layout.path))
    try:
        page = document[p]
        x0, _, _, y1 = page.get_mediabox()              # the rendering starts at the media box's top left
        dy = page.get_height() - y1
        image = page.render(scale=scale).to_pil().convert("L")
    finally:
        document.close()
    left, top, right, bottom = region
    left, top, right, bottom = (max(0, round(v * scale)) for v in (left - x0, top - dy, right - x0, bottom - dy))
    if right <= left or bottom <= top:
        return False
    band = image.crop((left, top, right, bottom))
    width, height = band.size
    pixels = band.load()
    return any(sum(pixels[x, y] < 250 for y in range(height)) >= 0.95 * height for x in range(width))
