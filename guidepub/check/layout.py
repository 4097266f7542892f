"""Page layout, read back from the written PDF: no heading, glossary term,
block title or lead-in line left at the foot of a page; no callout, list or
table split with fewer than three lines on a side (nor a list that leaves
one item alone); no page inside a chapter left mostly empty.

What sits where comes from the page geometry: pypdfium2 gives every tagged
page object (text, image, figure) with its box and its marked-content id
(MCID); artifacts (running heads, page numbers, backgrounds and borders) are
left out. The structure tree says only what each piece of content belongs to
(MCID -> element, through the parent tree, then up each element's /P): a
heading, a term, a list item, a callout. An element whose content is on two
pages is found whether the tree makes one element of it or one a page: the
check compares the content of consecutive pages, element by element.

This module reads the pages and finds stranded lines and empty pages;
breaks.py finds blocks split badly (PDF-LAYOUT-SPLIT, PDF-LAYOUT-GAP) and
typeset.py lines a reader stumbles on (PDF-LAYOUT-RUNT, PDF-LAYOUT-URL).

The text area of a page is measured, not assumed: its top and foot are where
the content of ordinary pages starts and ends (a low and a high quantile over
every page), so each edition, its margins and its bleed are measured alike."""

from __future__ import annotations

import ctypes
import re
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
import pypdfium2.raw as raw

from . import CheckResult

CODES = ("PDF-LAYOUT-STRANDED", "PDF-LAYOUT-SPLIT", "PDF-LAYOUT-GAP", "PDF-LAYOUT-EMPTY",
         "PDF-LAYOUT-RUNT", "PDF-LAYOUT-URL")
HEADINGS = {"H", "H1", "H2", "H3", "H4", "H5", "H6"}
# Elements that are blocks when they sit inside a part: callouts (Sect,
# Aside), figure and quotation wrappers (NonStruct, Div), lists and tables.
BLOCKS = {"Sect", "Aside", "Div", "NonStruct", "BlockQuote", "L", "Table", "Note", "Art", "Part"}
MIN_LINES = 3              # lines a split block keeps on either side of the break
MIN_FILL = 0.55            # share of the text area a page inside a chapter fills
MARKER = re.compile(r"^\s*(?:[•◦▪–›-]|\d+[.)])\s*$")      # a list item's marker, left out of quoted text


@dataclass
class Element:
    role: str
    parent: int | None
    children: list[int] = field(default_factory=list)
    depth: int = 0


@dataclass
class Item:
    """One tagged page object: a run of text, an image or a figure."""
    top: float                 # from the top of the page, in points
    bottom: float
    element: int               # the structure element its MCID belongs to
    text: str = ""
    left: float = 0.0
    right: float = 0.0

    @property
    def is_text(self) -> bool:
        return bool(self.text.strip())


@dataclass
class Layout:
    elements: dict[int, Element]
    pages: list[list[Item]]
    path: Path | None = None
    width: float = 0.0                       # of the pages, in points
    height: float = 0.0

    def chain(self, key: int) -> list[int]:
        """The element and its ancestors, innermost first."""
        found = []
        while key is not None and key in self.elements and key not in found:
            found.append(key)
            key = self.elements[key].parent
        return found

    def under(self, item: Item, key: int) -> bool:
        return key in self.chain(item.element)

    def text_of(self, key: int, limit: int = 60) -> str:
        """The element's text as it reads: page by page, line by line."""
        text = " ".join(i.text.strip() for page in self.pages for line in lines(
            [i for i in page if i.is_text and self.under(i, key)]) for i in sorted(line, key=lambda i: i.left)
            if not MARKER.match(i.text))
        text = " ".join(text.replace("\u00ad", "").split())
        return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


# -- reading ----------------------------------------------------------------

