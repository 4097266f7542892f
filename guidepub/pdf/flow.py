"""Second layouts for pages left mostly empty inside a part.

After the first layout, each page inside a part (not its first or last)
that is under MIN_FILL full is a gap, and what starts the next page did
not fit. Two things can fill it, both decided from the laid-out boxes, and
the book is laid out again (at most ROUNDS times; only when there is a gap):

- A figure, or a table with its caption, that starts the next page moves,
  in the book's HTML, past the paragraphs, lists and subsections (h3 and
  below, each heading with the text after it) that follow it, as many as it
  takes to fill the gap (from their laid-out heights), never past a section
  heading (h1, h2) or another block: text flows past it (WeasyPrint has no
  top-of-page float). A lead-in paragraph and its list move as one.
  Cross-references name the page the figure lands on, as always.
- Every list and table may break where the layout check allows
  (guidepub/check/layout.py: three lines on either side, and never a list
  item alone), now that its items' lines are known: print.css keeps three
  items of a list, or three rows of a table, on either side of a break,
  which is right for one-line items but holds a list of long ones together.
  Each allowed break is marked on the items beside it (data-break="after"
  and "before"), which print.css lets break; callouts likewise ("head",
  "tail"). All of them in the part are marked, not only those beside a
  gap: every mark is a break the check accepts, and the part needs no third
  layout for a list that a second one left short.

Each part (a child of <body>) is mended on its own: only a part with a gap,
a callout split with empty space in its box or a table row alone gets marks
or moves, decided from its own pages. So a part laid out alone comes out as
it does in the whole book, which the part-by-part build relies on
(pdf/parts.py); a moved figure is named after its id, not by a count.

Marks change no element, so every edition keeps the same tag tree. A moved
figure is named (data-moved) with the element it stood before
(data-moved-past), and pdf/tags.py puts its structure element back in that
place: the tree, read by a screen reader, keeps the source order in every
edition (PDF-TAG-EDITIONS); only the page shows it later.

guidepub/check/layout.py proves the result on the written PDF
(PDF-LAYOUT-EMPTY)."""

from __future__ import annotations

import re

from weasyprint.formatting_structure import boxes

MIN_FILL = 0.55        # the check's threshold: a page inside a part fills at least this share
FULL = 0.85            # share of a page that text spilled past a moved figure fills: no gap left
ROUNDS = 2             # layouts after the first, at most
MOVE_FIGURES = True   # see the module's docstring
TEXT = {"p", "ul", "ol", "dl"}       # what a figure may move past
SUBHEADINGS = {"h3", "h4", "h5", "h6"}  # and the subsections of its section (never past its section's end, h2)
LISTS = {"ul", "ol", "dl"}
MARKED = re.compile(r'<(li|dt|dd|tr)(?=[\s>/])( data-break="([^"]*)")?')
MIN_LINES = 3          # the check's: lines a split list or table keeps on either side
GAP = 0.10             # share of a page a split callout leaves empty inside its box that is worth a relayout
BLOCK = re.compile(r'<(section|aside)( data-break="([^"]*)")?(?=\s[^>]*?\bclass="block[ "])')


def flow_past(document, logged, html: str, relayout):
    """The Document (and its log) after filling every gap it can; `relayout(html)`
    lays out changed HTML. Each part is mended on its own: only a part with
    a gap or a fault gets marks or moves, decided from its own pages, so a
    part comes out the same laid out alone as in the whole book (the
    part-by-part build, pdf/parts.py, relies on it)."""
    for _ in range(ROUNDS):
        gaps = _gaps(document)
        pages = [page._page_box for page in document.pages]
        faulty = {id(_part(pages[p])) for p in gaps} | _faults(document)
        if not faulty:
            break
        owner = _owners(document)
        marks = {e: words for e, words in _breaks(document).items() if owner.get(id(e)) in faulty}
        moves = [move for move in (_move(document, p) for p in gaps) if move] if MOVE_FIGURES else []
        changed = _apply(_mark(html, document, marks), moves)
        if changed == html:
            break
        html = changed
        document, logged = relayout(html)
    return document, logged


def _owners(document) -> dict[int, int]:
    """id(element) -> id(the part, a child of <body>, that holds it)."""
    body = next((c for c in _root(document) if c.tag == "body"), None)
    return {id(e): id(part) for part in (body if body is not None else ()) for e in part.iter()}


def _part(page_box):
    """The book's part (a child of <body>) a page's first box belongs to."""
    path = _first_block(page_box)
    return path[2].element if len(path) > 2 else None


