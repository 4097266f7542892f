"""Benchmark `build.py diff`: the time to diff two builds of the real guide
and of a guide ten times larger, after one word changes in one chapter.
Prints figures; asserts nothing (speed goals are not tests).

    .venv/bin/python bench/diff.py
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.synthetic import make  # noqa: E402
from guidepub.diff import compare  # noqa: E402
from guidepub.pipeline import Project, build  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def measure(label: str, content: Path, work: Path, runs: int = 3) -> None:
    base, head = work / "base", work / "head"
    build(Project.at(ROOT, content, base))
    chapter = content / "chapters" / "05-teams.md"
    text = chapter.read_text(encoding="utf-8")
    chapter.write_text(text.replace(" team ", " group ", 1), encoding="utf-8")
    build(Project.at(ROOT, content, head))
    chapter.write_text(text, encoding="utf-8")
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        diff, a, _ = compare(base, head)
        times.append(time.perf_counter() - started)
    pages = len(a.pages)
    print(f"{label:<22} {pages:>5} pages  diff median {statistics.median(times):6.2f} s  "
          f"({statistics.median(times) / pages * 1000:.1f} ms a page)  "
          f"sections changed {diff.counts('sections').get('changed', 0)}, pages {diff.counts('pages')}")


def main() -> None:
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1795499700")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        measure("real guide", make(1, work / "x1"), work / "b1")
        measure("ten times larger", make(10, work / "x10"), work / "b10", runs=2)


if __name__ == "__main__":
    main()
