"""Benchmark the build side by side with what it is measured against, on the
real guide and on one ten times larger (bench/synthetic.py). Prints medians,
peak memory and page counts, then the issue-15 targets; asserts nothing
(speed goals live here, never in a timed test).

    make bench      (installs the anchors' tools into .cache/bench-tools, then runs this)

The runs, each a process of its own (its time includes starting Python; its
CPU time is its own and its workers'; its peak memory is the largest of it
and its workers):

- ours: a clean build of the default editions (screen PDF + EPUB,
  `--no-cache`), a rebuild with nothing changed, a rebuild after one word of
  one chapter changed, and (real guide) a clean build of all five editions;
- ours as `watch` rebuilds: the same one-word change, rebuilt in a process
  that has built before (bench/driver.py --edit): Python and WeasyPrint
  already imported, as they are for an editor who previews while writing.
  Its time is the rebuild's own, as the process reports it;
- today's: clean builds (default editions; on the real guide, all five
  too) by the code at BENCH_BASELINE (default d29156b, the code issue 15
  measured, taken with `git archive`), beside ours, both on that commit's
  guide (today's code may refuse what the guide has gained since);
- bare WeasyPrint: the very HTML and CSS our build lays the screen PDF out
  from (captured from a build), its @font-face fonts loaded through a
  FontConfiguration, written as PDF/UA-1: WeasyPrint alone, with our fonts.
  Its page count must equal ours, and it must set the text in the same
  fonts; both are printed;
- Pandoc: Markdown -> HTML -> WeasyPrint PDF/UA-1 (its default fonts) and
  Markdown -> EPUB, the pipeline most people would pick instead;
- Typst: Markdown -> Typst (pandoc) -> PDF/UA-1 (typst-py), in Atkinson
  Hyperlegible, as an anchor for what a faster engine does.

Pandoc and Typst read the guide's parts turned into plain Markdown once,
before any timing (front matter to a heading, cross-references to text,
block titles to bold lines): what someone using them would have written.
They come from PyPI (bench/requirements.txt: pandoc 3.9 in pypandoc-binary,
typst-py), installed for the benchmark only. A run that cannot be made
prints why instead of a figure.

The runs take turns (one of each, then again), so a change in the machine's
load falls on all of them alike. BENCH_RUNS (default 3) sets how many.
"""

from __future__ import annotations

import io
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.synthetic import make  # noqa: E402

PY = sys.executable
RUNS = int(os.environ.get("BENCH_RUNS", "3"))
LARGE = os.environ.get("BENCH_LARGE", "1") != "0"      # 0: the real guide only (a quick look)
BASELINE = os.environ.get("BENCH_BASELINE", "d29156b")
TOOLS = ROOT / ".cache" / "bench-tools"
CODE = ROOT             # the copy of the project that "ours" runs (main() sets it: snapshot())
PANDOC = TOOLS / "pypandoc" / "files" / "pandoc"
EDITED = "chapters/05-teams.md"


class Unavailable(Exception):
    """A run that cannot be made here; the message says why."""


