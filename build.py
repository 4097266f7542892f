#!/usr/bin/env python3
"""Build the guide: `python build.py --help` lists the options.

A thin entry point; the pipeline lives in the guidepub package."""

import sys

from guidepub.cli import main

if __name__ == "__main__":
    sys.exit(main())
