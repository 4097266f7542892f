"""Large print keeps its promise: no text the edition sets is below its
minimum size (18 pt for large print, after UKAAF and RNIB clear print
guidance). Sizes are measured from each page's content stream as printed:
the font size times the vertical scale of the text matrix and of every `cm`
in force (the way tests/test_variants.py measures them), for all text,
running heads and page numbers included.

The lettering inside a figure (an SVG's labels, inside /Figure marked
content) belongs to the figure, which the edition can only scale: it is
measured apart and recorded in the check's facts ("smallest text in
figures"), not a finding."""

from __future__ import annotations

from pathlib import Path

import pikepdf

from . import CheckResult

# The smallest size, in points, each edition may set text in. An edition not
# listed has no minimum (the screen edition's notes are smaller than its body).
MINIMUM_PT = {"large-print": 18.0}
TOLERANCE = 0.05                # rounding in the content stream


def minimum_size(variant) -> float | None:
    """The edition's minimum text size: its own `min_text_pt` if its settings
    give one, else the house rule for its name."""
    return getattr(variant, "min_text_pt", None) or MINIMUM_PT.get(getattr(variant, "name", variant))


def printed_text_sizes(path: Path, figures: bool = False) -> dict[float, dict]:
    """size in points -> {"glyphs": how many, "pages": the 1-based pages}, for
    every text-showing operator outside figures (figures=True: inside them)."""
    sizes: dict[float, dict] = {}
    with pikepdf.open(path) as pdf:
        for number, page in enumerate(pdf.pages, 1):
            scale, stack, marks = 1.0, [], []
            tm_scale, size = 1.0, 0.0
            for operands, op in pikepdf.parse_content_stream(page):
                name = str(op)
                if name in ("BMC", "BDC"):
                    marks.append(str(operands[0]))
                elif name == "EMC" and marks:
                    marks.pop()
                elif name == "q":
                    stack.append(scale)
                elif name == "Q":
                    scale = stack.pop() if stack else 1.0
                elif name == "cm":
                    c, d = float(operands[2]), float(operands[3])
                    scale *= (c * c + d * d) ** 0.5
                elif name == "BT":
                    tm_scale = 1.0
                elif name == "Tm":
                    c, d = float(operands[2]), float(operands[3])
                    tm_scale = (c * c + d * d) ** 0.5
                elif name == "Tf":
                    size = float(operands[1])
                elif name in ("Tj", "TJ", "'", '"') and ("/Figure" in marks) == figures:
                    parts = operands[-1] if name == "TJ" else [operands[-1]]
                    glyphs = sum(max(len(bytes(p)) // 2, 1) for p in parts if isinstance(p, pikepdf.String))
                    if not glyphs:
                        continue
                    entry = sizes.setdefault(round(size * tm_scale * scale, 1), {"glyphs": 0, "pages": set()})
                    entry["glyphs"] += glyphs
                    entry["pages"].add(number)
    return sizes


def check_text_sizes(result: CheckResult, path: Path, variant) -> CheckResult:
    """Add a PDF-TEXT-SIZE finding to the edition's PDF result for each size
    below its minimum; record the smallest size found."""
    minimum = minimum_size(variant)
    if minimum is None:
        return result
    sizes = printed_text_sizes(path)
    in_figures = printed_text_sizes(path, figures=True)
    result.facts["smallest text (pt)"] = min(sizes) if sizes else None
    result.facts["smallest text in figures (pt)"] = min(in_figures) if in_figures else None
    for size in sorted(s for s in sizes if s < minimum - TOLERANCE):
        found = sizes[size]
        pages = sorted(found["pages"])
        shown = ", ".join(map(str, pages[:12])) + (f" and {len(pages) - 12} more" if len(pages) > 12 else "")
        result.add("PDF-TEXT-SIZE", f"{found['glyphs']} glyph(s) set at {size:g} pt, below the "
                   f"{minimum:g} pt minimum of this edition", "every text of a large-print edition is "
                   f"{minimum:g} pt or more: raise the font-size of that element in the edition's CSS layer "
                   "(styles/variants/large-print.css)", f"page{'s' if len(pages) > 1 else ''} {shown}")
    return result
