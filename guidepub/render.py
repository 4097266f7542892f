"""Stage 2: turn a Guide into semantic HTML through Jinja templates.

The same block partials serve both formats; a `Format` says only what differs
between them: where a cross-reference points, and which wrapper templates and
stylesheet layers to use."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml
from markdown_it.token import Token
from markupsafe import Markup, escape

from .errors import GuideError
from .markdown import BLOCK_TYPES, CHAPTER_PARTS, block_name, inline_text, make_parser, text_inline
from .model import Document, Guide


@dataclass(frozen=True)
class Format:
    name: str                          # "pdf", "epub" or "web"
    href: Callable[[str], str]         # target id -> link address
    css_layers: tuple[str, ...]        # files in styles/, after the shared layers
    page_refs: bool = False            # print the page a cross-reference points to


SHARED_CSS = ("base.css", "blocks.css")


def pdf_format(css: tuple[str, ...] = ()) -> Format:
    """The PDF; `css` adds a variant's layers (large print, print-ready)."""
    return Format("pdf", lambda ident: f"#{ident}", ("print.css", *css), page_refs=True)


def _page_a_document(guide: Guide, name: str, suffix: str, css: str) -> Format:
    """A format with one file a document: a cross-reference names the file
    of its target's document, and the target within it."""
    def href(ident: str) -> str:
        target = guide.targets[ident]
        page = f"{target.doc_id}{suffix}"
        return page if ident == target.doc_id else f"{page}#{ident}"
    return Format(name, href, (css,))


def epub_format(guide: Guide) -> Format:
    return _page_a_document(guide, "epub", ".xhtml", "epub.css")


def web_format(guide: Guide) -> Format:
    """The web edition: one page a document (guidepub/web/)."""
    return _page_a_document(guide, "web", ".html", "web.css")


_TYPOGRAPHER = MarkdownIt("zero", {"typographer": True}).enable(["replacements", "smartquotes"])


def typeset(text) -> Markup:
    """Plain text from YAML (learning outcomes, resources) set as the body's
    Markdown is: curly quotes and apostrophes, dashes. No other Markdown."""
    return Markup(_TYPOGRAPHER.renderInline(str(text)))


