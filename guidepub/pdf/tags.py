"""Build the PDF's tag tree from the document, not from its pages.

WeasyPrint 70 (weasyprint/pdf/tags.py) builds its structure tree page by
page from page boxes: every page adds new top-level elements, so whatever
crosses a page break becomes two elements (a list announced as two lists, a
paragraph cut mid-sentence, a table whose second half has no caption), and
the same book gives another tree in every pagination. Its definition lists
become loose list items, so a term loses its definitions.

This module replaces WeasyPrint's `add_tags` (installed by `install()`, a
narrow override checked against the WeasyPrint version) with one that keys
each structure element on its source element: the boxes of one HTML element
on any number of pages feed one structure element, whose marked content on
later pages is named by marked-content references (/MCR with /Pg). So:

- the Document's children are the book's parts (cover, imprint, contents,
  every front matter part, chapter and back matter part): the children of
  <body>, whatever the pagination;
- a table keeps one Table, one Caption and one THead; header rows WeasyPrint
  repeats on later pages are left out of the tree, so fixups.py makes them
  pagination artifacts; TH/TD /Headers come from the HTML's rows;
- a definition list pairs each term with its definitions: one LI per <dt>,
  its Lbl the term and its LBody the <dd>s;
- a list item holds Lbl (its marker) and LBody (everything else, nested
  lists included);
- ::before and ::after belong to their element; running heads and page
  numbers (margin boxes) are in no element, and become artifacts;
- a link annotation's description (/Contents) is the link's text, taken from
  the boxes here rather than decoded back from the content stream.

The page reference list is read once: pydyf rebuilds it on every access,
which made WeasyPrint's tagging quadratic in the page count.
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import contextmanager
from contextvars import ContextVar

import pydyf
import weasyprint
from weasyprint.formatting_structure import boxes
from weasyprint.layout.absolute import AbsolutePlaceholder
from weasyprint.logger import LOGGER
from weasyprint.pdf.tags import add_tags as _weasyprint_add_tags

from .paint import paint_in_tree_order

SVG = "{http://www.w3.org/2000/svg}svg"
PT = 0.75                 # points a CSS px
# Put before every header cell ID: a part of a spliced book is written with
# its own ("p3."), so IDs stay unique in the book (pdf/splice.py).
ID_PREFIX: ContextVar[str] = ContextVar("ID_PREFIX", default="")

ROLES = {
    "div": "Div", "span": "Span", "main": "Part", "article": "Art", "section": "Sect", "nav": "Sect",
    "aside": "Aside", "blockquote": "BlockQuote", "p": "P",
    "h1": "H1", "h2": "H2", "h3": "H3", "h4": "H4", "h5": "H5", "h6": "H6",
    "ul": "L", "ol": "L", "dl": "L", "li": "LI", "table": "Table", "tr": "TR", "th": "TH", "td": "TD",
    "thead": "THead", "tbody": "TBody", "tfoot": "TFoot", "img": "Figure", SVG: "Figure",
    "caption": "Caption", "figcaption": "Caption", "a": "Link",
}


def _role(tag: str) -> str:
    if tag.endswith("::marker"):
        return "Lbl"
    return ROLES.get(tag, "NonStruct")


def _base_tag(tag: str) -> str:
    """::before and ::after are part of their element; a marker is not."""
    if "::" in tag and not tag.endswith("::marker"):
        return tag.split("::", 1)[0]
    return tag


def _children(box):
    """A box's children, line boxes opened (WeasyPrint tags their contents)."""
    for child in getattr(box, "children", ()):
        if isinstance(child, boxes.LineBox):
            yield from child.children
        else:
            yield child


