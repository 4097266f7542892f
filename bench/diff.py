"""Benchmark `build.py diff` on the real guide, every edition, in a
throwaway git repository of the project (its code, templates, styles and
content/ as they are now). Prints figures; asserts nothing (speed goals are
not tests).

    .venv/bin/python bench/diff.py            # about two minutes on 2 cores

1. Noise: the largest difference of any colour channel between renders of
   pages that draw the same thing (every page of every PDF edition, from two
   builds made in different processes). This is pages.NOISE.
2. `diff --rev` after a brand colour change (#005EB8 → #0B5CAD): cold (both
   revisions built), then again (both from the cache); the pages it finds
   changed and the size of report.html.
3. `diff --rev` after one word changes in one chapter, the base cached.
4. `compare()` alone on those two builds (median of 3).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from guidepub.diff import compare  # noqa: E402
from guidepub.diff.extract import read_pdf  # noqa: E402
from guidepub.diff.pages import Renderer, difference  # noqa: E402

PARTS = ("build.py", "guidepub", "templates", "styles", "content", "requirements.lock", "package.json",
         "package-lock.json")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True,
                          env=dict(os.environ, GIT_AUTHOR_NAME="Bench", GIT_AUTHOR_EMAIL="b@example.org",
                                   GIT_COMMITTER_NAME="Bench", GIT_COMMITTER_EMAIL="b@example.org")).stdout.strip()


def make_repo(path: Path) -> Path:
    path.mkdir()
    for name in PARTS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, path / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, path / name)
    (path / "node_modules").symlink_to(ROOT / "node_modules")
    (path / ".gitignore").write_text("/node_modules\n/.cache/\n/dist/\n__pycache__/\n")
    git(path, "init", "-q", "-b", "main")
    git(path, "add", "-A")
    git(path, "commit", "-qm", "The guide")
    return path


def diff_rev(repo: Path, rev: str, out: Path) -> tuple[float, dict, str]:
    started = time.perf_counter()
    run = subprocess.run([sys.executable, str(repo / "build.py"), "diff", "--rev", rev, "--out", str(out)],
                         cwd=repo, capture_output=True, text=True, timeout=3600)
    took = time.perf_counter() - started
    if run.returncode not in (0, 1):
        raise SystemExit(f"diff failed:\n{run.stderr[-2000:]}")
    return took, json.loads((out / "diff.json").read_text()), run.stderr


def describe(label: str, took: float, data: dict, out: Path) -> None:
    changed = {v: sum(p["status"] in ("changed", "added", "removed") for p in pages)
               for v, pages in data["pages"].items()}
    total = {v: len(pages) for v, pages in data["pages"].items()}
    timings = ", ".join(f"{k} {v:.2f} s" for k, v in data.get("timings", {}).items())
    print(f"{label:<44} {took:6.1f} s   pages changed: "
          + (", ".join(f"{v} {changed[v]}/{total[v]}" for v in changed) or "none")
          + f"   report.html {(out / 'report.html').stat().st_size / 1e6:.2f} MB")
    print(f"{'':<44} ({timings})")


def noise(a: Path, b: Path) -> tuple[int, int]:
    """The largest channel difference between renders of pages with the same
    drawing hash in two builds, and how many page pairs were measured."""
    largest, pairs = 0, 0
    with Renderer() as renderer:
        for pdf in sorted(a.glob("*.pdf")):
            one, other = read_pdf("a", pdf), read_pdf("b", b / pdf.name)
            for i, (x, y) in enumerate(zip(one.page_hashes, other.page_hashes)):
                if x == y:
                    first = renderer.render(pdf, i)
                    largest = max(largest, difference(first, renderer.render(b / pdf.name, i)).getextrema()[1])
                    pairs += 1
    return largest, pairs


def main() -> None:
    os.environ.pop("SOURCE_DATE_EPOCH", None)           # each revision dated from git, as in CI
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        repo = make_repo(work / "repo")
        brand = repo / "styles" / "brand.yaml"
        brand.write_text(brand.read_text().replace('"#005EB8"', '"#0B5CAD"', 1))
        git(repo, "commit", "-qam", "Brand: primary #0B5CAD")
        took, data, log = diff_rev(repo, "HEAD~1..HEAD", work / "r1")
        describe("--rev, brand colour, both built", took, data, work / "r1")
        took, data, log = diff_rev(repo, "HEAD~1..HEAD", work / "r2")
        describe("--rev, brand colour, both from the cache", took, data, work / "r2")
        assert log.count("from the cache") == 2, log
        chapter = repo / "content" / "chapters" / "05-teams.md"
        chapter.write_text(chapter.read_text().replace(" team ", " group ", 1))
        git(repo, "commit", "-qam", "One word")
        took, data, log = diff_rev(repo, "HEAD~1..HEAD", work / "r3")
        describe("--rev, one word, base from the cache", took, data, work / "r3")
        base, head = Path(data["base"]["folder"]), Path(data["head"]["folder"])
        times = []
        for _ in range(3):
            started = time.perf_counter()
            compare(base, head)
            times.append(time.perf_counter() - started)
        pages = sum(len(v) for v in data["pages"].values())
        print(f"{'compare() alone, one word (median of 3)':<44} {statistics.median(times):6.2f} s   "
              f"({pages} PDF pages in {len(data['pages'])} editions)")
        largest, pairs = noise(base, head)
        print(f"{'noise between identical pages':<44} {largest:6d}     (largest channel difference, "
              f"{pairs} page pairs of two builds made in different processes)")


if __name__ == "__main__":
    main()
