"""Reading one Markdown document of a guide into a Document: front matter,
tokens, ids of headings, figures and tables, and the rules a renderer relies
on. Every problem names its file and line."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from markdown_it.token import Token

from ..errors import GuideError, Problems
from ..markdown import (BLOCK_TYPES, TITLE, TITLE_INLINE, block_name, caption_inline, inline_text,
                        parse, text_inline)
from ..model import ID_PATTERN, DocMeta, Document, Figure, Heading, Table, Target
from . import figures
from .guards import check_attrs, check_glyphs, check_nesting
from .files import MAX_IMAGE_BYTES, Refused, inside, read_limited, read_text
from .yamlio import node_line, read_yaml, validate

FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*\n", re.S)
MAX_TABLE_ROWS = 500
EPUB_FOLDERS = {"css", "fonts", "images", "META-INF", "figure-files"}
FIGURE_WIDTH = re.compile(r"(\d+(?:\.\d+)?)\s*(%|px|em)")     # {width="80%"}, "500px", "30em"


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


# Ids the templates give to parts of every build; content may not reuse them.
RESERVED_IDS = {"cover", "imprint", "imprint-title", "imprint-cite", "imprint-access", "toc", "toc-title",
                "nav", "landmarks", "landmarks-title", "page-list", "page-list-title",
                "whats-new", "whats-new-title"}
RESERVED_ID = re.compile(r"^(page|whats-new)-\d+$")    # page-break markers; editions on the changelog page
RAW_HTML = re.compile(r"</?(?:a|abbr|b|br|div|em|font|h[1-6]|i|iframe|img|li|object|ol|p|script|span|"
                      r"strong|style|sub|sup|table|td|th|tr|u|ul|embed|form|input|svg|math)\b[^>]*>", re.I)


def normal_id(ident: str) -> str:
    """An id as the outputs write it: `{#a_b}` and `#a_b` mean `a-b`."""
    return ident.replace("_", "-")


def _table_end(tokens: list[Token], start: int) -> int:
    return next((j for j in range(start, len(tokens)) if tokens[j].type == "table_close"), len(tokens))


class DocumentReader:
    """Reads one Markdown file into a Document and records what it defines."""

    def __init__(self, guide_root: Path, problems: Problems, ids: dict[str, Path],
                 counters: dict[str, int]):
        self.root = guide_root
        self.problems = problems
        self.ids = ids              # every id defined so far -> the file defining it
        self.counters = counters    # figure and table numbers run through the guide
        self.figures: dict[Path, figures.CleanFigure | None] = {}   # each figure file, read once
        self.glyphs: dict[str, frozenset[int]] | None = None   # what each role's fonts can draw, if known
        self.outcomes_required = False                  # guide.yaml style.learning_outcomes
        self.bytes_read = 0

    def read(self, path: Path, real: Path, part: str, number: int | None) -> Document | None:
        """Read one listed document: `path` as guide.yaml names it (for
        messages), `real` where it is, already checked to lie inside the guide."""
        try:
            text = read_text(real, shown=path)
        except GuideError as exc:
            self.problems.extend(exc)
            return None
        self.bytes_read += len(text)
        match = FRONT_MATTER.match(text)
        if not match:
            self.problems.add("CONTENT-FRONT-MATTER", "no YAML front matter", path, 1,
                              "start the file with '---', the fields id and title, then '---'")
            return None
        try:
            data, node = read_yaml(path, match.group(1), line_offset=1)
            meta = validate(DocMeta, data, node, path, line_offset=1)
        except GuideError as exc:
            self.problems.extend(exc)
            return None
        if part == "chapter" and self.outcomes_required and not meta.learning_outcomes:
            self.problems.add("CONTENT-SCHEMA", "field 'learning_outcomes': a chapter needs at least one",
                              path, (node_line(node, ("learning_outcomes",)) or 1) + 1,
                              "list what a reader will be able to do after the chapter (this guide's "
                              "house rule, guide.yaml style.learning_outcomes)")
        body_offset = match.group(0).count("\n")
        if not text[match.end():].strip() and not meta.generated:      # a generated part may be all generated
            self.problems.add("CONTENT-EMPTY", "the file has front matter but no text", path, body_offset + 1,
                              "write the chapter, or take it out of guide.yaml until it is ready")
        env = {"docId": meta.id, TITLE: meta.title}
        tokens = parse(text[match.end():], env)
        meta, title = self._title(meta, env[TITLE_INLINE], path, (node_line(node, ("title",)) or 1) + 1,
                                  body_offset)
        doc = Document(meta=meta, path=path, part=part, number=number, tokens=tokens,
                       line_offset=body_offset, title_inline=title)
        self._define(meta.id, path, (node_line(node, ("id",)) or 1) + 1)
        self._scan_text(doc, title, "the title")
        self._scan(doc, text[match.end():].splitlines())
        check_glyphs(doc, text.splitlines(), self.glyphs, self.problems)
        return doc

    def _scan(self, doc: Document, lines: list[str]) -> None:
        """Walk the tokens once: give headings ids, number figures and tables,
        and enforce the rules a renderer relies on."""
        path, tokens = doc.path, doc.tokens
        level = 1                 # the chapter title is the document's only H1
        in_block = 0
        check_nesting(doc, self.problems)
        for i, tok in enumerate(tokens):
            line = doc.line_of(tok)
            name = block_name(tok.type)
            for t in [tok, *(tok.children or [])]:
                check_attrs(t, path, line, self.problems)
            if name:
                in_block += 1 if tok.nesting == 1 else -1
                if tok.nesting == 1:
                    self._check_closed(doc, tok, lines)
                    if text_inline(tok) is not None:
                        self._scan_text(doc, text_inline(tok), f"the text after '::: {name}'")
            elif tok.type == "heading_open":
                heading_level = int(tok.tag[1])
                text = inline_text(tokens[i + 1])
                if heading_level == 1:
                    self.problems.add("CONTENT-HEADING", f"'# {text}' is a level 1 heading", path, line,
                                      "the front matter title is the chapter's only level 1 heading; use '##'")
                elif heading_level > level + 1:
                    self.problems.add("CONTENT-HEADING",
                                      f"heading '{text}' skips from level {level} to level {heading_level}",
                                      path, line, f"use {'#' * (level + 1)} for this heading")
                if in_block:
                    self.problems.add("CONTENT-HEADING", f"heading '{text}' is inside a block", path, line,
                                      "a block's title is its heading; put the title after the block name")
                ident = self._explicit_id(tok, path, line) or self._unique(
                    f"{doc.id}-{_slug(text) or 'section'}")
                tok.attrSet("id", ident)
                if self._define(ident, path, line):
                    doc.headings.append(Heading(heading_level, text, ident, line or 0))
                level = heading_level
            elif tok.type == "table_open":
                rows = sum(1 for t in tokens[i:_table_end(tokens, i)] if t.type == "tr_open")
                if rows > MAX_TABLE_ROWS:
                    self.problems.add("CONTENT-TABLE-TOO-LARGE", f"table has {rows} rows, over {MAX_TABLE_ROWS}",
                                      path, line, "a guide's tables are for a few rows of data; link to a "
                                      "spreadsheet instead")
                self.counters["table"] += 1
                caption = str(tok.attrGet("caption") or "")
                if not caption:
                    self.problems.add("CONTENT-TABLE-CAPTION", "table has no caption", path, line,
                                      "put {caption=\"What the table shows\"} on the line above the table")
                ident = self._explicit_id(tok, path, line)
                if ident:
                    tok.attrSet("id", ident)
                    self._define(ident, path, line)
                tok.meta["number"] = self.counters["table"]
                doc.tables.append(Table(ident, self.counters["table"], caption))
            elif tok.type == "inline":
                self._scan_inline(doc, tokens, i, line)

    def _check_closed(self, doc: Document, tok: Token, lines: list[str]) -> None:
        """markdown-it closes a block left open at the end of the file; the
        author meant to close it earlier. The line that ends it must be a fence."""
        last = tok.map[1] if tok.map else None
        if last is None or last >= len(lines) or not re.fullmatch(r"\s*:{3,}\s*", lines[last]):
            self.problems.add("CONTENT-BLOCK", f"block '::: {block_name(tok.type)}' is never closed",
                              doc.path, doc.line_of(tok), "end it with a line of ':::'")

    def _explicit_id(self, tok: Token, path: Path, line: int | None) -> str | None:
        """An explicit {#id}, with underscores written as hyphens (`{#a_b}` is
        `a-b`: books converted from other tools use them); a cross-reference
        may use either form."""
        written = tok.attrGet("id")
        if written is None:
            return None
        ident = normal_id(str(written))
        if not re.fullmatch(ID_PATTERN, ident):
            self.problems.add("CONTENT-ID", f"id '{written}' is not a valid id", path, line,
                              "use lower-case letters, digits and single hyphens (or underscores), "
                              "starting with a letter")
        return ident

    def _define(self, ident: str, path: Path, line: int | None) -> bool:
        if ident in self.ids or ident in RESERVED_IDS or RESERVED_ID.match(ident):
            used = f"already used in {self.ids[ident]}" if ident in self.ids else "reserved for the templates"
            self.problems.add("CONTENT-DUPLICATE-ID", f"id '{ident}' is {used}",
                              path, line, "give each chapter, section and figure its own id")
            return False
        self.ids[ident] = path
        return True

    def _unique(self, ident: str) -> str:
        candidate, n = ident, 2
        while candidate in self.ids or candidate in RESERVED_IDS:
            candidate, n = f"{ident}-{n}", n + 1
        return candidate

    def _scan_inline(self, doc: Document, tokens: list[Token], i: int, line: int | None) -> None:
        tok, path = tokens[i], doc.path
        html = RAW_HTML.search(tok.content)
        if html:
            self.problems.add("CONTENT-HTML", f"raw HTML '{html.group(0)}' is not allowed", path,
                              (line or 0) + tok.content[:html.start()].count("\n"),
                              "use Markdown instead; HTML would be shown as text")
        for fence in re.finditer(r"(?m)^:{3,}(.*)$", tok.content):
            words = fence.group(1).split()
            message = (f"unknown or unclosed block '::: {words[0]}'" if words
                       else "this ':::' closes no open block")
            self.problems.add("CONTENT-BLOCK", message, path,
                              (line or 0) + tok.content[:fence.start()].count("\n"),
                              f"blocks are {', '.join(BLOCK_TYPES)}; close each with ':::', and give "
                              "a block that holds another more colons ('::::')")
        images = [c for c in tok.children or [] if c.type == "image"]
        if not images:
            return
        standalone = (len(tok.children or []) == 1 and tokens[i - 1].type == "paragraph_open")
        image = images[0]
        src = str(image.attrGet("src") or "")
        if not standalone or len(images) > 1:
            self.problems.add("CONTENT-FIGURE", f"image '{src}' is not in a paragraph of its own", path, line,
                              "put each figure on its own line with a blank line before and after")
            return
        alt = " ".join(inline_text(image).split())
        if not alt:
            self.problems.add("CONTENT-ALT", f"figure '{src}' has no alt text", path, line,
                              "write what the figure shows inside the brackets: ![alt text](file.svg \"Caption\")")
        # The caption is optional (the figure keeps its label, "Figure N."), and
        # Markdown: emphasis, code, links and footnote references work in it.
        caption = caption_inline(image)
        if caption is not None:
            self._scan_text(doc, caption, f"the caption of '{src}'")
        width = self._figure_width(image, src, path, line)
        clean = self._figure(src, path, line)
        self.counters["figure"] += 1
        ident = self._explicit_id(image, path, line) or f"fig-{self.counters['figure']}"
        if self._define(ident, path, line):
            image.attrSet("id", ident)
            figure = Figure(ident, self.counters["figure"], src, alt,
                            " ".join(inline_text(caption).split()) if caption is not None else "",
                            clean.href if clean else src, clean.media_type if clean else "",
                            clean.data if clean else b"", width=width, caption_inline=caption)
            image.meta["figure"] = figure
            doc.figures.append(figure)

    def _figure_width(self, image: Token, src: str, path: Path, line: int | None) -> str | None:
        """{width="80%"}, "500px" or "30em" as a CSS width (the stylesheets cap
        it at the text width); anything else is an error."""
        written = image.attrGet("width")
        if written is None:
            return None
        match = FIGURE_WIDTH.fullmatch(str(written).strip())
        number = float(match.group(1)) if match else 0
        if not match or number <= 0 or (match.group(2) == "%" and number > 100):
            self.problems.add("CONTENT-ATTRIBUTE", f"width '{written}' of figure '{src}' is not a width",
                              path, line, "give a share of the text width from 1% to 100% (width=\"80%\"), "
                              "or a size in px or em (width=\"500px\"); a figure is never wider than the text")
            return None
        return f"{match.group(1)}{match.group(2)}"

    def _title(self, meta: DocMeta, title: Token, path: Path, line: int,
               body_offset: int) -> tuple[DocMeta, Token]:
        """The front matter title, parsed as Markdown. meta.title becomes its
        plain text, for every place that needs plain text."""
        title.map = [line - 1 - body_offset, line - body_offset]     # so that doc.line_of(title) is `line`
        plain = " ".join(inline_text(title).split())
        if not plain:
            self.problems.add("CONTENT-SCHEMA", "field 'title': it has no text a reader would see", path, line,
                              "write the title in words")
        return (meta.model_copy(update={"title": plain}) if plain and plain != meta.title else meta), title

    def _scan_text(self, doc: Document, inline: Token, what: str) -> None:
        """The rules body text follows, for Markdown outside the body (a
        caption, a title, a block's title or attribution)."""
        line = doc.line_of(inline)
        for child in inline.children or []:
            check_attrs(child, doc.path, line, self.problems)
            if child.type == "image":
                self.problems.add("CONTENT-FIGURE", f"image '{child.attrGet('src')}' is inside {what}",
                                  doc.path, line, "put each figure on its own line with a blank line "
                                  "before and after")
        html = RAW_HTML.search(inline.content)
        if html:
            self.problems.add("CONTENT-HTML", f"raw HTML '{html.group(0)}' in {what} is not allowed", doc.path,
                              line, "use Markdown instead; HTML would be shown as text")


    def _figure(self, src: str, path: Path, line: int | None) -> figures.CleanFigure | None:
        """The figure file `src`, found safely, read once and cleaned; None
        (with the problem recorded) when it cannot be used."""
        if Path(src).suffix.lower() not in figures.TYPES:
            self.problems.add("CONTENT-IMAGE", f"image '{src}' is not SVG, PNG, JPEG, GIF or WebP", path, line,
                              "convert it to one of those formats")
            return None
        try:
            file = inside(self.root, src)
        except Refused as exc:
            self.problems.add("CONTENT-IMAGE", f"image '{src}' {exc.why}", path, line, exc.hint)
            return None
        if file in self.figures:
            return self.figures[file]
        self.figures[file] = None
        if not file.exists():
            self.problems.add("CONTENT-IMAGE", f"image file '{src}' not found", path, line,
                              f"paths are relative to {self.root}")
            return None
        try:
            data = read_limited(file, MAX_IMAGE_BYTES)
        except Refused as exc:
            self.problems.add("CONTENT-IMAGE", f"image '{src}' {exc.why}", path, line, exc.hint)
            return None
        except OSError as exc:
            self.problems.add("CONTENT-IMAGE", f"cannot read image '{src}' ({exc.strerror})", path, line,
                              "check the file's permissions")
            return None
        self.bytes_read += len(data)
        href = file.relative_to(self.root.resolve()).as_posix()
        if href.split("/")[0] in EPUB_FOLDERS:      # the EPUB's own css/, fonts/, images/
            href = f"figure-files/{href}"
        try:
            self.figures[file] = figures.clean(file, href, data)
        except figures.FigureRefused as exc:
            problem = exc.problem
            where = f"{path.name}:{line}" if line else path.name
            self.problems.add(problem.code, f"{problem.message} (figure used at {where})", problem.path,
                              problem.line, problem.hint)
        return self.figures[file]


def inlines(doc: Document):
    """Every inline token of a document in reading order: its title, the
    body's text, and the Markdown of block titles, attributions and captions."""
    if doc.title_inline is not None:
        yield doc.title_inline
    for tok in doc.tokens:
        if text_inline(tok) is not None:
            yield text_inline(tok)
        if tok.type == "inline":
            yield tok
            for child in tok.children or []:
                if child.type == "image" and caption_inline(child) is not None:
                    yield caption_inline(child)


def resolve_links(documents: list[Document], targets: dict[str, Target], problems: Problems) -> None:
    """Check every internal link and give empty ones their target's name:
    `[](#ch-teams)` becomes `Chapter 5: Working in teams`."""
    for doc in documents:
        for tok in inlines(doc):
            if not tok.children:
                continue
            children = tok.children
            for j, child in enumerate(children):
                if child.type != "link_open":
                    continue
                href = str(child.attrGet("href") or "")
                if not href.startswith("#"):
                    if not re.match(r"^(https?|mailto):", href, re.I):
                        problems.add("CONTENT-LINK", f"link '{href}' is neither internal nor a web address",
                                     doc.path, doc.line_of(tok), "use #id for cross-references or a full https:// address")
                    continue
                target = targets.get(href[1:]) or targets.get(normal_id(href[1:]))
                if target is None:
                    problems.add("CONTENT-XREF", f"cross-reference '{href}' points at no chapter, section, "
                                 "figure or table", doc.path, doc.line_of(tok),
                                 "ids come from a document's front matter, a {#id} line above a heading, "
                                 "or the heading text, e.g. #ch-teams-roles-in-a-team")
                    continue
                child.meta["xref"] = target.id
                if children[j + 1].type == "link_close":
                    text = Token("text", "", 0)
                    text.content = target.label
                    children.insert(j + 1, text)