def _gaps(document) -> list[int]:
    """Pages (0-based) inside a part, not its first or last, under MIN_FILL full."""
    pages = [page._page_box for page in document.pages]
    parts = [_part(page) for page in pages]
    found = []
    for p in range(1, len(pages) - 1):
        if parts[p] is None or not parts[p - 1] is parts[p] is parts[p + 1]:
            continue
        top, height = pages[p].content_box_y(), pages[p].height
        if height > 0 and (_bottom(pages[p]) - top) / height < MIN_FILL:
            found.append(p)
    return found


def _faults(document) -> set[int]:
    """The parts (their ids) where a callout split leaves more than GAP of a
    page empty inside its box, or a table leaves one body row alone on a
    page: faults the layout check reports (PDF-LAYOUT-GAP,
    PDF-LAYOUT-SPLIT) that the marked breaks can mend."""
    pages = [page._page_box for page in document.pages]
    owner = _owners(document)
    seen: list[set] = []
    rows: dict = {}
    for number, page in enumerate(pages):
        here: set = set()
        stack = [page]
        while stack:
            box = stack.pop()
            if isinstance(box, (boxes.MarginBox, boxes.LineBox)):
                continue
            element = box.element
            if isinstance(box, boxes.TableBox) and element is not None:
                body = [row.element for group in box.children if isinstance(group, boxes.TableRowGroupBox)
                        and not group.is_header and not group.is_footer for row in group.children]
                rows.setdefault(element, {}).setdefault(number, set()).update(body)
            if isinstance(box, boxes.BlockBox) and element is not None and _is_block(element):
                here.add(element)
            stack.extend(getattr(box, "children", ()))
        seen.append(here)
    found = set()
    for number, page in enumerate(pages[:-1]):
        foot = page.content_box_y() + page.height
        for box in _blocks(page):
            if box.element in seen[number + 1] and (foot - _bottom(box)) / max(page.height, 1.0) > GAP:
                found.add(owner.get(id(box.element)))
    found |= {owner.get(id(table)) for table, on in rows.items()
              if len(on) > 1 and any(len(r) == 1 for r in on.values())}
    return found - {None}


def _is_block(element) -> bool:
    return element.tag in ("section", "aside") and "block" in (element.get("class") or "").split()


def _blocks(box):
    """The callout boxes inside a box."""
    if isinstance(box, (boxes.MarginBox, boxes.LineBox)):
        return
    if isinstance(box, boxes.BlockBox) and box.element is not None and _is_block(box.element):
        yield box
    for child in getattr(box, "children", ()):
        yield from _blocks(child)


def _bottom(box) -> float:
    """The foot of the lowest line, image or table row inside a box."""
    if isinstance(box, (boxes.LineBox, boxes.ReplacedBox, boxes.TableRowBox)):
        return box.position_y + box.margin_height()
    return max((_bottom(c) for c in getattr(box, "children", ()) if not isinstance(c, boxes.MarginBox)),
               default=0.0)


def _first_block(box):
    """The path of boxes down to the first thing a page holds."""
    path = []
    while isinstance(box, boxes.ParentBox) and box.children and not isinstance(box, boxes.LineBox):
        box = next((c for c in box.children if not isinstance(c, boxes.MarginBox)), None)
        if box is None:
            break
        path.append(box)
    return path


def _movable(box) -> bool:
    classes = (box.element.get("class") or "").split() if box.element is not None else []
    return box.element_tag in ("figure", "div") and ("figure" in classes or "table-wrap" in classes)


def _move(document, gap: int):
    """(figure, the elements to move it past) for a figure or table that
    starts the page after gap page `gap`; None if there is none."""
    page = document.pages[gap + 1]._page_box
    path = _first_block(page)
    found = next((i for i, box in enumerate(path) if _movable(box)), None)
    if found is None or found == 0 or path[found].element is None or path[found - 1].element is None:
        return None
    figure, parent = path[found].element, path[found - 1].element
    before = document.pages[gap]._page_box
    free = before.content_box_y() + before.height - _bottom(before)
    siblings = list(parent)
    heights = _heights(document)
    past, filled = [], 0.0
    tall, room = path[found].margin_height(), before.height
    for element in siblings[siblings.index(figure) + 1:]:
        # a lead-in paragraph goes with its list, a subheading with what follows it
        held = bool(past) and (past[-1].tag == "p" and element.tag in LISTS or past[-1].tag in SUBHEADINGS)
        # enough: the gap is filled, and the figure fits below what spills onto
        # the next page, or that page is full enough without it
        spill = filled - free
        if element.tag not in TEXT | SUBHEADINGS or (
                spill >= 0 and not held and (spill + tall <= room or spill >= FULL * room)):
            break
        past.append(element)
        filled += heights.get(id(element), 0.0)
    while past and past[-1].tag in SUBHEADINGS:  # never a heading left before the figure, parted from its text
        past.pop()
    return (figure, past) if past else None


