"""Stage 3a: lay out the book's HTML with WeasyPrint and write a PDF/UA-1 file."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pikepdf
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from ..errors import GuideError, Problem, Problems
from ..fontfiles import decoded
from ..fonts import BrandFontConfiguration, book_families
from ..model import Guide, Variant
from ..outputs import atomic_path, final_path
from .fixups import complete_tags
from .flow import flow_past
from .plan import lay_out, pages_of
from .printready import bleeds, make_print_ready
from .linebreak import install as _install_linebreak, keep_last_words
from .tags import install as _install_tags
from ..render import Renderer, pdf_format


_install_tags()       # our tag tree, keyed on the source (tags.py), in place of WeasyPrint's
_install_linebreak()  # WeasyPrint 70 strands a word before a link (linebreak.py)


class _Collect(logging.Handler):
    """Keeps what WeasyPrint logs, so a missing image or alt text fails the
    build. While attached it sets the logger's own level, so warnings are
    caught whatever the application's logging configuration says."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []
        self.logger = logging.getLogger("weasyprint")
        self.level_before = self.logger.level

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def __enter__(self) -> "_Collect":
        self.logger.addHandler(self)
        self.logger.setLevel(logging.WARNING)
        return self

    def __exit__(self, *exc) -> None:
        self.logger.removeHandler(self)
        self.logger.setLevel(self.level_before)


class SandboxFetcher(URLFetcher):
    """What WeasyPrint may read while it lays out the book: files inside the
    allowed folders (content, styles, fonts) and small data: URLs. Never the
    network, never a path that leads out (../, or a symlink). Figures are
    served from memory: the cleaned bytes load/figures.py made, the same the
    EPUB packs."""

    DATA_LIMIT = 2 * 1024 * 1024

    def __init__(self, allowed: list[Path], served: dict[Path, tuple[bytes, str]] | None = None):
        super().__init__(allowed_protocols=("file", "data"))
        self.allowed = [p.resolve() for p in allowed]
        self.served = served or {}
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        scheme = url.split(":", 1)[0].lower()
        if scheme == "file":
            path = Path(url2pathname(unquote(urlsplit(url).path))).resolve()
            if path in self.served:
                data, media_type = self.served[path]
                return URLFetcherResponse(url, data, {"Content-Type": media_type})
            if not any(path.is_relative_to(root) for root in self.allowed):
                return self._refuse(f"'{path}' is outside the project's content, styles and fonts")
        elif scheme == "data":
            if len(url) > self.DATA_LIMIT:
                return self._refuse(f"a data: URL of {len(url) // 1024} KB (the limit is "
                                    f"{self.DATA_LIMIT // 1024} KB)")
        else:
            return self._refuse(f"'{url}': a build reads no network resources")
        response = super().fetch(url, headers)
        if scheme == "file" and path.suffix.lower() == ".woff2":
            try:            # decoded once a machine, as WeasyPrint would (fontfiles.decoded)
                return URLFetcherResponse(url, decoded(response.read()), {"Content-Type": "font/ttf"})
            finally:
                response.close()
        return response

    def _refuse(self, why: str):
        self.refused.append(why)
        raise ValueError(f"refused: {why}")


def layout(html: str, css: str, base_url: Path, allowed: list[Path] | None = None,
           served: dict[Path, tuple[bytes, str]] | None = None):
    """Lay out the book with WeasyPrint, reading only inside `allowed` (default:
    base_url). Returns its Document (whose pages' anchors give the page of
    every id) and what WeasyPrint logged; raises GuideError for a refused read."""
    fetcher = SandboxFetcher(allowed or [base_url], served)
    with _Collect() as log:
        fonts = BrandFontConfiguration()    # emoji too are set only in the declared fonts
        document = HTML(string=html, base_url=str(base_url) + "/", url_fetcher=fetcher).render(
            stylesheets=[CSS(string=css, font_config=fonts, url_fetcher=fetcher)], font_config=fonts)
    if fetcher.refused:
        raise GuideError([Problem("PDF-FETCH", f"refused to read {why}", None, None,
                                  "keep images, stylesheets and fonts inside the project")
                          for why in fetcher.refused])
    return document, log.records


def write_pdf(document, logged: list[logging.LogRecord], target: Path, font_family: str | Sequence[str]) -> None:
    """Write a laid-out Document as PDF/UA-1, complete its tags, and move it
    into place only if nothing went wrong. `font_family` names the fonts text
    may be set in: the stylesheets' brand families (Brand.font_families)."""
    shown = final_path(target)
    with _Collect() as log, atomic_path(target) as tmp:
        document.write_pdf(tmp, pdf_variant="pdf/ua-1")
        problems = Problems()
        for record in logged + log.records:
            problems.add("PDF-WEASYPRINT", record.getMessage(), shown, None,
                         "fix the content or stylesheet it names; the PDF was not replaced")
        _check_fonts(tmp, shown, font_family, problems)
        problems.raise_if_any()
        complete_tags(tmp)
        if bleeds(document):          # laid out with bleed: the print-ready edition (printready.py)
            make_print_ready(tmp, document)


