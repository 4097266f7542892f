"""The Markdown dialect of a guide: CommonMark with tables, footnotes,
attributes, definition lists and one container per block type."""

from __future__ import annotations

import functools
import hashlib
import pickle
import re
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore, replace, smartquotes, text_join
from markdown_it.token import Token
from mdit_py_plugins.attrs import attrs_block_plugin, attrs_plugin
from mdit_py_plugins.container import container_plugin
from mdit_py_plugins.deflist import deflist_plugin
from mdit_py_plugins.footnote import footnote_plugin


@dataclass(frozen=True)
class BlockType:
    """A container block such as `::: key-points`.

    The text after the name on the opening line is the block's title: a
    titled block is a region with a heading. For an untitled block it is
    something else (a quotation's attribution).
    """

    name: str
    default_title: str | None
    titled: bool = True
    has_text: bool = True       # the opening line may carry text (a title or an attribution)


BLOCK_TYPES: dict[str, BlockType] = {b.name: b for b in (
    BlockType("key-points", "Key points"),
    BlockType("activity", "Reflective activity"),
    BlockType("case-study", "Case study"),
    BlockType("self-check", "Self-check"),
    BlockType("quote", None, titled=False),
    BlockType("resources", "Further resources"),
    # The whole further resources list from the guide's resources file; its body stays empty.
    BlockType("resource-list", None, titled=False, has_text=False),
)}

# The parts of a chapter (guide.yaml style.chapter_parts): each sits at the
# same heading level in every chapter, one below the `##` section it closes
# (h3), never under a subsection (render.py), and never inside another titled
# block (CONTENT-BLOCK-LEVEL).
CHAPTER_PARTS = frozenset({"key-points", "activity", "case-study", "self-check", "resources"})


@functools.lru_cache(maxsize=256)         # called for every token, often: the types are few
def block_name(token_type: str) -> str | None:
    """`container_key-points_open` -> `key-points`."""
    for suffix in ("_open", "_close"):
        if token_type.startswith("container_") and token_type.endswith(suffix):
            return token_type[len("container_"):-len(suffix)]
    return None


def block_text(info: str, block: BlockType) -> str:
    """The Markdown the author wrote after the block's name."""
    return info.strip()[len(block.name):].strip()


def block_title(info: str, block: BlockType) -> str | None:
    """A block's title (or a quotation's attribution) as plain text: what a
    reader sees, without Markdown marks."""
    rest = block_text(info, block)
    if not rest:
        return block.default_title
    rest = re.sub(r"\[\^[^\]\s]+\]", "", rest)         # a footnote reference is not text
    return " ".join(inline_text(_plain_parser().parseInline(rest, {})[0]).split()) or block.default_title


def inline_text(inline: Token) -> str:
    """The text a reader sees in an inline token (or an image's alt): after
    typographic quotes, with a space where a line was wrapped. Emphasis,
    code and link text are kept as text; footnote references and images
    (their alt is not text on the page) are left out."""
    return "".join(" " if c.type in ("softbreak", "hardbreak") else c.content
                   for c in inline.children or []
                   if c.type in ("text", "code_inline", "softbreak", "hardbreak"))


# --- inline Markdown outside the body ----------------------------------------
#
# Captions (an image's title), block titles and attributions (the text after a
# block's name) and the document's title (front matter, passed in env[TITLE])
# are Markdown too. They are parsed with the body, in reading order, into
# inline tokens of their own, so footnote references in them are numbered
# with the body's and their notes are kept.

TITLE = "title"                 # env key: the document's title, as written
TITLE_INLINE = "title_inline"   # env key: after parsing, that title as an inline token
_EXTRAS = "_inline_extras"      # env key: the inline tokens made here, for the typographer


def caption_inline(image: Token) -> Token | None:
    """The parsed caption of an image token, if it has one."""
    return image.meta.get("caption")


def text_inline(container: Token) -> Token | None:
    """The parsed title (or attribution) of a block's opening token, if written."""
    return container.meta.get("text")