class Renderer:
    def __init__(self, guide: Guide, templates: Path, styles: Path):
        self.guide = guide
        self.styles = styles
        self.env = Environment(loader=FileSystemLoader(templates), autoescape=True,
                               undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                               keep_trailing_newline=True)
        self.env.filters["split_lines"] = lambda text: text.split("\n")
        self.env.filters["print_url"] = print_url
        self.env.filters["url_breaks"] = url_breaks
        self.env.filters["typeset"] = typeset
        self.env.globals["toc_title"] = self.toc_title
        self.md = make_parser()
        self._install_rules()

    # --- Markdown tokens -> HTML -------------------------------------------

    def _install_rules(self) -> None:
        rules = self.md.add_render_rule

        def link_open(self_r, tokens, idx, options, env):
            tok = tokens[idx]
            xref = tok.meta.get("xref")
            env["links"].append(xref)
            env["urls"].append(None if xref else str(tok.attrGet("href") or ""))
            if not xref:
                return self_r.renderToken(tokens, idx, options, env)
            # Tokens are shared by both formats: build the attributes afresh.
            attrs = dict(tok.attrs, href=env["format"].href(xref))
            attrs["class"] = " ".join(filter(None, [str(attrs.get("class", "")), "xref"]))
            return _open_tag("a", attrs)

        def link_close(self_r, tokens, idx, options, env):
            xref, url = env["links"].pop(), env["urls"].pop()
            if url and env["format"].page_refs and env["print_urls"] and print_url(url):
                # A paper reader cannot follow a link: the PDF prints its
                # address after it, as text outside the link (one Link tag,
                # one annotation, described by the link text alone).
                return f'</a><span class="print-url"> ({escape(url_breaks(print_url(url)))})</span>'
            if xref and env["format"].page_refs:
                # The page number goes after the link, not inside it: generated
                # text inside a link becomes a nested Link tag, and one that
                # wraps to a new line loses its description.
                return f'</a><span class="page-ref" data-ref="#{escape(xref)}"></span>'
            return "</a>"

        def paragraph_open(self_r, tokens, idx, options, env):
            # Every shown paragraph gets an id, the same in both formats, so the
            # EPUB can mark where each page of the PDF begins.
            tok = tokens[idx]
            if tok.hidden:
                return self_r.renderToken(tokens, idx, options, env)
            env["paragraphs"] += 1
            return _open_tag("p", dict(tok.attrs, id=f"{env['docId']}--p{env['paragraphs']}"))

        def table_open(self_r, tokens, idx, options, env):
            tok = tokens[idx]
            ident = tok.attrGet("id")
            id_attr = f' id="{escape(ident)}"' if ident else ""
            caption = escape(tok.attrGet("caption") or "")
            number = tok.meta.get("number")
            return (f'<div class="table-wrap">\n<table{id_attr}>\n<caption><span class="label">Table&#160;{number}.</span> '
                    f"{caption}</caption>\n")

        def table_close(self_r, tokens, idx, options, env):
            return "</table>\n</div>\n"

        def heading_open(self_r, tokens, idx, options, env):
            # A heading that cites a note: its bookmark is its plain text.
            tok, inline = tokens[idx], tokens[idx + 1]
            if not (env["format"].page_refs and _cites_a_note(inline)):
                return self_r.renderToken(tokens, idx, options, env)
            label = _css_string(" ".join(inline_text(inline).split()))
            return _open_tag(tok.tag, dict(tok.attrs, style=f"bookmark-label: {label}"))

        def th_open(self_r, tokens, idx, options, env):
            return _open_tag("th", dict(tokens[idx].attrs, scope="col"))

        def note_ids(tok, env) -> tuple[str, str]:
            """(note id, id of this reference to it): a note cited twice has two references."""
            n, sub = tok.meta["id"] + 1, tok.meta.get("subId", 0)
            note = f"{env['docId']}--fn{n}"
            return note, f"{note}-ref" + (f"{sub + 1}" if sub > 0 else "")

        def footnote_ref(self_r, tokens, idx, options, env):
            note, ref = note_ids(tokens[idx], env)
            n = tokens[idx].meta["id"] + 1
            return (f'<sup class="footnote-ref"><a href="#{note}" id="{ref}" '
                    f'epub:type="noteref" role="doc-noteref">{n}</a></sup>')

        def footnote_block_open(self_r, tokens, idx, options, env):
            return ('<section class="footnotes" epub:type="endnotes" role="doc-endnotes" '
                    'aria-label="Notes">\n<ol>\n')

        def footnote_block_close(self_r, tokens, idx, options, env):
            return "</ol>\n</section>\n"

        def footnote_open(self_r, tokens, idx, options, env):
            note, _ = note_ids(tokens[idx], env)
            return f'<li id="{note}" epub:type="endnote">'

        def footnote_anchor(self_r, tokens, idx, options, env):
            _, ref = note_ids(tokens[idx], env)
            n, sub = tokens[idx].meta["id"] + 1, tokens[idx].meta.get("subId", 0)
            which = f" (reference {sub + 1})" if sub > 0 else ""
            return (f' <a href="#{ref}" class="footnote-backref" '
                    f'role="doc-backlink">Back to text for note {n}{which}</a>')

        def text(self_r, tokens, idx, options, env):
            # On a page, an address or path in the text never breaks after a hyphen.
            content = tokens[idx].content
            if env["format"].page_refs and "/" in content:
                return _text_breaks(content)
            return escapeHtml(content)

        rules("text", text)
        rules("link_open", link_open)
        rules("link_close", link_close)
        rules("paragraph_open", paragraph_open)
        rules("table_open", table_open)
        rules("table_close", table_close)
        rules("th_open", th_open)
        rules("heading_open", heading_open)
        rules("footnote_ref", footnote_ref)
        rules("footnote_block_open", footnote_block_open)
        rules("footnote_block_close", footnote_block_close)
        rules("footnote_open", footnote_open)
        rules("footnote_anchor", footnote_anchor)

    def _env(self, doc: Document, fmt: Format) -> dict:
        return {"docId": doc.id, "format": fmt, "doc": doc, "blocks": 0, "paragraphs": 0, "links": [],
                "urls": [], "print_urls": False}

    def body(self, doc: Document, fmt: Format) -> Markup:
        html = self._render(doc.tokens, self._env(doc, fmt), level=1)
        if doc.meta.generated == "accessibility-statement":
            # Written for this edition, before the editor's own text (guidepub/statement.py).
            from .statement import context
            html = self.partial("partials/accessibility-statement.html.j2", **context(self.guide, doc, fmt)) + html
        return Markup(html)

    def inline(self, inline: Token | None, env: dict) -> Markup:
        """Markdown outside the body (a caption, a title, a block's title or
        attribution), with the body's rules: links, cross-references, notes."""
        if inline is None:
            return Markup("")
        return Markup(self.md.renderer.renderInline(inline.children or [], self.md.options, env))

    def title(self, doc: Document, fmt: Format) -> Markup:
        """The document's title as its heading shows it."""
        if doc.title_inline is None:
            return Markup(escape(doc.meta.title))
        return self.inline(doc.title_inline, self._env(doc, fmt))

    def title_style(self, doc: Document, fmt: Format) -> str:
        """For the PDF, when the title cites a note: the bookmark and running
        head take the plain title, not the note's number too."""
        if not (fmt.page_refs and _cites_a_note(doc.title_inline)):
            return ""
        text = _css_string(doc.meta.title)
        return f"bookmark-label: {text}; string-set: chapter {text}"

    def toc_title(self, doc: Document) -> Markup:
        """The title for the contents, where it sits inside a link: its
        emphasis and code, without links or note references (nor ids: the
        heading has them)."""
        if doc.title_inline is None:
            return Markup(escape(doc.meta.title))
        kept = [c.copy(attrs={}) for c in doc.title_inline.children or []
                if c.type not in ("link_open", "link_close", "footnote_ref", "image")]
        return Markup(self.md.renderer.renderInline(kept, self.md.options, self._env(doc, pdf_format())))

    def _render(self, tokens, env, level: int, outermost: bool = True) -> str:
        """`outermost`: not inside a titled block, where a chapter part
        takes its fixed level."""
        out: list[str] = []
        run: list = []

        def flush() -> None:
            if run:
                out.append(self.md.renderer.render(run, self.md.options, env))
                run.clear()

        i = 0
        while i < len(tokens):
            tok = tokens[i]
            name = block_name(tok.type)
            if name and tok.nesting == 1:
                close = _matching_close(tokens, i)
                flush()
                block = BLOCK_TYPES[name]
                text = text_inline(tok)
                title = self.inline(text, env) if text is not None else block.default_title
                # A titled block is a region with a heading one level down; a
                # quotation has no heading, so what it holds keeps the level.
                inner_level = level + 1 if block.titled else level
                if name in CHAPTER_PARTS and outermost:
                    # A chapter part (key points, self-check, ...) sits one
                    # level below the `##` section it closes, in every
                    # chapter: never under whatever subsection came before it.
                    inner_level = min(level, 2) + 1
                if block.titled:
                    env["blocks"] += 1
                # The PDF prints the web address after each link of a resource list.
                printing, env["print_urls"] = env["print_urls"], env["print_urls"] or name == "resources"
                inner = self._render(tokens[i + 1:close], env, inner_level,
                                     outermost and not block.titled)
                env["print_urls"] = printing
                out.append(self.partial(
                    f"blocks/{name}.html.j2", body=Markup(inner), title=title,
                    level=min(inner_level, 6), id=f"{env['docId']}--block-{env['blocks']}",
                    print_urls=env["format"].page_refs))
                i = close + 1
                continue
            figure = _figure_at(tokens, i)
            if figure:
                flush()
                out.append(self.partial("blocks/figure.html.j2", figure=figure,
                                        caption=self.inline(figure.caption_inline, env)))
                i += 3
                continue
            if tok.type == "heading_open":
                level = int(tok.tag[1])
            run.append(tok)
            i += 1
        flush()
        return "".join(out)

    # --- templates ---------------------------------------------------------

    def partial(self, name: str, **context) -> str:
        return self.env.get_template(name).render(guide=self.guide, **context)

    def page(self, template: str, fmt: Format, **context) -> str:
        """Render a wrapper template with everything a page may need."""
        return self.partial(template, fmt=fmt, body_of=lambda doc: self.body(doc, fmt),
                            title_of=lambda doc: self.title(doc, fmt),
                            title_style_of=lambda doc: self.title_style(doc, fmt),
                            brand=self.guide.brand, meta=self.guide.meta, **context)

    # --- stylesheets -------------------------------------------------------

    def brand_file(self, rel: str) -> Path:
        """A file the brand names (font, mark, CSS), relative to the brand file."""
        base = self.guide.brand_path.parent if self.guide.brand_path else self.styles
        return (base / rel).resolve()

    def stylesheet(self, fmt: Format, url: Callable[[Path], str], families: set[str] | None = None) -> str:
        """The whole CSS for one format: font faces, then the shared layers,
        then the format's own, with brand tokens written in. `url` turns a
        brand file (font, mark) into the address the format uses. Each role's
        font-family token lists its font then the brand's fallbacks; given
        `families` (stylesheet family names, Font.layers), only those are
        declared and listed: each output declares only the fonts its text
        needs (fonts.py)."""
        brand = self.guide.brand
        declared = {font.family: [(name, faces) for name, faces in font.layers()
                                  if families is None or name in families] for font in brand.fonts.all()}
        faces = [
            "@font-face {\n"
            f"  font-family: \"{name}\";\n"
            f"  src: url(\"{url(self.brand_file(face.file))}\") format(\"woff2\");\n"
            f"  font-weight: {face.weight};\n  font-style: {face.style};\n}}\n"
            for font_layers in declared.values() for name, layer in font_layers for face in layer
        ]
        layers = [(self.styles / name).read_text(encoding="utf-8")
                  for name in SHARED_CSS + fmt.css_layers]
        # The brand's own stylesheets come last, so they may restyle anything.
        layers += [self.brand_file(name).read_text(encoding="utf-8") for name in brand.css]
        tokens = {f"colour-{k}": v for k, v in brand.colours.items()}
        for token, role, generic in (("font-family", "body", "sans-serif"),
                                     ("font-heading", "heading", "sans-serif"),
                                     ("font-monospace", "monospace", "monospace")):
            stack = dict.fromkeys(name for font in brand.fonts.stack(role) for name, _ in declared[font.family])
            tokens[token] = ", ".join([*(f"\"{family}\"" for family in stack), generic])
        tokens["mark-url"] = f"url(\"{url(self.brand_file(brand.mark))}\")"
        return _apply_tokens("\n".join(faces + layers), tokens)


