"""Close the PDF/UA-1 gaps WeasyPrint 70 leaves in its tag tree, with pikepdf:

- table header cells get a /Scope (Column in a header row, else Row);
- list items whose content is not wrapped in LBody (a loose list item holds
  P elements directly) get an LBody around it;
- link annotations get a description (/Contents) from the link's text,
  instead of the raw destination name;
- running heads and page numbers, which WeasyPrint marks with MCIDs that
  the structure tree never references (upstream issue 1836), become
  pagination artifacts.

Each fix is tested by tests/test_pdfua.py; the check stage proves the result."""

from __future__ import annotations

from pathlib import Path

import pikepdf
from pikepdf import Array, Dictionary, Name

from .pdftags import marked_text, referenced_mcids


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


def complete_tags(path: Path) -> None:
    """Apply every fix to the PDF at `path`, in place."""
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        tree = pdf.Root.get("/StructTreeRoot")
        if tree is None:
            return
        pages = {p.objgen: i for i, p in enumerate(pdf.pages)}
        texts, _ = marked_text(pdf)
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
        _artifact_orphans(pdf)
        pdf.save(path, deterministic_id=True)


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
