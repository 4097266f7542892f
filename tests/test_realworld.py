"""The real-world guide (six chapters of The Turing Way, CC BY 4.0, moved
into our format with only an editor's changes) builds as written, every
edition passes the PDF structure, EPUB, parity and metadata checks, and no
Markdown mark is printed. The text is the authors': the content lint may
find things in it, and that is not the tool's failure. Page-layout findings
are bounded, not zero (see the test)."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

SHARED = ROOT.parent / "shared" / "realworld" / "turing-way"
pytestmark = pytest.mark.skipif(not SHARED.is_dir(), reason="shared/realworld is not beside the project")


def digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_turing_way_builds_and_passes_every_output_check(tmp_path):
    guide = tmp_path / "turing-way"
    shutil.copytree(SHARED, guide)
    before = digest(guide)
    out = tmp_path / "dist"
    result = subprocess.run([sys.executable, str(ROOT / "build.py"), "check", "--content", str(guide),
                             "--out", str(out), "--variant", "all"], capture_output=True, text=True, timeout=1200)
    assert "Traceback" not in result.stderr
    assert result.returncode in (0, 1), result.stderr[-3000:]
    report = json.loads((out / "check-report.json").read_text())
    # Layout findings are reported, not failed: one large-print page before a
    # big illustration followed by a heading stays under 55% full (flow.py
    # never moves a figure past a heading, and does not yet scale one to fit).
    layout = [f["code"] for c in report["checks"] for f in c["findings"] if f["code"].startswith("PDF-LAYOUT-")]
    assert len(layout) <= 2, layout
    failed = {c["title"]: codes for c in report["checks"] if c["name"] != "content"
              and (codes := [f["code"] for f in c["findings"] if not f["code"].startswith("PDF-LAYOUT-")])}
    assert failed == {}, failed
    assert digest(guide) == before, "the guide's files are never changed by a build"
    for pdf in out.glob("*.pdf"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        for mark in ("_The Turing Way_", "**", "`", "](http", "[^", ":::", "{#", "{width"):
            assert mark not in text, f"{pdf.name} prints {mark!r}"
        assert not re.search(r"(?<![\w*])\*[A-Za-z][^*\n]*\*(?![\w*])", text), f"{pdf.name} prints *emphasis*"
    names = {p.name for p in out.iterdir()}
    assert {"turing-way-collaboration-communication-1-screen.pdf",
            "turing-way-collaboration-communication-1-epub.epub"} <= names
