"""Guards on a document's text that keep every edition whole: nesting and
list size the layout can take (nothing is dropped silently), attributes
that may pass into an edition, and characters the brand's fonts can draw.
Each finding is a coded problem at the file's line."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from markdown_it.token import Token

from ..errors import Problems
from ..markdown import block_name, caption_inline, text_inline
from ..model import Document

MAX_LIST_ITEMS = 1000       # a glossary of a thousand terms is a dictionary: split it
MAX_DEPTH = 16              # lists, quotations and blocks inside each other
NESTING_OPEN = {"bullet_list_open", "ordered_list_open", "blockquote_open", "dl_open"}
NESTING_CLOSE = {"bullet_list_close", "ordered_list_close", "blockquote_close", "dl_close"}
LIST_ITEMS = {"list_item_open", "dt_open"}
# Attributes an author may give with {...}; the parser's own (href, src, ...)
# are allowed on the tokens it puts them on. Anything else (style, xmlns,
# prefixed names, event handlers) would pass unchecked into every edition.
AUTHOR_ATTRS = {"id", "class", "caption", "width", "height"}
PARSER_ATTRS = {"link_open": {"href", "title"}, "image": {"src", "alt", "title"},
                "ordered_list_open": {"start"}, "th_open": {"style"}, "td_open": {"style"}}


def _find(lines: list[str], ch: str, start: int) -> tuple[int | None, int | None]:
    """1-based line and column of the first `ch` at or after line index `start`."""
    for n in range(start, len(lines)):
        column = lines[n].find(ch)
        if column >= 0:
            return n + 1, column + 1
    return None, None


def _needs_no_glyph(ch: str) -> bool:
    """Characters no font is chosen for (as Pango decides): spaces, format
    characters such as a soft hyphen or a zero-width joiner, and variation
    selectors."""
    return (ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zs", "Zl", "Zp")
            or "\ufe00" <= ch <= "\ufe0f" or "\U000e0100" <= ch <= "\U000e01ef")


def check_glyphs(doc: Document, lines: list[str], glyphs: dict[str, frozenset[int]] | None,
                 problems: Problems) -> None:
    """Each character of the text that none of its fonts has, at its line
    and column (the PDF would otherwise set it in a system font). Code is
    set in the monospace font, headings and titles in the heading font
    (and in the body font, in the contents, running heads and
    cross-references), other text in the body font; each with the
    brand's fallbacks."""
    if glyphs is None:
        return
    titles = ("heading", "body")
    texts: list[tuple[str, int, tuple[str, ...]]] = []     # (text, first line index, roles)

    def add(inline: Token | None, start: int, roles: tuple[str, ...]) -> None:
        for child in (inline.children or []) if inline is not None else []:
            if child.type == "code_inline":
                texts.append((child.content, start, ("monospace",)))
            elif child.type == "text":
                texts.append((child.content, start, roles))
            elif child.type == "image":
                add(caption_inline(child), start, ("body",))

    if doc.title_inline is not None:
        add(doc.title_inline, 0, titles)
    else:
        texts.append((doc.meta.title, 0, titles))
    texts += [(text, 0, ("body",)) for text in [doc.meta.summary or "", *doc.meta.learning_outcomes]]
    in_heading = False
    for tok in doc.tokens:
        start = tok.map[0] + doc.line_offset if tok.map else doc.line_offset
        add(text_inline(tok), start, titles)
        if tok.type in ("heading_open", "heading_close"):
            in_heading = tok.type == "heading_open"
        elif tok.type == "inline":
            add(tok, start, titles if in_heading else ("body",))
        elif tok.type in ("fence", "code_block"):
            texts.append((tok.content, start, ("monospace",)))
        elif tok.type == "table_open" and tok.attrGet("caption"):
            texts.append((str(tok.attrGet("caption")), start, ("body",)))
    by_roles: dict[tuple[str, ...], set[str]] = {}      # each character once: most texts lack nothing
    for text, _, roles in texts:
        by_roles.setdefault(roles, set()).update(text)
    if all(ord(ch) in glyphs[role] or _needs_no_glyph(ch)
           for roles, chars in by_roles.items() for ch in chars for role in roles):
        return
    reported: set[str] = set()
    for text, start, roles in texts:
        for ch in dict.fromkeys(text):          # in the order of the text, so reports are stable
            if ch in reported or _needs_no_glyph(ch):
                continue
            lacking = [role for role in roles if ord(ch) not in glyphs[role]]
            if not lacking:
                continue
            reported.add(ch)
            line, column = _find(lines, ch, start)
            where = {"monospace": "the fonts for code", "heading": "the fonts for headings"}.get(
                lacking[0], "the brand's fonts")
            problems.add("CONTENT-GLYPH", f"character '{ch}' (U+{ord(ch):04X}) is in none of "
                              f"{where}", doc.path, line, "use another character, or add a font that "
                              "has it to the brand's fallbacks (fonts.fallbacks in the brand file)", column)
            if len(reported) >= 5:
                return


def check_attrs(tok: Token, path: Path, line: int | None, problems: Problems) -> None:
    for key in tok.attrs:
        if key not in AUTHOR_ATTRS and key not in PARSER_ATTRS.get(tok.type, ()):
            problems.add("CONTENT-ATTRIBUTE", f"attribute '{key}' is not allowed", path, line,
                              "use {#id}, {.class}, caption=\"...\" on a table or width=\"80%\" on a "
                              "figure; styles belong in the brand's stylesheet")

def check_nesting(doc: Document, problems: Problems) -> None:
    """Lists, quotations and blocks nested past MAX_DEPTH, and lists of over
    MAX_LIST_ITEMS items, are errors at the line where they start. The
    parser's own limit (make_parser) is far deeper, so it never drops text
    this check has not already reported."""
    open_: list[tuple[Token, int]] = []      # enclosing lists, quotations and blocks; their items
    reported = False
    for tok in doc.tokens:
        if tok.type in NESTING_OPEN or block_name(tok.type) and tok.nesting == 1:
            open_.append((tok, 0))
            if len(open_) > MAX_DEPTH and not reported:
                reported = True
                outer = open_[0][0]
                problems.add("CONTENT-NESTING", f"lists, quotations and blocks nest {MAX_DEPTH + 1} "
                                  f"deep here, over the limit of {MAX_DEPTH}", doc.path, doc.line_of(tok),
                                  f"flatten the structure that starts on line {doc.line_of(outer)}: "
                                  "deeper levels cannot be laid out or read comfortably")
        elif tok.type in NESTING_CLOSE or block_name(tok.type) and tok.nesting == -1:
            if open_:
                start, items = open_.pop()
                if items > MAX_LIST_ITEMS:
                    problems.add("CONTENT-LIST-TOO-LARGE", f"list has {items:,} items, over "
                                      f"{MAX_LIST_ITEMS:,}", doc.path, doc.line_of(start),
                                      "split it into several lists under headings, or into several documents")
        elif tok.type in LIST_ITEMS and open_:
            start, items = open_[-1]
            open_[-1] = (start, items + 1)
