"""Close the PDF/UA-1 gaps WeasyPrint 70 leaves in its tag tree, with pikepdf:

- table header cells get a /Scope (Column in a header row, else Row);
- list items whose content is not wrapped in LBody (a loose list item holds
  P elements directly) get an LBody around it, and a nested list, which
  WeasyPrint hangs on the outer list, moves into its item's LBody;
- link annotations get a description (/Contents) from the link's text,
  instead of the raw destination name;
- a link whose text holds emphasis or code has one annotation, owned by its
  Link element: WeasyPrint gives each inline box inside a link an annotation
  of its own, owned by that box's element (a NonStruct), out of reach of
  the Link;
- running heads and page numbers, which WeasyPrint marks with MCIDs that
  the structure tree never references (upstream issue 1836), become
  pagination artifacts;
- every link annotation gets the Print flag (/F 4), so a printed page shows
  what the screen does (PDF/UA-1 via ISO 32000 annotation rules);
- empty grouping elements (a Span or NonStruct with no content, children,
  /Alt or /ActualText), which WeasyPrint leaves for boxes that draw nothing,
  are removed.

Each fix is tested by tests/test_pdfua.py; the check stage proves the result."""

from __future__ import annotations

from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name

from .tagtree import marked_text, referenced_mcids


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


def _text(element: Dictionary, texts: dict, pages: dict, page: int | None) -> str:
    if "/Pg" in element:
        page = pages.get(element.Pg.objgen, page)
    out = []
    for kid in _kids(element):
        if isinstance(kid, int) or (isinstance(kid, pikepdf.Object) and kid._type_name == "integer"):
            out.append(texts.get((page, int(kid)), ""))
        elif isinstance(kid, Dictionary):
            if kid.get("/Type") == "/MCR":
                kid_page = pages.get(kid.Pg.objgen, page) if "/Pg" in kid else page
                out.append(texts.get((kid_page, int(kid.MCID)), ""))
            elif "/S" in kid:
                out.append(_text(kid, texts, pages, page))
    return "".join(out)


def _scope_headers(element: Dictionary, parent: Dictionary | None) -> None:
    in_head = parent is not None and parent.get("/P", Dictionary()).get("/S") == "/THead"
    attrs = element.get("/A")
    if attrs is None:
        attrs = Dictionary(O=Name.Table)
        element.A = attrs
    target = attrs if isinstance(attrs, Dictionary) else next(
        (a for a in attrs if isinstance(a, Dictionary) and a.get("/O") == "/Table"), None)
    if target is None:
        target = Dictionary(O=Name.Table)
        attrs.append(target)
    if "/Scope" not in target:
        target.Scope = Name.Column if in_head else Name.Row


def _wrap_list_body(pdf: pikepdf.Pdf, item: Dictionary) -> None:
    kids = _kids(item)
    loose = [k for k in kids if isinstance(k, Dictionary) and k.get("/S") not in ("/Lbl", "/LBody")]
    if not loose:
        return
    body = pdf.make_indirect(Dictionary(Type=Name.StructElem, S=Name.LBody, P=item, K=Array(loose)))
    if "/Pg" in item:
        body.Pg = item.Pg
    for kid in loose:
        kid.P = body
    kept = [k for k in kids if not (isinstance(k, Dictionary) and k.get("/S") not in ("/Lbl", "/LBody"))]
    item.K = Array(kept + [body])


def _nest_lists(pdf: pikepdf.Pdf, element: Dictionary) -> None:
    """WeasyPrint 70 hangs a nested list on the outer list, beside the items
    (pdf/tags.py: "nested lists are linked to the parent list"), so a
    screen reader hears it as part of no item and loses its level. Move each
    into the LBody of the item before it, where HTML has it."""
    kids = _kids(element)
    if not any(isinstance(k, Dictionary) and k.get("/S") == "/L" for k in kids):
        return
    kept: list = []
    for kid in kids:
        item = next((k for k in reversed(kept) if isinstance(k, Dictionary) and k.get("/S") == "/LI"), None)
        if isinstance(kid, Dictionary) and kid.get("/S") == "/L" and item is not None:
            _wrap_list_body(pdf, item)
            body = next((k for k in _kids(item) if isinstance(k, Dictionary) and k.get("/S") == "/LBody"), None)
            if body is None:
                body = pdf.make_indirect(Dictionary(Type=Name.StructElem, S=Name.LBody, P=item, K=Array([])))
                item.K = Array([*_kids(item), body])
            body.K = Array([*_kids(body), kid])
            kid.P = body
        else:
            kept.append(kid)
    element.K = Array(kept)


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
        element.K = Array([k for k in _kids(element) if not any(k.objgen == o.objgen for o in inner)])
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
        pages = {p.objgen: i for i, p in enumerate(pdf.pages)}
        texts, _ = marked_text(pdf)
        _merge_nested_links(pdf, tree)
        for element, parent in list(_elements(tree)):
            role = element.get("/S")
            if role == "/TH":
                _scope_headers(element, parent)
            elif role == "/LI":
                _wrap_list_body(pdf, element)
            elif role == "/Link":
                label = " ".join(_text(element, texts, pages, None).split())
                for kid in _kids(element):
                    if isinstance(kid, Dictionary) and kid.get("/Type") == "/OBJR" and label:
                        kid.Obj.Contents = pikepdf.String(label)
        for element, _ in list(_elements(tree)):
            if element.get("/S") == "/L":
                _nest_lists(pdf, element)
        _drop_empty_elements(tree)
        _print_links(pdf)
        _artifact_orphans(pdf)
        pdf.save(path, deterministic_id=True)


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


def _print_links(pdf: pikepdf.Pdf) -> None:
    """Set the Print flag (bit 3, /F 4) on every link annotation: without it
    a printed page and the screen differ."""
    for page in pdf.pages:
        for annot in page.obj.get("/Annots", []):
            if annot.get("/Subtype") == "/Link":
                annot.F = int(annot.get("/F", 0)) | 4


def _artifact_orphans(pdf: pikepdf.Pdf) -> None:
    """Turn marked content that the tree does not reference into artifacts."""
    referenced = referenced_mcids(pdf)
    for index, page in enumerate(pdf.pages):
        ops = pikepdf.parse_content_stream(page)
        changed = False
        for n, (operands, op) in enumerate(ops):
            if str(op) != "BDC" or len(operands) < 2 or not isinstance(operands[1], Dictionary):
                continue
            mcid = operands[1].get("/MCID")
            if mcid is not None and (index, int(mcid)) not in referenced:
                ops[n] = pikepdf.ContentStreamInstruction(
                    [Name.Artifact, Dictionary(Type=Name.Pagination)], pikepdf.Operator("BDC"))
                changed = True
        if changed:
            page.obj.Contents = pdf.make_stream(pikepdf.unparse_content_stream(ops))
