"""Benchmark the build, side by side with the pipeline most users would pick
instead (Pandoc to HTML then WeasyPrint, and Pandoc to EPUB), and with bare
WeasyPrint on our own final HTML. Prints medians and ratios; asserts nothing.

    make bench          (installs Pandoc when missing, then runs this)

Each measured run is a separate process, so its time includes starting Python,
and its peak memory (RSS) is that process's own.
"""

from __future__ import annotations

import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.synthetic import make  # noqa: E402

PY = sys.executable
RUNS = int(os.environ.get("BENCH_RUNS", "3"))


def run(cmd: list[str], cwd: Path = ROOT) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one process."""
    started = time.perf_counter()
    process = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    if status != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{process.stderr.read().decode()[-800:]}")
    return elapsed, usage.ru_maxrss / 1024


def median(cmds, before=None, runs: int = RUNS) -> tuple[float, float]:
    times, peaks = [], []
    for _ in range(runs):
        if before:
            before()
        total, peak = 0.0, 0.0
        for cmd in cmds:
            seconds, rss = run(cmd)
            total, peak = total + seconds, max(peak, rss)
        times.append(total)
        peaks.append(peak)
    return statistics.median(times), max(peaks)


def our_build(content: Path, out: Path, *extra: str) -> list[str]:
    return [PY, str(ROOT / "build.py"), "-q", "--content", str(content), "--out", str(out), *extra]


def pandoc_pipeline(content: Path, work: Path) -> list[list[str]]:
    """Markdown -> standalone HTML -> WeasyPrint PDF/UA-1, and Markdown -> EPUB."""
    guide = (content / "guide.yaml").read_text(encoding="utf-8")
    chapters = [str(content / line.split("- ", 1)[1].strip()) for line in guide.splitlines()
                if line.startswith("  - chapters/")]
    html = work / "pandoc.html"
    return [
        ["pandoc", "-s", "--metadata", "title=Guide", "--resource-path", str(content), "-o", str(html), *chapters],
        [PY, "-c", "import sys; from weasyprint import HTML; "
                   "HTML(sys.argv[1], base_url=sys.argv[2]).write_pdf(sys.argv[3], pdf_variant='pdf/ua-1')",
         str(html), str(content) + "/", str(work / "pandoc.pdf")],
        ["pandoc", "--metadata", "title=Guide", "--resource-path", str(content), "-o", str(work / "pandoc.epub"),
         *chapters],
    ]


def save_final_html(content: Path, work: Path) -> tuple[Path, Path]:
    """Our book's final HTML and CSS, as the PDF stage receives them."""
    from guidepub.load import load
    from guidepub.render import Renderer, pdf_format
    guide = load(content, ROOT / "styles" / "brand.yaml")
    renderer = Renderer(guide, ROOT / "templates", ROOT / "styles")
    fmt = pdf_format()
    html = renderer.page("pdf/book.html.j2", fmt, date="2026-01-01T00:00:00Z")
    css = renderer.stylesheet(fmt, lambda path: path.as_uri())
    (work / "book.html").write_text(html, encoding="utf-8")
    (work / "book.css").write_text(css, encoding="utf-8")
    return work / "book.html", work / "book.css"


BARE = ("import sys; from weasyprint import HTML, CSS; "
        "HTML(sys.argv[1], base_url=sys.argv[3]).write_pdf(sys.argv[4], pdf_variant='pdf/ua-1', "
        "stylesheets=[CSS(sys.argv[2])])")
OURS = ("import sys; from pathlib import Path; sys.path.insert(0, sys.argv[5]); "
        "from guidepub.pdf import layout, write_pdf; "
        "d, log = layout(Path(sys.argv[1]).read_text(), Path(sys.argv[2]).read_text(), Path(sys.argv[3]), "
        "[Path(sys.argv[3]), Path(sys.argv[5]) / 'styles', Path(sys.argv[5]) / 'node_modules']); "
        "write_pdf(d, log, Path(sys.argv[4]), 'Atkinson Hyperlegible')")


def pages(pdf: Path) -> int:
    import pikepdf
    with pikepdf.open(pdf) as doc:
        return len(doc.pages)


def measure(label: str, content: Path, work: Path, runs: int) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    out = work / "dist"
    figures = {}
    figures["clean"] = median([our_build(content, out, "--no-cache")], runs=runs)
    n = pages(next(out.glob("*-screen.pdf")))
    figures["pages"] = n
    if runs > 1:
        figures["all variants"] = median([our_build(content, out, "--no-cache", "--variant", "all")], runs=runs)
    figures["pandoc"] = median(pandoc_pipeline(content, work), runs=runs)
    html, css = save_final_html(content, work)
    figures["bare weasyprint"] = median([[PY, "-c", BARE, str(html), str(css), str(content) + "/",
                                          str(work / "bare.pdf")]], runs=runs)
    figures["our pdf stage"] = median([[PY, "-c", OURS, str(html), str(css), str(content), str(work / "ours.pdf"),
                                        str(ROOT)]], runs=runs)
    run(our_build(content, out))
    figures["no-change rebuild"] = median([our_build(content, out)], runs=runs)
    chapter = content / "chapters" / "05-teams.md"
    original = chapter.read_text(encoding="utf-8")
    counter = iter(range(1000))

    def edit():
        chapter.write_text(original.replace(" team ", f" team{next(counter)} ", 1), encoding="utf-8")
    figures["one chapter edited"] = median([our_build(content, out)], before=edit, runs=runs)
    chapter.write_text(original, encoding="utf-8")
    print(f"\n{label}: {n} pages (screen PDF)")
    for key, value in figures.items():
        if isinstance(value, tuple):
            print(f"  {key:<22} {value[0]:7.2f} s   peak RSS {value[1]:6.0f} MB")
    return figures


def ratio(name: str, value: float, target: float, below: bool = True) -> str:
    met = value <= target if below else value >= target
    return f"  {name:<58} {value:6.2f}  (target {'<=' if below else '>='} {target:.2f}: {'met' if met else 'NOT met'})"


def main() -> None:
    if shutil.which("pandoc") is None:
        raise SystemExit("pandoc is not installed: run `make bench`, which installs it")
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1795499700")
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"medians of {RUNS} runs")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        real = measure("Real guide", make(1, work / "x1"), work / "w1", RUNS)
        large = measure("Ten times larger", make(10, work / "x10"), work / "w10", 1)
    print("\nRatios")
    print(ratio("clean build (screen PDF + EPUB) / Pandoc pipeline", real["clean"][0] / real["pandoc"][0], 0.75))
    print(ratio("our PDF stage / bare WeasyPrint on the same HTML",
                real["our pdf stage"][0] / real["bare weasyprint"][0], 1.10))
    print(ratio("no-change rebuild / clean build", real["no-change rebuild"][0] / real["clean"][0], 0.05))
    per_page = (large["clean"][0] / large["pages"]) / (real["clean"][0] / real["pages"])
    print(ratio("ten-times guide: time a page / real guide's", per_page, 1.15))
    print(ratio("ten-times guide: peak RSS of the clean build (MB)", large["clean"][1], 800))


if __name__ == "__main__":
    main()
