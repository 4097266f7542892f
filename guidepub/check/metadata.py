"""Honest metadata: every accessibility claim in the EPUB's package is true
of the EPUB, and a conformance claim stands only when every other check passed."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

from lxml import etree

from . import CheckResult
from .parity import NS, epub_documents

CONFORMS_TO = "EPUB Accessibility 1.1 - WCAG 2.2 Level AA"


def package_properties(path: Path) -> dict[str, list[str]]:
    with zipfile.ZipFile(path) as z:
        opf = etree.fromstring(z.read("EPUB/content.opf"))
    props: dict[str, list[str]] = {}
    for meta in opf.iterfind("opf:metadata/opf:meta", NS):
        if meta.get("property") and not meta.get("refines"):
            props.setdefault(meta.get("property"), []).append((meta.text or "").strip())
    return props


def _nav(path: Path) -> etree._Element:
    with zipfile.ZipFile(path) as z:
        opf = etree.fromstring(z.read("EPUB/content.opf"))
        [href] = opf.xpath("//opf:item[contains(concat(' ', @properties, ' '), ' nav ')]/@href", namespaces=NS)
        return etree.fromstring(z.read("EPUB/" + href))


def check_metadata(path: Path, other_checks_passed: bool) -> CheckResult:
    result = CheckResult("metadata", "Honest accessibility metadata")
    props = package_properties(path)
    docs = epub_documents(path)
    images = [img for _, d in docs for img in d.iterfind(".//h:img", NS)]
    features = set(props.get("schema:accessibilityFeature", []))
    nav = _nav(path)

    def claim_false(prop: str, value: str, why: str) -> None:
        result.add("EPUB-META-CLAIM", f"{prop} '{value}' is claimed but {why}",
                   "the claim is derived in guidepub/epub.py; fix the content or stop claiming it")

    for required in ("schema:accessMode", "schema:accessModeSufficient", "schema:accessibilityFeature",
                     "schema:accessibilityHazard", "schema:accessibilitySummary"):
        if not props.get(required):
            result.add("EPUB-META-MISSING", f"{required} is missing",
                       "EPUB Accessibility 1.1 requires it; see accessibility_metadata() in guidepub/epub.py")
    modes = set(props.get("schema:accessMode", []))
    if "visual" in modes and not images:
        claim_false("schema:accessMode", "visual", "the EPUB has no images")
    elif images and "visual" not in modes:
        result.add("EPUB-META-CLAIM", "the EPUB has images but accessMode does not list 'visual'",
                   "derive accessMode from the figures")
    missing_alt = [img.get("src") for img in images if not img.get("alt", "").strip()]
    if missing_alt and ("alternativeText" in features or "textual" in props.get("schema:accessModeSufficient", [])):
        claim_false("schema:accessibilityFeature", "alternativeText",
                    f"{len(missing_alt)} image(s) have no alt text: {missing_alt[:3]}")
    if "tableOfContents" in features and not nav.xpath("//h:nav[@epub:type='toc']//h:a", namespaces=NS):
        claim_false("schema:accessibilityFeature", "tableOfContents", "the navigation document has no contents")
    if "structuralNavigation" in features:
        untitled = [name for name, d in docs if not d.xpath("//h:h1", namespaces=NS)]
        if untitled:
            claim_false("schema:accessibilityFeature", "structuralNavigation",
                        f"these documents have no heading: {untitled[:3]}")
    page_links = nav.xpath("//h:nav[@epub:type='page-list']//h:a/@href", namespaces=NS)
    if {"printPageNumbers", "pageNavigation"} & features:
        if not page_links:
            claim_false("schema:accessibilityFeature", "printPageNumbers", "there is no page list")
        if not props.get("pageBreakSource"):
            result.add("EPUB-META-MISSING", "a page list without pageBreakSource",
                       "name the PDF edition the page numbers come from")
    with zipfile.ZipFile(path) as z:
        ids = {(n.removeprefix("EPUB/"), i) for n in z.namelist() if n.endswith(".xhtml")
               for i in etree.fromstring(z.read(n)).xpath("//@id")}
    broken = [h for h in page_links if tuple(h.split("#", 1)) not in ids]
    if broken:
        result.add("EPUB-PAGELIST", f"{len(broken)} page-list entries point nowhere: {broken[:3]}",
                   "page markers are inserted by mark_pages() in guidepub/epub.py")
    if "none" in props.get("schema:accessibilityHazard", []):
        media = [n for _, d in docs for n in d.iter() if isinstance(n.tag, str)
                 and etree.QName(n).localname in ("video", "audio")]
        with zipfile.ZipFile(path) as z:
            css = " ".join(z.read(n).decode() for n in z.namelist() if n.endswith(".css"))
        if media or re.search(r"\banimation\s*:", css):
            claim_false("schema:accessibilityHazard", "none", "the EPUB has audio, video or animation")
    claims = props.get("dcterms:conformsTo", [])
    if claims and not other_checks_passed:
        claim_false("dcterms:conformsTo", claims[0], "other checks found problems")
    if claims and claims != [CONFORMS_TO]:
        result.add("EPUB-META-CLAIM", f"dcterms:conformsTo reads '{claims[0]}'",
                   f"it must read exactly '{CONFORMS_TO}'")
    result.facts = {"features": sorted(features), "conformsTo": claims, "pages": len(page_links)}
    return result
