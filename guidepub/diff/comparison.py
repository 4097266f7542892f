"""Compare two build folders, cheapest first: editions whose files are byte
for byte the same are not even read; then metadata, text by section,
figures, the EPUB's other files, structure, and the pages of every PDF
edition. Pages are aligned by their content before anything is rendered,
so an inserted paragraph shows as the pages of its chapter changed and the
rest renumbered, not as a wall of changed pages."""

from __future__ import annotations

import difflib
import multiprocessing
import os
import re
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable

from .css import declarations_diff
from .extract import PAGE_REF, EpubSide, PdfSide, Section, Side, read_manifest, read_side
from .model import (Diff, EditionChange, FigureChange, FileChange, PageChange, SectionChange,
                    StructureChange)
from .pages import Renderer, page_boxes

Progress = Callable[[str], None]
NUMBER = re.compile(r"\d+")


def compare(base_folder, head_folder, progress: Progress | None = None) -> tuple[Diff, Side, Side]:
    say = progress or (lambda _message: None)
    started = time.perf_counter()
    base_manifest, base_outputs = read_manifest(base_folder)
    head_manifest, head_outputs = read_manifest(head_folder)
    editions = _editions(base_outputs, head_outputs)
    diff = Diff(identical=all(e.status == "unchanged" for e in editions), editions=editions)
    if diff.identical:
        say("Every edition is byte for byte the same")
        return diff, Side(base_folder, base_manifest, base_outputs), Side(head_folder, head_manifest, head_outputs)
    differing = {e.variant for e in editions if e.status == "changed"}
    say(f"Reading {_names(editions, differing)} of base and head "
        f"({', '.join(e.variant for e in editions if e.status == 'unchanged') or 'none'} byte for byte the same)")
    base, head = _read_both(base_folder, head_folder, differing)
    diff.timings["read"] = round(time.perf_counter() - started, 2)
    step = time.perf_counter()
    diff.metadata = _metadata(base, head, differing)
    structures: list[StructureChange] = []
    if base.epub and head.epub:
        say("Comparing the EPUB: sections, figures, files")
        diff.sections = _sections(base.epub.sections, head.epub.sections)
        diff.renumbered_documents = _renumbered_documents(base.epub, head.epub)
        diff.figures = _figures(base.epub, head.epub)
        diff.files = _files(base.epub, head.epub, diff.figures)
        structures += _structure(base.epub.structure, head.epub.structure, "epub")
    for variant in [e.variant for e in editions if e.variant in differing and e.format == "pdf"]:
        structures += _structure(base.pdfs[variant].structure, head.pdfs[variant].structure, variant)
    # An edition of another format (a website) is compared file by file, and
    # a website's text and structure like the EPUB's: its sections are
    # reported where they differ from what the EPUB's report already says.
    told = {(s.heading, s.status, s.diff) for s in diff.sections}
    for e in editions:
        if e.variant in differing and e.format not in ("pdf", "epub"):
            diff.files += _folder_files(base.path(e.variant), head.path(e.variant), e.variant)
            if e.variant in base.webs and e.variant in head.webs:
                say(f"Comparing the {e.variant} edition: sections and structure")
                a, b = base.webs[e.variant], head.webs[e.variant]
                for change in _sections(a.sections, b.sections):
                    if change.status != "unchanged" and (change.heading, change.status, change.diff) not in told:
                        change.place = f"{e.variant} edition: {change.place}"
                        diff.sections.append(change)
                structures += _structure(a.structure, b.structure, e.variant)
    diff.structure = _merge(structures)
    diff.timings["compare"] = round(time.perf_counter() - step, 2)
    step = time.perf_counter()
    with Renderer() as renderer:
        for variant in [e.variant for e in editions if e.variant in differing and e.format == "pdf"]:
            diff.pages[variant] = _pages(base.pdfs[variant], head.pdfs[variant], renderer, say)
    diff.timings["pages"] = round(time.perf_counter() - step, 2)
    return diff, base, head


def _read_both(base_folder, head_folder, variants: set[str]) -> tuple[Side, Side]:
    """Read the two sides at once, the head in a second process (reading a
    PDF's tagged text is most of a diff's time), where there are two cores."""
    if (os.cpu_count() or 1) < 2:
        return read_side(base_folder, variants), read_side(head_folder, variants)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        head = pool.submit(read_side, head_folder, variants)
        base = read_side(base_folder, variants)
        return base, head.result()