class _Tree:
    def __init__(self, pdf, document_element, page_refs, heights=()):
        self.pdf = pdf
        self.document = document_element
        self.page_refs = page_refs
        self.heights = list(heights)        # each page's height in CSS px
        self.by_key: dict[tuple[int, str], pydyf.Dictionary] = {}
        self.page_of: dict[int, int] = {}            # element number -> page it was made on
        self.bodies: dict[int, pydyf.Dictionary] = {}   # LI number -> its LBody
        self.terms: dict[int, pydyf.Dictionary] = {}    # list number -> the LI of its latest term
        self.tables: list[tuple[object, pydyf.Dictionary]] = []
        self.objects: dict[int, pydyf.Dictionary] = {}
        self.moving = 0                     # inside a block flow.py moved (data-moved)
        self.moved: set[int] = set()        # this page's MCIDs of such blocks
        self.before: dict[str, pydyf.Dictionary] = {}   # flow.py's token -> the element a moved block stood before
        self.link_text: dict[int, list[str]] = defaultdict(list)
        self.annotations: list = []                   # (struct element reference, annotation)
        self.link_annots: dict[int, list] = defaultdict(list)
        self.page = 0
        self.late: set[int] = set()         # those WeasyPrint may paint late: list markers, images
        self.tags: dict = {}
        self.nums: dict[int, object] = {}

    # -- elements -------------------------------------------------------
    def _new(self, role: str, parent, **extra) -> pydyf.Dictionary:
        element = pydyf.Dictionary({
            "Type": "/StructElem", "S": f"/{role}", "K": pydyf.Array([]),
            "Pg": self.page_refs[self.page], "P": parent.reference, **extra})
        self.pdf.add_object(element)
        parent["K"].append(element.reference)
        self.page_of[element.number] = self.page
        self.objects[element.number] = element
        return element

    def _body(self, item) -> pydyf.Dictionary:
        """The LBody of a list item, made when first needed."""
        body = self.bodies.get(item.number)
        if body is None:
            body = self.bodies[item.number] = self._new("LBody", item)
        return body

    def _holder(self, element, child) -> pydyf.Dictionary:
        """Where a child box's elements and text go: a list item keeps only its
        marker beside the LBody."""
        if element["S"] == "/LI" and not (child.element_tag or "").endswith("::marker"):
            return self._body(element)
        return element

    def _element(self, box, parent):
        """The structure element of a box's source element: found if an
        earlier box (an ancestor, or the same element on an earlier page)
        made it, else made now. None: leave the box's content out (a header
        row repeated on a later page)."""
        tag = _base_tag(box.element_tag)
        key = (id(box.element), tag)
        found = self.by_key.get(key)
        if found is not None:
            if found["S"] in ("/THead", "/TFoot") and self.page_of[found.number] != self.page:
                return None
            return found
        role = _role(tag)
        if tag == "dt":
            item = self.terms[parent.number] = self._new("LI", parent)
            element = self._new("Lbl", item)
        elif tag == "dd":
            item = self.terms.get(parent.number)
            if item is None:                          # a definition with no term before it
                item = self.terms[parent.number] = self._new("LI", parent)
            if item.number in self.bodies:
                element = self._new("Div", self.bodies[item.number])
            else:
                element = self.bodies[item.number] = self._new("LBody", item)
        else:
            element = self._new(role, parent)
            self._source_place(box.element, element, parent)
        self.by_key[key] = element
        if role == "Figure":
            self._figure(box, element)
        elif role == "Table":
            self.tables.append((box.element, element))
        elif role in ("TH", "TD"):
            element["A"] = pydyf.Dictionary({"O": "/Table"})
            if box.colspan != 1:
                element["A"]["ColSpan"] = box.colspan
            if box.rowspan != 1:
                element["A"]["RowSpan"] = box.rowspan
        return element

    def _source_place(self, source, element, parent) -> None:
        """A block that pdf/flow.py moved past the text after it (so a page is
        not left empty) goes back to its source place in the tree, before the
        element it stood before."""
        for token in (source.get("data-moved-past") or "").split():
            self.before[token] = element
        anchor = self.before.get(source.get("data-moved") or "")
        if anchor is not None and anchor["P"] == parent.reference:
            kids = parent["K"]
            kids.remove(element.reference)
            kids.insert(kids.index(anchor.reference), element.reference)

    def _figure(self, box, element) -> None:
        """/BBox in the page's own space, as the content stream draws it:
        points (0.75 a CSS px), y up from the foot of the page (WeasyPrint
        wrote CSS px from the top)."""
        x1, y1 = box.content_box_x() * PT, box.content_box_y() * PT
        top = self.heights[self.page] * PT if self.page < len(self.heights) else 0
        element["A"] = pydyf.Dictionary({"O": "/Layout", "BBox": pydyf.Array(
            (round(x1, 3), round(top - y1 - box.height * PT, 3), round(x1 + box.width * PT, 3), round(top - y1, 3)))})
        if box.element.tag == SVG:
            title = box.element.find("{http://www.w3.org/2000/svg}title")
            if title is not None and title.text:
                element["Alt"] = pydyf.String(title.text)
        elif alt := box.element.attrib.get("alt"):
            element["Alt"] = pydyf.String(alt)
        else:
            LOGGER.error('Image "%s" has no required alt description', box.element.attrib.get("src", "unknown"))

    # -- content --------------------------------------------------------
    def _mark(self, element, box, link) -> None:
        kid = self.tags.pop(box, None)
        if kid is None or element is None:
            return
        mcid = kid["mcid"]
        if self.moving:
            self.moved.add(mcid)
        if (element["S"] == "/Lbl" and (box.element_tag or "").endswith("::marker")) or \
                isinstance(box, boxes.ReplacedBox):
            self.late.add(mcid)
        if self.page_of[element.number] == self.page:
            element["K"].append(mcid)
        else:
            ref = pydyf.Dictionary({"Type": "/MCR", "Pg": self.page_refs[self.page], "MCID": mcid})
            element["K"].append(ref)
        self.nums[mcid] = element.reference
        if link is not None and isinstance(box, boxes.TextBox):
            self.link_text[link.number].append(box.text)

    def _annotate(self, element, box, link) -> None:
        annotation = box.link_annotation
        if not annotation:
            return
        annotation["F"] = 4          # Print: a printed page shows what the screen does
        objr = pydyf.Dictionary({"Type": "/OBJR", "Obj": annotation.reference, "Pg": self.page_refs[self.page]})
        self.pdf.add_object(objr)
        element["K"].append(objr.reference)
        self.annotations.append((element.reference, annotation))
        if link is not None:
            self.link_annots[link.number].append(annotation)

    def _drop(self, box) -> None:
        """Take a box's marked content out of the tree (it becomes an artifact)."""
        self.tags.pop(box, None)
        for child in _children(box):
            self._drop(child)

    def end_page(self, stream) -> set[int]:
        """After a page: its marked content that no element holds (running
        heads, page numbers, repeated header rows) becomes a pagination
        artifact in the page's content stream, which is still a list of
        operators here, so nothing is parsed. Returns the MCIDs the tree holds."""
        held = set(self.nums)
        operators = stream.stream
        if REORDER and (self.late or self.moved):
            paint_in_tree_order(operators, self.late | self.moved, self._ranks())
        self.late, self.moved = set(), set()
        for n, item in enumerate(operators):
            if isinstance(item, pydyf.Dictionary) and "MCID" in item and item["MCID"] not in held and n:
                operators[n - 1] = "/Artifact"
                del item["MCID"]
                item["Type"] = "/Pagination"
        self.tags.clear()
        return held

    def _ranks(self) -> dict[int, int]:
        """This page's MCIDs in the order the whole tree reads them."""
        ranks: dict[int, int] = {}
        here = self.page_refs[self.page]

        def walk(element) -> None:
            on_page = self.page_of.get(element.number) == self.page
            for kid in element["K"]:
                if isinstance(kid, int):
                    if on_page:
                        ranks.setdefault(kid, len(ranks))
                elif isinstance(kid, pydyf.Dictionary):
                    if kid.get("Type") == "/MCR" and kid["Pg"] == here:
                        ranks.setdefault(kid["MCID"], len(ranks))
                elif isinstance(kid, bytes) and int(kid.split()[0]) in self.objects:   # not an OBJR
                    walk(self.objects[int(kid.split()[0])])

        walk(self.document)
        return ranks

    def visit(self, box, parent, link=None) -> None:
        if isinstance(box, AbsolutePlaceholder):
            box = box._box
        moved = box.element is not None and bool(box.element.get("data-moved"))
        self.moving += moved
        try:
            self._visit(box, parent, link)
        finally:
            self.moving -= moved

    def _visit(self, box, parent, link) -> None:
        if isinstance(box, boxes.MarginBox):
            self._drop(box)
            return
        if box.element is None or isinstance(box, boxes.PageBox) or box.element_tag in ("html", "body"):
            element = parent                         # anonymous or the page: no element of its own
        else:
            element = self._element(box, parent)
            if element is None:
                self._drop(box)
                return
        if element["S"] == "/Link":
            link = element
        self._annotate(element, box, link)
        for child in _children(box):
            if isinstance(child, boxes.TextBox):
                self._mark(self._holder(element, child), child, link)
            else:
                self.visit(child, self._holder(element, child), link)
        if isinstance(box, boxes.ReplacedBox):
            self._mark(element, box, link)

    # -- after every page -----------------------------------------------
    def finish(self) -> None:
        for number, annots in self.link_annots.items():
            text = " ".join("".join(self.link_text.get(number, [])).split())
            for annotation in annots:
                if text:
                    annotation["Contents"] = pydyf.String(text)
        for table, element in self.tables:
            self._headers(table, element)

    def _cell(self, cell):
        return self.by_key.get((id(cell), cell.tag))

    def _headers(self, table, element) -> None:
        """IDs on header cells and /Headers on data cells, from the HTML's
        rows: the grid is the same on every page."""
        rows = [row for row in table.iter("tr")]
        prefix = ID_PREFIX.get()
        grid: dict[tuple[int, int], object] = {}
        placed: list[tuple[object, int, int]] = []
        for i, row in enumerate(rows):
            j = 0
            for cell in row:
                if cell.tag not in ("th", "td"):
                    continue
                while (i, j) in grid:
                    j += 1
                rowspan = int(cell.get("rowspan", 1) or 1)
                colspan = int(cell.get("colspan", 1) or 1)
                for di in range(rowspan):
                    for dj in range(colspan):
                        grid[(i + di, j + dj)] = cell
                placed.append((cell, i, j))
                j += colspan
        head_cells = [th for head in table.iter("thead") for th in head.iter("th")]
        column_headers: dict[int, list] = defaultdict(list)
        row_headers: dict[int, list] = defaultdict(list)
        for cell, i, j in placed:
            mark = self._cell(cell)
            if cell.tag != "th" or mark is None:
                continue
            key = pydyf.String(f"{prefix}{element.number}-{i}-{j}")
            mark["ID"] = key
            scope = cell.get("scope") or ("col" if any(cell is th for th in head_cells) else "row")
            mark["A"]["Scope"] = "/Row" if scope == "row" else "/Column"
            spans = range(int(cell.get("rowspan", 1) or 1)) if cell.get("scope") == "row" else \
                range(int(cell.get("colspan", 1) or 1))
            for span in spans:
                (row_headers[i + span] if cell.get("scope") == "row" else column_headers[j + span]).append(key)
        for cell, i, j in placed:
            mark = self._cell(cell)
            if cell.tag != "td" or mark is None:
                continue
            headers = [h for span in range(int(cell.get("rowspan", 1) or 1)) for h in row_headers[i + span]]
            headers += [h for span in range(int(cell.get("colspan", 1) or 1)) for h in column_headers[j + span]]
            mark["A"]["Headers"] = pydyf.Array(headers)


