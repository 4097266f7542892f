"""Stage 5: show what a change did to the published guide.

`compare(base, head)` reads two build folders and compares them, cheapest
first: byte-identical files end it at once; then metadata, text by section,
structure, and pages. Pages are aligned by their content before anything is
rendered, so an inserted paragraph shows as one changed page and the rest as
renumbered, not as a wall of changed pages."""

from __future__ import annotations

import difflib
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .extract import PAGE_REF, Section, Side, read_side
from .pages import page_boxes

KINDS = ("metadata", "text", "structure", "pages")


@dataclass
class SectionChange:
    id: str
    heading: str
    document: str
    status: str                 # added, removed, changed, moved, unchanged
    diff: str = ""              # a short word diff: [-old-]{+new+}


@dataclass
class PageChange:
    status: str                 # unchanged, renumbered, changed, added, removed
    base: int | None            # 1-based page numbers
    head: int | None
    boxes: list[list[float]] = field(default_factory=list)   # changed regions on the head page, in points


@dataclass
class Diff:
    identical: bool
    metadata: list[dict] = field(default_factory=list)        # {field, base, head}
    sections: list[SectionChange] = field(default_factory=list)
    structure: dict[str, dict] = field(default_factory=dict)  # kind -> {removed, added}
    pages: list[PageChange] = field(default_factory=list)

    @property
    def changed(self) -> set[str]:
        kinds = set()
        if self.metadata:
            kinds.add("metadata")
        if any(s.status != "unchanged" for s in self.sections):
            kinds.add("text")
        if self.structure:
            kinds.add("structure")
        if any(p.status not in ("unchanged", "renumbered") for p in self.pages):
            kinds.add("pages")
        return kinds

    def counts(self, what: str) -> dict[str, int]:
        items = self.sections if what == "sections" else self.pages
        result: dict[str, int] = {}
        for item in items:
            result[item.status] = result.get(item.status, 0) + 1
        return result

    def to_dict(self) -> dict:
        return asdict(self) | {"changed": sorted(self.changed)}


def compare(base_folder: Path, head_folder: Path) -> tuple[Diff, Side, Side]:
    base, head = read_side(base_folder), read_side(head_folder)
    hashes = lambda side: [(e["variant"], e["sha256"]) for e in side.manifest["outputs"]]   # noqa: E731
    if hashes(base) == hashes(head):
        return Diff(identical=True), base, head
    diff = Diff(identical=False)
    diff.metadata = _metadata(base.metadata, head.metadata)
    diff.sections = _sections(base.sections, head.sections)
    diff.structure = _structure(base.structure, head.structure)
    diff.pages = _pages(base, head)
    return diff, base, head


def _flatten(data: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + ": "))
        else:
            flat[name] = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return flat


def _metadata(base: dict, head: dict) -> list[dict]:
    a, b = _flatten(base), _flatten(head)
    return [{"field": k, "base": a.get(k), "head": b.get(k)} for k in sorted(set(a) | set(b))
            if a.get(k) != b.get(k)]


def word_diff(old: list[str], new: list[str], context: int = 6, limit: int = 600) -> str:
    """The changed words with a little context: `... kept [-old-]{+new+} kept ...`."""
    parts: list[str] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            words = old[i1:i2]
            if len(words) > 2 * context:
                words = (words[:context] if parts else []) + ["…"] + words[-context:]
            parts.append(" ".join(words))
        else:
            if i2 > i1:
                parts.append(f"[-{' '.join(old[i1:i2])}-]")
            if j2 > j1:
                parts.append(f"{{+{' '.join(new[j1:j2])}+}}")
    text = " ".join(p for p in parts if p)
    return text if len(text) <= limit else text[:limit] + " …"


