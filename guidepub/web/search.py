"""Offline search for the web edition. At build time the pages are cut into
sections (one per heading) and lunr (the npm package, run by node) indexes
them; the site carries lunr, the serialised index and search.js, which
enhances the plain form on search.html. Without JavaScript that form still
leads to search.html, which lists every heading of the guide."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from lxml import etree

from ..errors import GuideError
from ..model import Guide

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
LUNR = ROOT / "node_modules" / "lunr" / "lunr.min.js"
INDEXER = HERE / "search-index.js"
SCRIPT = HERE / "search.js"
SCRIPTS = ("js/lunr.min.js", "js/search-index.js", "js/search.js")
H = "{http://www.w3.org/1999/xhtml}"
HEADINGS = {f"{H}h{n}" for n in range(1, 7)}
SKIP = {f"{H}nav", f"{H}script", f"{H}style", f"{H}sup"}
# Elements whose text is not run into the text around them.
BLOCKS = {f"{H}{name}" for name in ("p", "li", "dt", "dd", "td", "th", "div", "section", "aside", "figure",
                                    "figcaption", "blockquote", "caption", "tr", "ul", "ol", "dl", "table",
                                    "header", "footer", "br")}
EXCERPT_WORDS = 30


def sections(page: str, label: str, main: etree._Element) -> list[dict]:
    """The page cut at every heading with an id: the address, the heading,
    the page's name and the text up to the next heading."""
    found: list[dict] = []

    def start(heading: etree._Element) -> None:
        ident = heading.get("id")
        ref = page if heading.tag == f"{H}h1" else f"{page}#{ident}"
        found.append({"ref": ref, "title": " ".join("".join(heading.itertext()).split()),
                      "page": label, "body": []})

    def say(text: str | None) -> None:
        if found and text:
            found[-1]["body"].append(text)

    def walk(element: etree._Element) -> None:
        if element.tag in HEADINGS and element.get("id"):
            start(element)
            return
        gap = " " if element.tag in BLOCKS else ""
        say(gap)
        say(element.text)
        for child in element:
            if isinstance(child.tag, str) and child.tag not in SKIP \
                    and "footnote-backref" not in (child.get("class") or ""):
                walk(child)
            say(child.tail)
        say(gap)

    walk(main)
    for section in found:
        section["body"] = " ".join("".join(section["body"]).split())
    return found


def index_script(guide: Guide, found: list[dict]) -> str:
    """js/search-index.js: lunr's serialised index (built by node, the same
    lunr the site carries) and, for each section, what a result shows."""
    node = shutil.which("node")
    if not node or not LUNR.is_file():
        raise GuideError.one("WEB-SEARCH", "cannot build the web edition's search index: "
                             + ("node is not installed" if not node else "the npm package lunr is not installed"),
                             hint="run `make` (it installs Node.js packages from package-lock.json)")
    docs = [{k: s[k] for k in ("ref", "title", "page", "body")} for s in found]
    request = json.dumps({"language": guide.meta.language, "docs": docs}, ensure_ascii=False)
    try:
        run = subprocess.run([node, str(INDEXER)], input=request.encode("utf-8"), capture_output=True,
                             timeout=300, cwd=ROOT)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GuideError.one("WEB-SEARCH", f"the search index could not be built: {exc}",
                             hint="run `node guidepub/web/search-index.js` by hand to see why") from exc
    if run.returncode != 0:
        raise GuideError.one("WEB-SEARCH", "the search index could not be built: "
                             + run.stderr.decode("utf-8", "replace").strip()[-300:],
                             hint="run `make` to install lunr; --debug shows more")
    store = {s["ref"]: [s["title"], s["page"], _excerpt(s["body"])] for s in found}
    return ("/* The search index of this guide, made when it was built (lunr). */\n"
            "window.guideSearch = {\"index\": " + run.stdout.decode("utf-8").strip() + ",\n\"store\": "
            + json.dumps(store, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "};\n")


def _excerpt(body: str) -> str:
    words = body.split()
    return " ".join(words[:EXCERPT_WORDS]) + (" …" if len(words) > EXCERPT_WORDS else "")


def write_scripts(target: Path, index: str) -> None:
    folder = target / "js"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "lunr.min.js").write_bytes(LUNR.read_bytes())
    (folder / "search-index.js").write_text(index, encoding="utf-8")
    (folder / "search.js").write_bytes(SCRIPT.read_bytes())
