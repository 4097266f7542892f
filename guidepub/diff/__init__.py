"""Stage 5: show what a change did to the published guide.

`compare(base, head)` (comparison.py) reads two build folders and compares
every edition they share: metadata, text by section, figures, the EPUB's
stylesheets, fonts and images, structure, and the pages of every PDF edition.
`revisions.py` builds git revisions for `diff --rev`, `sources.py` says what
changed in their sources, `report.py` writes summary.md, report.html and
diff.json, `command.py` is the `diff` command and `ci.py` the pull-request
job's summary and comment.

This module stays light (the command line imports KINDS from it); the rest
loads on first use."""

from __future__ import annotations

from .model import KINDS, Diff, FigureChange, FileChange, PageChange, SectionChange, StructureChange

__all__ = ["KINDS", "Diff", "FigureChange", "FileChange", "PageChange", "SectionChange", "StructureChange",
           "compare", "word_diff"]


def __getattr__(name: str):
    if name in ("compare", "word_diff"):
        from . import comparison as module
        return getattr(module, name)
    raise AttributeError(name)
