"""PDF/UA-1 structure, following the machine-checkable conditions of the
Matterhorn Protocol, read with pikepdf."""

from __future__ import annotations

from pathlib import Path

import pikepdf

from ..model import Guide
from ..pdf.tagtree import Node, marked_text, read_tags, referenced_mcids
from . import CheckResult
from .layout import check_layout
from .structure import check_tree

HEADINGS = ("H1", "H2", "H3", "H4", "H5", "H6")


def normal(text: str) -> str:
    return " ".join(text.replace("\u00ad", "").split())


def check_pdf(path: Path, guide: Guide | None = None, epub: Path | None = None,
              trees: dict | None = None) -> CheckResult:
    """PDF/UA-1 structure of one PDF edition; with the EPUB, its tag tree
    against the source's elements too (structure.py). `trees`, if given,
    keeps the tree under the path for comparing editions."""
    result = CheckResult("pdf", "PDF structure (PDF/UA-1)")
    tags = read_tags(path)
    if trees is not None:
        trees[path] = tags
    with pikepdf.open(path) as pdf:
        check_tree(tags, pdf, guide, epub, result)
        _document(pdf, guide, result)
        _untagged(pdf, result)
        _fonts(pdf, result)
        _links(pdf, tags, result)
        _empty_elements(pdf, result)
        outline = _outline(pdf)
        result.facts = {"pages": len(pdf.pages), "headings": sum(n.role in HEADINGS for n in tags.walk()),
                        "figures": sum(n.role == "Figure" for n in tags.walk())}
    _headings(tags, guide, result)
    _figures_tables_lists(tags, result)
    _outline_matches(outline, tags, result)
    check_layout(path, result)          # page breaks: stranded, split, empty (layout.py)
    return result


def _document(pdf: pikepdf.Pdf, guide: Guide | None, result: CheckResult) -> None:
    root = pdf.Root
    mark = root.get("/MarkInfo")
    if "/StructTreeRoot" not in root or mark is None or mark.get("/Marked") is not True:
        result.add("PDF-TAGGED", "the PDF is not tagged (no structure tree or /MarkInfo /Marked true)",
                   "write it with pdf_variant='pdf/ua-1'")
    with pdf.open_metadata() as xmp:
        if xmp.get("pdfuaid:part") != "1":
            result.add("PDF-UA-ID", "XMP metadata does not declare pdfuaid:part 1",
                       "write it with pdf_variant='pdf/ua-1'")
        title = xmp.get("dc:title")
    lang = str(root.get("/Lang", ""))
    if not lang or (guide and lang != guide.meta.language):
        result.add("PDF-LANG", f"document language is '{lang}'",
                   "set <html lang> in templates/pdf/book.html.j2 from guide.yaml language")
    prefs = root.get("/ViewerPreferences", {})
    if not title or prefs.get("/DisplayDocTitle") is not True:
        result.add("PDF-TITLE", "no title, or the viewer is not told to show it (DisplayDocTitle)",
                   "set <title> in the book template")
    for number, page in enumerate(pdf.pages, 1):
        if page.obj.get("/Tabs") != "/S":
            result.add("PDF-TABS", "page does not order its annotations by structure (/Tabs /S)",
                       "write it with pdf_variant='pdf/ua-1'", f"page {number}")


def _untagged(pdf: pikepdf.Pdf, result: CheckResult) -> None:
    texts, untagged = marked_text(pdf)
    referenced = referenced_mcids(pdf)
    orphans = [(page, text) for (page, mcid), text in texts.items()
               if (page, mcid) not in referenced and text.strip()]
    for index, text in sorted(untagged + orphans):
        result.add("PDF-UNTAGGED", f"text outside the tag tree and not an artifact: '{text.strip()[:40]}'",
                   "running heads and page numbers must be artifacts; guidepub/pdf/tags.py marks them",
                   f"page {index + 1}")


def _fonts(pdf: pikepdf.Pdf, result: CheckResult) -> None:
    seen: set = set()
    for number, page in enumerate(pdf.pages, 1):
        for font in page.obj.get("/Resources", {}).get("/Font", {}).values():
            if font.objgen in seen:
                continue
            seen.add(font.objgen)
            name = str(font.get("/BaseFont", "?"))
            descendant = font.DescendantFonts[0] if "/DescendantFonts" in font else font
            descriptor = descendant.get("/FontDescriptor", {})
            if not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                result.add("PDF-FONT-EMBED", f"font {name} is not embedded",
                           "use a font from the brand (embedded by WeasyPrint)", f"page {number}")
            if "/ToUnicode" not in font:
                result.add("PDF-FONT-TOUNICODE", f"font {name} has no ToUnicode map",
                           "text in it cannot be read aloud or searched; use the brand font", f"page {number}")


def _links(pdf: pikepdf.Pdf, tags: Node, result: CheckResult) -> None:
    in_tree = {objgen for n in tags.walk() if n.role == "Link" for objgen in n.annotations}
    for number, page in enumerate(pdf.pages, 1):
        for annot in page.obj.get("/Annots", []):
            if annot.get("/Subtype") != "/Link":
                continue
            if annot.objgen not in in_tree:
                result.add("PDF-LINK-TREE", "a link annotation is not reachable from a Link tag",
                           "links must come from <a> elements in the templates", f"page {number}")
            if not int(annot.get("/F", 0)) & 4:
                result.add("PDF-LINK-PRINT", "a link annotation lacks the Print flag (/F 4): print and screen differ",
                           "guidepub/pdf/tags.py sets /F 4 on every link annotation", f"page {number}")
            contents = str(annot.get("/Contents", "")).strip()
            dest = str(annot.get("/Dest", "")).lstrip("/")
            if not contents or contents == dest:
                result.add("PDF-LINK-DESC", f"link annotation has no description (Contents '{contents}')",
                           "guidepub/pdf/tags.py sets it from the link text; is the link empty?", f"page {number}")


