"""Stage 1: read content/ and styles/brand.yaml, validate them against the
schema and the guide's rules, and return a Guide. Nothing renders until this
succeeds; every problem names its file and line."""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import unicodedata
from pathlib import Path
from typing import Any, TypeVar

import yaml
from markdown_it.token import Token
from pydantic import BaseModel, ValidationError

from .errors import GuideError, Problem, Problems
from .markdown import BLOCK_TYPES, block_name, inline_text, make_parser
from .model import (ID_PATTERN, Brand, DocMeta, Document, Figure, Guide, GuideMeta, Heading,
                    ResourceList, Table, Target, VariantList)

M = TypeVar("M", bound=BaseModel)
FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*\n", re.S)


# --- YAML with line numbers ------------------------------------------------

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")   # XML cannot carry these
MAX_FILE_BYTES = 2 * 1024 * 1024       # a chapter is tens of kilobytes; this is a mistake
MAX_TABLE_ROWS = 500


def read_text(path: Path, missing_code: str = "CONTENT-MISSING", hint: str | None = None) -> str:
    """A content file as text: UTF-8 (a byte order mark is fine), any line
    endings. Too large, unreadable or not UTF-8 is a GuideError naming the place."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise GuideError.one("CONTENT-TOO-LARGE", f"file is {size // 1024} KB, over the "
                                 f"{MAX_FILE_BYTES // 1024} KB limit", path, None,
                                 "split it, or check that it is the file you meant")
        data = path.read_bytes()
    except OSError as exc:
        raise GuideError.one(missing_code, f"cannot read file ({exc.strerror})", path, None, hint)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise GuideError(Problem("CONTENT-ENCODING", f"byte 0x{data[exc.start]:02x} is not UTF-8", path, line,
                                 "save the file as UTF-8 (most editors have this under 'Save as' or 'Encoding')",
                                 column))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    control = CONTROL.search(text)
    if control:
        line = text.count("\n", 0, control.start()) + 1
        column = control.start() - text.rfind("\n", 0, control.start())
        raise GuideError(Problem("CONTENT-ENCODING", f"control character U+{ord(control.group(0)):04X} in the text",
                                 path, line, "delete it; it is invisible in most editors", column))
    return text


def _read_yaml(path: Path, text: str | None = None, line_offset: int = 0):
    """Parse YAML and keep the node tree, so schema errors can name a line."""
    if text is None:
        text = read_text(path)
    # A tab cannot indent YAML; editors insert them by accident. Read them as spaces.
    text = re.sub(r"(?m)^\t+", lambda m: "  " * len(m.group(0)), text)
    loader = yaml.SafeLoader(text)
    try:
        node = None
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        context = getattr(exc, "context", None) or ""
        # An unclosed [ or { is found lines later; point at where it opened.
        if "flow" in context or (mark is not None and mark.line >= text.count("\n")):
            mark = getattr(exc, "context_mark", None) or mark
        line = mark.line + 1 + line_offset if mark else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise GuideError(Problem("CONTENT-YAML", f"invalid YAML: {problem}", path, line,
                                 "check the indentation and quote values that contain a colon",
                                 mark.column + 1 if mark else None))
    except ValueError as exc:          # a value YAML parses but cannot build, e.g. 2026-13-45
        bad = _bad_scalar(node)
        raise GuideError(Problem("CONTENT-YAML", f"invalid value{f' {bad.value!r}' if bad else ''}: {exc}",
                                 path, bad.start_mark.line + 1 + line_offset if bad else None,
                                 "write dates as YYYY-MM-DD, and quote values that only look like dates",
                                 bad.start_mark.column + 1 if bad else None))
    finally:
        loader.dispose()
    return data, node


def _bad_scalar(root: Any):
    """The first scalar under `root` that cannot be constructed."""
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop(0)
        if isinstance(node, yaml.ScalarNode):
            try:
                yaml.constructor.SafeConstructor().construct_object(node, deep=True)
            except ValueError:
                return node
        elif isinstance(node, yaml.MappingNode):
            stack.extend(v for pair in node.value for v in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return None


def _node_line(node: Any, loc: tuple) -> int | None:
    """The 1-based line of the YAML node at `loc` (or its nearest parent)."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == key), None)
            if match is None:
                break
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
        line = node.start_mark.line + 1
    return line


