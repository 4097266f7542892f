"""Nothing lost: an interrupted build leaves the last good outputs, two
builds at once do not mix their files, and no output carries a script."""

from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
import time
import zipfile

import pikepdf

from conftest import MINI, ROOT


def build_cmd(out, *extra):
    return [sys.executable, str(ROOT / "build.py"), "-q", "--content", str(MINI), "--out", str(out), *extra]


def snapshot(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in folder.iterdir() if not p.name.startswith(".")}


def test_a_killed_build_leaves_the_last_good_outputs(tmp_path, guide_copy):
    out = tmp_path / "dist"
    assert subprocess.run(build_cmd(out, "--variant", "all"), timeout=300).returncode == 0
    before = snapshot(out)
    # Change the source, so a finished build would change every file, then kill it midway.
    for path in guide_copy.glob("*.md"):
        path.write_text(path.read_text().replace("Some text with a note.", "Changed text with a note."))
    cmd = build_cmd(out, "--variant", "all")
    cmd[cmd.index(str(MINI))] = str(guide_copy)
    process = subprocess.Popen(cmd)
    end = time.time() + 120
    while not list(out.glob(".*.staged")) and process.poll() is None and time.time() < end:
        time.sleep(0.005)                 # kill it once it has written its first output
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, "the build was still running when killed"
    assert snapshot(out) == before
    manifest = json.loads((out / "manifest.json").read_text())
    assert {e["file"]: e["sha256"] for e in manifest["outputs"]} == {
        k: v for k, v in before.items() if k != "manifest.json"}


def test_two_builds_at_once_into_one_folder(tmp_path):
    out = tmp_path / "dist"
    first = subprocess.Popen(build_cmd(out, "--variant", "all"))
    second = subprocess.Popen(build_cmd(out, "--variant", "all"))
    assert first.wait(timeout=600) == 0 and second.wait(timeout=600) == 0
    files = snapshot(out)
    manifest = json.loads((out / "manifest.json").read_text())
    assert {e["file"]: e["sha256"] for e in manifest["outputs"]} == {
        k: v for k, v in files.items() if k != "manifest.json"}
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_outputs_contain_no_script(mini):
    with zipfile.ZipFile(mini.epub) as z:
        for name in z.namelist():
            if name.endswith((".xhtml", ".svg")):
                data = z.read(name).lower()
                assert b"<script" not in data and b"javascript:" not in data and b" onload=" not in data, name
        opf = z.read("EPUB/content.opf")
        assert b"scripted" not in opf
    with pikepdf.open(mini.pdf) as pdf:
        assert "/JavaScript" not in pdf.Root.get("/Names", {}) and "/OpenAction" not in pdf.Root
        for page in pdf.pages:
            for annot in page.obj.get("/Annots", []):
                action = annot.get("/A")
                assert action is None or action.get("/S") in ("/URI", "/GoTo"), action