def _breaks(document) -> dict:
    """element -> {"after"}, {"before"}, or for a callout {"head"} and
    {"tail"}: the breaks the check allows in every list, table and callout of
    the book, from their lines."""
    lines = _lines(document)
    marks: dict = {}
    for element in _root(document).iter():
        if _is_block(element):
            marks.update(_block_marks(element, lines))
            continue
        if element.tag in LISTS:
            items = _items(element)
            rows = [sum(lines.get(id(e), 0) for e in item) for item in items]
            ends = 1                              # an item alone keeps three lines, as any side does
        elif element.tag == "table":
            items = [[row] for body in element if body.tag == "tbody" for row in body if row.tag == "tr"]
            rows = [max((lines.get(id(cell), 0) for cell in row), default=0) for [row] in items]
            ends = 2                              # never one row alone
        else:
            continue
        for k in range(ends, len(items) - ends + 1):
            if sum(rows[:k]) >= MIN_LINES and sum(rows[k:]) >= MIN_LINES:
                marks.setdefault(items[k - 1][-1], set()).add("after")
                marks.setdefault(items[k][0], set()).add("before")
    return marks


def _block_marks(element, lines: dict) -> dict:
    """A callout's marks: "head" when its first part (after the title) may
    end a page, "tail" when its last part may start one; each keeps three
    lines on its side (print.css otherwise keeps them with their neighbour)."""
    parts = [child for child in element if "block-title" not in (child.get("class") or "").split()]
    counts = [lines.get(id(child), 0) for child in parts]
    words = set()
    if len(parts) > 1 and counts[0] >= MIN_LINES and sum(counts[1:]) >= MIN_LINES:
        words.add("head")
    if len(parts) > 1 and counts[-1] >= MIN_LINES and sum(counts[:-1]) >= MIN_LINES:
        words.add("tail")
    return {element: words} if words else {}


def _root(document):
    """The laid-out HTML's root element."""
    return document.pages[0]._page_box.children[0].element


def _items(element) -> list[list]:
    """A list's items: its <li>s, or a definition list's terms, each with its
    definitions."""
    if element.tag != "dl":
        return [[item] for item in element if item.tag == "li"]
    items: list[list] = []
    for child in element:
        if child.tag == "dt" and not (items and items[-1][-1].tag == "dt"):
            items.append([child])
        elif child.tag in ("dt", "dd") and items:
            items[-1].append(child)
    return items


def _lines(document) -> dict[int, int]:
    """How many lines each element holds, over all its pages: line boxes at
    distinct heights (a floated page number in the contents sits on its
    entry's line; a list item's marker shares its first line)."""
    found: dict[int, set] = {}

    def visit(box, owners: tuple, page: int) -> None:
        if isinstance(box, boxes.MarginBox) or (box.element_tag or "").endswith("::marker"):
            return
        if box.element is not None and (not owners or owners[-1] is not box.element):
            owners = owners + (box.element,)
        if isinstance(box, boxes.LineBox):
            for element in set(owners):
                found.setdefault(id(element), set()).add((page, round(box.position_y)))
            return
        for child in getattr(box, "children", ()):
            visit(child, owners, page)

    for number, page in enumerate(document.pages):
        visit(page._page_box, (), number)
    return {key: len(at) for key, at in found.items()}


def _mark(html: str, document, marks: dict) -> str:
    """The HTML with data-break on the marked items and callouts, found by
    their place among the book's <li>, <dt>, <dd> and <tr>, or its callouts
    (the same in the HTML and the laid-out tree)."""
    if not marks:
        return html
    elements = list(_root(document).iter())
    html = _mark_in(html, [e for e in elements if e.tag in ("li", "dt", "dd", "tr")], MARKED, marks)
    return _mark_in(html, [e for e in elements if _is_block(e)], BLOCK, marks)


