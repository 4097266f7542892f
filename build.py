#!/usr/bin/env python3
"""Build the guide: `python build.py --help` lists the options.

A thin entry point; the pipeline lives in the guidepub package. Run outside
the project's virtual environment, it hands over to `.venv/bin/python` when
`make` has made one, and otherwise says how to set up."""

import os
import signal
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENV_PYTHON = HERE / ".venv" / "bin" / "python"


def _outside_venv() -> int:
    if VENV_PYTHON.is_file() and not os.environ.get("GUIDEPUB_HANDED_OVER"):
        os.environ["GUIDEPUB_HANDED_OVER"] = "1"       # once: never a loop
        os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), str(Path(__file__).resolve()), *sys.argv[1:]])
    print("The publisher's Python packages are not installed. Set up once with `make` "
          f"(in {HERE}); it makes .venv with every package. Then run `.venv/bin/python build.py` "
          "or `. .venv/bin/activate` first.", file=sys.stderr)
    return 2


if __name__ == "__main__":
    def stop(number, _frame):
        print(f"Stopped ({signal.Signals(number).name}).", file=sys.stderr)
        sys.exit(128 + number)

    # Until the command line takes over (guidepub.interrupt), SIGINT, SIGTERM
    # and SIGHUP end the program with one line and 128 + the signal's number.
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)
    try:
        from guidepub.cli import main
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.split(".")[0] == "guidepub":
            raise
        sys.exit(_outside_venv())
    sys.exit(main())
