"""Paint a page in the order its tag tree reads it, without changing how it
looks. WeasyPrint paints a list's outside markers (positioned boxes) and
images (stacking contexts, as `overflow: hidden` makes them) after all the
text of the page, and a block pdf/flow.py moved past the text after it after
that text; a tool that reads the content stream then meets "First item … •".
tags.py calls paint_in_tree_order() on each page's operator list (pydyf's,
before it is written: nothing is parsed) with the MCIDs that may move and
the tree's order of the page's MCIDs."""

from __future__ import annotations

import pydyf


def _depths(items: list) -> list[int]:
    depth, depths = 0, []
    for item in items:
        depths.append(depth)
        depth += (item == b"q") - (item == b"Q")
    return depths


def _extent(items: list, depths: list[int], tag: int, level: int) -> tuple[int, int] | None:
    """Where the painting of the marked content whose tag name is items[tag]
    begins and ends, as a run of whole operators at `level`: its own q … Q
    group if it has one, else BDC … EMC. None if it is not at that level."""
    start = tag
    while start > 0 and depths[start] > level:
        start -= 1
    if depths[start] != level or (start != tag and items[start] != b"q"):
        return None
    end, open_ = start + 1, 0
    if start == tag:                                  # BDC … EMC at this level
        for end in range(tag + 3, len(items)):        # past the name, the properties and BDC
            if items[end] == b"BDC" or items[end] == b"BMC":
                open_ += 1
            elif items[end] == b"EMC":
                if open_ == 0:
                    return start, end + 1
                open_ -= 1
        return None
    while end < len(items) and depths[end] > level:
        end += 1
    return start, end


def _move(items: list, start: int, end: int, target: int) -> bool:
    """Paint items[start:end] at `target` (before it) instead: in a saved
    state that first sets the colours, alpha and text state in force where it
    was (WeasyPrint leaves out a setting it thinks current), and with the
    state it left set again where it was, for what follows. Refused (False)
    if a transform or clip at that level lies between."""
    depths = _depths(items)
    level = depths[start]
    if depths[target] != level:
        return False
    low, high = sorted((target, start))
    if any(depths[n] == level and isinstance(items[n], bytes)
           and (items[n].endswith(b" cm") or items[n] in (b"W", b"W*")) for n in range(low, high)):
        return False
    group = [b"q", *_state_at(items, start), *items[start:end], b"Q"]
    after = _state_at(items, end)
    items[start:end] = after
    if target > start:
        target += len(after) - (end - start)
    items[target:target] = group
    return True


def paint_in_tree_order(items: list, movable: set[int], ranks: dict[int, int]) -> None:
    """WeasyPrint paints a list's outside markers (positioned boxes) and
    images (stacking contexts, as `overflow: hidden` makes them) after all
    the text of the page, and a block pdf/flow.py moved past the text after
    it (keeping its source place in the tree) after that text; a tool that
    reads the content stream meets "First item … •". Move each such
    painting, in tree order, to just before the first painting the tree reads
    after it (see _move): the page looks the same (a test compares the
    pixels) and paints in reading order. `items` is pydyf's list of
    operators and operands for the page."""
    for mcid in sorted((m for m in movable if m in ranks), key=ranks.get):
        painted = [(n - 1, item["MCID"]) for n, item in enumerate(items)
                   if isinstance(item, pydyf.Dictionary) and "MCID" in item]
        tag = next((n for n, m in painted if m == mcid), None)
        target = next((n for n, m in painted if ranks.get(m, -1) > ranks[mcid]), None)
        if tag is None or target is None or target > tag:
            continue
        depths = _depths(items)
        extent = _extent(items, depths, tag, depths[target])
        if extent is not None:
            _move(items, *extent, target)


STATE = (b" cs", b" CS", b" sc", b" scn", b" SC", b" SCN", b" rg", b" RG", b" g", b" G", b" k", b" K",
         b" gs", b" Tf", b" Tc", b" Tw", b" Tz", b" TL", b" Tr", b" Ts", b" w")


KINDS = frozenset(STATE)


def _state_at(items: list, stop: int) -> list[bytes]:
    """The state-setting operators in force before items[stop] (colour,
    alpha, text state, line width), the last of each kind, in their order."""
    current: dict[bytes, bytes] = {}
    saved: list[dict[bytes, bytes]] = []
    for item in items[:stop]:
        if item == b"q":
            saved.append(dict(current))
        elif item == b"Q":
            current = saved.pop() if saved else {}
        elif isinstance(item, bytes):
            kind = item[item.rfind(b" "):]          # " op": the operator, after the last space
            if kind in KINDS:
                current.pop(kind, None)
                current[kind] = item
    return list(current.values())
