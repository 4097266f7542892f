"""Large print keeps its promise: no text the edition sets is below its
minimum size (18 pt for large print, after UKAAF and RNIB clear print
guidance), the lettering inside figures included.

Sizes are measured from each page's content stream as printed: the font size
times the vertical scale of the text matrix and of every `cm` in force (the
way tests/test_variants.py measures them), for all text, running heads and
page numbers included. WeasyPrint draws an SVG's text as real text, in the
page's stream or in form XObjects it calls with `Do` (a label with a fill or
an opacity gets one); both are followed, each form's /Matrix applied, so a
label's size is its font size times the text matrix, the SVG's own
transforms and the scale the figure is drawn at.

Text inside a figure (in /Figure marked content, or marked content the tag
tree gives to a Figure element) is reported apart: one finding a figure, with
the figure's number (read from its caption, "Figure 3.") and each label too
small, since the fix is in the figure (its labels' font-size, or its width)
and not in the edition's stylesheet."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf

from ..pdf.tagtree import _decode, _to_unicode, marked_text
from . import CheckResult

# The smallest size, in points, each edition may set text in. An edition not
# listed has no minimum (the screen edition's notes are smaller than its body).
MINIMUM_PT = {"large-print": 18.0}
TOLERANCE = 0.05                # rounding in the content stream
MAX_FORM_DEPTH = 12             # forms calling forms: deeper is refused, not followed
SHOWN_LABELS = 8                # labels named in one finding; the rest are counted


def minimum_size(variant) -> float | None:
    """The edition's minimum text size: its own `min_text_pt` if its settings
    give one, else the house rule for its name."""
    return getattr(variant, "min_text_pt", None) or MINIMUM_PT.get(getattr(variant, "name", variant))


@dataclass
class Run:
    """The text one BT … ET shows: in a figure, one label."""
    page: int                               # 1-based
    figure: tuple[int, int] | None          # (page index, MCID) of its figure's marked content
    number: int | None = None               # that figure's number
    sizes: dict[float, int] = field(default_factory=dict)    # size in pt -> glyphs
    text: str = ""
    pen: tuple[float, float] | None = None  # where the next glyph would start, in text space

    @property
    def size(self) -> float:
        return min(self.sizes)


def _widths(font: pikepdf.Object) -> tuple[dict[int, float], float]:
    """A font's glyph advances (code -> thousandths of the size) and default:
    from a Type0 font's CIDFont /W and /DW, or a simple font's /Widths."""
    if font.get("/Subtype") == "/Type0":
        cid = font.DescendantFonts[0]
        widths: dict[int, float] = {}
        items = list(cid.get("/W", []))
        i = 0
        while i < len(items):
            if i + 1 < len(items) and isinstance(items[i + 1], pikepdf.Array):
                widths.update({int(items[i]) + k: float(w) for k, w in enumerate(items[i + 1])})
                i += 2
            elif i + 2 < len(items):
                widths.update({c: float(items[i + 2]) for c in range(int(items[i]), int(items[i + 1]) + 1)})
                i += 3
            else:
                break
        return widths, float(cid.get("/DW", 1000))
    first = int(font.get("/FirstChar", 0))
    return {first + k: float(w) for k, w in enumerate(font.get("/Widths", []))}, 0.0


def _scale(c: float, d: float) -> float:
    return (c * c + d * d) ** 0.5


def _figure_mcids(pdf: pikepdf.Pdf) -> dict[tuple[int, int], int]:
    """(page index, MCID) of every marked-content sequence that belongs to a
    Figure element of the tag tree -> the figure's number: from its caption
    ("Figure 3.") when it has one, else its place among the figures."""
    tree = pdf.Root.get("/StructTreeRoot")
    if tree is None:
        return {}
    pages = {p.objgen: i for i, p in enumerate(pdf.pages)}
    text = marked_text(pdf)[0]
    figures: list[tuple[list[tuple[int, int]], str]] = []     # (its MCIDs, its caption's text)

    def mcids(obj, page, out: list) -> None:
        """The marked content an element holds (its own and its children's)."""
        if isinstance(obj, pikepdf.Array):
            for item in obj:
                mcids(item, page, out)
        elif isinstance(obj, pikepdf.Dictionary):
            if "/Pg" in obj:
                page = pages.get(obj.Pg.objgen, page)
            if obj.get("/Type") == "/MCR":
                out.append((page, int(obj.MCID)))
            elif "/K" in obj and obj.get("/Type") != "/OBJR":
                mcids(obj.K, page, out)
        elif isinstance(obj, int) or (isinstance(obj, pikepdf.Object) and obj._type_name == "integer"):
            if page is not None:
                out.append((page, int(obj)))

    def elements(obj) -> list:
        items = obj if isinstance(obj, pikepdf.Array) else [obj]
        return [i for i in items if isinstance(i, pikepdf.Dictionary) and "/S" in i]

    def caption(among: list, page) -> str:
        for element in among:
            if str(element.get("/S")) == "/Caption":
                found: list = []
                mcids(element.get("/K"), pages.get(element.Pg.objgen, page) if "/Pg" in element else page, found)
                return "".join(text.get(key, "") for key in found)
        return ""

    def visit(obj, page, siblings: list) -> None:
        for element in elements(obj):
            here = pages.get(element.Pg.objgen, page) if "/Pg" in element else page
            children = elements(element.get("/K")) if "/K" in element else []
            if str(element.get("/S")) == "/Figure":
                own: list = []
                mcids(element.get("/K"), here, own)
                if own:
                    figures.append((own, caption(children, here) or caption(siblings, here)))
            if children:
                visit(element.K, here, children)

    visit(tree.get("/K"), None, elements(tree.get("/K")) if "/K" in tree else [])
    numbered: dict[tuple[int, int], int] = {}
    for place, (own, said) in enumerate(figures, 1):
        match = re.search(r"Figure\s*(\d+)", said)
        for key in own:
            numbered[key] = int(match.group(1)) if match else place
    return numbered


def text_runs(pdf: pikepdf.Pdf) -> list[Run]:
    """Every run of text the PDF shows, with its printed size and text, and
    the figure it sits in (None outside figures)."""
    in_figure = _figure_mcids(pdf)
    cmaps: dict[tuple[int, int], dict[int, str]] = {}
    advances: dict[tuple[int, int], tuple[dict[int, float], float]] = {}
    runs: list[Run] = []

    def interpret(stream, resources, index: int, scale: float, marks: list, depth: int, calling: tuple) -> None:
        fonts = resources.get("/Font", {}) if resources is not None else {}
        xobjects = resources.get("/XObject", {}) if resources is not None else {}
        stack: list[float] = []
        tm_scale, size, cmap, width, advance = 1.0, 0.0, {}, 2, ({}, 0.0)
        at = (0.0, 0.0)                      # the text matrix's origin
        run: Run | None = None
        marks = list(marks)                  # (tag, MCID or None) of each open sequence

        def figure() -> tuple[int, int] | None:
            for tag, mcid in reversed(marks):
                if mcid is not None and (index, mcid) in in_figure:
                    return (index, mcid)
                if tag == "/Figure":            # untagged or unlisted: a figure all the same
                    return (index, -1 if mcid is None else mcid)
            return None

        for operands, op in pikepdf.parse_content_stream(stream):
            name = str(op)
            if name in ("BDC", "BMC"):
                props = operands[1] if name == "BDC" and len(operands) > 1 else None
                mcid = int(props.MCID) if isinstance(props, pikepdf.Dictionary) and "/MCID" in props else None
                marks.append((str(operands[0]), mcid))
            elif name == "EMC" and marks:
                marks.pop()
            elif name == "q":
                stack.append(scale)
            elif name == "Q":
                scale = stack.pop() if stack else scale
            elif name == "cm":
                scale *= _scale(float(operands[2]), float(operands[3]))
            elif name == "BT":
                tm_scale, run = 1.0, None
            elif name == "ET":
                run = None
            elif name == "Tm":
                tm_scale = _scale(float(operands[2]), float(operands[3]))
                at = (float(operands[4]), float(operands[5]))
            elif name == "Tf":
                size = float(operands[1])
                font = fonts.get(str(operands[0]))
                if font is not None:
                    if font.objgen not in cmaps:
                        cmaps[font.objgen] = _to_unicode(font)
                    cmap = cmaps[font.objgen]
                    if font.objgen not in advances:
                        advances[font.objgen] = _widths(font)
                    advance = advances[font.objgen]
                    width = 2 if font.get("/Subtype") == "/Type0" else 1
            elif name in ("Tj", "TJ", "'", '"'):
                parts = operands[-1] if name == "TJ" else [operands[-1]]
                strings = [bytes(p) for p in parts if isinstance(p, pikepdf.String)]
                glyphs = sum(max(len(s) // width, 1) for s in strings if s)
                if not glyphs:
                    continue
                where = figure() if in_figure or any(tag == "/Figure" for tag, _ in marks) else None
                if run is None or run.figure != where:
                    run = Run(index + 1, where, in_figure.get(where) if where else None)
                    runs.append(run)
                printed = round(size * tm_scale * scale, 1)
                run.sizes[printed] = run.sizes.get(printed, 0) + glyphs
                # An SVG's text is drawn a glyph at a time, each placed with
                # Tm, and its spaces are not drawn: a glyph that starts well
                # past where the last one ended, or on another line, follows one.
                if run.pen is not None and run.text and not run.text.endswith(" ") and (
                        abs(at[1] - run.pen[1]) > 0.5 * size or at[0] - run.pen[0] > 0.2 * size):
                    run.text += " "
                run.text += "".join(_decode(s, cmap, width) for s in strings)
                codes = [c for s in strings for c in (s[i:i + 2] for i in range(0, len(s), 2))] \
                    if width == 2 else [bytes([c]) for s in strings for c in s]
                moved = sum(advance[0].get(int.from_bytes(c, "big"), advance[1]) for c in codes) * size / 1000
                at = (at[0] + moved, at[1])
                run.pen = at
            elif name == "Do" and depth < MAX_FORM_DEPTH:
                form = xobjects.get(str(operands[0]))
                if form is None or form.get("/Subtype") != "/Form" or form.objgen in calling:
                    continue
                matrix = form.get("/Matrix")
                inner = scale * (_scale(float(matrix[2]), float(matrix[3])) if matrix is not None else 1.0)
                interpret(form, form.get("/Resources", resources), index, inner, marks, depth + 1,
                          calling + (form.objgen,))

    for index, page in enumerate(pdf.pages):
        interpret(page, page.obj.get("/Resources") or page.resources, index, 1.0, [], 0, ())
    return runs


def _runs(path: Path) -> list[Run]:
    with pikepdf.open(path) as pdf:
        return text_runs(pdf)


def _sizes(runs: list[Run], figures: bool) -> dict[float, dict]:
    sizes: dict[float, dict] = {}
    for run in runs:
        if (run.figure is not None) != figures:
            continue
        for size, glyphs in run.sizes.items():
            entry = sizes.setdefault(size, {"glyphs": 0, "pages": set()})
            entry["glyphs"] += glyphs
            entry["pages"].add(run.page)
    return sizes


def _labels(runs: list[Run]) -> list[dict]:
    return [{"figure": run.number, "page": run.page, "label": " ".join(run.text.split()), "size": run.size}
            for run in runs if run.figure is not None]


def printed_text_sizes(path: Path, figures: bool = False) -> dict[float, dict]:
    """size in points -> {"glyphs": how many, "pages": the 1-based pages}, for
    all text outside figures (figures=True: inside them)."""
    return _sizes(_runs(path), figures)


def figure_labels(path: Path) -> list[dict]:
    """Each label drawn inside a figure: {"figure": its number, "page":
    1-based, "label": its text, "size": its smallest size in pt}, in the
    order the pages draw them."""
    return _labels(_runs(path))


def _pages(pages: list[int]) -> str:
    shown = ", ".join(map(str, pages[:12])) + (f" and {len(pages) - 12} more" if len(pages) > 12 else "")
    return f"page{'s' if len(pages) > 1 else ''} {shown}"


def check_text_sizes(result: CheckResult, path: Path, variant) -> CheckResult:
    """Add a PDF-TEXT-SIZE finding to the edition's PDF result for each size
    below its minimum, and one for each figure with labels below it; record
    the smallest sizes found."""
    minimum = minimum_size(variant)
    if minimum is None:
        return result
    runs = _runs(path)
    sizes, labels = _sizes(runs, figures=False), _labels(runs)
    result.facts["smallest text (pt)"] = min(sizes) if sizes else None
    result.facts["smallest text in figures (pt)"] = min(l["size"] for l in labels) if labels else None
    for size in sorted(s for s in sizes if s < minimum - TOLERANCE):
        found = sizes[size]
        result.add("PDF-TEXT-SIZE", f"{found['glyphs']} glyph(s) set at {size:g} pt, below the "
                   f"{minimum:g} pt minimum of this edition", "every text of a large-print edition is "
                   f"{minimum:g} pt or more: raise the font-size of that element in the edition's CSS layer "
                   "(styles/variants/large-print.css)", _pages(sorted(found["pages"])))
    small: dict = {}
    for label in labels:
        if label["size"] < minimum - TOLERANCE:
            small.setdefault(label["figure"], []).append(label)
    for number, found in small.items():
        named = f"Figure {number}" if number is not None else "A figure"
        listed = [f"'{l['label']}' at {l['size']:g} pt" for l in found[:SHOWN_LABELS]]
        more = f" and {len(found) - SHOWN_LABELS} more" if len(found) > SHOWN_LABELS else ""
        smallest = min(l["size"] for l in found)
        result.add("PDF-TEXT-SIZE", f"{named}: {len(found)} label(s) below the {minimum:g} pt minimum of "
                   f"this edition: {', '.join(listed)}{more}",
                   "a figure's text is scaled with the figure, so the edition's stylesheet cannot reach "
                   f"it: in the figure's SVG, make these labels' font-size at least {minimum / smallest:.2f} "
                   "times what it is (and make room for them), or draw the figure wider on the page",
                   f"{named}, {_pages(sorted({l['page'] for l in found}))}")
    return result
