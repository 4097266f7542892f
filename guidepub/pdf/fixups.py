"""Close the PDF/UA-1 gaps left after WeasyPrint writes the PDF, with pikepdf.
Most of what WeasyPrint 70's own tag tree lacked (scopes on header cells,
LBody in list items, nested lists in their item, link descriptions, the
Print flag, running heads as artifacts) is now right when the tree is built
(tags.py). What is left works on the tree alone, never on content streams:

- a link whose text holds emphasis or code has one annotation, owned by its
  Link element: WeasyPrint gives each inline box inside a link an annotation
  of its own, owned by that box's element (a NonStruct), out of reach of
  the Link;
- empty grouping elements (a Span or NonStruct with no content, children,
  /Alt or /ActualText), which boxes that draw nothing leave, are removed;
- bookmark titles get plain spaces for the no-break ones that keep a
  heading's last two words together on the page.

Each fix is tested by tests/test_pdf.py; the check stage proves the result."""

from __future__ import annotations

from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary



def _elements(root: pikepdf.Object):
    """Every structure element, depth first, with its parent."""
    stack = [(root, None)]
    while stack:
        obj, parent = stack.pop()
        if isinstance(obj, Array):
            stack.extend((item, parent) for item in reversed(list(obj)))
        elif isinstance(obj, Dictionary) and obj.get("/Type") not in ("/MCR", "/OBJR"):
            if "/S" in obj:
                yield obj, parent
            if "/K" in obj:
                stack.append((obj.K, obj if "/S" in obj else parent))


def _kids(element: Dictionary) -> list:
    k = element.get("/K")
    if k is None:
        return []
    return list(k) if isinstance(k, Array) else [k]


def _objrs(element: Dictionary) -> list[Dictionary]:
    return [k for k in _kids(element) if isinstance(k, Dictionary) and k.get("/Type") == "/OBJR"]


def _link_above(element: Dictionary) -> Dictionary | None:
    """The nearest Link element that holds `element`, if any."""
    parent = element.get("/P")
    while isinstance(parent, Dictionary) and parent.get("/Type") != "/StructTreeRoot":
        if parent.get("/S") == "/Link":
            return parent
        parent = parent.get("/P")
    return None


def _merge_nested_links(pdf: pikepdf.Pdf, tree: Dictionary) -> None:
    """WeasyPrint 70 passes a link down to every inline box inside it
    (anchors.gather_anchors), so `<a>the <em>best</em> site</a>` gets a second
    annotation over "best", owned by the <em>'s NonStruct element: unreachable
    from the Link (PDF-LINK-TREE) and a second stop for the keyboard. The
    Link's own annotation covers the whole link on that line: grow it to
    cover the inner one, and drop the inner one from the page, the tree and
    the parent tree. (A Link with no annotation of its own takes the inner one.)"""
    dropped: set[tuple[int, int]] = set()
    moved: dict[int, Dictionary] = {}          # StructParent of an annotation -> its new owner
    for element, _ in list(_elements(tree)):
        inner = _objrs(element) if element.get("/S") != "/Link" else []
        link = _link_above(element) if inner else None
        if link is None:
            continue
        element.K = Array([k for k in _kids(element) if not (isinstance(k, Dictionary)
                                                               and any(k.objgen == o.objgen for o in inner))])
        own = _objrs(link)
        if not own:
            link.K = Array([*_kids(link), inner[0]])
            if "/StructParent" in inner[0].Obj:
                moved[int(inner[0].Obj.StructParent)] = link
            own, inner = inner[:1], inner[1:]
        for objr in inner:
            own[0].Obj.Rect = _union(own[0].Obj.Rect, objr.Obj.Rect)
            dropped.add(objr.Obj.objgen)
    gone: set[int] = set()
    for page in pdf.pages:
        annots = page.obj.get("/Annots")
        if annots is None or not dropped:
            continue
        gone |= {int(a.StructParent) for a in annots if a.objgen in dropped and "/StructParent" in a}
        page.obj.Annots = Array([a for a in annots if a.objgen not in dropped])
    parents = tree.get("/ParentTree")
    nums = parents.get("/Nums") if isinstance(parents, Dictionary) else None
    if nums is None or not (gone or moved):
        return
    pairs = list(nums)
    kept = []
    for i in range(0, len(pairs) - 1, 2):
        key = int(pairs[i])
        if key not in gone:
            kept += [pairs[i], moved[key] if key in moved else pairs[i + 1]]
    parents.Nums = Array(kept)


def _union(a, b) -> Array:
    xs = [float(v) for v in (a[0], a[2], b[0], b[2])]
    ys = [float(v) for v in (a[1], a[3], b[1], b[3])]
    return Array([min(xs), min(ys), max(xs), max(ys)])


def complete_tags(path: Path) -> None:
    """Apply every fix to the PDF at `path`, in place."""
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        tree = pdf.Root.get("/StructTreeRoot")
        if tree is None:
            return
        _merge_nested_links(pdf, tree)
        _drop_empty_elements(tree)
        _plain_bookmarks(pdf)
        pdf.save(path, deterministic_id=True)


def _plain_bookmarks(pdf: pikepdf.Pdf) -> None:
    """Bookmark titles with plain spaces: a heading's last two words are
    joined by a no-break space for the page (linebreak.keep_last_words),
    which a bookmark, never broken, has no use for."""
    outlines = pdf.Root.get("/Outlines")
    stack = [outlines.get("/First")] if outlines is not None else []
    seen = set()
    while stack:
        item = stack.pop()
        if not isinstance(item, Dictionary) or item.objgen in seen:
            continue
        seen.add(item.objgen)
        title = item.get("/Title")
        if title is not None and "\u00a0" in str(title):
            item.Title = pikepdf.String(str(title).replace("\u00a0", " "))
        stack += [item.get("/Next"), item.get("/First")]


EMPTY_ROLES = ("/Span", "/NonStruct")     # grouping elements that mean nothing when empty


def _drop_empty_elements(tree: Dictionary) -> None:
    """Remove Span and NonStruct elements that hold nothing; a parent left
    empty by that goes too."""
    while True:
        empty = [(element, parent) for element, parent in _elements(tree)
                 if element.get("/S") in EMPTY_ROLES and not _kids(element)
                 and "/Alt" not in element and "/ActualText" not in element]
        if not empty:
            return
        for element, parent in empty:
            holder = parent if parent is not None else tree
            holder.K = Array([k for k in _kids(holder)
                              if not (isinstance(k, Dictionary) and k.objgen == element.objgen)])