def run(cmd: list[str], cwd: Path, env: dict | None, printed: list[str] | None = None) -> tuple[float, float, float]:
    """(seconds, peak RSS in MB, CPU seconds) of one process: wait4 gives its
    own peak, or its largest worker's when that is larger, and its CPU time
    with its workers'. `printed`: gets what it printed."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as err, tempfile.TemporaryFile() as out:
        process = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err,
                                   env=None if env is None else {**os.environ, **env})
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        elapsed = time.perf_counter() - started
        if process.returncode != 0:
            err.seek(0)
            raise Unavailable(f"failed ({process.returncode}): {' '.join(map(str, cmd))[:200]}: "
                              f"{err.read().decode(errors='replace')[-800:].strip()}")
        if printed is not None:
            out.seek(0)
            printed.append(out.read().decode(errors="replace").strip())
    return elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


@dataclass
class Row:
    label: str
    commands: list[tuple[list[str], Path, dict | None]]
    before: Callable[[], None] | None = None
    pdf: Path | None = None                 # whose pages are counted
    times: list[float] = field(default_factory=list)
    peaks: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    why: str | None = None
    pages: int | None = None
    reported: bool = False                  # its time is what its process prints first (driver.py --edit)
    said: str = ""                          # what else it printed, last run


    def once(self) -> None:
        if self.why:
            return
        try:
            if self.before:
                self.before()
            total, peak, cpu = 0.0, 0.0, 0.0
            for cmd, cwd, env in self.commands:
                printed: list[str] = []
                seconds, rss, used = run(cmd, cwd, env, printed)
                if self.reported:
                    reported, _, self.said = printed[0].partition(" ")
                    seconds = float(reported)
                total, peak, cpu = total + seconds, max(peak, rss), cpu + used
        except Unavailable as exc:
            self.why = str(exc)
            return
        self.times.append(total)
        self.peaks.append(peak)
        self.cpus.append(cpu)

    @property
    def seconds(self) -> float | None:
        return statistics.median(self.times) if self.times and not self.why else None

    @property
    def cpu(self) -> float | None:
        return statistics.median(self.cpus) if self.cpus and not self.why else None

    @property
    def peak(self) -> float | None:
        return max(self.peaks) if self.peaks and not self.why else None


def pages(pdf: Path) -> int:
    import pikepdf
    with pikepdf.open(pdf) as doc:
        return len(doc.pages)


def fonts(pdf: Path) -> set[str]:
    """The fonts of a PDF's pages and of the drawings on them (subset prefixes dropped)."""
    import pikepdf
    names: set[str] = set()
    seen: set[tuple[int, int]] = set()

    def walk(resources) -> None:
        for font in resources.get("/Font", {}).values():
            names.add(str(font.get("/BaseFont", "")).split("+", 1)[-1].lstrip("/"))
        for xobject in resources.get("/XObject", {}).values():
            if xobject.objgen not in seen and xobject.get("/Subtype") == "/Form":
                seen.add(xobject.objgen)
                walk(xobject.get("/Resources", {}))
    with pikepdf.open(pdf) as doc:
        for page in doc.pages:
            walk(page.obj.get("/Resources", {}))
    return names


def ours(content: Path, out: Path, *extra: str, build: Path | None = None) -> list[str]:
    return [PY, str(build or CODE / "build.py"), "-q", "--content", str(content), "--out", str(out), *extra]


PROJECT = ["build.py", "guidepub", "templates", "styles", "bench", "package.json", "package-lock.json",
           "requirements.lock"]


def snapshot(target: Path) -> Path:
    """A copy of the project's code, templates and styles as they are now,
    beside our node_modules: the runs of "ours" measure this one code, even
    if the work tree changes while the benchmark runs (every build's cache
    key covers the code, so an edit meanwhile would turn a no-change rebuild
    into a full one)."""
    target.mkdir(parents=True)
    for name in PROJECT:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=shutil.ignore_patterns("__pycache__"))
        elif source.exists():
            shutil.copy2(source, target / name)
    (target / "node_modules").symlink_to(ROOT / "node_modules")
    return target


def parts(content: Path) -> list[str]:
    """The guide's parts, in reading order."""
    import yaml
    guide = yaml.safe_load((content / "guide.yaml").read_text(encoding="utf-8"))
    return [*guide.get("front_matter", []), *guide.get("chapters", []), *guide.get("back_matter", [])]


def plain_markdown(content: Path, target: Path) -> tuple[list[str], str]:
    """The parts as plain Markdown for Pandoc (and Typst), and the title."""
    import yaml
    target.mkdir(parents=True)
    if (content / "figures").is_dir():
        shutil.copytree(content / "figures", target / "figures")
    names = []
    for i, rel in enumerate(parts(content)):
        _, front, body = (content / rel).read_text(encoding="utf-8").split("---\n", 2)
        meta = yaml.safe_load(front)
        body = re.sub(r"\[([^\]]*)\]\(#[^)]+\)", lambda m: m.group(1) or "the part linked here", body)
        body = re.sub(r"(?m)^\{#[^}]*\}[ \t]*$", "", body)
        body = re.sub(r"(?m)^(:{3,}) ([\w-]+) (.+)$", r"\1 \2\n\n**\3**\n", body)
        names.append(f"{i:03d}.md")
        (target / names[-1]).write_text(f"# {meta['title']} {{#{meta['id']}}}\n\n{body}", encoding="utf-8")
    title = yaml.safe_load((content / "guide.yaml").read_text(encoding="utf-8"))["title"]
    return names, title


PANDOC_PDF = ("import sys; from weasyprint import HTML; "
              "HTML(sys.argv[1]).write_pdf(sys.argv[2], pdf_variant='pdf/ua-1')")
