"""Cross-format parity: the PDF's tag tree and the EPUB carry the same
headings, figures (with the same alt text), tables and links."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pikepdf
from lxml import etree

from ..pdf.tagtree import Node, read_tags
from . import CheckResult
from .pdf import HEADINGS, normal

NS = {"h": "http://www.w3.org/1999/xhtml", "opf": "http://www.idpf.org/2007/opf",
      "epub": "http://www.idpf.org/2007/ops"}


def epub_documents(path: Path) -> list[tuple[str, etree._Element]]:
    """The EPUB's spine documents, in reading order (cover and nav left out)."""
    with zipfile.ZipFile(path) as z:
        opf = etree.fromstring(z.read("EPUB/content.opf"))
        items = {i.get("id"): i for i in opf.iterfind("opf:manifest/opf:item", NS)}
        docs = []
        for ref in opf.iterfind("opf:spine/opf:itemref", NS):
            item = items[ref.get("idref")]
            if "nav" in (item.get("properties") or "").split() or item.get("id") == "cover":
                continue
            docs.append((item.get("href"), etree.fromstring(z.read("EPUB/" + item.get("href")))))
        return docs


def epub_facts(path: Path) -> dict[str, list]:
    return _html_facts(doc for _, doc in epub_documents(path))


def web_documents(site: Path, order: list[str]) -> list[tuple[str, etree._Element]]:
    """The web edition's pages in the EPUB's reading order (`order`: the
    EPUB's spine files), each page's main content only: the site's own
    header, breadcrumb, download block and footer are not the book's."""
    docs = []
    for name in order:
        page = site / (Path(name).stem + ".html")
        if page.is_file():
            main = etree.parse(str(page)).find(".//h:main", NS)
            for nav in main.findall("h:nav", NS):          # previous and next
                main.remove(nav)
            docs.append((page.name, main))
    return docs


def web_facts(site: Path, epub: Path) -> dict[str, list]:
    return _html_facts(doc for _, doc in web_documents(site, [name for name, _ in epub_documents(epub)]))


def _html_facts(docs) -> dict[str, list]:
    headings, alts, tables, links = [], [], [], []
    for doc in docs:
        for element in doc.iter():
            tag = etree.QName(element).localname if isinstance(element.tag, str) else ""
            if tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
                headings.append((tag.upper(), normal("".join(element.itertext()))))
            elif tag == "img":
                alts.append(normal(element.get("alt", "")))
            elif tag == "table":
                tables.append(normal("".join(element.xpath("h:caption//text()", namespaces=NS))))
            elif tag == "a" and element.get("href", "").startswith(("http:", "https:", "mailto:")):
                links.append(element.get("href"))
    return {"headings": headings, "figures": alts, "tables": tables, "links": sorted(links)}


def pdf_facts(path: Path, tags: Node | None = None) -> dict[str, list]:
    tags = tags or read_tags(path)
    headings = [(n.role, normal(n.all_text())) for n in tags.walk() if n.role in HEADINGS]
    alts = [normal(n.alt or "") for n in tags.walk() if n.role == "Figure"]
    tables = [normal(c.all_text()) for n in tags.walk() if n.role == "Table"
              for c in n.children if c.role == "Caption"]
    links = []
    with pikepdf.open(path) as pdf:
        for page in pdf.pages:
            for annot in page.obj.get("/Annots", []):
                action = annot.get("/A")
                if action is not None and action.get("/S") == "/URI":
                    links.append(str(action.URI))
    return {"headings": headings, "figures": alts, "tables": tables, "links": sorted(set(links))}


def check_parity(pdf: Path, epub: Path) -> CheckResult:
    result = CheckResult("parity", "Cross-format parity")
    a, b = pdf_facts(pdf), epub_facts(epub)
    # The PDF's contents page is the EPUB's navigation document, which has no place in the spine text.
    a["headings"] = [h for h in a["headings"] if h != ("H1", "Contents")]
    b["links"] = sorted(set(b["links"]))
    for kind, code in (("headings", "PARITY-HEADINGS"), ("figures", "PARITY-FIGURES"),
                       ("tables", "PARITY-TABLES"), ("links", "PARITY-LINKS")):
        if a[kind] != b[kind]:
            only_pdf = [x for x in a[kind] if x not in b[kind]][:3]
            only_epub = [x for x in b[kind] if x not in a[kind]][:3]
            result.add(code, f"{kind} differ: PDF has {len(a[kind])}, EPUB {len(b[kind])}; "
                       f"only in PDF {only_pdf}, only in EPUB {only_epub}",
                       "both formats render the same partials; look for a wrapper-only element")
    result.facts = {k: len(v) for k, v in a.items()}
    return result


def check_web_parity(site: Path, epub: Path) -> CheckResult:
    """The web edition carries what the EPUB does: the same headings (in
    order), figures with the same alt text, tables and web links."""
    result = CheckResult("parity-web", "Cross-format parity: web edition and EPUB")
    a, b = web_facts(site, epub), epub_facts(epub)
    a["links"], b["links"] = sorted(set(a["links"])), sorted(set(b["links"]))
    missing = [name for name, _ in epub_documents(epub) if not (site / (Path(name).stem + ".html")).is_file()]
    if missing:
        result.add("PARITY-HEADINGS", f"the web edition has no page for {', '.join(missing[:3])}",
                   "every document of the EPUB is one page of the site", "")
    for kind, code in (("headings", "PARITY-HEADINGS"), ("figures", "PARITY-FIGURES"),
                       ("tables", "PARITY-TABLES"), ("links", "PARITY-LINKS")):
        if a[kind] != b[kind]:
            only_web = [x for x in a[kind] if x not in b[kind]][:3]
            only_epub = [x for x in b[kind] if x not in a[kind]][:3]
            result.add(code, f"{kind} differ: web has {len(a[kind])}, EPUB {len(b[kind])}; "
                       f"only on the web {only_web}, only in the EPUB {only_epub}",
                       "both editions render the same partials; look for a wrapper-only element "
                       "(templates/web/) or a change made by guidepub/web/site.py")
    result.facts = {k: len(v) for k, v in a.items()}
    return result
