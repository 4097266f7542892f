"""The web edition, proven in a real browser. Every page is read as XML (it
must be well formed) and its links followed inside the site; then the site
is served on loopback and scripts/web-check.js drives Chromium (Debian's)
through puppeteer-core (nothing downloaded): axe-core on every page, reflow
at 320 CSS px and at 400 % zoom, nothing cut off at 360 and 1280 CSS px (a
table too wide scrolls in a box the keyboard reaches), WCAG text spacing,
keyboard reach and a visible focus, requests to other hosts, and the
search. A checker that cannot run is WEB-RUN: never a silent pass."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator
from urllib.parse import unquote, urlsplit

from lxml import etree

from . import CheckResult

ROOT = Path(__file__).resolve().parents[2]
RUNNER = ROOT / "scripts" / "web-check.js"
# The browser: one named by the environment (PUPPETEER_EXECUTABLE_PATH, or
# CHROME_BIN as GitHub's Ubuntu runners set it), else the first on PATH:
# Debian's chromium, or Google Chrome as Ubuntu runners have it.
CHROMIUM = next((p for p in (os.environ.get("PUPPETEER_EXECUTABLE_PATH"), os.environ.get("CHROME_BIN"),
                             *map(shutil.which, ("chromium", "google-chrome-stable", "google-chrome",
                                                 "chromium-browser"))) if p and Path(p).exists()),
                "/usr/bin/chromium")
H = "{http://www.w3.org/1999/xhtml}"
# What each code means, for the report's hints.
HINTS = {
    "WEB-HTML": "the page must be well-formed: look at the template or partial that wrote it",
    "WEB-LINK": "link to a page or file of the site that exists, and to an id on it",
    "WEB-AXE": "see the axe-core rule named; the fix usually belongs in templates/web/ or a block partial",
    "WEB-CONTRAST": "use a brand colour pair that reaches 4.5:1 (3:1 for large text) for that text",
    "WEB-REFLOW": "let the element wrap or shrink (max-width: 100%, flex-wrap, overflow-wrap) in styles/web.css",
    "WEB-ZOOM": "the page must reflow at 400 % zoom: let the element wrap or shrink in styles/web.css",
    "WEB-CLIP": "nothing may be cut off at a phone's width: a box that hides its overflow must not hold more "
                "than it shows, and a wide table scrolls in its own box (overflow-x: auto) that is focusable "
                "and named (tabindex=\"0\", role=\"region\", aria-label or aria-labelledby) or reflows "
                "(styles/web.css, guidepub/web/site.py)",
    "WEB-TEXT-SPACING": "give text boxes no fixed height and no overflow: hidden, so larger spacing has room",
    "WEB-KEYBOARD": "do not take controls out of the tab order (tabindex=\"-1\") or hide them from the keyboard",
    "WEB-FOCUS": "give every control a :focus-visible style (an outline) that is on screen and not covered",
    "WEB-REQUEST": "serve every font, image and script from the site itself",
    "WEB-MISSING": "the build should copy the file into the site; look for a wrong path",
    "WEB-SCRIPT": "fix the script error shown (guidepub/web/search.js)",
    "WEB-SEARCH": "the search index or search.js is broken, or search.html lost its list of headings",
    "WEB-RUN": "run `make` to install Node.js packages (puppeteer-core, axe-core) and chromium",
}


def check_web(site: Path) -> CheckResult:
    """Check the web edition in the folder `site`."""
    result = CheckResult("web", "Web edition (axe-core, reflow, text spacing, keyboard in Chromium)")
    pages = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    trees = _parse(site, pages, result)
    _links(site, trees, result)
    _browser(site, pages, _search_probe(trees), result)
    result.facts["pages"] = len(pages)
    return result


def _add(result: CheckResult, code: str, message: str, where: str) -> None:
    result.add(code, message, HINTS[code], where)


def _parse(site: Path, pages: list[str], result: CheckResult) -> dict[str, etree._Element]:
    trees = {}
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    for name in pages:
        try:
            trees[name] = etree.fromstring((site / name).read_bytes(), parser)
        except etree.XMLSyntaxError as exc:
            _add(result, "WEB-HTML", f"not well formed: {exc.msg}", f"{name}:{exc.lineno}")
    return trees


def _links(site: Path, trees: dict[str, etree._Element], result: CheckResult) -> None:
    """Every address in the site that is not another site's resolves to a
    file of the site, and a fragment to an id on that page."""
    ids = {name: {e.get("id") for e in tree.iter() if isinstance(e.tag, str) and e.get("id")}
           for name, tree in trees.items()}
    root = site.resolve()
    for name, tree in trees.items():
        for element in tree.iter():
            if not isinstance(element.tag, str):
                continue
            for attribute in ("href", "src"):
                address = element.get(attribute)
                if address is None:
                    continue
                problem = _resolve(root, name, address, ids, element.tag in (f"{H}a",))
                if problem:
                    _add(result, "WEB-LINK", problem, name)
    css = site / "css" / "guide.css"
    if css.is_file():
        for address in re.findall(r"url\(\"?([^\")]+)\"?\)", css.read_text(encoding="utf-8")):
            if address.startswith(("data:", "#")):
                continue
            problem = _resolve(root, "css/guide.css", address, ids, False)
            if problem:
                _add(result, "WEB-LINK", problem, "css/guide.css")


def _resolve(root: Path, page: str, address: str, ids: dict[str, set], may_leave: bool) -> str | None:
    parts = urlsplit(address)
    if parts.scheme or address.startswith("//"):
        if may_leave and parts.scheme in ("http", "https", "mailto"):
            return None            # a link to another site: readers follow it; the page never loads it
        return f"'{address}' is loaded from another host"
    if not parts.path:
        target = page
    else:
        path = (root / page).parent / unquote(parts.path)
        resolved = path.resolve()
        if not resolved.is_relative_to(root):
            return f"'{address}' leads outside the site"
        if not resolved.is_file():
            return f"'{address}' is not in the site"
        target = resolved.relative_to(root).as_posix()
    if parts.fragment and target.endswith(".html") and unquote(parts.fragment) not in ids.get(target, set()):
        return f"'{address}': there is no id '{parts.fragment}' on {target}"
    return None


def _search_probe(trees: dict[str, etree._Element]) -> dict | None:
    """A word the search must find, and the page it must find it on: the
    longest word of the first section heading of the first document."""
    for name in sorted(trees, key=lambda n: (n == "index.html", n)):
        for section in trees[name].iter(f"{H}section"):
            if "document" not in (section.get("class") or "").split():
                continue
            for heading in section.iter(f"{H}h2"):
                words = re.findall(r"[^\W\d_]{4,}", "".join(heading.itertext()))
                if words:
                    return {"query": max(words, key=len).lower(), "page": name}
    return None


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextmanager
def served(folder: Path) -> Iterator[str]:
    """Serve a folder on a free loopback port; yield its address."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _browser(site: Path, pages: list[str], probe: dict | None, result: CheckResult) -> None:
    node = shutil.which("node")
    if not node or not Path(CHROMIUM).exists() or not (ROOT / "node_modules" / "puppeteer-core").is_dir() \
            or not (ROOT / "node_modules" / "axe-core").is_dir():
        _add(result, "WEB-RUN", "Node.js, puppeteer-core, axe-core or Chromium is not installed", "")
        return
    with served(site) as base:
        request = {"base": base, "chromium": CHROMIUM, "pages": pages, "search": probe}
        try:
            run = subprocess.run([node, str(RUNNER)], input=json.dumps(request), capture_output=True, text=True,
                                 timeout=1200, cwd=ROOT)
        except subprocess.TimeoutExpired:
            _add(result, "WEB-RUN", "the browser check did not finish in 20 minutes", "")
            return
    try:
        report = json.loads(run.stdout)
    except ValueError:
        _add(result, "WEB-RUN", f"the browser check failed (exit {run.returncode}): "
             f"{(run.stderr or run.stdout).strip()[-300:]}", "")
        return
    for finding in report["findings"]:
        _add(result, finding["code"], finding["message"], finding["page"])
    result.facts["browser"] = report["facts"]