BARE = """
import sys
from pathlib import Path
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
html, css, base, out = sys.argv[1:5]
fonts = FontConfiguration()
HTML(string=Path(html).read_text(encoding="utf-8"), base_url=base).write_pdf(
    out, pdf_variant="pdf/ua-1", font_config=fonts,
    stylesheets=[CSS(string=Path(css).read_text(encoding="utf-8"), font_config=fonts)])
"""
# Pandoc's Typst writer gives images no alt text, which PDF/UA-1 requires:
# each figure's caption (the Markdown alt text) becomes its alt.
TYPST = r"""
import re, sys
from pathlib import Path
import typst
typ, out, fonts, root = sys.argv[1:5]
source = Path(typ).read_text(encoding="utf-8")
def alt(m):
    text = " ".join(m.group(4).split()).replace("\\", "\\\\").replace('"', '\\"')
    return f'#figure(image("{m.group(1)}"{m.group(2)}, alt: "{text}"),{m.group(3)}caption: [{m.group(4)}]'
source = re.sub(r'#figure\(image\("([^"]+)"([^)]*)\),(\s*)caption: \[(.*?)\]', alt, source, flags=re.S)
Path(typ).write_text(source, encoding="utf-8")
typst.compile(typ, output=out, root=root, font_paths=[fonts], ignore_system_fonts=True, pdf_standards=["ua-1"])
"""


def typst_fonts(target: Path) -> Path:
    """The brand's text fonts as TTF (Typst reads no WOFF2): the latin subsets."""
    from fontTools.ttLib import TTFont
    target.mkdir(parents=True)
    for woff2 in sorted((ROOT / "node_modules" / "@fontsource").glob("atkinson-hyperlegible*/files/*-latin-[0-9]*.woff2")):
        font = TTFont(woff2)
        font.flavor = None
        font.save(target / f"{woff2.stem}.ttf")
    return target


def baseline_tree(target: Path) -> Path:
    """The project's code at BASELINE, beside our node_modules and venv."""
    listed = ["build.py", "guidepub", "templates", "styles", "content", "package.json", "package-lock.json",
              "requirements.lock"]
    tar = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", BASELINE, *listed], capture_output=True)
    if tar.returncode != 0:
        raise Unavailable(f"`git archive {BASELINE}` failed: {tar.stderr.decode(errors='replace').strip()}")
    target.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(tar.stdout)) as archive:
        archive.extractall(target, filter="data")
    (target / "node_modules").symlink_to(ROOT / "node_modules")
    return target


def words(content: Path) -> int:
    from guidepub.load import load
    guide = load(content, ROOT / "styles" / "brand.yaml")
    return sum(len(t.content.split()) for d in guide.documents for t in d.tokens if t.type == "inline")