def _control_characters(data: Any, loc: tuple = ()):
    """Where a YAML value holds a control character (from an escape such as
    \\x1f): XML, and so both outputs, cannot carry them."""
    if isinstance(data, str) and CONTROL.search(data):
        yield loc
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _control_characters(value, loc + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _control_characters(value, loc + (i,))


def _validate(model: type[M], data: Any, node: Any, path: Path, line_offset: int = 0) -> M:
    bad = list(_control_characters(data))
    if bad:
        problems = Problems()
        for loc in bad:
            line = _node_line(node, loc)
            problems.add("CONTENT-SCHEMA", f"field '{'.'.join(str(p) for p in loc)}' holds a control character",
                         path, line + line_offset if line else None, "remove it; only printable text is allowed")
        problems.raise_if_any()
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        problems = Problems()
        for err in exc.errors():
            loc = tuple(err["loc"])
            fieldname = ".".join(str(p) for p in loc) or "(document)"
            line = _node_line(node, loc)
            problems.add("CONTENT-SCHEMA", f"field '{fieldname}': {err['msg']}", path,
                         line + line_offset if line else None,
                         f"see the schema in guidepub/model.py ({model.__name__})")
        problems.raise_if_any()
        raise  # unreachable


def load_model(model: type[M], path: Path) -> M:
    data, node = _read_yaml(path)
    return _validate(model, data, node, path)


# --- Markdown documents ----------------------------------------------------

def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


# Ids the templates give to parts of every build; content may not reuse them.
RESERVED_IDS = {"cover", "imprint", "imprint-title", "imprint-cite", "imprint-access", "toc", "toc-title",
                "nav", "landmarks", "landmarks-title", "page-list", "page-list-title",
                "whats-new", "whats-new-title"}
RESERVED_ID = re.compile(r"^(page|whats-new)-\d+$")    # page-break markers; editions on the changelog page
IMAGE_TYPES = {".svg", ".png", ".jpg", ".jpeg"}
RAW_HTML = re.compile(r"</?(?:a|abbr|b|br|div|em|font|h[1-6]|i|iframe|img|li|object|ol|p|script|span|"
                      r"strong|style|sub|sup|table|td|th|tr|u|ul|embed|form|input|svg|math)\b[^>]*>", re.I)


def _table_end(tokens: list[Token], start: int) -> int:
    return next((j for j in range(start, len(tokens)) if tokens[j].type == "table_close"), len(tokens))


class _DocumentReader:
    """Reads one Markdown file into a Document and records what it defines."""

    def __init__(self, guide_root: Path, problems: Problems, ids: dict[str, Path],
                 counters: dict[str, int]):
        self.root = guide_root
        self.problems = problems
        self.ids = ids              # every id defined so far -> the file defining it
        self.counters = counters    # figure and table numbers run through the guide
        self.listed_at: dict[str, int] = {}
        self.md = make_parser()

    def read(self, rel: str, part: str, number: int | None) -> Document | None:
        path = self.root / rel
        if not path.is_file():
            self.problems.add("CONTENT-MISSING", f"'{rel}' is listed but there is no such file",
                              self.root / "guide.yaml", self.listed_at.get(rel),
                              "fix the path in guide.yaml, or add the file")
            return None
        try:
            text = read_text(path)
        except GuideError as exc:
            self.problems.extend(exc)
            return None
        match = FRONT_MATTER.match(text)
        if not match:
            self.problems.add("CONTENT-FRONT-MATTER", "no YAML front matter", path, 1,
                              "start the file with '---', the fields id and title, then '---'")
            return None
        try:
            data, node = _read_yaml(path, match.group(1), line_offset=1)
            meta = _validate(DocMeta, data, node, path, line_offset=1)
        except GuideError as exc:
            self.problems.extend(exc)
            return None
        if part == "chapter" and not meta.learning_outcomes:
            self.problems.add("CONTENT-SCHEMA", "field 'learning_outcomes': a chapter needs at least one",
                              path, (_node_line(node, ("learning_outcomes",)) or 1) + 1,
                              "list what a reader will be able to do after the chapter")
        body_offset = match.group(0).count("\n")
        if not text[match.end():].strip():
            self.problems.add("CONTENT-EMPTY", "the file has front matter but no text", path, body_offset + 1,
                              "write the chapter, or take it out of guide.yaml until it is ready")
        env = {"docId": meta.id}
        tokens = self.md.parse(text[match.end():], env)
        doc = Document(meta=meta, path=path, part=part, number=number, tokens=tokens,
                       line_offset=body_offset)
        self._define(meta.id, path, (_node_line(node, ("id",)) or 1) + 1)
        self._scan(doc, text[match.end():].splitlines())
        return doc

    def _define(self, ident: str, path: Path, line: int | None) -> bool:
        if ident in self.ids:
            self.problems.add("CONTENT-DUPLICATE-ID", f"id '{ident}' is already used in {self.ids[ident]}",
                              path, line, "give each chapter, section and figure its own id")
            return False
        self.ids[ident] = path
        return True

    def _scan(self, doc: Document, lines: list[str]) -> None:
        """Walk the tokens once: give headings ids, number figures and tables,
        and enforce the rules a renderer relies on."""
        path, tokens = doc.path, doc.tokens
        level = 1                 # the chapter title is the document's only H1
        in_block = 0
        for i, tok in enumerate(tokens):
            line = doc.line_of(tok)
            name = block_name(tok.type)
            if name:
                in_block += 1 if tok.nesting == 1 else -1
                if tok.nesting == 1:
                    self._check_closed(doc, tok, lines)
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
        ident = tok.attrGet("id")
        if ident is None:
            return None
        if not re.fullmatch(ID_PATTERN, str(ident)):
            self.problems.add("CONTENT-ID", f"id '{ident}' is not a valid id", path, line,
                              "use lower-case letters, digits and single hyphens, starting with a letter")
        return str(ident)

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
        caption = " ".join(str(image.attrGet("title") or "").split())
        if not alt:
            self.problems.add("CONTENT-ALT", f"figure '{src}' has no alt text", path, line,
                              "write what the figure shows inside the brackets: ![alt text](file.svg \"Caption\")")
        if not caption:
            self.problems.add("CONTENT-CAPTION", f"figure '{src}' has no caption", path, line,
                              "add a caption in quotes after the file name: ![alt](file.svg \"Caption\")")
        file = (self.root / src).resolve()
        if Path(src).suffix.lower() not in IMAGE_TYPES:
            self.problems.add("CONTENT-IMAGE", f"image '{src}' is not SVG, PNG or JPEG", path, line,
                              "convert it to one of those formats")
        elif not file.is_relative_to(self.root.resolve()) or "\\" in src or ":" in src:
            self.problems.add("CONTENT-IMAGE", f"image '{src}' is outside the guide's folder", path, line,
                              f"keep images inside {self.root}, e.g. figures/")
        elif not file.is_file():
            self.problems.add("CONTENT-IMAGE", f"image file '{src}' not found", path, line,
                              f"paths are relative to {self.root}")
        self.counters["figure"] += 1
        ident = self._explicit_id(image, path, line) or f"fig-{self.counters['figure']}"
        if self._define(ident, path, line):
            image.attrSet("id", ident)
            figure = Figure(ident, self.counters["figure"], src, alt, caption)
            image.meta["figure"] = figure
            doc.figures.append(figure)


def _resolve_links(documents: list[Document], targets: dict[str, Target], problems: Problems) -> None:
    """Check every internal link and give empty ones their target's name:
    `[](#ch-teams)` becomes `Chapter 5: Working in teams`."""
    for doc in documents:
        for tok in doc.tokens:
            if tok.type != "inline" or not tok.children:
                continue
            children = tok.children
            for j, child in enumerate(children):
                if child.type != "link_open":
                    continue
                href = str(child.attrGet("href") or "")
                if not href.startswith("#"):
                    if not re.match(r"^(https?|mailto):", href):
                        problems.add("CONTENT-LINK", f"link '{href}' is neither internal nor a web address",
                                     doc.path, doc.line_of(tok), "use #id for cross-references or a full https:// address")
                    continue
                target = targets.get(href[1:])
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


def _listed_lines(guide_file: Path) -> dict[str, int]:
    """The line of guide.yaml where each listed file is named."""
    return {m.group(1).strip().strip("'\""): n
            for n, text in enumerate(read_text(guide_file).splitlines(), 1)
            if (m := re.match(r"^\s*-\s*(\S.*?\.md)\s*$", text))}


def build_date(meta: GuideMeta, content: Path) -> dt.datetime:
    """The date stamped on outputs: SOURCE_DATE_EPOCH when set, else the
    last commit that touched the content folder, else the edition date.
    Never the clock, so builds are reproducible."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        epoch = _last_commit_time(content)
    elif not epoch.strip().isdigit():
        raise GuideError.one("BUILD-DATE", f"SOURCE_DATE_EPOCH='{epoch}' is not a whole number of seconds",
                             hint="unset it or set it to a Unix time such as 1732406400")
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc)
    return dt.datetime.combine(meta.edition.date, dt.time(), dt.timezone.utc)


def _last_commit_time(folder: Path) -> str | None:
    try:
        run = subprocess.run(["git", "log", "-1", "--format=%ct", "--", "."], cwd=folder,
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    value = run.stdout.strip()
    return value if run.returncode == 0 and value.isdigit() else None


def load_variants(path: Path, meta: GuideMeta) -> list:
    variants = load_model(VariantList, path).variants
    problems = Problems()
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        problems.add("VARIANT", "two variants have the same name", path)
    if not any(v.format == "pdf" and v.default for v in variants):
        problems.add("VARIANT", "no default PDF variant: the EPUB's page list needs one", path)
    for name in meta.identifiers.isbn:
        if name not in names:
            problems.add("CONTENT-SCHEMA", f"field 'identifiers.isbn.{name}': no variant is called '{name}'",
                         None, None, f"use one of: {', '.join(names)}")
    problems.raise_if_any()
    return variants


def load_brand(path: Path) -> Brand:
    brand = load_model(Brand, path)
    problems = Problems()
    base = path.parent
    for face in brand.font.faces:
        if not (base / face.file).is_file():
            problems.add("BRAND-FONT", f"font file '{face.file}' not found", path, None,
                         "run `make` to install the pinned font package")
    if not (base / brand.mark).is_file():
        problems.add("BRAND-MARK", f"mark '{brand.mark}' not found", path)
    for pair in brand.pairs:
        for colour in (pair.text, pair.background):
            if colour not in brand.colours:
                problems.add("BRAND-COLOUR", f"pair '{pair.use}' uses unknown colour '{colour}'", path)
    problems.raise_if_any()
    return brand


def load(content: Path, brand_path: Path) -> Guide:
    """Read and validate the whole guide. Raises GuideError listing every problem.
    The styles folder holding `brand_path` also holds variants.yaml."""
    brand = load_brand(brand_path)
    guide_file = content / "guide.yaml"
    meta = load_model(GuideMeta, guide_file)
    variants = load_variants(brand_path.parent / "variants.yaml", meta)
    problems = Problems()
    ids: dict[str, Path] = {}
    reader = _DocumentReader(content, problems, ids, {"figure": 0, "table": 0})
    reader.listed_at = _listed_lines(guide_file)
    listed = {(content / rel).resolve() for rel in meta.front_matter + meta.chapters + meta.back_matter}
    for path in sorted(content.rglob("*.md")):
        if path.resolve() not in listed:
            problems.add("CONTENT-UNLISTED", f"'{path.relative_to(content)}' is not listed in guide.yaml", path, None,
                         "add it to front_matter, chapters or back_matter, or move drafts out of the content folder")
    documents: list[Document] = []
    chapter_no = 0
    for part, files in (("front", meta.front_matter), ("chapter", meta.chapters), ("back", meta.back_matter)):
        for rel in files:
            number = None
            if part == "chapter":
                chapter_no += 1
                number = chapter_no
            doc = reader.read(rel, part, number)
            if doc:
                documents.append(doc)
    if len(documents) < len(meta.front_matter) + len(meta.chapters) + len(meta.back_matter):
        problems.raise_if_any()     # links into a file that failed to load would only add noise
    targets: dict[str, Target] = {}
    for doc in documents:
        targets[doc.id] = Target(doc.id, doc.id, doc.label)
        for h in doc.headings:
            targets[h.id] = Target(h.id, doc.id, h.text)
        for f in doc.figures:
            targets[f.id] = Target(f.id, doc.id, f"Figure {f.number}")
        for t in doc.tables:
            if t.id:
                targets[t.id] = Target(t.id, doc.id, f"Table {t.number}")
    _resolve_links(documents, targets, problems)
    resources: list = []
    if meta.resources:
        try:
            resources = load_model(ResourceList, content / meta.resources).resources
        except GuideError as exc:
            problems.extend(exc)
    problems.raise_if_any()
    return Guide(meta=meta, root=content, documents=documents, targets=targets, brand=brand,
                 build_date=build_date(meta, content), variants=variants,
                 resources=sorted(resources, key=lambda r: r.title.lower()))