def _sections(base: list[Section], head: list[Section]) -> list[SectionChange]:
    """Match sections by id (a renamed heading: by identical text), then say
    which were added, removed, changed or moved."""
    base, head = _stable_ids(base), _stable_ids(head)
    by_id = {s.id: s for s in base}
    pairing = {s.id: by_id[s.id] for s in head if s.id in by_id}
    spare = [s for s in base if s.id not in pairing]
    for s in head:
        if s.id not in pairing:
            twin = next((o for o in spare if o.words == s.words), None)
            if twin:
                pairing[s.id] = twin
                spare.remove(twin)
    position = {id(s): n for n, s in enumerate(base)}
    head_order = [s.id for s in head if s.id in pairing]
    base_order = sorted(head_order, key=lambda k: position[id(pairing[k])])
    kept = _in_order(base_order, head_order)
    changes: list[SectionChange] = []
    for s in head:
        before = pairing.get(s.id)
        if before is None:
            changes.append(SectionChange(s.id, s.heading, s.document, "added", " ".join(s.words[:40])))
        elif before.words != s.words or before.heading != s.heading:
            renamed = before.heading != s.heading
            changes.append(SectionChange(s.id, s.heading, s.document, "changed", word_diff(
                ([f"#{before.heading}"] if renamed else []) + before.words,
                ([f"#{s.heading}"] if renamed else []) + s.words)))
        else:
            changes.append(SectionChange(s.id, s.heading, s.document, "unchanged" if s.id in kept else "moved"))
    changes += [SectionChange(s.id, s.heading, s.document, "removed", " ".join(s.words[:40])) for s in spare]
    return changes


def _stable_ids(sections: list[Section]) -> list[Section]:
    """A block's heading id is its position in the chapter (`ch-x--block-3`),
    which shifts when a block is added before it; match those by chapter,
    title and occurrence instead."""
    seen: dict[tuple[str, str], int] = {}
    result = []
    for s in sections:
        if "--block-" in s.id:
            n = seen[(s.document, s.heading)] = seen.get((s.document, s.heading), 0) + 1
            s = Section(f"{s.document}#{s.heading}#{n}", s.heading, s.level, s.document, s.words)
        result.append(s)
    return result


def _in_order(base_order: list[str], head_order: list[str]) -> set[str]:
    """Sections that kept their order: the longest common subsequence."""
    matcher = difflib.SequenceMatcher(None, base_order, head_order, autojunk=False)
    return {k for block in matcher.get_matching_blocks() for k in base_order[block.a:block.a + block.size]}


def _structure(base: dict, head: dict) -> dict[str, dict]:
    changes: dict[str, dict] = {}
    for kind in base.keys() | head.keys():
        a, b = base.get(kind, []), head.get(kind, [])
        if a == b:
            continue
        if isinstance(a, dict):              # counts, e.g. of each tag role
            changes[kind] = {"removed": [], "added": [], "changed": [
                f"{k}: {a.get(k, 0)} → {b.get(k, 0)}" for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)]}
            continue
        a, b = list(a), list(b)
        removed, added = [], []
        for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
            if tag != "equal":
                removed += a[i1:i2]
                added += b[j1:j2]
        changes[kind] = {"removed": removed, "added": added, "changed": []}
    return dict(sorted(changes.items()))


def _signature(text: str) -> str:
    """A page's content for alignment: page numbers in cross-references and
    other numbers left out, so renumbering alone never breaks a match."""
    return re.sub(r"\d+", "#", PAGE_REF.sub("(page #)", text))


def _pages(base: Side, head: Side) -> list[PageChange]:
    a = [_signature(t) for t in base.pages]
    b = [_signature(t) for t in head.pages]
    changes: list[PageChange] = []
    to_render: list[PageChange] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2)):
                change = PageChange("unchanged" if i == j else "renumbered", i + 1, j + 1)
                if PAGE_REF.sub("", base.pages[i]) != PAGE_REF.sub("", head.pages[j]):
                    change.status = "changed"          # a number in the text changed
                    to_render.append(change)
                elif base.pages[i] == head.pages[j] and base.page_hashes[i] != head.page_hashes[j]:
                    # Same words, drawn differently (colour, spacing, an image):
                    # compare the pixels. Pages whose only difference is the page
                    # numbers of cross-references count as renumbered.
                    to_render.append(change)
                changes.append(change)
            continue
        pairs = min(i2 - i1, j2 - j1)
        for k in range(pairs):
            change = PageChange("changed", i1 + k + 1, j1 + k + 1)
            to_render.append(change)
            changes.append(change)
        changes += [PageChange("removed", i + 1, None) for i in range(i1 + pairs, i2)]
        changes += [PageChange("added", None, j + 1) for j in range(j1 + pairs, j2)]
    # Only pages not proven the same are rendered and compared pixel by pixel;
    # a renumbered page is compared without its margins (running head, number).
    for change in to_render:
        change.boxes = page_boxes(base.pdf, change.base - 1, head.pdf, change.head - 1,
                                  skip_margins=change.base != change.head)
        if change.boxes:
            change.status = "changed"
        elif change.status == "changed":
            change.status = "unchanged" if change.base == change.head else "renumbered"
    return changes