def print_url(url: str) -> str:
    """A web address as the PDF prints it for a paper reader: without the
    scheme and a trailing slash ("example.org/path"); "" for anything else."""
    match = re.match(r"https?://(.+)$", url.strip(), re.I)
    return match.group(1).rstrip("/") if match else ""


def url_breaks(text: str) -> str:
    """A printed web address with its line breaks where a reader expects
    them: never inside the domain ("www.nhs.uk" stays whole), and in the path
    only before a slash or a hyphen (which then starts the next line, so it
    reads as part of the address), never after a hyphen (which would read as
    a word broken at the line's end). A zero-width space allows a break; a
    word joiner forbids one. Both are invisible and silent."""
    scheme = re.match(r"[a-z][a-z0-9+.-]*://", text, re.I)
    start = scheme.end() if scheme else 0
    domain, slash, path = text[start:].partition("/")
    out = [text[:start]] + [char + "\u2060" if char in ".-" else char for char in domain]
    for index, char in enumerate(slash + path):
        if char in "/-?&=#" and index > 0:
            out.append("\u200b")
        out.append(char)
        if char == "-":
            out.append("\u2060")
    return "".join(out)


# A word with a slash in running text: a web address or a file's path.
PATH_LIKE = re.compile(r"(?<![^\s(\[])(?=[^\s]*\w/)[^\s]*[\w/]")