def _elements(pdf: pikepdf.Pdf) -> tuple[dict[int, Element], dict[tuple[int, int], int]]:
    """The structure elements by key (their object number), and the key of
    the element each (page index, MCID) belongs to, from the parent tree."""
    elements: dict[int, Element] = {}
    tree = pdf.Root.get("/StructTreeRoot")
    if tree is None:
        return elements, {}
    keys: dict[tuple[int, int], int] = {}

    def key_of(obj) -> int:
        if obj.is_indirect:
            return obj.objgen[0]
        return keys.setdefault(("direct", id(obj)), -len(keys) - 1)

    stack = [(tree.get("/K"), None, 0)]
    while stack:
        obj, parent, depth = stack.pop()
        if isinstance(obj, pikepdf.Array):
            stack.extend((kid, parent, depth) for kid in reversed(list(obj)))
            continue
        if not isinstance(obj, pikepdf.Dictionary) or "/S" not in obj or obj.get("/Type") in ("/MCR", "/OBJR"):
            continue
        key = key_of(obj)
        if key in elements:
            continue
        elements[key] = Element(str(obj.S).lstrip("/"), parent, depth=depth)
        if parent is not None:
            elements[parent].children.append(key)
        if "/K" in obj:
            stack.append((obj.K, key, depth + 1))
    owners: dict[tuple[int, int], int] = {}
    if "/ParentTree" in tree:
        parents = pikepdf.NumberTree(tree.ParentTree)
        for index, page in enumerate(pdf.pages):
            number = page.obj.get("/StructParents")
            if number is None or int(number) not in parents:
                continue
            found = parents[int(number)]
            for mcid, obj in enumerate(found if isinstance(found, pikepdf.Array) else []):
                if isinstance(obj, pikepdf.Dictionary) and obj.is_indirect and obj.objgen[0] in elements:
                    owners[(index, mcid)] = obj.objgen[0]
    return elements, owners


def _marks(obj) -> list[str]:
    names = []
    for i in range(raw.FPDFPageObj_CountMarks(obj.raw)):
        mark = raw.FPDFPageObj_GetMark(obj.raw, i)
        buffer, length = (ctypes.c_ushort * 64)(), ctypes.c_ulong()
        if raw.FPDFPageObjMark_GetName(mark, buffer, ctypes.sizeof(buffer), ctypes.byref(length)):
            names.append(bytes(buffer)[:max(length.value - 2, 0)].decode("utf-16-le", "replace"))
    return names


def _text(obj, textpage) -> str:
    size = raw.FPDFTextObj_GetText(obj.raw, textpage.raw, None, 0)
    if size <= 2:
        return ""
    buffer = (ctypes.c_ushort * (size // 2))()
    raw.FPDFTextObj_GetText(obj.raw, textpage.raw, buffer, size)
    return bytes(buffer).decode("utf-16-le", "replace").rstrip("\x00")


def read_layout(path: Path) -> Layout:
    with pikepdf.open(path) as pdf:
        elements, owners = _elements(pdf)
    pages: list[list[Item]] = []
    document = pdfium.PdfDocument(str(path))
    try:
        for index in range(len(document)):
            page = document[index]
            height = page.get_height()
            textpage = page.get_textpage()
            items = []
            for obj in page.get_objects(max_depth=0):
                mcid = raw.FPDFPageObj_GetMarkedContentID(obj.raw)
                owner = owners.get((index, mcid))
                if mcid < 0 or owner is None or "Artifact" in _marks(obj):
                    continue
                left, bottom, right, top = obj.get_bounds()
                text = _text(obj, textpage) if obj.type == raw.FPDF_PAGEOBJ_TEXT else ""
                if obj.type == raw.FPDF_PAGEOBJ_TEXT and not text.strip():
                    continue
                items.append(Item(height - top, height - bottom, owner, text, left, right))
            pages.append(items)
            textpage.close()
            page.close()
    finally:
        document.close()
    return Layout(elements, pages, path)


# -- lines and the text area ------------------------------------------------

def lines(items: list[Item]) -> list[list[Item]]:
    """Items grouped into lines: runs whose boxes overlap vertically by at
    least a third of the smaller one (a note number rides on its line)."""
    found: list[list[Item]] = []
    span: list[float] = []
    for item in sorted(items, key=lambda i: (i.top + i.bottom) / 2):
        height = max(item.bottom - item.top, 0.1)
        if found:
            top, bottom = span
            overlap = min(bottom, item.bottom) - max(top, item.top)
            if overlap > min(height, bottom - top) / 3:
                found[-1].append(item)
                span[:] = [min(top, item.top), max(bottom, item.bottom)]
                continue
        found.append([item])
        span[:] = [item.top, item.bottom]
    return found


def _quantile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(share * len(ordered)), len(ordered) - 1)]


def text_area(layout: Layout) -> tuple[float, float] | None:
    """Where ordinary pages' content starts and ends (from the page's top)."""
    tops = [min(i.top for i in page) for page in layout.pages if page]
    bottoms = [max(i.bottom for i in page) for page in layout.pages if page]
    if len(tops) < 2:
        return None
    return _quantile(tops, 0.1), _quantile(bottoms, 0.9)


# -- the check --------------------------------------------------------------

