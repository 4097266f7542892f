"""Nothing lost: an interrupted build leaves the last good outputs, two
builds at once do not mix their files, and no output carries a script.

The builds here are real ones, of the small fixture guide, through build.py
in a process group of their own: every wait has a deadline, and every test
kills the whole group when it ends, so a failure leaves nothing running."""

from __future__ import annotations

import errno
import json
import os
import resource
import shutil
import re
import signal
import subprocess
import sys
import time
import zipfile
from contextlib import ExitStack, contextmanager, suppress
from pathlib import Path

import pikepdf
import pytest

from conftest import MINI, ROOT
from guidepub import interrupt
from guidepub.errors import GuideError
from guidepub.manifest import output_sha256
from guidepub.outputs import Staging, atomic_path, build_lock


def build_cmd(out, *extra, content=MINI, quiet=True):
    return [sys.executable, str(ROOT / "build.py"), *(["-q"] if quiet else []),
            "--content", str(content), "--out", str(out), *extra]


def snapshot(folder):
    """Every output's sha256, a file's or a folder's (the web edition) as the manifest records it."""
    return {p.name: output_sha256(p) for p in folder.iterdir() if not p.name.startswith(".")}


def debris(folder):
    """What a build must never leave: staged files, temporary files, backups."""
    return sorted(p.name for p in folder.iterdir()
                  if ".staged" in p.name or p.name.endswith((".tmp", ".backup")))


def manifest_matches(folder):
    manifest = json.loads((folder / "manifest.json").read_text())
    files = snapshot(folder)
    return {e["file"]: e["sha256"] for e in manifest["outputs"]} == {
        k: v for k, v in files.items() if k != "manifest.json"}


def wait_until(condition, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return
        time.sleep(0.005)
    raise AssertionError(f"gave up after {timeout} s waiting for {what}")


def group_members(pgid):
    """Live (not zombie) processes in a process group."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return []
    # Orphans that have exited stay zombies until init reaps them: not alive.
    live = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] not in "ZX":
                live.append(int(stat.parent.name))
    return live


def laying_out(pgid):
    """Whether a worker of the build (not the parent) has WeasyPrint's Pango loaded."""
    for pid in group_members(pgid):
        if pid != pgid:
            with suppress(OSError):
                if "libpango" in Path(f"/proc/{pid}/maps").read_text():
                    return True
    return False


@contextmanager
def running(cmd, log: Path, **kwargs):
    """Start a build in its own process group, stderr to `log`; kill the
    whole group at the end, whatever happened."""
    with open(log, "wb") as stderr:
        process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=stderr,
                                   start_new_session=True, **kwargs)
    try:
        yield process
    finally:
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def earlier(tmp_path_factory):
    """A folder holding a finished build of every variant of the fixture."""
    out = tmp_path_factory.mktemp("earlier") / "dist"
    assert subprocess.run(build_cmd(out, "--variant", "all"), timeout=300).returncode == 0
    return out


@pytest.fixture
def changed(guide_copy):
    """The fixture guide with a change, so a finished build would replace every file."""
    for path in guide_copy.glob("*.md"):
        path.write_text(path.read_text().replace("Some text with a note.", "Changed text with a note."))
    return guide_copy


@pytest.fixture
def out(tmp_path, earlier):
    target = tmp_path / "dist"
    shutil.copytree(earlier, target)
    return target


POINTS = {
    "load": lambda process, out, log: "Loading and validating content" in log.read_text(),
    "layout": lambda process, out, log: laying_out(process.pid),
    "staged": lambda process, out, log: bool(list(out.glob(".*.staged"))),
}
# Ctrl+C and a hang-up reach the whole process group (as from a terminal);
# SIGTERM the build's own process only (as from `kill PID`).
TO_GROUP = {signal.SIGINT: True, signal.SIGTERM: False, signal.SIGHUP: True}