def rows_for(content: Path, work: Path, full: bool, baseline: Path | str | None) -> dict[str, Row]:
    """Every run for one guide, set up (outputs made once, untimed, where a run needs them)."""
    rows: dict[str, Row] = {}
    out = work / "ours"
    rows["clean"] = Row("ours: clean build, screen PDF + EPUB", [(ours(content, out, "--no-cache"), CODE, None)],
                        pdf=out)
    rows["no change"] = Row("ours: rebuild, nothing changed", [(ours(content, out), CODE, None)])
    chapter = content / EDITED
    original = chapter.read_text(encoding="utf-8")
    counter = iter(range(10**6))

    def edit() -> None:
        chapter.write_text(original.replace(" team ", f" team{next(counter)} ", 1), encoding="utf-8")
    rows["one chapter"] = Row("ours: rebuild, one word of one chapter changed", [(ours(content, out), CODE, None)],
                              before=edit)
    watching = [PY, str(CODE / "bench" / "driver.py"), "--edit", str(chapter), "--mark", "0", "--",
                *ours(content, out)[2:]]

    def marks() -> None:                    # two numbers no run has written yet
        watching[watching.index("--mark") + 1] = str(next(counter))
        next(counter)
    rows["watch"] = Row("ours, as `watch` rebuilds: one word of one chapter", [(watching, CODE, None)],
                        before=marks, reported=True)
    if full:
        rows["all"] = Row("ours: clean build, all five editions",
                          [(ours(content, work / "ours-all", "--no-cache", "--variant", "all"), CODE, None)])
    # Today's code against ours, on the guide as it was then (today's code
    # may refuse fields the guide has gained since).
    if isinstance(baseline, str):
        rows["then"] = Row(f"ours, {BASELINE}'s guide: clean build, screen PDF + EPUB", [], why=baseline)
        rows["today"] = Row(f"today's code ({BASELINE}), its guide: the same", [], why=baseline)
    elif baseline is not None:
        build, old = baseline / "build.py", baseline / "content"
        rows["then"] = Row(f"ours, {BASELINE}'s guide: clean build, screen PDF + EPUB",
                           [(ours(old, work / "then", "--no-cache"), CODE, None)], pdf=work / "then")
        rows["today"] = Row(f"today's code ({BASELINE}), its guide: the same",
                            [(ours(old, work / "today", "--no-cache", build=build), baseline, None)],
                            pdf=work / "today")
        if full:
            rows["then all"] = Row(f"ours, {BASELINE}'s guide: clean build, all five editions",
                                   [(ours(old, work / "then-all", "--no-cache", "--variant", "all"), CODE, None)])
            rows["today all"] = Row(f"today's code ({BASELINE}), its guide: the same",
                                    [(ours(old, work / "today-all", "--no-cache", "--variant", "all",
                                           build=build), baseline, None)])
    captured = work / "captured"
    try:
        run([PY, str(CODE / "bench" / "driver.py"), "--capture", str(captured), "--", "-q", "--content",
             str(content), "--out", str(work / "capture-out"), "--variant", "screen", "--no-cache"], CODE, None)
        base = (captured / "root").as_uri() + "/"
        rows["bare"] = Row("bare WeasyPrint: our HTML, CSS and fonts, PDF/UA-1",
                           [([PY, "-c", BARE, str(captured / "book.html"), str(captured / "book.css"), base,
                              str(work / "bare.pdf")], ROOT, None)], pdf=work / "bare.pdf")
    except Unavailable as exc:
        rows["bare"] = Row("bare WeasyPrint: our HTML, CSS and fonts, PDF/UA-1", [], why=f"capture {exc}")
    if not PANDOC.exists():
        why = f"no pandoc at {PANDOC.relative_to(ROOT)}: run `make bench`, which installs bench/requirements.txt"
        rows["pandoc"] = Row("Pandoc: Markdown -> HTML -> WeasyPrint PDF/UA-1, + EPUB", [], why=why)
        rows["typst"] = Row("Typst: Markdown -> Typst (pandoc) -> PDF/UA-1", [], why=why)
        return rows
    plain = work / "plain"
    files, title = plain_markdown(content, plain)
    meta = ["--metadata", f"title={title}", "--metadata", "lang=en-GB"]
    rows["pandoc"] = Row("Pandoc: Markdown -> HTML -> WeasyPrint PDF/UA-1, + EPUB", [
        ([str(PANDOC), "-s", *meta, "-o", "pandoc.html", *files], plain, None),
        ([PY, "-c", PANDOC_PDF, "pandoc.html", "pandoc.pdf"], plain, None),
        ([str(PANDOC), *meta, "-o", "pandoc.epub", *files], plain, None)], pdf=plain / "pandoc.pdf")
    check = subprocess.run([PY, "-c", "import typst"], env={**os.environ, "PYTHONPATH": str(TOOLS)},
                           capture_output=True, text=True)
    if check.returncode != 0:
        rows["typst"] = Row("Typst: Markdown -> Typst (pandoc) -> PDF/UA-1", [],
                            why=f"typst-py does not import: {check.stderr.strip()[-300:]}")
    else:
        ttf = typst_fonts(work / "typst-fonts")
        rows["typst"] = Row("Typst: Markdown -> Typst (pandoc) -> PDF/UA-1", [
            ([str(PANDOC), "-s", "-t", "typst", *meta, "-V", "mainfont=Atkinson Hyperlegible", "-V",
              "papersize=a4", "-o", "book.typ", *files], plain, None),
            ([PY, "-c", TYPST, "book.typ", "book.pdf", str(ttf), str(plain)], plain,
             {"PYTHONPATH": str(TOOLS)})], pdf=plain / "book.pdf")
    return rows


def measure(rows: dict[str, Row], runs: int) -> None:
    for _ in range(runs):
        for row in rows.values():
            row.once()
    for row in rows.values():
        if row.pdf is not None and not row.why:
            pdf = row.pdf if row.pdf.suffix == ".pdf" else next(row.pdf.glob("*-screen.pdf"))
            row.pdf, row.pages = pdf, pages(pdf)


