"""The command line, as a user meets it."""

from __future__ import annotations

import subprocess
import sys

from conftest import MINI, ROOT


def run(*args, cwd=ROOT):
    return subprocess.run([sys.executable, str(ROOT / "build.py"), *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_help_explains_every_option():
    result = run("--help")
    assert result.returncode == 0
    for option in ("--content", "--out", "--variant", "--list", "--quiet", "--debug", "SOURCE_DATE_EPOCH"):
        assert option in result.stdout


def test_builds_into_the_out_folder(tmp_path):
    result = run("--content", str(MINI), "--out", str(tmp_path), "--variant", "screen", "-q")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [
        "manifest.json", "mini-2-screen.pdf"]


def test_bad_input_gives_a_clear_error_and_keeps_the_last_good_output(guide_copy, tmp_path):
    out = tmp_path / "dist"
    assert run("--content", str(guide_copy), "--out", str(out), "-q").returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    chapter = guide_copy / "one.md"
    chapter.write_text(chapter.read_text().replace("![A square box with a tick inside]", "![]"))
    result = run("--content", str(guide_copy), "--out", str(out))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    line = next(n for n, text in enumerate(chapter.read_text().splitlines(), 1) if "![](" in text)
    assert f"{chapter}:{line}: CONTENT-ALT figure 'figures/box.svg' has no alt text — write" in result.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_wrong_option_exits_2():
    assert run("--frobnicate").returncode == 2


def test_debug_shows_the_traceback(guide_copy, tmp_path):
    (guide_copy / "terms.md").write_text("no front matter\n")
    quiet = run("--content", str(guide_copy), "--out", str(tmp_path))
    loud = run("--content", str(guide_copy), "--out", str(tmp_path), "--debug")
    assert quiet.returncode == loud.returncode == 2
    assert "Traceback" not in quiet.stderr and "Traceback" in loud.stderr


def test_yaml_errors_carry_a_column(guide_copy, tmp_path):
    path = guide_copy / "guide.yaml"
    path.write_text(path.read_text().replace("title: Mini guide", "title: [Mini guide"))
    result = run("--content", str(guide_copy), "--out", str(tmp_path))
    assert f"{path}:3:8: CONTENT-YAML invalid YAML" in result.stderr