def add_tags(pdf, document, pdf_version, page_streams):
    """WeasyPrint's add_tags, keyed on source elements (see the module's
    docstring). Same signature, same root objects, same parent tree layout."""
    content_mapping = pydyf.Dictionary({})
    pdf.add_object(content_mapping)
    root = pydyf.Dictionary({"Type": "/StructTreeRoot", "ParentTree": content_mapping.reference})
    pdf.add_object(root)
    structure_document = pydyf.Dictionary({
        "Type": "/StructElem", "S": "/Document", "K": pydyf.Array(), "P": root.reference})
    pdf.add_object(structure_document)
    root["K"] = pydyf.Array([structure_document.reference])
    pdf.catalog["StructTreeRoot"] = root.reference
    if str(pdf_version) >= "2.0":
        namespace = pydyf.Dictionary({"Type": "/Namespace", "NS": pydyf.String("http://iso.org/pdf2/ssn")})
        pdf.add_object(namespace)
        root["Namespaces"] = pydyf.Array([namespace.reference])
        structure_document["NS"] = namespace.reference

    tree = _Tree(pdf, structure_document, list(pdf.page_references), [page.height for page in document.pages])
    content_mapping["Nums"] = pydyf.Array()
    for page_number, (page, stream) in enumerate(zip(document.pages, page_streams)):
        tree.page, tree.tags, tree.nums = page_number, stream._tags, {}
        tree.visit(page._page_box, structure_document)
        held = tree.end_page(stream)
        content_mapping["Nums"].append(page_number)
        content_mapping["Nums"].append(pydyf.Array([tree.nums.get(i, "null") for i in range(max(held, default=-1) + 1)]))
    tree.finish()
    for i, (reference, annotation) in enumerate(tree.annotations, start=len(document.pages)):
        content_mapping["Nums"].append(i)
        content_mapping["Nums"].append(reference)
        annotation["StructParent"] = i

    pdf.catalog["ViewerPreferences"] = pydyf.Dictionary({"DisplayDocTitle": "true"})
    pdf.catalog["MarkInfo"] = pydyf.Dictionary({"Marked": "true"})
    if "Lang" not in pdf.catalog:
        LOGGER.error('Missing required "lang" attribute at the root of the document')
        pdf.catalog["Lang"] = pydyf.String()


REORDER = True      # tests turn it off to compare the pages' pixels


TESTED_WITH = "70."


@contextmanager
def weasyprint_tags():
    """WeasyPrint's own add_tags while the block runs: tests show what each
    check finds in the tree WeasyPrint builds, and that ours has none of it."""
    import weasyprint.pdf as wpdf
    ours, wpdf.add_tags = wpdf.add_tags, _weasyprint_add_tags
    try:
        yield
    finally:
        wpdf.add_tags = ours


def install() -> None:
    """Put this add_tags in place of WeasyPrint's, for the WeasyPrint we
    pin (requirements.lock): another version may build its tree another way,
    and the standing test (tests/test_tags.py) must say so first."""
    if not weasyprint.__version__.startswith(TESTED_WITH):
        raise RuntimeError(f"guidepub/pdf/tags.py replaces add_tags of WeasyPrint {TESTED_WITH}x, "
                           f"not {weasyprint.__version__}: check the override against the new version")
    import weasyprint.pdf as wpdf
    wpdf.add_tags = add_tags