# What WeasyPrint writes after a family's name in a font's name: the style
# Pango describes it with (e.g. Brand-Atkinson-Hyperlegible-Bold-Italic).
_STYLE_WORDS = {"thin", "ultra", "extra", "light", "semi", "demi", "book", "normal", "regular", "medium",
                "bold", "heavy", "black", "italic", "oblique", "condensed", "expanded", "small", "caps", "not",
                "rotated"}


def _declared_font(name: str, families: list[str]) -> bool:
    """Whether a font name in the PDF is one of these families: the family's
    name with hyphens for spaces, then only style words (Pango puts a comma
    after a family name that ends in a number)."""
    name = name.replace(",", "").lower()
    for family in families:
        stem = family.replace(" ", "-").lower()
        if name == stem or (name.startswith(stem + "-")
                            and all(word in _STYLE_WORDS for word in name[len(stem) + 1:].split("-"))):
            return True
    return False


def _check_fonts(pdf_path: Path, target: Path, families: str | Sequence[str], problems: Problems) -> None:
    """Fail if any text was set in a font the brand does not declare (body,
    heading, monospace or a fallback): a system font, or one a style names.
    (A character no font at all has is WeasyPrint's own warning, so
    PDF-WEASYPRINT.)"""
    families = [families] if isinstance(families, str) else list(families)
    with pikepdf.open(pdf_path) as pdf:
        for name in sorted(_font_names(pdf)):
            if not _declared_font(name, families):
                problems.add("PDF-FONT-FALLBACK", f"text was set in '{name}', which is none of the brand's "
                             f"fonts ({', '.join(families)})", target, None,
                             "a character is in none of the brand's fonts, or a style names another font; use "
                             "characters the fonts have, add a fallback font to the brand, or fix the style")


def _font_names(pdf: pikepdf.Pdf) -> set[str]:
    """Every font used on a page or inside a drawing (form XObject) on it."""
    names: set[str] = set()
    seen: set[tuple[int, int]] = set()

    def walk(resources) -> None:
        for font in resources.get("/Font", {}).values():
            names.add(str(font.get("/BaseFont", "")).split("+", 1)[-1].lstrip("/"))
        for xobject in resources.get("/XObject", {}).values():
            if xobject.objgen in seen or xobject.get("/Subtype") != "/Form":
                continue
            seen.add(xobject.objgen)
            walk(xobject.get("/Resources", {}))

    for page in pdf.pages:
        walk(page.obj.get("/Resources", {}))
    return names


@dataclass
class Source:
    """What a PDF edition is laid out from: the book's HTML, its stylesheet,
    and what WeasyPrint may read."""
    html: str
    css: str
    root: Path
    allowed: list[Path]
    served: dict[Path, tuple[bytes, str]]


def book_source(guide: Guide, renderer: Renderer, variant: Variant) -> Source:
    """Render the book template and the stylesheet for one PDF variant."""
    fmt = pdf_format(tuple(variant.css))
    html = keep_last_words(renderer.page("pdf/book.html.j2", fmt, date=guide.build_date.strftime("%Y-%m-%dT%H:%M:%SZ")))
    # Only the brand fonts the text needs are declared: WeasyPrint reads every
    # declared font, and the fallbacks are large (fonts.py).
    base = guide.brand_path.parent if guide.brand_path else renderer.styles
    css = renderer.stylesheet(fmt, lambda path: path.as_uri(), book_families(guide.brand, base, _pieces(html)))
    fonts = sorted({renderer.brand_file(file).parent for file in guide.brand.font_files})
    root = guide.root.resolve()
    served = {(root / f.href).resolve(): (f.data, f.media_type) for f in guide.figures if f.data}
    brand = [guide.brand_path.parent] if guide.brand_path else []
    return Source(html, css, root, [guide.root, renderer.styles, *brand, *fonts], served)


def _pieces(html: str) -> list[str]:
    """The book's HTML as the book around its parts, then each part (the
    children of <body>), for fonts.book_families()."""
    from .splice import split
    head, parts, tail = split(html)
    around, at = [head], len(head)
    for part in parts:
        found = html.index(part, at)
        around.append(html[at:found])
        at = found + len(part)
    return ["".join(around) + html[at:], *parts]


def layout_book(guide: Guide, renderer: Renderer, variant: Variant, source: Source | None = None,
                laid: dict | None = None):
    """Lay the book out for one PDF variant: (Document, log records).
    `laid`, if given, gets the HTML the last layout was made from ("html":
    with the page plan's numbers and flow.py's moves and marks)."""
    source = source or book_source(guide, renderer, variant)
    rounds, last = iter(range(1000)), {}
    laid = {} if laid is None else laid

    def run(planned: str):
        laid["html"] = planned
        return layout(planned, source.css, source.root, source.allowed, source.served)

    def lay(text: str):
        """One pass when the page plan of this layout (the first, or flow.py's
        next) is known, or the last round's holds (plan.py)."""
        key = (str(guide.root.resolve()), variant.name, next(rounds))
        document, logged = lay_out(text, run, key, last.get("plan"))
        last["plan"] = pages_of(document)
        return document, logged

    document, logged = lay(source.html)
    # A figure or table that would leave a page mostly empty: text flows past it (flow.py).
    return flow_past(document, logged, source.html, lay)


def page_starts(document) -> dict[int, list[str]]:
    """For each page (1-based), the ids of the elements that begin on it, in
    document order."""
    return {number: list(page.anchors) for number, page in enumerate(document.pages, 1)}
