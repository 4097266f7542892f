"""How the processes a build lays out in change its time: clean builds of all
five editions of the real guide (three PDF layouts, the EPUB with the
screen PDF's), with every layout in one process, with a process a core (the
rule before issue 15), and as guidepub.pipeline.processes_for() chooses
(three processes on two cores). The bytes must not change: the outputs of
every run are compared. Prints medians; asserts nothing. (The default build,
screen PDF + EPUB, is one job: it runs in one process whatever the rule.)

    .venv/bin/python bench/parallel.py        # BENCH_RUNS (default 3) runs of each, taking turns
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import run as bench  # noqa: E402
from bench.run import PY, RUNS, Row, measure, show  # noqa: E402
from bench.synthetic import make  # noqa: E402
from guidepub.manifest import output_sha256  # noqa: E402


def main() -> None:
    os.environ.setdefault("SOURCE_DATE_EPOCH", "1795499700")
    cores = len(os.sched_getaffinity(0))
    print(f"{cores} cores available; load average at the start "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; medians of {RUNS} runs, taking turns")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        content = make(1, work / "x1")
        code = bench.snapshot(work / "code")
        rows: dict[str, Row] = {}
        for editions, extra in (("all five editions", ["--variant", "all"]),):
            for key, label, knob in (("one", "in one process", ["--processes", "1"]),
                                     ("core", f"a process a core ({cores})", ["--processes", str(cores)]),
                                     ("auto", "as processes_for() chooses", [])):
                out = work / f"{editions[:3]}-{key}"
                rows[f"{editions} {key}"] = Row(
                    f"{editions}, {label}",
                    [([PY, str(code / "bench" / "driver.py"), *knob, "--", "-q", "--content", str(content),
                       "--out", str(out), "--no-cache", *extra], code, None)], pdf=out)
        measure(rows, RUNS)
        show("Real guide, clean builds", rows)
        print("\nRatios (lower is faster)")
        for editions in ("all five editions",):
            one, core, auto = (rows[f"{editions} {k}"] for k in ("one", "core", "auto"))
            if all(r.seconds for r in (one, core, auto)):
                print(f"  {editions}: chosen / a process a core {auto.seconds / core.seconds:5.2f}; "
                      f"chosen / one process {auto.seconds / one.seconds:5.2f}")
            outputs = [{p.name: output_sha256(p) for p in r.pdf.parent.iterdir() if not p.name.startswith(".")}
                       for r in (one, core, auto) if not r.why]
            same = len(outputs) == 3 and all(o == outputs[0] for o in outputs)
            print(f"  {editions}: outputs of the three {'byte-identical' if same else 'DIFFER'}")
    print(f"Load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