def check_layout(path: Path, result: CheckResult) -> CheckResult:
    """Add the layout findings of one PDF edition to its result."""
    from . import breaks, typeset          # they read a Layout: imported once this module is
    layout = read_layout(path)
    openers = {p for p, items in enumerate(layout.pages)
               if any(layout.elements[k].role == "H1" for i in items for k in layout.chain(i.element))}
    counts = {code: 0 for code in CODES}
    before = len(result.findings)
    for p in range(len(layout.pages) - 1):
        if layout.pages[p] and layout.pages[p + 1] and p + 1 not in openers:
            stranded = _stranded(layout, p, result)
            breaks.check_splits(layout, p, result, stranded)
    _empty(layout, openers, result)
    typeset.check_lines(layout, result)
    for finding in result.findings[before:]:
        counts[finding.code] = counts.get(finding.code, 0) + 1
    result.facts["layout findings"] = counts
    return result


def _stranded(layout: Layout, p: int, result: CheckResult) -> list[Item]:
    """The last line of page p, when it is a heading, a term or a lead-in
    line (reported), else []."""
    last = max(lines(layout.pages[p]), key=lambda line: max(i.bottom for i in line))
    roles = [[layout.elements[k].role for k in layout.chain(i.element)] for i in last]
    what = None
    if all(any(r in HEADINGS for r in chain) for chain in roles):
        key = next(k for k in layout.chain(last[0].element) if layout.elements[k].role in HEADINGS)
        what = f"heading '{layout.text_of(key)}'"
    elif all("Lbl" in chain and "LBody" not in chain for chain in roles):
        key = next(k for k in layout.chain(last[0].element) if layout.elements[k].role == "Lbl")
        what = f"term '{layout.text_of(key)}'"
    else:
        key = next((k for k in layout.chain(last[-1].element) if layout.elements[k].role == "P"), None)
        if (key is not None and all(layout.under(i, key) for i in last) and _leads_in(layout, key)
                and not any(layout.under(i, key) for i in layout.pages[p + 1])):   # its last line
            what = f"lead-in line '{layout.text_of(key)}'"
    if not what:
        return []
    result.add("PDF-LAYOUT-STRANDED", f"the {what} is the last line of page {p + 1}; what it "
               f"introduces starts page {p + 2}", "keep headings, terms, block titles and lead-in lines "
               "with what follows (break-after: avoid in styles/print.css)", f"page {p + 1}")
    return last


def _leads_in(layout: Layout, key: int) -> bool:
    """A paragraph that ends in a colon and is followed by a list."""
    parent = layout.elements[key].parent
    if parent is None:
        return False
    siblings = layout.elements[parent].children
    index = siblings.index(key)
    following = siblings[index + 1] if index + 1 < len(siblings) else None
    return (following is not None and layout.elements[following].role == "L"
            and layout.text_of(key, 100000).rstrip().endswith(":"))


def _empty(layout: Layout, openers: set[int], result: CheckResult) -> None:
    """A page inside a part (not its opener, not its last page) whose content
    ends before MIN_FILL of the text area."""
    area = text_area(layout)
    if area is None or not openers:
        return
    top, foot = area
    first = min(openers)
    for p, items in enumerate(layout.pages):
        if p <= first or p in openers or p + 1 in openers or p + 1 >= len(layout.pages) or not items:
            continue
        fill = (max(i.bottom for i in items) - top) / max(foot - top, 1.0)
        if fill < MIN_FILL:
            result.add("PDF-LAYOUT-EMPTY", f"page {p + 1} is only {fill:.0%} full inside a chapter; "
                       f"page {p + 2} starts with {_opening(layout, p + 1)}",
                       "a block that did not fit left the gap: let it split (styles/print.css), or let "
                       "text flow past a figure or table (guidepub/pdf/flow.py)", f"page {p + 1}")


def _opening(layout: Layout, p: int) -> str:
    """What starts page p: its first line of text, or a figure by its caption."""
    if not layout.pages[p]:
        return "nothing tagged"
    first = min(layout.pages[p], key=lambda i: i.top)
    figure = next((k for k in layout.chain(first.element) if layout.elements[k].role == "Figure"), None)
    if figure is not None:
        wrapper = layout.elements[figure].parent
        captions = [k for k in layout.elements[wrapper].children if layout.elements[k].role == "Caption"] \
            if wrapper is not None else []
        return f"a figure ('{layout.text_of(captions[0], 50)}')" if captions else "a figure"
    line = next(iter(lines([i for i in layout.pages[p] if i.is_text])), [])
    return "'" + " ".join(i.text.strip() for i in sorted(line, key=lambda i: i.left))[:50] + "'"
