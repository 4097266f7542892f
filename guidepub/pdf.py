"""Stage 3a: lay out the book's HTML with WeasyPrint and write a PDF/UA-1 file."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pikepdf
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from weasyprint import CSS, HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse
from weasyprint.text.fonts import FontConfiguration

from .errors import GuideError, Problem, Problems
from .model import Guide, Variant
from .outputs import atomic_path, final_path
from .pdfua import complete_tags
from .render import Renderer, pdf_format


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
        return super().fetch(url, headers)

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
        fonts = FontConfiguration()
        document = HTML(string=html, base_url=str(base_url) + "/", url_fetcher=fetcher).render(
            stylesheets=[CSS(string=css, font_config=fonts, url_fetcher=fetcher)], font_config=fonts)
    if fetcher.refused:
        raise GuideError([Problem("PDF-FETCH", f"refused to read {why}", None, None,
                                  "keep images, stylesheets and fonts inside the project")
                          for why in fetcher.refused])
    return document, log.records


def write_pdf(document, logged: list[logging.LogRecord], target: Path, font_family: str) -> None:
    """Write a laid-out Document as PDF/UA-1, complete its tags, and move it
    into place only if nothing went wrong."""
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


def _check_fonts(pdf_path: Path, target: Path, family: str, problems: Problems) -> None:
    """Fail if any text fell back to a system font instead of the brand font."""
    wanted = re.sub(r"[^a-z0-9]", "", family.lower())
    with pikepdf.open(pdf_path) as pdf:
        for name in sorted(_font_names(pdf)):
            if wanted not in re.sub(r"[^a-z0-9]", "", name.lower()):
                problems.add("PDF-FONT-FALLBACK", f"text was set in '{name}', not the brand font {family}",
                             target, None, "a character is missing from the brand font, or a style "
                             "names another font; use characters the font has")


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


def layout_book(guide: Guide, renderer: Renderer, variant: Variant):
    """Render the book template and lay it out for one PDF variant:
    (Document, log records)."""
    fmt = pdf_format(tuple(variant.css))
    html = renderer.page("pdf/book.html.j2", fmt, date=guide.build_date.strftime("%Y-%m-%dT%H:%M:%SZ"))
    css = renderer.stylesheet(fmt, lambda path: path.as_uri())
    fonts = {renderer.brand_file(face.file).parent for face in guide.brand.font.faces}
    root = guide.root.resolve()
    served = {(root / f.href).resolve(): (f.data, f.media_type) for f in guide.figures if f.data}
    brand = [guide.brand_path.parent] if guide.brand_path else []
    return layout(html, css, root, [guide.root, renderer.styles, *brand, *fonts], served)


def page_starts(document) -> dict[int, list[str]]:
    """For each page (1-based), the ids of the elements that begin on it, in
    document order."""
    return {number: list(page.anchors) for number, page in enumerate(document.pages, 1)}
