"""The command line, as a user meets it."""

from __future__ import annotations

import re
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
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    chapter = guide_copy / "one.md"
    chapter.write_text(chapter.read_text().replace("![A square box with a tick inside]", "![]"))
    result = run("--content", str(guide_copy), "--out", str(out))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    line = next(n for n, text in enumerate(chapter.read_text().splitlines(), 1) if "![](" in text)
    assert f"{chapter}:{line}: CONTENT-ALT figure 'figures/box.svg' has no alt text — write" in result.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


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


def test_version():
    result = run("--version")
    assert result.returncode == 0 and result.stdout.startswith("guidepub ") and "WeasyPrint" in result.stdout


def test_a_mistyped_command_or_option_gets_did_you_mean():
    for args, wanted in ((["biuld"], "did you mean 'build'"), (["chek"], "did you mean 'check'"),
                         (["--varient", "screen"], "did you mean '--variant'"),
                         (["--no-cahce"], "did you mean '--no-cache'")):
        result = run(*args)
        assert result.returncode == 2 and wanted in result.stderr, (args, result.stderr)
    result = run("--zzz")
    assert result.returncode == 2 and "did you mean" not in result.stderr


def test_format_builds_only_that_format(tmp_path):
    result = run("--content", str(MINI), "--out", str(tmp_path), "--variant", "all", "--format", "epub", "-q")
    assert result.returncode == 0, result.stderr
    assert sorted(p.suffix for p in tmp_path.iterdir() if not p.name.startswith(".")) == [".epub", ".json"]


def test_progress_names_each_step_and_quiet_prints_nothing(tmp_path):
    loud = run("--content", str(MINI), "--out", str(tmp_path), "--variant", "screen", "--no-cache")
    assert "• Loading and validating content" in loud.stderr and "Done in" in loud.stderr
    quiet = run("--content", str(MINI), "--out", str(tmp_path), "--variant", "screen", "--no-cache", "-q")
    assert quiet.returncode == 0 and quiet.stderr == ""


def test_outside_the_venv_it_says_how_to_set_up(tmp_path):
    """Run with a Python that lacks the packages and with no .venv beside
    build.py: one line on how to set up, not ModuleNotFoundError."""
    (tmp_path / "guidepub").symlink_to(ROOT / "guidepub")
    (tmp_path / "build.py").write_bytes((ROOT / "build.py").read_bytes())
    python = "/usr/bin/python3"
    probe = subprocess.run([python, "-c", "import pydantic"], capture_output=True)
    if probe.returncode == 0:
        import pytest
        pytest.skip("the system Python has the packages")
    result = subprocess.run([python, str(tmp_path / "build.py"), "--version"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 2 and "make" in result.stderr and "Traceback" not in result.stderr
    # With a .venv beside it, it hands over to that Python.
    (tmp_path / ".venv").symlink_to(ROOT / ".venv")
    result = subprocess.run([python, str(tmp_path / "build.py"), "--version"], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0 and result.stdout.startswith("guidepub "), result.stderr


def test_a_step_over_a_second_says_how_long_it_took(monkeypatch):
    import io

    from rich.console import Console

    from guidepub import cli
    clock = iter([0.0, 0.4, 0.4, 3.6, 3.6])
    monkeypatch.setattr(cli.time, "perf_counter", lambda: next(clock))
    buffer = io.StringIO()
    steps = cli._Steps(Console(file=buffer, width=200, color_system=None), quiet=False)
    steps("Short")
    steps("Long")
    steps.done()
    assert re.findall(r"^(• \w+|  \d+\.\d s)$", buffer.getvalue(), re.M) == ["• Short", "• Long", "  3.2 s"]