def _text_breaks(content: str) -> str:
    """Text for a page: a web address or path in it breaks as url_breaks
    says (never after its hyphens), the rest as written. HTML-escaped."""
    out, last = [], 0
    for match in PATH_LIKE.finditer(content):
        out += [escapeHtml(content[last:match.start()]), escapeHtml(url_breaks(match.group(0)))]
        last = match.end()
    return "".join(out) + escapeHtml(content[last:])


def _cites_a_note(inline: Token | None) -> bool:
    return inline is not None and any(c.type == "footnote_ref" for c in inline.children or [])


def _css_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _open_tag(tag: str, attrs: dict) -> str:
    return f"<{tag}" + "".join(f' {k}="{escape(v)}"' for k, v in attrs.items()) + ">"


def _apply_tokens(css: str, tokens: dict[str, str]) -> str:
    """Replace var(--name) with the brand's value, so every reading system,
    old or new, sees plain CSS."""
    def value(match: re.Match) -> str:
        name = match.group(1)
        if name not in tokens:
            raise GuideError.one("BRAND-TOKEN", f"stylesheet uses unknown token --{name}",
                                 hint=f"define it in styles/brand.yaml; known: {', '.join(sorted(tokens))}")
        return tokens[name]
    return re.sub(r"var\(--([a-z0-9-]+)\)", value, css)


def _matching_close(tokens, start: int) -> int:
    depth = 0
    for j in range(start, len(tokens)):
        if block_name(tokens[j].type):
            depth += tokens[j].nesting
            if depth == 0:
                return j
    raise AssertionError("markdown-it always closes containers")


def _figure_at(tokens, i: int):
    """The Figure, if this is the paragraph that load marked as holding one."""
    if tokens[i].type != "paragraph_open" or i + 1 >= len(tokens):
        return None
    children = tokens[i + 1].children or []
    return children[0].meta.get("figure") if len(children) == 1 else None