@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_a_signal_stops_the_build_and_keeps_the_last_good_outputs(tmp_path, out, changed, point, signum):
    before = snapshot(out)
    log = tmp_path / "stderr.txt"
    with running(build_cmd(out, "--variant", "all", content=changed, quiet=False), log) as process:
        wait_until(lambda: POINTS[point](process, out, log) or process.poll() is not None, 60, point)
        assert process.poll() is None, f"the build ended before {point}: {log.read_text()}"
        if TO_GROUP[signum]:
            os.killpg(process.pid, signum)
        else:
            process.send_signal(signum)
        process.wait(timeout=20)
        stderr = log.read_text()
        assert process.returncode == 128 + signum, stderr
        assert "Traceback" not in stderr
        stop = f"Build stopped ({signum.name}); earlier outputs were left as they were."
        progress = re.compile(r"^(• .*|  \d+\.\d s)$")        # steps, and how long a long one took
        assert [line for line in stderr.splitlines() if not progress.match(line)] == [stop]
        wait_until(lambda: not group_members(process.pid), 10, "the build's processes to end")
    assert debris(out) == []
    assert snapshot(out) == before
    # The lock is free, and the next build finishes.
    again = subprocess.run(build_cmd(out, "--variant", "all", content=changed), capture_output=True,
                           text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert snapshot(out) != before and manifest_matches(out) and debris(out) == []


def test_a_killed_build_leaves_the_last_good_outputs(tmp_path, out, changed):
    before = snapshot(out)
    with running(build_cmd(out, "--variant", "all", content=changed), tmp_path / "stderr.txt") as process:
        # Kill it once it has written its first output.
        wait_until(lambda: list(out.glob(".*.staged")) or process.poll() is not None, 60, "a staged file")
        assert process.poll() is None, "the build ended before it was killed"
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)
        assert process.returncode == -signal.SIGKILL
        wait_until(lambda: not group_members(process.pid), 10, "the build's processes to end")
    assert snapshot(out) == before
    assert manifest_matches(out)
    # The next build clears what the killed one left, and does not wait for it.
    again = subprocess.run(build_cmd(out, content=changed), capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    assert debris(out) == []


def test_workers_die_with_a_killed_parent_and_the_next_build_does_not_wait(tmp_path, out, changed):
    before = snapshot(out)
    with running(build_cmd(out, "--variant", "all", content=changed), tmp_path / "stderr.txt") as process:
        wait_until(lambda: laying_out(process.pid) or process.poll() is not None, 60, "a worker laying out")
        assert process.poll() is None, "the build ended before it was killed"
        process.kill()                      # the parent only: its workers must follow it
        process.wait(timeout=20)
        wait_until(lambda: not group_members(process.pid), 10, "the workers to die with their parent")
    assert snapshot(out) == before
    log = tmp_path / "next.txt"
    with running(build_cmd(out, "--variant", "all", content=changed, quiet=False), log) as process:
        process.wait(timeout=120)
        assert process.returncode == 0, log.read_text()
    assert "Waiting for" not in log.read_text()
    assert debris(out) == [] and manifest_matches(out)


def test_a_waiting_build_names_the_lock_owner(tmp_path):
    out = tmp_path / "dist"
    log = tmp_path / "stderr.txt"
    with ExitStack() as lock:
        lock.enter_context(build_lock(out))
        pid, started = (out / ".build.lock").read_text().split()
        assert pid == str(os.getpid()) and started.endswith("Z")
        with running(build_cmd(out, "--variant", "screen", quiet=False), log) as process:
            wait_until(lambda: "Waiting for" in log.read_text() or process.poll() is not None, 60, "the wait")
            assert f"Waiting for {out / '.build.lock'}: held by build PID {pid}, started {started}" \
                in log.read_text()
            time.sleep(0.2)
            assert process.poll() is None, "the build did not wait for the lock"
            lock.close()                    # released: the build goes on
            assert process.wait(timeout=120) == 0, log.read_text()
    assert (out / ".build.lock").read_text() == ""       # released: no owner named


def test_a_folder_in_place_of_an_output_is_one_coded_line(out, changed):
    screen = out / "mini-2-screen.pdf"
    screen.unlink()
    screen.mkdir()
    before = snapshot(out)
    result = subprocess.run(build_cmd(out, "--variant", "all", content=changed), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    coded = [line for line in result.stderr.splitlines() if "OUTPUT-WRITE" in line]
    assert len(coded) == 1 and coded[0].startswith(f"{screen}: OUTPUT-WRITE "), result.stderr
    assert snapshot(out) == before and screen.is_dir() and debris(out) == []


@pytest.mark.parametrize("limit", [8_000, 48_000], ids=["during-layout", "writing-an-output"])
def test_a_full_disk_is_one_coded_line(out, changed, limit):
    """A file size limit makes writes fail with EFBIG, as a full disk does with ENOSPC."""
    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    before = snapshot(out)
    result = subprocess.run(build_cmd(out, "--variant", "all", content=changed), capture_output=True,
                            text=True, timeout=120, preexec_fn=small_files)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    coded = [line for line in result.stderr.splitlines() if "OUTPUT-WRITE" in line]
    assert len(coded) == 1 and f": OUTPUT-WRITE cannot write mini-2-" in coded[0], result.stderr
    assert os.strerror(errno.EFBIG) in coded[0]
    assert snapshot(out) == before and debris(out) == []


def test_no_space_while_writing_is_output_write(tmp_path):
    with pytest.raises(GuideError) as caught:
        with atomic_path(tmp_path / ".guide.pdf.staged"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert str(caught.value).startswith(f"{tmp_path / 'guide.pdf'}: OUTPUT-WRITE cannot write guide.pdf: "
                                        f"{os.strerror(errno.ENOSPC)} — free some space")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_commit_puts_every_old_file_back(tmp_path, monkeypatch):
    for name in ("a.pdf", "b.epub", "manifest.json"):
        (tmp_path / name).write_text(f"old {name}")
    stage = Staging(tmp_path)
    for name in ("a.pdf", "b.epub", "c.pdf", "manifest.json"):
        stage.path(tmp_path / name).write_text(f"new {name}")
    real = os.replace

    def failing(src, dst):              # the last move in, the new manifest's, fails
        if Path(src).name == ".manifest.json.staged":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(src, dst)
    monkeypatch.setattr(os, "replace", failing)
    with pytest.raises(GuideError, match="OUTPUT-WRITE"):
        stage.commit()
    monkeypatch.setattr(os, "replace", real)
    stage.discard()
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == {
        "a.pdf": "old a.pdf", "b.epub": "old b.epub", "manifest.json": "old manifest.json"}


def test_a_signal_during_the_commit_takes_effect_when_it_is_done(tmp_path, monkeypatch):
    (tmp_path / "a.pdf").write_text("old a")
    stage = Staging(tmp_path)
    for name in ("a.pdf", "manifest.json"):
        stage.path(tmp_path / name).write_text(f"new {name}")
    real = os.replace

    def signalled(src, dst):            # SIGTERM arrives as the first file moves
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(0.05)
        real(src, dst)
    monkeypatch.setattr(os, "replace", signalled)
    with interrupt.handled(), pytest.raises(interrupt.Stopped) as caught:
        stage.commit()
    assert caught.value.exit_code == 128 + signal.SIGTERM and interrupt.outputs_written()
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == {
        "a.pdf": "new a.pdf", "manifest.json": "new manifest.json"}


def test_a_commit_cut_short_is_undone_by_the_next_build(tmp_path):
    # A build killed (SIGKILL) after moving old files aside, before its manifest went in.
    (tmp_path / ".manifest.json.backup").write_text("old manifest")
    (tmp_path / ".a.pdf.backup").write_text("old a")
    (tmp_path / "a.pdf").write_text("new a")
    (tmp_path / ".b.pdf.staged").write_text("new b")
    (tmp_path / "..b.pdf.staged.x1y2.tmp").write_text("half of b")
    Staging(tmp_path)
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == {
        "manifest.json": "old manifest", "a.pdf": "old a"}
    # One killed after its manifest went in: the new files stand.
    (tmp_path / ".a.pdf.backup").write_text("older a")
    Staging(tmp_path)
    assert {p.name: p.read_text() for p in tmp_path.iterdir()} == {
        "manifest.json": "old manifest", "a.pdf": "old a"}


@pytest.mark.parametrize("when", ["rebuilding", "watching"])
def test_ctrl_c_stops_watch_cleanly(tmp_path, guide_copy, when):
    out = tmp_path / "dist"
    log = tmp_path / "stderr.txt"
    cmd = [sys.executable, str(ROOT / "build.py"), "watch", "--content", str(guide_copy), "--out", str(out)]
    with running(cmd, log) as process:
        ready = "Watching" if when == "rebuilding" else "Rebuilt"
        wait_until(lambda: ready in log.read_text() or process.poll() is not None, 60, ready)
        if when == "rebuilding":
            wait_until(lambda: out.is_dir() or process.poll() is not None, 30, "the build to start")
        assert process.poll() is None, log.read_text()
        os.killpg(process.pid, signal.SIGINT)
        process.wait(timeout=20)
        stderr = log.read_text()
        assert process.returncode == 130, stderr
        assert "Traceback" not in stderr
        assert stderr.splitlines()[-1] == "Watch stopped (SIGINT); the last good outputs are kept."
        wait_until(lambda: not group_members(process.pid), 10, "the watch's processes to end")
    assert debris(out) == []


def test_two_builds_at_once_into_one_folder(tmp_path):
    out = tmp_path / "dist"
    with running(build_cmd(out, "--variant", "all"), tmp_path / "first.txt") as first, \
            running(build_cmd(out, "--variant", "all"), tmp_path / "second.txt") as second:
        assert first.wait(timeout=300) == 0 and second.wait(timeout=300) == 0
    assert manifest_matches(out)
    assert debris(out) == []


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