def _empty_elements(pdf: pikepdf.Pdf, result: CheckResult) -> None:
    """No Span or NonStruct element that holds nothing: no content, children,
    /Alt or /ActualText (a screen reader meets an empty stop)."""
    root = pdf.Root.get("/StructTreeRoot")
    stack = [root.get("/K")] if root is not None else []
    seen: set = set()
    while stack:
        obj = stack.pop()
        if isinstance(obj, pikepdf.Array):
            stack.extend(obj)
            continue
        if not isinstance(obj, pikepdf.Dictionary) or "/S" not in obj or obj.get("/Type") in ("/MCR", "/OBJR"):
            continue
        if obj.is_indirect:
            if obj.objgen in seen:
                continue
            seen.add(obj.objgen)
        kids = obj.get("/K")
        empty = kids is None or (isinstance(kids, pikepdf.Array) and len(kids) == 0)
        if (obj.get("/S") in ("/Span", "/NonStruct") and empty
                and "/Alt" not in obj and "/ActualText" not in obj):
            result.add("PDF-EMPTY-TAG", f"an empty {str(obj.S)[1:]} element (no content, children, /Alt "
                       "or /ActualText)", "guidepub/pdf/fixups.py removes empty Span and NonStruct elements")
        if kids is not None:
            stack.append(kids)


def _headings(tags: Node, guide: Guide | None, result: CheckResult) -> None:
    # A heading's own text: a note it cites is not part of it (nor of its bookmark).
    found = [(n.role, normal(n.all_text(notes=False))) for n in tags.walk() if n.role in HEADINGS]
    previous = 0
    for role, text in found:
        level = int(role[1])
        if level > previous + 1:
            result.add("PDF-HEADINGS", f"{role} '{text}' skips a level after H{previous}",
                       "headings must nest one level at a time")
        previous = level
    if guide is None:
        return
    expected = [h for d in guide.documents
                for h in [("H1", d.meta.title)] + [(f"H{x.level}", x.text) for x in d.headings]]
    remaining = iter(found)
    for heading in expected:
        if heading not in remaining:
            result.add("PDF-HEADINGS", f"{heading[0]} '{heading[1]}' from the content is missing "
                       "or out of order in the tag tree", "check the templates render every heading")
            break


def _figures_tables_lists(tags: Node, result: CheckResult) -> None:
    for node in tags.walk():
        if node.role == "Figure" and not (node.alt or "").strip():
            result.add("PDF-FIGURE-ALT", "a Figure has no alternative text",
                       "give the image alt text, or draw decoration as a CSS background",
                       f"page {(node.page or 0) + 1}")
        elif node.role == "Table":
            ths = [n for n in node.walk() if n.role == "TH"]
            if not ths:
                result.add("PDF-TABLE-TH", "a table has no header cells",
                           "give every data table a header row", f"page {(node.page or 0) + 1}")
            if any(n.attributes.get("/Scope") is None for n in ths):
                result.add("PDF-TH-SCOPE", "a table header cell has no /Scope",
                           "guidepub/pdf/tags.py adds /Scope to TH cells", f"page {(node.page or 0) + 1}")
        elif node.role == "L":
            if any(c.role not in ("LI", "Caption") for c in node.children):
                result.add("PDF-LIST", "a list (L) holds something other than list items",
                           "lists must be ul/ol with li", f"page {(node.page or 0) + 1}")
        elif node.role == "LI":
            if any(c.role not in ("Lbl", "LBody") for c in node.children):
                result.add("PDF-LIST", "a list item (LI) holds something other than Lbl and LBody",
                           "lists must be ul/ol with li", f"page {(node.page or 0) + 1}")


def _outline(pdf: pikepdf.Pdf) -> list[str]:
    titles: list[str] = []
    with pdf.open_outline() as outline:
        def walk(items):
            for item in items:
                titles.append(normal(item.title))
                walk(item.children)
        walk(outline.root)
    return titles


def _outline_matches(outline: list[str], tags: Node, result: CheckResult) -> None:
    headings = [normal(n.all_text(notes=False)) for n in tags.walk() if n.role in HEADINGS]
    h1s = [normal(n.all_text(notes=False)) for n in tags.walk() if n.role == "H1"]
    if not outline:
        result.add("PDF-OUTLINE", "the PDF has no bookmarks", "headings make bookmarks; check print.css")
        return
    remaining = iter(headings)
    for title in outline:
        if title not in remaining:
            result.add("PDF-OUTLINE", f"bookmark '{title}' matches no heading, or is out of order",
                       "bookmarks must come from headings (bookmark-level in print.css)")
            return
    for title in h1s:
        if title not in outline:
            result.add("PDF-OUTLINE", f"level 1 heading '{title}' has no bookmark",
                       "every chapter needs a bookmark")
