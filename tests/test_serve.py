"""`python build.py serve`: the web edition on a free loopback port, rebuilt
and reloaded when a file is saved, errors shown in the page and the
terminal, stopped cleanly by Ctrl+C. Every wait is bounded, and the server
runs in its own process group, killed at the end whatever happened."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import contextmanager, suppress
from pathlib import Path

import pytest

from conftest import MINI, ROOT
from guidepub.check.web import CHROMIUM


def wait_for(condition, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"gave up after {timeout} s waiting for {what}")


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")
    except OSError:
        return 0, ""


@contextmanager
def serving(guide: Path, out: Path, log: Path, *extra: str):
    """build.py serve in its own process group, stderr to `log`; yields
    (process, base address)."""
    with open(log, "wb") as stderr:
        process = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "serve", "--content", str(guide),
                                    "--out", str(out), *extra], stdout=subprocess.DEVNULL, stderr=stderr,
                                   start_new_session=True)
    try:
        found = wait_for(lambda: re.search(r"Serving the web edition at (http://[^ ]+/)", log.read_text())
                         or process.poll() is not None, 60, "the server's address")
        assert process.poll() is None, log.read_text()
        yield process, found.group(1)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


@pytest.fixture
def guide(tmp_path) -> Path:
    target = tmp_path / "guide"
    shutil.copytree(MINI, target)
    return target


def test_serve_rebuilds_reloads_shows_errors_and_stops_cleanly(guide, tmp_path):
    log = tmp_path / "serve.txt"
    with serving(guide, tmp_path / "dist", log) as (process, base):
        assert base.startswith("http://127.0.0.1:")                  # loopback, a port chosen for it
        port = int(base.rsplit(":", 1)[1].strip("/"))
        assert port > 0
        status, page = wait_for(lambda: (lambda r: r if r[0] == 200 else None)(get(base + "ch-one.html")),
                                60, "the first build")
        assert "Some text with a note." in page
        # The served page carries the reload script; the built file does not.
        assert "/__serve/state" in page
        assert "__serve" not in (tmp_path / "dist" / "mini-2-web" / "ch-one.html").read_text()
        version = json.loads(get(base + "__serve/state")[1])["version"]
        assert get(base)[1].count("<h1") == 1 and "Contents" in get(base)[1]      # / is the start page

        chapter = guide / "one.md"
        good = chapter.read_text()
        chapter.write_text(good.replace("Some text with a note.", "Edited while serving."))
        wait_for(lambda: "Edited while serving." in get(base + "ch-one.html")[1], 30, "the edit to show")
        state = json.loads(get(base + "__serve/state")[1])
        assert state["version"] > version and state["errors"] == []  # an open page sees it and reloads

        # A mistake: shown in the page and in the terminal with its file:line; the last good site stays.
        chapter.write_text(good.replace("![A square box with a tick inside]", "![]"))
        wait_for(lambda: json.loads(get(base + "__serve/state")[1])["errors"], 30, "the error")
        page = get(base + "ch-one.html")[1]
        assert 'role="alert"' in page and f"{chapter}:13: CONTENT-ALT" in page
        assert f"{chapter}:13: CONTENT-ALT" in log.read_text()
        assert "Edited while serving." in page                     # the last good build
        chapter.write_text(good)
        wait_for(lambda: not json.loads(get(base + "__serve/state")[1])["errors"], 30, "the fix")
        assert 'role="alert"' not in get(base + "ch-one.html")[1]

        # Nothing outside the site is served.
        assert get(base + "../manifest.json")[0] == 404
        assert get(base + "%2e%2e/manifest.json")[0] == 404
        assert get(base + ".build.lock")[0] == 404

        process.send_signal(signal.SIGINT)                         # Ctrl+C
        assert process.wait(timeout=20) == 130
    text = log.read_text()
    assert "Traceback" not in text
    assert text.splitlines()[-1] == "Serve stopped (SIGINT); the last good outputs are kept."
    assert not [p for p in (tmp_path / "dist").iterdir() if ".staged" in p.name or p.name.endswith(".backup")]


def test_serve_offers_the_latest_pdf_and_epub(guide, tmp_path):
    out = tmp_path / "dist"
    log = tmp_path / "serve.txt"
    with serving(guide, out, log, "--port", "0") as (process, base):
        wait_for(lambda: get(base + "index.html")[0] == 200, 60, "the first build")
        assert "downloads/mini-2-epub.epub" not in get(base + "index.html")[1]
        # Another build writes the EPUB into the same folder: the page offers it.
        built = subprocess.run([sys.executable, str(ROOT / "build.py"), "-q", "--content", str(guide), "--out",
                                str(out), "--variant", "epub", "--variant", "screen"], capture_output=True,
                               text=True, timeout=300)
        assert built.returncode == 0, built.stderr
        wait_for(lambda: "downloads/mini-2-epub.epub" in get(base + "index.html")[1], 60, "the new edition")
        status, _ = get(base + "downloads/mini-2-epub.epub")
        assert status == 200
        assert (out / "mini-2-web" / "downloads" / "mini-2-epub.epub").read_bytes() == \
            (out / "mini-2-epub.epub").read_bytes()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 130


def test_serve_binds_to_the_port_and_host_it_is_given(guide, tmp_path):
    import socket
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with serving(guide, tmp_path / "dist", tmp_path / "serve.txt", "--port", str(port)) as (process, base):
        assert base == f"http://127.0.0.1:{port}/"
        wait_for(lambda: get(base)[0] == 200, 60, "the first build")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 128 + signal.SIGTERM


RELOADS = """
const puppeteer = require("puppeteer-core");
const [base, file, chromium] = process.argv.slice(1);
(async () => {
  const browser = await puppeteer.launch({ executablePath: chromium, args: ["--no-sandbox"] });
  try {
    const tab = await browser.newPage();
    await tab.goto(base + "ch-one.html");
    const text = () => document.getElementById("ch-one--p1").textContent;
    const before = await tab.evaluate(text);
    const fs = require("fs");
    fs.writeFileSync(file, fs.readFileSync(file, "utf8").replace("Some text", "Reloaded text"));
    await tab.waitForFunction(() => (document.getElementById("ch-one--p1") || {}).textContent
      && document.getElementById("ch-one--p1").textContent.includes("Reloaded"), { timeout: 30000 });
    process.stdout.write(JSON.stringify([before, await tab.evaluate(text)]));
  } finally {
    await browser.close();
  }
})().catch((error) => { console.error(error); process.exit(1); });
"""


def test_the_open_page_reloads_itself_after_a_rebuild(guide, tmp_path):
    with serving(guide, tmp_path / "dist", tmp_path / "serve.txt") as (process, base):
        wait_for(lambda: get(base + "ch-one.html")[0] == 200, 60, "the first build")
        run = subprocess.run(["node", "-e", RELOADS, base, str(guide / "one.md"), CHROMIUM], cwd=ROOT,
                             capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout) == ["Some text with a note.1", "Reloaded text with a note.1"]
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 130
