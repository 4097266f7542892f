"""Reading facts back out of a built PDF, for the tests."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pikepdf
import pypdfium2 as pdfium
from lxml import html as lxml_html

from guidepub.pdf.tagtree import Node

HEADINGS = ("H1", "H2", "H3", "H4", "H5", "H6")


def normal(text: str) -> str:
    return " ".join(text.replace("\u00ad", "").split())


def tag_headings(tree: Node) -> list[tuple[str, str]]:
    return [(n.role, normal(n.all_text())) for n in tree.walk() if n.role in HEADINGS]


def html_headings(html: str) -> list[tuple[str, str]]:
    doc = lxml_html.fromstring(html)
    return [(h.tag.upper(), normal(h.text_content())) for h in doc.iter("h1", "h2", "h3", "h4", "h5", "h6")]


def outline_titles(path: Path) -> list[tuple[int, str]]:
    """(depth, title) of every bookmark, in order."""
    found: list[tuple[int, str]] = []
    with pikepdf.open(path) as pdf, pdf.open_outline() as outline:
        def walk(items, depth):
            for item in items:
                found.append((depth, item.title))
                walk(item.children, depth + 1)
        walk(outline.root, 0)
    return found


def page_texts(path: Path) -> list[str]:
    pdf = pdfium.PdfDocument(str(path))
    try:
        return [normal(page.get_textpage().get_text_range()) for page in pdf]
    finally:
        pdf.close()


def page_of(text_pages: list[str], needle: str) -> int:
    """1-based number of the first page whose text contains needle."""
    return next(i for i, text in enumerate(text_pages, 1) if needle in text)


def xref_pages(text_pages: list[str], label: str) -> list[int]:
    """Page numbers printed after a cross-reference: 'Figure 1 (page 6)' -> [6]."""
    return [int(n) for text in text_pages for n in re.findall(re.escape(label) + r" \(page (\d+)\)", text)]


def printed_text_sizes(path: Path) -> Counter[float]:
    """The size, in points as printed, of every run of tagged text: the font
    size times the vertical scale of the text matrix and of every `cm` in
    force. Artifacts (running heads, page numbers) are left out."""
    sizes: Counter[float] = Counter()
    with pikepdf.open(path) as pdf:
        for page in pdf.pages:
            scale, stack, marks = 1.0, [], []
            tm_scale, size = 1.0, 0.0
            for operands, op in pikepdf.parse_content_stream(page):
                name = str(op)
                if name == "q":
                    stack.append(scale)
                elif name == "Q":
                    scale = stack.pop()
                elif name == "cm":
                    c, d = float(operands[2]), float(operands[3])
                    scale *= (c * c + d * d) ** 0.5
                elif name in ("BMC", "BDC"):
                    marks.append(str(operands[0]))
                elif name == "EMC" and marks:
                    marks.pop()
                elif name == "BT":
                    tm_scale = 1.0
                elif name == "Tm":
                    c, d = float(operands[2]), float(operands[3])
                    tm_scale = (c * c + d * d) ** 0.5
                elif name == "Tf":
                    size = float(operands[1])
                elif name in ("Tj", "TJ") and "/Artifact" not in marks:
                    parts = operands[0] if name == "TJ" else [operands[0]]
                    glyphs = sum(len(bytes(p)) // 2 for p in parts if isinstance(p, pikepdf.String))
                    sizes[round(size * tm_scale * scale, 1)] += glyphs
    return sizes