def _parse_inline(state: StateCore, src: str, host: Token | None) -> Token:
    inline = Token("inline", "", 0)
    inline.content = src
    inline.map = host.map if host is not None else None
    inline.children = []
    state.md.inline.parse(src, state.md, state.env, inline.children)
    state.env.setdefault(_EXTRAS, []).append(inline)
    return inline


def _inline_in_order(state: StateCore) -> None:
    """The core `inline` rule, which also parses the document's title, block
    titles and captions, each where a reader meets it."""
    title = state.env.get(TITLE)
    if title is not None and not state.inlineMode:
        state.env[TITLE_INLINE] = _parse_inline(state, title, None)
    for token in state.tokens:
        name = block_name(token.type)
        if name in BLOCK_TYPES and token.nesting == 1 and BLOCK_TYPES[name].has_text:
            text = block_text(token.info, BLOCK_TYPES[name])
            if text:
                token.meta["text"] = _parse_inline(state, text, token)
        if token.type != "inline":
            continue
        if token.children is None:
            token.children = []
        state.md.inline.parse(token.content, state.md, state.env, token.children)
        for child in token.children:
            caption = str(child.attrGet("title") or "") if child.type == "image" else ""
            if caption.strip():
                child.meta["caption"] = _parse_inline(state, caption, token)


def _typeset_extras(state: StateCore) -> None:
    """Typographic quotes and replacements for the inline tokens made above,
    which are not in the token stream the typographer walks."""
    extras = state.env.pop(_EXTRAS, None)
    if not extras:
        return
    sub = StateCore("", state.md, state.env)
    sub.tokens = extras
    for rule in (replace, smartquotes, text_join):
        rule(sub)


_PLAIN: MarkdownIt | None = None


def _plain_parser() -> MarkdownIt:
    global _PLAIN
    if _PLAIN is None:
        _PLAIN = make_parser()
    return _PLAIN


def make_parser() -> MarkdownIt:
    md = (
        # maxNesting: far past load's own limit (MAX_DEPTH), which reports deep
        # nesting as an error; the parser would drop the rest of a document silently.
        MarkdownIt("commonmark", {"xhtmlOut": True, "typographer": True, "html": False, "maxNesting": 64})
        .enable(["table", "replacements", "smartquotes"])
        .use(footnote_plugin)
        .use(deflist_plugin)
        .use(attrs_plugin)
        .use(attrs_block_plugin)
    )
    # Let every link through to load.py, which names the ones it refuses
    # (javascript:, file:, ...) with their line, instead of dropping them silently.
    md.validateLink = lambda url: True
    # British quotation marks in the typographer: single quotes outside.
    md.options["quotes"] = "‘’“”"
    for name in BLOCK_TYPES:
        container_plugin(md, name)
    md.core.ruler.at("inline", _inline_in_order)
    md.core.ruler.push("typeset_extras", _typeset_extras)
    return md


# Documents parsed by this process (`watch` rebuilds after every save): the
# parser's tokens by the digest of what they were parsed from, pickled, so
# every read gets tokens of its own to number and check. Never on disk.
PARSED: dict[str, bytes] = {}
MAX_PARSED = 4096


@functools.lru_cache(maxsize=1)
def document_parser() -> MarkdownIt:
    return make_parser()


def parse(text: str, env: dict) -> list[Token]:
    """A document's tokens (make_parser()'s), or a copy of those this
    process parsed from the same text and env before."""
    key = hashlib.sha256(repr((sorted(env.items()), text)).encode()).hexdigest()
    if key in PARSED:
        tokens, added = pickle.loads(PARSED[key])
        env.update(added)
        return tokens
    before = set(env)
    tokens = document_parser().parse(text, env)
    if len(PARSED) >= MAX_PARSED:
        PARSED.clear()
    PARSED[key] = pickle.dumps((tokens, {k: v for k, v in env.items() if k not in before}),
                               protocol=pickle.HIGHEST_PROTOCOL)
    return tokens
