"""The PDF's tag tree follows the document, not the pages.

- PDF-TAG-PARTS: the Document's children are the book's parts, one for each
  document (chapter, front and back matter part), in order.
- PDF-TAG-SPLIT: each document's part holds as many paragraphs, lists, list
  items, tables, rows, captions, figures and headings as the source does (the
  EPUB, made from the same partials with no pages): more means an element
  that crossed a page break became two; fewer, content the tree lost.
- PDF-TAG-EDITIONS: every PDF edition has the same tree, whatever its
  pagination (run() compares them).
- PDF-READING-ORDER: on every page, tagged content is painted in the order
  the tag tree reads it.
- PDF-RUNNING-CONTENT: text repeated at the same place in the top or bottom
  margin of three or more pages (a running head or footer) is an artifact,
  not content.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter, defaultdict
from pathlib import Path

import pikepdf
from lxml import etree

from ..pdf.tagtree import Node
from . import CheckResult

COUNTED = {"p": "P", "ul": "L", "ol": "L", "dl": "L", "li": "LI", "dt": "LI", "table": "Table", "tr": "TR",
           "caption": "Caption", "figcaption": "Caption", "img": "Figure", "blockquote": "BlockQuote",
           "h1": "H1", "h2": "H2", "h3": "H3", "h4": "H4", "h5": "H5", "h6": "H6"}
GROUPS = ("Sect", "Art", "Part", "Div", "NonStruct")
XHTML = "{http://www.w3.org/1999/xhtml}"


def _key(text: str) -> str:
    return re.sub(r"[^0-9a-z]+", "", text.lower())


def _first_heading(node: Node) -> str:
    return next((n.all_text(notes=False) for n in node.walk() if n.role in ("H1", "H2")), "")


def _first_page(node: Node) -> int:
    return next((n.page for n in node.walk() if n.page is not None), 0) + 1


def check_tree(tags: Node, pdf: pikepdf.Pdf, guide, epub: Path | None, result: CheckResult) -> None:
    document = next((n for n in tags.children if n.role == "Document"), None)
    if document is None:
        result.add("PDF-TAG-PARTS", "the tag tree has no Document element", "write the PDF with guidepub")
        return
    parts = _parts(document, guide, result)
    if parts and epub is not None:
        _split(parts, guide, epub, result)
    _reading_order(pdf, result)
    _running_content(pdf, result)


def _parts(document: Node, guide, result: CheckResult) -> list[tuple[object, Node]]:
    """The Document's children: grouping elements only, and one for each
    document of the guide, in order, at the end. Returns (document, part).
    Without a guide (a PDF that is not a book of ours) there are no parts."""
    if guide is None:
        return []
    for child in document.children:
        if child.role not in GROUPS:
            result.add("PDF-TAG-PARTS", f"the Document holds a {child.role} ({child.all_text()[:40]!r}) "
                       "beside the book's parts", "every part of the book is one section of <body>; is the "
                       "tag tree keyed on the source (guidepub/pdf/tags.py)?", f"page {_first_page(child)}")
            return []
    documents = list(guide.documents)
    titles = [_key(_first_heading(child)) for child in document.children]
    wanted = [_key(doc.meta.title) for doc in documents]
    start = titles.index(wanted[0]) if wanted and wanted[0] in titles else -1
    if start < 0 or titles[start:] != wanted:
        got = len(document.children) - max(start, 0)
        result.add("PDF-TAG-PARTS", f"the Document's children do not match the book's parts: {len(wanted)} "
                   f"documents, but {got} parts from the first chapter on, or another order",
                   "one element for each part, whatever the pagination (guidepub/pdf/tags.py)", "")
        return []
    return list(zip(documents, document.children[start:]))


def _epub_sections(epub: Path) -> dict[str, etree._Element]:
    from .parity import epub_documents
    found = {}
    for _, doc in epub_documents(epub):
        for section in doc.iter(f"{XHTML}section"):
            if section.get("id"):
                found.setdefault(section.get("id"), section)
    return found


def counts_in_source(section: etree._Element) -> Counter:
    return Counter(COUNTED[etree.QName(e).localname] for e in section.iter()
                   if isinstance(e.tag, str) and etree.QName(e).localname in COUNTED)


def counts_in_tree(part: Node) -> Counter:
    values = set(COUNTED.values())
    return Counter(n.role for n in part.walk() if n is not part and n.role in values)


def _split(parts, guide, epub: Path, result: CheckResult) -> None:
    sections = _epub_sections(epub)
    for doc, part in parts:
        section = sections.get(doc.id)
        if section is None:
            continue
        source, tree = counts_in_source(section), counts_in_tree(part)
        for role in sorted(set(source) | set(tree)):
            if tree[role] > source[role]:
                result.add("PDF-TAG-SPLIT", f"'{doc.meta.title}' has {tree[role]} {role} elements in the tag "
                           f"tree, {source[role]} in the source: an element that crosses a page break was "
                           "split in two", "key structure elements on the source element "
                           "(guidepub/pdf/tags.py)", f"page {_first_page(part)}")
            elif tree[role] < source[role]:
                result.add("PDF-TAG-SPLIT", f"'{doc.meta.title}' has {tree[role]} {role} elements in the tag "
                           f"tree, {source[role]} in the source: the tree lost content",
                           "every source element has its structure element (guidepub/pdf/tags.py)",
                           f"page {_first_page(part)}")


# -- order and margins, read from the content streams ------------------------

def _tag_order(pdf: pikepdf.Pdf) -> list[tuple[int, int]]:
    """(page, MCID) in the order the tag tree reads them."""
    pages = {p.objgen: i for i, p in enumerate(pdf.pages)}
    order: list[tuple[int, int]] = []
    tree = pdf.Root.get("/StructTreeRoot")

    def visit(obj, page):
        if isinstance(obj, pikepdf.Array):
            for item in obj:
                visit(item, page)
        elif isinstance(obj, pikepdf.Dictionary):
            if "/Pg" in obj:
                page = pages.get(obj.Pg.objgen, page)
            if obj.get("/Type") == "/MCR":
                order.append((page, int(obj.MCID)))
            elif obj.get("/Type") != "/OBJR" and "/K" in obj:
                visit(obj.K, page)
        elif isinstance(obj, int) or (isinstance(obj, pikepdf.Object) and obj._type_name == "integer"):
            order.append((page, int(obj)))

    if tree is not None and "/K" in tree:
        visit(tree.K, None)
    return order


def _painted(pdf: pikepdf.Pdf):
    """For each page: MCIDs in the order they are painted, and where the
    first text of each is drawn (x, distance from the top), in points."""
    for index, page in enumerate(pdf.pages):
        box = page.obj.get("/TrimBox", page.mediabox)       # the print edition's media box is larger
        top, height = float(box[3]), float(box[3]) - float(box[1])
        order: list[int] = []
        where: dict[int, tuple[float, float]] = {}
        stack: list[int | None] = []
        ctm, saved = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0), []
        for operands, op in pikepdf.parse_content_stream(page):
            name = str(op)
            if name == "q":
                saved.append(ctm)
            elif name == "Q" and saved:
                ctm = saved.pop()
            elif name == "cm":
                ctm = _multiply(tuple(float(v) for v in operands), ctm)
            elif name == "BDC" or name == "BMC":
                props = operands[1] if name == "BDC" and len(operands) > 1 else None
                mcid = int(props.MCID) if isinstance(props, pikepdf.Dictionary) and "/MCID" in props else None
                stack.append(mcid)
                if mcid is not None:
                    order.append(mcid)
            elif name == "EMC" and stack:
                stack.pop()
            elif name == "Tm":
                owner = next((s for s in reversed(stack) if s is not None), None)
                if owner is not None and owner not in where:
                    x, y = float(operands[4]), float(operands[5])
                    a, b, c, d, e, f = ctm
                    where[owner] = (a * x + c * y + e, top - (b * x + d * y + f))
        yield index, height, order, where


def _multiply(m, n):
    a, b, c, d, e, f = m
    a2, b2, c2, d2, e2, f2 = n
    return (a * a2 + b * c2, a * b2 + b * d2, c * a2 + d * c2, c * b2 + d * d2,
            e * a2 + f * c2 + e2, e * b2 + f * d2 + f2)


def _in_order(ranks: list[int]) -> float:
    """The share of a sequence in its longest increasing run (1.0: in order)."""
    tails: list[int] = []
    for rank in ranks:
        k = bisect.bisect_left(tails, rank)
        tails[k:k + 1] = [rank]
    return len(tails) / len(ranks) if ranks else 1.0


def _reading_order(pdf: pikepdf.Pdf, result: CheckResult) -> None:
    rank = {key: n for n, key in enumerate(_tag_order(pdf))}
    for index, _, order, _ in _painted(pdf):
        share = _in_order([rank[(index, m)] for m in order if (index, m) in rank])
        if share < 1:
            result.add("PDF-READING-ORDER", f"{share:.0%} of the page's tagged content is painted in the order "
                       "the tag tree reads it", "a float or positioned box paints out of order, or the tree "
                       "holds elements out of document order", f"page {index + 1}")


MARGIN = 0.08           # top and bottom bands, as a share of the page height


def _running_content(pdf: pikepdf.Pdf, result: CheckResult) -> None:
    from ..pdf.tagtree import marked_text
    texts, _ = marked_text(pdf)
    held = set(_tag_order(pdf))
    seen: dict[tuple[str, int, int], set[int]] = defaultdict(set)
    for index, height, _, where in _painted(pdf):
        for mcid, (x, y) in where.items():
            text = " ".join(texts.get((index, mcid), "").split())
            if text and (index, mcid) in held and (y < MARGIN * height or y > (1 - MARGIN) * height):
                seen[(text, round(x), round(y))].add(index)
    for (text, _, _), pages in sorted(seen.items()):
        if len(pages) >= 3:
            result.add("PDF-RUNNING-CONTENT", f"'{text[:40]}' is tagged content at the same place in the margin "
                       f"of {len(pages)} pages: a running head or footer must be an artifact",
                       "put running text in @page margin boxes (they become artifacts), not in fixed boxes",
                       f"page {min(pages) + 1}")


def skeleton(tags: Node) -> list[tuple[int, str]]:
    """The tree's shape: (depth, role) of every element in reading order."""
    out: list[tuple[int, str]] = []

    def walk(node: Node, depth: int) -> None:
        out.append((depth, node.role))
        for child in node.children:
            walk(child, depth + 1)

    walk(tags, 0)
    return out


def compare_editions(trees: dict[str, tuple[Path, Node]], result: CheckResult) -> None:
    """PDF-TAG-EDITIONS: every edition's tree has the first's shape."""
    items = list(trees.items())
    if len(items) < 2:
        return
    first, base_shape = items[0][0], skeleton(items[0][1][1])
    for name, (_, tags) in items[1:]:
        shape = skeleton(tags)
        if shape != base_shape:
            at = next((i for i, (a, b) in enumerate(zip(shape, base_shape)) if a != b), min(len(shape), len(base_shape)))
            got = shape[at][1] if at < len(shape) else "the end"
            want = base_shape[at][1] if at < len(base_shape) else "the end"
            result.add("PDF-TAG-EDITIONS", f"the {name} edition's tag tree differs from the {first} edition's "
                       f"at element {at + 1}: {got} where the other has {want} ({len(shape)} and "
                       f"{len(base_shape)} elements)", "the same source must give the same tree whatever "
                       "the pagination (guidepub/pdf/tags.py)", "")