def _mark_in(html: str, order: list, pattern: re.Pattern, marks: dict) -> str:
    tags = list(pattern.finditer(html))
    if len(order) != len(tags) or any(e.tag != m.group(1) for e, m in zip(order, tags)):
        return html                               # not the tree laid out: leave it
    out, last = [], 0
    for element, match in zip(order, tags):
        words = marks.get(element)
        if not words:
            continue
        words = sorted(words | set((match.group(3) or "").split()))
        out += [html[last:match.start()], f'<{match.group(1)} data-break="{" ".join(words)}"']
        last = match.end()
    return "".join(out) + html[last:]


def _heights(document) -> dict[int, float]:
    """Every block element's laid-out height, summed over its pages."""
    heights: dict[int, float] = {}
    for page in document.pages:
        stack = [page._page_box]
        while stack:
            box = stack.pop()
            if isinstance(box, boxes.MarginBox) or isinstance(box, boxes.LineBox):
                continue
            if isinstance(box, boxes.BlockBox) and box.element is not None \
                    and box.element_tag in TEXT | SUBHEADINGS:
                heights[id(box.element)] = heights.get(id(box.element), 0.0) + box.margin_height()
            stack.extend(getattr(box, "children", ()))
    return heights


# -- the HTML -----------------------------------------------------------------

def _extent(html: str, start: int) -> int:
    """The end of the element whose start tag begins at `start`."""
    tag = re.match(r"<([a-zA-Z0-9]+)", html[start:]).group(1)
    pattern = re.compile(rf"<(/?){tag}(?=[\s>/])[^>]*?(/?)>")
    depth = 0
    for match in pattern.finditer(html, start):
        if match.group(2):                      # <tag ... />
            continue
        depth += -1 if match.group(1) else 1
        if depth == 0:
            return match.end()
    raise ValueError(f"unbalanced <{tag}>")


def _start_of(html: str, element, after: int) -> int:
    """Where an element's start tag is: found by its id, else the next start
    tag of its name from `after`."""
    ident = element.get("id")
    if ident:
        match = re.search(rf'<{element.tag}\s[^>]*\bid="{re.escape(ident)}"', html)
    else:
        match = re.compile(rf"<{element.tag}(?=[\s>])").search(html, after)
    if match is None:
        raise ValueError(f"<{element.tag}> not found")
    return match.start()


def _apply(html: str, moves) -> str:
    """The HTML with each figure moved past its elements (the last first, so
    earlier offsets hold)."""
    spans = []
    for figure, past in moves:
        try:
            if figure.get("id"):
                start = _start_of(html, figure, 0)
            else:                                   # a table without an id: its wrapper by its table's place
                start = _wrapper_start(html, figure)
            end = _extent(html, start)
            cursor = end
            for element in past:
                begin = _start_of(html, element, cursor)
                if html[cursor:begin].strip():       # not the next sibling: give up on this one
                    raise ValueError("not adjacent")
                cursor = _extent(html, begin)
        except (ValueError, AttributeError):
            continue
        # named for the figure, not by a count: the same whether its part
        # is laid out alone or in the whole book
        inner = next(iter(figure), None)
        ident = figure.get("id") or (inner.get("id") if inner is not None else None)
        if ident:
            spans.append((start, end, cursor, f"m-{ident}"))
    for start, end, cursor, token in sorted(spans, reverse=True):
        figure, past = html[start:end], html[end:cursor].lstrip("\n")
        if ' data-moved="' not in figure[:figure.find(">")]:       # moved before: its source place holds
            figure, past = _attribute(figure, "data-moved", token), _attribute(past, "data-moved-past", token)
        html = html[:start] + past + "\n" + figure + html[cursor:]
    return html


def _attribute(fragment: str, name: str, token: str) -> str:
    """The fragment with `token` added to attribute `name` of its first tag.
    A moved block and the element it stood before are named alike, so the tag
    tree keeps the block in its source place (pdf/tags.py): every edition
    has one tree, wherever the page shows the block."""
    tag = re.match(r"\s*<[A-Za-z][\w:-]*", fragment)
    close = fragment.find(">", tag.end())
    head = fragment[:close]
    found = re.search(rf'\s{name}="([^"]*)"', head)
    if found:
        return head[:found.start(1)] + f"{found.group(1)} {token}" + fragment[found.end(1):]
    return fragment[:tag.end()] + f' {name}="{token}"' + fragment[tag.end():]


def _wrapper_start(html: str, wrapper) -> int:
    table = next(iter(wrapper), None)
    ident = table.get("id") if table is not None else None
    if not ident:
        raise ValueError("a table without an id")
    match = re.search(rf'<div(?: data-moved="[^"]*")? class="table-wrap">\s*<table id="{re.escape(ident)}"', html)
    if match is None:
        raise ValueError("table not found")
    return match.start()
