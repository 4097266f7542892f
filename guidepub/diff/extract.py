"""What a diff compares, read from one build folder: metadata, sections of
text (from the EPUB, which has no line or page breaks, so reflow never shows
as a change), structure, and the PDF's pages (their tagged text, which leaves
out running heads and page numbers)."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pikepdf
from lxml import etree

from ..errors import GuideError
from ..pdftags import Node, marked_text, tag_tree
from ..check.metadata import package_properties
from ..check.parity import epub_documents, pdf_facts

HEADING = re.compile(r"^h[1-6]$")
PAGE_REF = re.compile(r"\(page \d+\)")


@dataclass
class Section:
    id: str
    heading: str
    level: int
    document: str
    words: list[str] = field(default_factory=list)


@dataclass
class Side:
    folder: Path
    manifest: dict
    pdf: Path
    epub: Path
    metadata: dict
    sections: list[Section]
    structure: dict
    pages: list[str]            # tagged text of each PDF page
    page_hashes: list[str] = field(default_factory=list)   # what each page draws: content and images


def _find(folder: Path) -> tuple[dict, Path, Path]:
    path = folder / "manifest.json"
    if not path.is_file():
        raise GuideError.one("DIFF-INPUT", f"{folder} holds no manifest.json: is it a build folder?", folder,
                             hint="build it first with `python build.py --out FOLDER`, or pass a git revision")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    outputs = {e["format"]: folder / e["file"] for e in manifest["outputs"][::-1]}
    pdf = next((folder / e["file"] for e in manifest["outputs"] if e["variant"] == "screen"), outputs.get("pdf"))
    if pdf is None or "epub" not in outputs:
        raise GuideError.one("DIFF-INPUT", f"{folder} needs a PDF and an EPUB", folder,
                             hint="build the default variants (screen and epub)")
    return manifest, pdf, outputs["epub"]


def sections(epub: Path) -> list[Section]:
    """The EPUB's text cut at every heading: one section per heading."""
    found: list[Section] = []
    for name, doc in epub_documents(epub):
        current = Section(f"{name}#", name, 0, name)
        found.append(current)
        for element in doc.iter():
            if not isinstance(element.tag, str):
                continue
            tag = etree.QName(element).localname
            if HEADING.match(tag):
                current = Section(element.get("id") or f"{name}#{len(found)}",
                                  " ".join("".join(element.itertext()).split()), int(tag[1]), name)
                found.append(current)
            elif tag in ("p", "li", "dt", "dd", "th", "td", "figcaption", "caption"):
                if element.getparent() is not None and etree.QName(element.getparent()).localname in ("li", "dd"):
                    continue                          # its text is already in the item
                current.words += "".join(element.itertext()).split()
            elif tag == "img" and element.get("alt"):
                current.words += ["[image:"] + element.get("alt").split() + ["]"]
    return [s for s in found if s.words or s.level]


def structure(pdf: Path, epub: Path, tags: Node) -> dict:
    facts = pdf_facts(pdf, tags)
    roles: dict[str, int] = {}
    for node in tags.walk():
        roles[node.role] = roles.get(node.role, 0) + 1
    with pikepdf.open(pdf) as doc, doc.open_outline() as outline:
        bookmarks: list[str] = []

        def walk(items, depth):
            for item in items:
                bookmarks.append(f"{'  ' * depth}{item.title}")
                walk(item.children, depth + 1)
        walk(outline.root, 0)
    with zipfile.ZipFile(epub) as z:
        opf = etree.fromstring(z.read("EPUB/content.opf"))
        ns = {"opf": "http://www.idpf.org/2007/opf"}
        manifest = sorted(i.get("href") for i in opf.iterfind("opf:manifest/opf:item", ns))
        spine = [r.get("idref") for r in opf.iterfind("opf:spine/opf:itemref", ns)]
        nav = etree.fromstring(z.read("EPUB/nav.xhtml"))
        toc = [" ".join("".join(a.itertext()).split())
               for a in nav.xpath("//*[local-name()='nav'][@*[local-name()='type']='toc']//*[local-name()='a']")]
    return {"outline": bookmarks, "headings": [f"{r} {t}" for r, t in facts["headings"]],
            "figures": facts["figures"], "tables": facts["tables"], "links": facts["links"],
            "tags": dict(sorted(roles.items())),
            "epub manifest": manifest, "epub spine": spine, "epub contents": toc}


def metadata(pdf: Path, manifest: dict, epub: Path) -> dict:
    with pikepdf.open(pdf) as doc:
        info = {k: str(v) for k, v in doc.docinfo.items()}
        box = [round(float(x), 1) for x in doc.pages[0].MediaBox]
        fonts = sorted({str(f.get("/BaseFont", "")).split("+")[-1] for p in doc.pages
                        for f in p.obj.get("/Resources", {}).get("/Font", {}).values()})
        lang, pages = str(doc.Root.get("/Lang", "")), len(doc.pages)
    props = package_properties(epub)
    return {"title": info.get("/Title", ""), "language": lang, "edition": manifest.get("edition"),
            "version": manifest.get("version"), "pages": pages, "page size": box, "fonts": fonts,
            "toolchain": manifest.get("toolchain", {}),
            "epub metadata": {k: v for k, v in sorted(props.items())}}


def read_side(folder: Path) -> Side:
    """Everything a diff needs from one build folder; each file is read once."""
    manifest, pdf, epub = _find(folder)
    with pikepdf.open(pdf) as doc:
        texts, _ = marked_text(doc)
        tags = tag_tree(doc, texts)
        pages = [""] * len(doc.pages)
        hashes = [_page_hash(page) for page in doc.pages]
    for (page, _mcid), text in sorted(texts.items()):
        pages[page] += text
    return Side(folder, manifest, pdf, epub, metadata(pdf, manifest, epub), sections(epub),
                structure(pdf, epub, tags), [" ".join(t.split()) for t in pages], hashes)


def _page_hash(page: pikepdf.Page) -> str:
    """A hash of what a page draws: its content stream and the streams of its
    images and drawings. Equal hashes mean the page looks the same."""
    digest = hashlib.sha256()
    contents = page.obj.get("/Contents")
    for stream in (contents if isinstance(contents, pikepdf.Array) else [contents] if contents else []):
        digest.update(stream.read_bytes())
    for name, xobject in sorted(page.obj.get("/Resources", {}).get("/XObject", {}).items()):
        digest.update(name.encode() + xobject.read_bytes())
    return digest.hexdigest()
