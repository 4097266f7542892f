"""The generated accessibility statement: a part whose front matter says
`generated: accessibility-statement` opens with the statement, which the
build writes for each edition (templates/partials/accessibility-statement.html.j2,
guidepub/statement.py). Here, at load time: only one part may ask for it,
guide.yaml must then give `contact` (an email address at least), and the
statement's headings join the part's, so the contents, cross-references and
the PDF's heading check know them."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import Problems
from ..model import Document, GuideMeta, Heading
from .files import read_text
from .yamlio import node_line

STATEMENT = "accessibility-statement"
# (level, id suffix, heading): every edition prints the same headings, worded
# alike, so the formats keep the same structure (PARITY-HEADINGS). Ids with
# "--" are the build's own: no content id can take them.
SECTIONS = ((2, "statement", "Accessibility statement"),
            (3, "statement-using", "Using this edition"),
            (3, "statement-editions", "Editions of this guide"),
            (3, "statement-checks", "How we checked this edition"),
            (3, "statement-contact", "Asking for another format or reporting a problem"))


def section_ids(doc: Document) -> dict[str, str]:
    """Id suffix -> the id in this document, e.g. "statement" -> "accessibility--statement"."""
    return {suffix: f"{doc.id}--{suffix}" for _, suffix, _ in SECTIONS}


def _generated_line(doc: Document, real: Path) -> int | None:
    """The line of `generated:` in the part's front matter."""
    for number, line in enumerate(read_text(real, shown=doc.path).splitlines()[:doc.line_offset], 1):
        if re.match(r"generated\s*:", line):
            return number
    return None


def statement_parts(meta: GuideMeta, node, documents: list[Document], listed: list[tuple[str, str, Path]],
                    content: Path, guide_file: Path, problems: Problems) -> None:
    """Check the part (if any) that asks for the statement, and give it the
    statement's headings. `listed`: (guide.yaml key, path as listed, real
    path) of each part, in the order they were read."""
    asking = [d for d in documents if d.meta.generated == STATEMENT]
    if not asking:
        return
    # Each part as load read it (content / path as listed): its real path and its line in guide.yaml.
    where = {content / rel: (real, node_line(node, (key, getattr(meta, key).index(rel))))
             for key, rel, real in listed}
    first = asking[0]
    for extra in asking[1:]:
        problems.add("CONTENT-SCHEMA", f"field 'generated': {first.path.name} already holds the accessibility "
                     "statement", extra.path, _generated_line(extra, where[extra.path][0]),
                     "a guide has one accessibility statement: take `generated:` out of this part's front matter")
    if meta.contact is None:
        problems.add("CONTENT-SCHEMA", f"field 'contact' is missing: {first.path.relative_to(content).as_posix()} "
                     "asks for the generated accessibility statement, which tells readers how to reach you",
                     guide_file, where[first.path][1], "add `contact:` with at least `email:` (and `phone:`, "
                     "`address:` and `reply_days:` if you have them); see docs/guide-yaml.md (Contact)")
    ids = section_ids(first)
    first.headings[:0] = [Heading(level, text, ids[suffix], first.line_offset) for level, suffix, text in SECTIONS]