def _names(editions: list[EditionChange], variants: set[str]) -> str:
    return ", ".join(e.variant for e in editions if e.variant in variants) or "nothing"


def _editions(base: dict[str, dict], head: dict[str, dict]) -> list[EditionChange]:
    order = list(head) + [v for v in base if v not in head]
    found = []
    for variant in order:
        a, b = base.get(variant), head.get(variant)
        if a and b:
            status = "unchanged" if a.get("sha256") == b.get("sha256") else "changed"
        else:
            status = "added" if b else "removed"
        found.append(EditionChange(variant, (b or a).get("format", ""), status,
                                   (a or {}).get("pages"), (b or {}).get("pages")))
    return found


# --- metadata ----------------------------------------------------------------

def _flatten(data: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, name + ": "))
        else:
            flat[name] = ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    return flat


def _metadata(base: Side, head: Side, differing: set[str]) -> list[dict]:
    """Fields that differ, each once with the editions it differs in."""
    rows: list[tuple[str, str, str | None, str | None]] = []

    def add(edition: str, a: dict, b: dict) -> None:
        fa, fb = _flatten(a), _flatten(b)
        rows.extend((edition, k, fa.get(k), fb.get(k)) for k in sorted(fa.keys() | fb.keys())
                    if fa.get(k) != fb.get(k))

    def book(manifest: dict) -> dict:
        return {"edition": manifest.get("edition"), "version": manifest.get("version"),
                "build date": manifest.get("build_date"), "toolchain": manifest.get("toolchain", {})}
    add("all", book(base.manifest), book(head.manifest))
    for variant in base.outputs:
        if variant in differing and variant in base.pdfs and variant in head.pdfs:
            add(variant, base.pdfs[variant].metadata, head.pdfs[variant].metadata)
    if base.epub and head.epub:
        add("epub", base.epub.metadata, head.epub.metadata)
    merged: dict[tuple, list[str]] = {}
    for edition, key, a, b in rows:
        merged.setdefault((key, a, b), []).append(edition)
    return [{"field": key, "edition": ", ".join(eds), "base": a, "head": b} for (key, a, b), eds in merged.items()]