def show(title: str, rows: dict[str, Row]) -> None:
    print(f"\n{title}")
    print(f"  {'run':<56} {'time':>8} {'CPU':>8} {'peak RSS':>9} {'pages':>6}")
    for key, row in rows.items():
        if row.why:
            print(f"  {row.label:<56} not measured: {row.why.splitlines()[0][:300]}")
            for line in row.why.splitlines()[1:4]:
                print(f"  {'':<56}   {line[:200]}")
            continue
        note = ""
        if key == "bare" and rows["clean"].pages is not None:
            same_pages = row.pages == rows["clean"].pages
            same_fonts = fonts(row.pdf) == fonts(rows["clean"].pdf)
            note = (f"  pages {'as ours' if same_pages else 'DIFFER from ours: ' + str(rows['clean'].pages)}, "
                    f"fonts {'as ours' if same_fonts else 'DIFFER from ours'}")
        if row.reported:
            note = f"  (the rebuild alone; {row.said})"
        pages_text = "" if row.pages is None else str(row.pages)
        print(f"  {row.label:<56} {row.seconds:6.2f} s {row.cpu:6.2f} s {row.peak:6.0f} MB {pages_text:>6}{note}")


def ratio(name: str, rows_a: dict[str, Row], a: str, rows_b: dict[str, Row], b: str,
          target: float | None = None) -> None:
    first, second = rows_a.get(a), rows_b.get(b)
    if not first or not second or first.seconds is None or second.seconds is None:
        print(f"  {name:<62}     –   (not measured)")
        return
    value = first.seconds / second.seconds
    verdict = "" if target is None else f"  target <= {target:.2f}: {'met' if value <= target else 'NOT met'}"
    print(f"  {name:<62} {value:6.2f}{verdict}")


def main() -> None:
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1795499700")
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores ({cores} available), Python "
          f"{platform.python_version()}; load average at the start {load}; medians of {RUNS} runs, taking turns")
    global CODE
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        CODE = snapshot(work / "code")
        try:
            baseline: Path | str = baseline_tree(work / "baseline")
        except Unavailable as exc:
            baseline = str(exc)
        real_content = make(1, work / "x1")
        real = rows_for(real_content, work / "w1", True, baseline)
        measure(real, RUNS)
        show(f"Real guide ({len(parts(real_content))} parts, {words(real_content):,} words)", real)
        large: dict[str, Row] = {}
        if LARGE:
            large_content = make(10, work / "x10")
            large = rows_for(large_content, work / "w10", False, None)
            measure(large, RUNS)
            show(f"Ten times larger ({len(parts(large_content))} parts, {words(large_content):,} words)", large)
    print(f"\nLoad average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("\nIssue 15 targets (real guide unless said)")
    ratio(f"clean build / today's ({BASELINE}'s guide, both)", real, "then", real, "today", 0.60)
    ratio("clean build / bare WeasyPrint with the same fonts", real, "clean", real, "bare", 1.00)
    ratio("one chapter changed, as `watch` rebuilds / clean build", real, "watch", real, "clean", 0.25)
    ratio("ten times larger: the same", large, "watch", large, "clean", 0.10)
    ratio("one chapter changed, a new process / clean build", real, "one chapter", real, "clean", 0.25)
    ratio("ten times larger: the same", large, "one chapter", large, "clean", 0.10)
    c1, c10 = real["clean"], large.get("clean")
    if c10 and c1.seconds and c10.seconds and c1.pages and c10.pages:
        per_page = (c10.seconds / c10.pages) / (c1.seconds / c1.pages)
        label = "ten times larger: clean build time a page / real guide's"
        print(f"  {label:<62} {per_page:6.2f}  target <= 1.05: "
              f"{'met' if per_page <= 1.05 else 'NOT met'}")
        print(f"  {'ten times larger: peak RSS of the clean build (MB)':<62} {c10.peak:6.0f}  target <= 600: "
              f"{'met' if c10.peak <= 600 else 'NOT met'}")
    print("\nBeside them")
    ratio(f"all five editions / today's ({BASELINE}'s guide, both)", real, "then all", real, "today all")
    ratio("clean build / Pandoc pipeline", real, "clean", real, "pandoc")
    ratio("clean build / Typst", real, "clean", real, "typst")
    ratio("no change / clean build", real, "no change", real, "clean")
    ratio("ten times larger: clean build / bare WeasyPrint", large, "clean", large, "bare")


if __name__ == "__main__":
    main()
