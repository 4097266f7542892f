"""The Markdown dialect of a guide: CommonMark with tables, footnotes,
attributes, definition lists and one container per block type."""

from __future__ import annotations

from dataclasses import dataclass

from markdown_it import MarkdownIt
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


BLOCK_TYPES: dict[str, BlockType] = {b.name: b for b in (
    BlockType("key-points", "Key points"),
    BlockType("activity", "Reflective activity"),
    BlockType("case-study", "Case study"),
    BlockType("self-check", "Self-check"),
    BlockType("quote", None, titled=False),
    BlockType("resources", "Further resources"),
    # The whole further resources list from the guide's resources file; its body stays empty.
    BlockType("resource-list", None, titled=False),
)}


def block_name(token_type: str) -> str | None:
    """`container_key-points_open` -> `key-points`."""
    for suffix in ("_open", "_close"):
        if token_type.startswith("container_") and token_type.endswith(suffix):
            return token_type[len("container_"):-len(suffix)]
    return None


def block_title(info: str, block: BlockType) -> str | None:
    rest = info.strip()[len(block.name):].strip()
    return rest or block.default_title


def inline_text(inline: Token) -> str:
    """The text a reader sees in an inline token (or an image's alt): after
    typographic quotes, with a space where a line was wrapped."""
    return "".join(" " if c.type in ("softbreak", "hardbreak") else c.content
                   for c in inline.children or []
                   if c.type in ("text", "code_inline", "softbreak", "hardbreak"))


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
    return md
