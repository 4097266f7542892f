"""Read a tagged PDF's structure tree with pikepdf: each element's role, its
alternative text and the text it encloses. Tests and checks use it to prove
what a reader with assistive technology will meet."""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pikepdf


@dataclass
class Node:
    role: str
    alt: str | None = None
    text: str = ""
    page: int | None = None                 # 0-based index of the element's page
    children: list["Node"] = field(default_factory=list)
    attributes: dict = field(default_factory=dict)     # from /A, e.g. {"/Scope": "/Column"}
    annotations: list[tuple[int, int]] = field(default_factory=list)   # objgen of link annotations
    # Own text and children in the order the element holds them: a Link holds
    # its text directly, beside the elements of its <em> or <code>.
    parts: list["str | Node"] = field(default_factory=list, repr=False)
    note: bool = False          # a Link to a footnote: its text is the note's number

    def walk(self) -> Iterator["Node"]:
        yield self
        for child in self.children:
            yield from child.walk()

    def all_text(self, notes: bool = True) -> str:
        """The text the element encloses; with notes=False, without the
        numbers of the notes it cites (a heading's own text, as its bookmark
        and the content give it)."""
        if not notes and self.note:
            return ""
        if self.parts:
            return "".join(p if isinstance(p, str) else p.all_text(notes) for p in self.parts)
        return self.text + "".join(c.all_text(notes) for c in self.children)


# Where a note reference points: the renderer's note ids, `{doc}--fn{n}`.
NOTE_DEST = re.compile(r"--fn\d+$")


def _to_unicode(font: pikepdf.Object) -> dict[int, str]:
    """Parse a font's ToUnicode CMap (bfchar and bfrange) into code -> text."""
    cmap: dict[int, str] = {}
    stream = font.get("/ToUnicode")
    if stream is None:
        return cmap
    data = stream.read_bytes().decode("latin-1")

    def text(hexstr: str) -> str:
        return bytes.fromhex(hexstr).decode("utf-16-be", errors="replace")

    for block in re.findall(r"beginbfchar(.*?)endbfchar", data, re.S):
        for src, dst in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]*)>", block):
            cmap[int(src, 16)] = text(dst)
    for block in re.findall(r"beginbfrange(.*?)endbfrange", data, re.S):
        for lo, hi, dst in re.findall(r"<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*(<[0-9a-fA-F]*>|\[[^\]]*\])", block):
            start, end = int(lo, 16), int(hi, 16)
            if dst.startswith("["):
                targets = [text(t) for t in re.findall(r"<([0-9a-fA-F]*)>", dst)]
            else:
                first = int(dst[1:-1], 16)
                targets = [text(format(first + i, f"0{len(dst) - 2}x")) for i in range(end - start + 1)]
            for i, target in enumerate(targets):
                cmap[start + i] = target
    return cmap