# --- text --------------------------------------------------------------------

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
    which were added, removed, changed or moved (from where to where)."""
    base, head = _stable_ids(base), _stable_ids(head)
    by_id = {s.id: s for s in base}
    pairing = {s.id: by_id[s.id] for s in head if s.id in by_id}
    spare = [s for s in base if all(s is not p for p in pairing.values())]
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
    for n, s in enumerate(head):
        before = pairing.get(s.id)
        if before is None:
            changes.append(SectionChange(s.id, s.heading, s.place, "added", " ".join(s.words[:40])))
        elif before.words != s.words or before.heading != s.heading:
            renamed = before.heading != s.heading
            changes.append(SectionChange(s.id, s.heading, s.place, "changed", word_diff(
                ([f"#{before.heading}"] if renamed else []) + before.words,
                ([f"#{s.heading}"] if renamed else []) + s.words)))
        elif s.id in kept:
            changes.append(SectionChange(s.id, s.heading, s.place, "unchanged"))
        else:
            i = position[id(before)]
            changes.append(SectionChange(
                s.id, s.heading, s.place, "moved", base_place=before.place,
                base_after=base[i - 1].heading if i and base[i - 1].document == before.document else "",
                after=head[n - 1].heading if n and head[n - 1].document == s.document else ""))
    changes += [SectionChange(s.id, s.heading, s.place, "removed", " ".join(s.words[:40])) for s in spare]
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
            s = Section(f"{s.document}#{s.heading}#{n}", s.heading, s.level, s.document, s.words, s.place)
        result.append(s)
    return result


def _in_order(base_order: list[str], head_order: list[str]) -> set[str]:
    """Sections that kept their order: the longest common subsequence."""
    matcher = difflib.SequenceMatcher(None, base_order, head_order, autojunk=False)
    return {k for block in matcher.get_matching_blocks() for k in base_order[block.a:block.a + block.size]}


def _renumbered_documents(base: EpubSide, head: EpubSide) -> list[str]:
    """Documents whose name changed only in its numbers: 'Chapter 4 → Chapter 5: Teams'."""
    found = []
    for href, name in head.documents.items():
        old = base.documents.get(href)
        if old and old != name and NUMBER.sub("#", old) == NUMBER.sub("#", name):
            found.append(f"{old.split(':')[0]} → {name}")
    return found


# --- figures and files -------------------------------------------------------------

def _figure_facts(f) -> dict:
    return {"label": f.label, "caption": f.caption, "alt": f.alt, "src": f.src, "sha256": f.sha256,
            "place": f.place}


def _figures(base: EpubSide, head: EpubSide) -> list[FigureChange]:
    """Each figure of either side once: matched by id, else by image, else by
    alt text; what changed about it."""
    spare = list(base.figures)
    pairs = []
    for f in head.figures:
        twin = next((o for o in spare if o.id == f.id), None) \
            or next((o for o in spare if o.sha256 == f.sha256 and o.src == f.src), None) \
            or next((o for o in spare if o.alt == f.alt and o.alt), None)
        if twin:
            spare.remove(twin)
        pairs.append((twin, f))
    changes = []
    for before, after in pairs:
        if before is None:
            changes.append(FigureChange(after.label, after.id, after.place, "added", ["added"], {},
                                        _figure_facts(after)))
            continue
        what = []
        if before.sha256 != after.sha256:
            what.append("image changed" if before.src == after.src else f"image changed ({before.src} → {after.src})")
        elif before.src != after.src:
            what.append(f"image file renamed ({before.src} → {after.src})")
        if before.alt != after.alt:
            what.append("alt text changed")
        if before.caption != after.caption:
            what.append("caption changed")
        if before.place != after.place and NUMBER.sub("#", before.place) != NUMBER.sub("#", after.place):
            what.append(f"moved from {before.place} to {after.place}")
        renumbered = before.label != after.label
        status = "changed" if what else "renumbered" if renumbered else "unchanged"
        if renumbered:
            what.append(f"renumbered ({before.label} → {after.label})")
        changes.append(FigureChange(after.label, after.id, after.place, status, what,
                                    _figure_facts(before), _figure_facts(after)))
    changes += [FigureChange(f.label, f.id, f.place, "removed", ["removed"], _figure_facts(f), {}) for f in spare]
    return changes


KINDS_OF_FILE = {".css": "stylesheet", ".woff2": "font", ".woff": "font", ".ttf": "font", ".otf": "font",
                 ".svg": "image", ".png": "image", ".jpg": "image", ".jpeg": "image", ".gif": "image",
                 ".webp": "image", ".pdf": "download", ".epub": "download"}


def _files(base: EpubSide, head: EpubSide, figures: list[FigureChange]) -> list[FileChange]:
    """Every file of the EPUB that is not a document (stylesheets, fonts,
    images), compared by hash; a stylesheet's changed declarations named."""
    shown_by = {f.head.get("src") or f.base.get("src"): f.label for f in figures}
    changes = []
    for name in sorted(base.files.keys() | head.files.keys()):
        a, b = base.files.get(name), head.files.get(name)
        if a and b and a[0] == b[0]:
            continue
        kind = KINDS_OF_FILE.get("." + name.rsplit(".", 1)[-1].lower(), "other")
        status = "changed" if a and b else "added" if b else "removed"
        change = FileChange(name, kind, status, a[1] if a else None, b[1] if b else None,
                            figure=shown_by.get(name, ""))
        if kind == "stylesheet" and status == "changed":
            change.details = declarations_diff(_read(base.path, name), _read(head.path, name))
        changes.append(change)
    return changes


def _folder_files(a: Path, b: Path, edition: str) -> list[FileChange]:
    """The files of an edition that is a folder (a website), by hash; a
    stylesheet's changed declarations named."""
    def files(folder: Path) -> dict[str, Path]:
        if folder.is_file():
            return {folder.name: folder}
        return {p.relative_to(folder).as_posix(): p for p in sorted(folder.rglob("*")) if p.is_file()}
    before, after = files(a), files(b)
    changes = []
    for name in sorted(before.keys() | after.keys()):
        x, y = before.get(name), after.get(name)
        data_x, data_y = (x.read_bytes() if x else None), (y.read_bytes() if y else None)
        if data_x == data_y:
            continue
        suffix = "." + name.rsplit(".", 1)[-1].lower()
        kind = "page" if suffix in (".html", ".xhtml") else KINDS_OF_FILE.get(suffix, "other")
        change = FileChange(name, kind, "changed" if x and y else "added" if y else "removed",
                            len(data_x) if x else None, len(data_y) if y else None, edition=edition)
        if kind == "stylesheet" and x and y:
            change.details = declarations_diff(data_x.decode("utf-8", "replace"), data_y.decode("utf-8", "replace"))
        changes.append(change)
    return changes


def _read(epub, name: str) -> str:
    with zipfile.ZipFile(epub) as z:
        return z.read(f"EPUB/{name}").decode("utf-8", errors="replace")


# --- structure ------------------------------------------------------------------

def _structure(base: dict, head: dict, edition: str) -> list[StructureChange]:
    changes = []
    for kind in sorted(base.keys() | head.keys()):
        a, b = base.get(kind, []), head.get(kind, [])
        if a == b:
            continue
        if isinstance(a, dict):              # counts, e.g. of each tag role
            changes.append(StructureChange(kind, [edition], changed=[
                f"{k}: {a.get(k, 0)} → {b.get(k, 0)}" for k in sorted(a.keys() | b.keys()) if a.get(k) != b.get(k)]))
            continue
        change = _list_change(list(a), list(b))
        change.kind, change.editions = kind, [edition]
        if change.removed or change.added or change.moved or change.renumbered:
            changes.append(change)
    return changes


def _list_change(a: list[str], b: list[str]) -> StructureChange:
    """What was removed and added; an item removed and added again is moved,
    and one that differs only in its numbers is renumbered."""
    removed, added = [], []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag != "equal":
            removed += a[i1:i2]
            added += b[j1:j2]
    moved = []
    for item in list(removed):
        if item in added:
            moved.append(item)
            removed.remove(item)
            added.remove(item)
    renumbered = []
    for item in list(removed):
        twin = next((x for x in added if NUMBER.sub("#", x) == NUMBER.sub("#", item)), None)
        if twin is not None:
            renumbered.append(f"{item.strip()} → {twin.strip()}")
            removed.remove(item)
            added.remove(twin)
    return StructureChange("", [], removed, added, moved, renumbered)


def _merge(changes: list[StructureChange]) -> list[StructureChange]:
    """The same change found in several editions, shown once."""
    merged: dict[tuple, StructureChange] = {}
    for change in changes:
        key = (change.kind, tuple(change.removed), tuple(change.added), tuple(change.moved),
               tuple(change.renumbered), tuple(change.changed))
        if key in merged:
            merged[key].editions += change.editions
        else:
            merged[key] = change
    return list(merged.values())


# --- pages ---------------------------------------------------------------------

def _signature(text: str) -> str:
    """A page's content for alignment: page numbers in cross-references and
    other numbers left out, so renumbering alone never breaks a match."""
    return NUMBER.sub("#", PAGE_REF.sub("(page #)", text))


def _pages(base: PdfSide, head: PdfSide, renderer: Renderer, say: Progress) -> list[PageChange]:
    a = [_signature(t) for t in base.pages]
    b = [_signature(t) for t in head.pages]
    changes: list[PageChange] = []
    to_render: list[PageChange] = []
    numbers_only: set[int] = set()                   # ids of changes whose text differs only in numbers
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            for i, j in zip(range(i1, i2), range(j1, j2)):
                change = PageChange("unchanged" if i == j else "renumbered", i + 1, j + 1)
                if base.pages[i] != head.pages[j]:
                    # Only numbers differ (the page a cross-reference or the
                    # contents prints): compared without the lines that hold them.
                    change.status = "renumbered"
                    numbers_only.add(id(change))
                    to_render.append(change)
                elif base.page_hashes[i] != head.page_hashes[j]:
                    to_render.append(change)            # drawn differently: rendering tells
                changes.append(change)
            continue
        pairs = min(i2 - i1, j2 - j1)
        for k in range(pairs):
            change = PageChange("changed", i1 + k + 1, j1 + k + 1)
            to_render.append(change)
            changes.append(change)
        changes += [PageChange("removed", i + 1, None) for i in range(i1 + pairs, i2)]
        changes += [PageChange("added", None, j + 1) for j in range(j1 + pairs, j2)]
    say(f"Comparing pages of {head.variant}: {len(head.pages)} pages, {len(to_render)} to render")
    # Only pages not proven the same are rendered and compared pixel by pixel;
    # a renumbered page is compared without its running head and number.
    for change in to_render:
        change.boxes = page_boxes(renderer, base.path, change.base - 1, head.path, change.head - 1,
                                  frame=head.frames[change.head - 1], skip_margins=change.base != change.head,
                                  skip_numbers=id(change) in numbers_only)
        if change.boxes:
            change.status = "changed"
        elif change.status == "changed":
            change.status = "unchanged" if change.base == change.head else "renumbered"
    return changes