def _decode(raw: bytes, cmap: dict[int, str], width: int) -> str:
    codes = struct.unpack(f">{len(raw) // 2}H", raw[:len(raw) // 2 * 2]) if width == 2 else raw
    return "".join([cmap.get(code, "\ufffd") for code in codes])


def marked_text(pdf: pikepdf.Pdf) -> tuple[dict[tuple[int, int], str], list[tuple[int, str]]]:
    """Text of every marked-content sequence, by (page index, MCID); and the
    text shown outside both tags and artifacts (which a screen reader would
    meet with no structure), by page."""
    by_mcid: dict[tuple[int, int], str] = {}
    untagged: list[tuple[int, str]] = []
    cmaps: dict[tuple[int, int], dict[int, str]] = {}
    for index, page in enumerate(pdf.pages):
        fonts = page.obj.get("/Resources", {}).get("/Font", {})
        stack: list[int | str | None] = []      # MCID, "artifact" or None for each open sequence
        cmap: dict[int, str] = {}
        width = 2
        # WeasyPrint writes no space where a line breaks; notice the new line
        # (a change of baseline) and put the space back. A superscript (a note's
        # number) also changes the baseline, by less than a line and going on
        # to the right: that is no new line.
        # A page begins a new line too: a paragraph that goes on over the page.
        moved, baseline, x_before, scale, size = True, None, 0.0, 1.0, 0.0
        for operands, op in pikepdf.parse_content_stream(page):
            name = str(op)
            if name == "Tm":
                x, y = float(operands[4]), float(operands[5])
                if baseline is not None and abs(y - baseline) > 0.5:
                    moved = moved or x <= x_before + 0.5 or abs(y - baseline) > 0.9 * size
                baseline, x_before, scale = y, x, abs(float(operands[3])) or 1.0
            elif name in ("Td", "TD", "T*"):
                moved = True
            if name in ("BDC", "BMC"):
                tag = str(operands[0])
                props = operands[1] if name == "BDC" and len(operands) > 1 else None
                if tag == "/Artifact":
                    stack.append("artifact")
                elif isinstance(props, pikepdf.Dictionary) and "/MCID" in props:
                    stack.append(int(props.MCID))
                else:
                    stack.append(None)
            elif name == "EMC" and stack:
                stack.pop()
            elif name == "Tf":
                size = float(operands[1]) * scale
                font = fonts.get(str(operands[0]))
                if font is not None:
                    key = font.objgen
                    if key not in cmaps:
                        cmaps[key] = _to_unicode(font)
                    cmap = cmaps[key]
                    width = 2 if font.get("/Subtype") == "/Type0" else 1
            elif name in ("Tj", "TJ", "'", '"'):
                parts = operands[-1] if name == "TJ" else [operands[-1]]
                shown = "".join(_decode(bytes(p), cmap, width) for p in parts
                                if isinstance(p, pikepdf.String))
                owner = next((s for s in reversed(stack) if s is not None), None)
                if owner == "artifact":
                    continue
                if isinstance(owner, int):
                    before = by_mcid.get((index, owner), "")
                    if moved and not before.endswith((" ", "-")) and not shown[:1].isspace():
                        before += " "
                    by_mcid[(index, owner)] = before + shown
                    moved = False
                elif shown.strip():
                    untagged.append((index, shown))
    return by_mcid, untagged


def referenced_mcids(pdf: pikepdf.Pdf) -> set[tuple[int, int]]:
    """(page index, MCID) of every marked-content sequence the structure tree
    points at. Marked content with an MCID that is not among them is neither
    tagged nor an artifact: a screen reader meets it with no structure."""
    pages = {p.objgen: i for i, p in enumerate(pdf.pages)}
    found: set[tuple[int, int]] = set()
    tree = pdf.Root.get("/StructTreeRoot")
    stack = [(tree.get("/K"), None)] if tree is not None else []
    while stack:
        obj, page = stack.pop()
        if isinstance(obj, pikepdf.Array):
            stack.extend((item, page) for item in obj)
        elif isinstance(obj, pikepdf.Dictionary):
            if "/Pg" in obj:
                page = pages.get(obj.Pg.objgen, page)
            if obj.get("/Type") == "/MCR":
                found.add((page, int(obj.MCID)))
            elif "/K" in obj and obj.get("/Type") != "/OBJR":
                stack.append((obj.K, page))
        elif isinstance(obj, int) or (isinstance(obj, pikepdf.Object) and obj._type_name == "integer"):
            found.add((page, int(obj)))
    return found


def _attributes(a) -> dict:
    """An element's attribute objects (/A: one dictionary or an array) merged."""
    merged: dict = {}
    for item in (a if isinstance(a, pikepdf.Array) else [a] if a is not None else []):
        if isinstance(item, pikepdf.Dictionary):
            merged.update({k: str(v) for k, v in item.items()})
    return merged


def read_tags(path: Path) -> Node:
    """The structure tree as Nodes, with the text each element encloses."""
    with pikepdf.open(path) as pdf:
        return tag_tree(pdf, marked_text(pdf)[0])


def tag_tree(pdf: pikepdf.Pdf, text: dict[tuple[int, int], str]) -> Node:
    """The structure tree of an open PDF, given its marked text."""
    pages = {p.objgen: i for i, p in enumerate(pdf.pages)}
    root = Node("StructTreeRoot")
    tree = pdf.Root.get("/StructTreeRoot")
    if tree is None:
        return root

    def visit(obj, parent: Node, page: int | None) -> None:
        if isinstance(obj, int) or (isinstance(obj, pikepdf.Object) and obj._type_name == "integer"):
            if page is not None:
                parent.text += text.get((page, int(obj)), "")
                parent.parts.append(text.get((page, int(obj)), ""))
            return
        if isinstance(obj, pikepdf.Array):
            for item in obj:
                visit(item, parent, page)
            return
        if not isinstance(obj, pikepdf.Dictionary):
            return
        if "/Pg" in obj:
            page = pages.get(obj.Pg.objgen, page)
        kind = obj.get("/Type")
        if kind == "/MCR":
            visit(obj.MCID, parent, page)
            return
        if kind == "/OBJR":
            parent.annotations.append(obj.Obj.objgen)
            parent.note = parent.note or bool(NOTE_DEST.search(str(obj.Obj.get("/Dest", ""))))
            return
        node = Node(str(obj.get("/S", "")).lstrip("/"),
                    str(obj.Alt) if "/Alt" in obj else None, page=page,
                    attributes=_attributes(obj.get("/A")))
        parent.children.append(node)
        parent.parts.append(node)
        if "/K" in obj:
            visit(obj.K, node, page)

    visit(tree.get("/K"), root, None)
    return root
