"""The diff's three reports: summary.md (for a CI job summary or a pull
request comment: no images, under 60 KB), report.html (one self-contained
file, under 3 MB whatever the change: base | head pictures of the changed
pages with the changed regions boxed, full size for the first few, then
thumbnails, then page numbers) and diff.json (for tools and tests)."""

from __future__ import annotations

import base64
import html
import json
import zipfile
from pathlib import Path

from ..outputs import atomic_path
from .extract import Side
from .model import Diff, PageChange
from .pages import DPI, THUMB_DPI, Renderer, picture

SUMMARY_LIMIT = 60_000
IMAGE_BUDGET = 2_500_000          # bytes of base64 pictures in report.html; the rest is text
FULL_PAIRS = 2                    # full-size pairs of changed pages, per edition
THUMB_PAIRS = 24                  # then thumbnails, per edition
FIGURE_BYTES = 150_000            # a figure larger than this is not embedded


# --- shared wording ----------------------------------------------------------

def ranges(numbers: list[int]) -> str:
    """[3, 5, 6, 7, 9] -> '3, 5–7, 9'."""
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and n == runs[-1][1] + 1:
            runs[-1][1] = n
        else:
            runs.append([n, n])
    return ", ".join(str(a) if a == b else f"{a}–{b}" for a, b in runs)


def renumbering(pages: list[PageChange]) -> str:
    """'24–73 → 25–74': runs of renumbered pages with the same shift."""
    runs: list[list[int]] = []                     # [first base, last base, shift]
    for p in pages:
        if p.status != "renumbered" or p.base is None or p.head is None:
            continue
        shift = p.head - p.base
        if runs and p.base == runs[-1][1] + 1 and shift == runs[-1][2]:
            runs[-1][1] = p.base
        else:
            runs.append([p.base, p.base, shift])
    same = [p.base for p in pages if p.status == "renumbered" and p.base == p.head]
    parts = [f"{a}–{b} → {a + s}–{b + s}" if a != b else f"{a} → {a + s}" for a, b, s in runs if s]
    if same:
        parts.append(f"{ranges(same)} (only the page numbers they print)")
    return "; ".join(parts)


def edition_line(variant: str, pages: list[PageChange]) -> str:
    """'screen: 20 of 74 pages changed (3, 5–20, 22); renumbered 24–73 → 25–74; 1 added (24)'."""
    total = max([p.head or 0 for p in pages] or [0])
    changed = [p.head for p in pages if p.status == "changed"]
    added = [p.head for p in pages if p.status == "added"]
    removed = [p.base for p in pages if p.status == "removed"]
    parts = [f"{len(changed)} of {total} pages changed" + (f" ({ranges(changed)})" if changed else "")]
    if added:
        parts.append(f"{len(added)} added ({ranges(added)})")
    if removed:
        parts.append(f"{len(removed)} removed (base {ranges(removed)})")
    moved = renumbering(pages)
    if moved:
        parts.append(f"renumbered {moved}")
    return f"{variant}: " + "; ".join(parts)


def effect(diff: Diff) -> str:
    """'62 pages changed in 3 PDF editions (screen 20, …); EPUB: 1 stylesheet, 2 sections changed'."""
    changed = diff.pages_changed()
    parts = []
    if changed:
        parts.append(f"{sum(changed.values())} pages changed in {len(changed)} PDF edition(s) ("
                     + ", ".join(f"{v} {n}" for v, n in changed.items()) + ")")
    editions: dict[str, dict[str, int]] = {}
    for f in diff.files:
        kinds = editions.setdefault(f.edition, {})
        kinds[f.kind] = kinds.get(f.kind, 0) + 1
    for edition, kinds in editions.items():
        if edition != "epub":
            parts.append(f"{edition}: " + ", ".join(f"{n} {k}{'s' if n > 1 else ''}" for k, n in kinds.items())
                         + " changed")
    epub = []
    if editions.get("epub"):
        epub.append(", ".join(f"{n} {k}{'s' if n > 1 else ''}" for k, n in editions["epub"].items()) + " changed")
    sections = sum(s.status != "unchanged" for s in diff.sections)
    if sections:
        epub.append(f"{sections} section(s) changed")
    figures = sum(f.status not in ("unchanged", "renumbered") for f in diff.figures)
    if figures:
        epub.append(f"{figures} figure(s) changed")
    if epub:
        parts.append("EPUB: " + ", ".join(epub))
    if diff.metadata and not parts:
        parts.append(f"metadata only ({len(diff.metadata)} field(s))")
    return "; ".join(parts) or "no visible change"


def file_groups(files) -> list[tuple[str, list]]:
    """The changed files as (heading, files): one line a file, but many
    files of one edition, kind and status with nothing more to say are one
    line ("web: 18 pages changed")."""
    groups: dict[tuple, list] = {}
    for f in files:
        groups.setdefault((f.edition, f.kind, f.status, bool(f.details or f.figure)), []).append(f)
    lines = []
    for (edition, kind, status, detailed), members in groups.items():
        if detailed or len(members) <= 5:
            lines += [("", [f]) for f in members]
        else:
            lines.append((f"{edition}: {len(members)} {kind}s {status}", members))
    return lines


def cause(diff: Diff) -> list[str]:
    """One line a changed source file: what changed in it."""
    lines = []
    for s in diff.sources:
        name = f"{s.old_path} → {s.path}" if s.old_path else s.path
        detail = "; ".join(s.details[:3]) + (" …" if len(s.details) > 3 else "")
        lines.append(f"{name} ({s.status}){': ' + detail if detail else ''}")
    return lines


def _side_label(info: dict) -> str:
    return info.get("label") or str(info.get("folder", ""))


def _md_side(info: dict) -> str:
    """`abc1234` Its subject (a revision), or `the/folder`."""
    if info.get("commit"):
        return f"`{info.get('short') or info['commit'][:7]}` {_md(info.get('subject', ''))}"
    return f"`{_md(_side_label(info))}`"


def _html_side(info: dict) -> str:
    if info.get("commit"):
        return f"<code>{_e(info.get('short') or info['commit'][:7])}</code> {_e(info.get('subject', ''))}"
    return f"<code>{_e(_side_label(info))}</code>"


# --- summary.md --------------------------------------------------------------

def _md(text) -> str:
    return html.escape(str(text), quote=False).replace("|", "\\|").replace("\n", " ")


def summary(diff: Diff, base: Side, head: Side, fail_on: set[str] | None = None) -> str:
    lines = ["# What this change does to the guide", "",
             f"**Base** {_md_side(diff.base)} · **Head** {_md_side(diff.head)}", ""]
    if diff.identical:
        lines += ["**No change**: every edition is byte for byte the same.", ""]
        if diff.sources:
            lines += ["Sources that changed, with no effect on any edition:", ""]
            lines += [f"- `{_md(s)}`" for s in cause(diff)[:40]]
        return "\n".join(lines + [""])
    kinds = sorted(diff.changed)
    failing = sorted(diff.changed & fail_on) if fail_on is not None else []
    lines.append(f"**Changed**: {', '.join(kinds) or 'nothing that counts'}"
                 + (f" · **fails on**: {', '.join(failing)}" if failing else ""))
    lines.append("")
    sources = cause(diff)
    if sources:
        lines += ["## Cause and effect", ""]
        if len(sources) == 1:
            lines.append(f"- `{_md(sources[0])}`; {_md(effect(diff))}")
        else:
            lines += [f"- `{_md(s)}`" for s in sources[:30]]
            if len(sources) > 30:
                lines.append(f"- … and {len(sources) - 30} more files")
            lines.append(f"- **effect**: {_md(effect(diff))}")
        lines.append("")
    else:
        lines += [f"**Effect**: {_md(effect(diff))}", ""]
    lines += ["## Editions", "", "| edition | status | pages (base → head) | what changed |", "|---|---|---|---|"]
    for e in diff.editions:
        pages = f"{e.base_pages or '–'} → {e.head_pages or '–'}" if e.format == "pdf" else "–"
        what = edition_line(e.variant, diff.pages[e.variant]).split(": ", 1)[1] if e.variant in diff.pages \
            else ("" if e.status != "changed" else "see sections, figures and files" if e.format == "epub"
                  else "see files")
        lines.append(f"| {e.variant} | {e.status} | {pages} | {_md(what)} |")
    lines.append("")
    if diff.metadata:
        lines += ["## Metadata", "", "| field | edition | base | head |", "|---|---|---|---|"]
        lines += [f"| {_md(m['field'])} | {_md(m['edition'])} | {_md(_cut(m['base']))} | {_md(_cut(m['head']))} |"
                  for m in diff.metadata]
        lines.append("")
    changed = [s for s in diff.sections if s.status != "unchanged"]
    if changed or diff.renumbered_documents:
        lines += ["## Sections", ""]
        for s in changed:
            if s.status == "moved":
                lines.append(f"- **moved** {_md(s.heading)}: from {_md(s.base_place)}"
                             + (f" (after “{_md(s.base_after)}”)" if s.base_after else " (at its start)")
                             + f" to {_md(s.place)}" + (f" (after “{_md(s.after)}”)" if s.after else " (at its start)"))
                continue
            lines.append(f"- **{s.status}** {_md(s.title)}")
            if s.diff:
                lines.append(f"  > {_md(s.diff)}")
        if diff.renumbered_documents:
            lines.append(f"- **renumbered** ({len(diff.renumbered_documents)}): "
                         + _md(", ".join(diff.renumbered_documents)))
        lines.append("")
    figures = [f for f in diff.figures if f.status not in ("unchanged", "renumbered")]
    renumbered = [f for f in diff.figures if f.status == "renumbered"]
    if figures or renumbered:
        lines += ["## Figures", ""]
        for f in figures:
            lines.append(f"- **{_md(f.label)}** ({_md(f.place)}): {_md('; '.join(f.changes))}")
            for key, name in (("alt", "alt text"), ("caption", "caption")):
                if f.base and f.head and f.base.get(key) != f.head.get(key):
                    lines.append(f"  - {name}: “{_md(f.base.get(key))}” → “{_md(f.head.get(key))}”")
        if renumbered:
            lines.append(f"- **renumbered** ({len(renumbered)}): "
                         + ", ".join(f"{_md(f.base['label'])} → {_md(f.label)}" for f in renumbered))
        lines.append("")
    if diff.files:
        lines += ["## Stylesheets, fonts, images and other files", ""]
        for heading, members in file_groups(diff.files):
            if heading:
                names = ", ".join(f"`{_md(f.file)}`" for f in members[:8])
                lines.append(f"- {_md(heading)}: {names}" + (f" and {len(members) - 8} more" if len(members) > 8 else ""))
                continue
            f = members[0]
            size = f" ({f.base_bytes or 0:,} → {f.head_bytes or 0:,} bytes)" if f.status == "changed" else ""
            lines.append(f"- {f.edition}: `{_md(f.file)}` {f.kind} {f.status}{size}"
                         + (f" ({_md(f.figure)})" if f.figure else ""))
            lines += [f"  - `{_md(d)}`" for d in f.details[:12]]
        lines.append("")
    if diff.structure:
        lines += ["## Structure", ""]
        for s in diff.structure:
            parts = [f"removed “{_md(x)}”" for x in s.removed[:8]] + [f"added “{_md(x)}”" for x in s.added[:8]] \
                + [f"moved “{_md(x)}”" for x in s.moved[:8]] + [_md(x) for x in s.changed[:12]]
            if len(s.removed) + len(s.added) + len(s.moved) > 24:
                parts.append(f"… {len(s.removed)} removed, {len(s.added)} added, {len(s.moved)} moved in all")
            if s.renumbered:
                parts.append(f"{len(s.renumbered)} renumbered (“{_md(s.renumbered[0])}”"
                             + (", …" if len(s.renumbered) > 1 else "") + ")")
            lines.append(f"- **{_md(s.kind)}** ({', '.join(s.editions)}): " + "; ".join(parts))
        lines.append("")
    if diff.pages:
        lines += ["## Pages", ""]
        lines += [f"- {_md(edition_line(v, pages))}" for v, pages in diff.pages.items()]
        lines.append("")
    if diff.sources and len(sources) > 1:
        lines += ["## Sources, in full", ""]
        for s in diff.sources:
            lines.append(f"- `{_md(s.old_path + ' → ' if s.old_path else '')}{_md(s.path)}` {s.status}")
            lines += [f"  - {_md(d)}" for d in s.details]
        lines.append("")
    text = "\n".join(lines)
    if len(text.encode()) > SUMMARY_LIMIT:
        text = text.encode()[:SUMMARY_LIMIT - 200].decode(errors="ignore") + \
            "\n\n… cut to stay under 60 KB; report.html and diff.json have everything.\n"
    return text


def _cut(value, limit: int = 200) -> str:
    text = "(none)" if value in (None, "") else str(value)
    return text if len(text) <= limit else text[:limit] + "…"


# --- report.html -------------------------------------------------------------

STYLE = ("body{font-family:sans-serif;max-width:78em;margin:auto;padding:0 1em;line-height:1.5;color:#231F20}"
         "del{background:#fdd}ins{background:#dfd}.pair{display:flex;gap:1em;flex-wrap:wrap}"
         ".pair figure{margin:0}.thumbs{display:flex;flex-wrap:wrap;gap:1.2em}"
         ".thumbs figure{margin:0;font-size:0.85em}img{border:1px solid #768692;max-width:100%}"
         "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:0.2em 0.5em;text-align:left;"
         "vertical-align:top}code{background:#f3f3f3}")


class _Budget:
    def __init__(self, total: int) -> None:
        self.left = total

    def take(self, *sizes: int) -> bool:
        need = sum(sizes)
        if need > self.left:
            return False
        self.left -= need
        return True


def _uri(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def _e(text) -> str:
    return html.escape(str(text if text is not None else ""))


def _inline_diff(text: str) -> str:
    return _e(text).replace("[-", "<del>").replace("-]", "</del>").replace("{+", "<ins>").replace("+}", "</ins>")


def report_html(diff: Diff, base: Side, head: Side, fail_on: set[str] | None = None) -> str:
    budget = _Budget(IMAGE_BUDGET)
    p = ["<!DOCTYPE html>", '<html lang="en-GB"><head><meta charset="utf-8" />',
         f"<title>Guide diff: {_e(_side_label(diff.base))} → {_e(_side_label(diff.head))}</title>"
         f"<style>{STYLE}</style></head><body>",
         "<h1>What this change does to the guide</h1>",
         f"<p><strong>Base</strong> {_html_side(diff.base)} · "
         f"<strong>Head</strong> {_html_side(diff.head)}</p>"]
    if diff.identical:
        p.append("<p>No change: every edition is byte for byte the same.</p></body></html>")
        return "\n".join(p)
    p.append(f"<p><strong>Changed</strong>: {_e(', '.join(sorted(diff.changed)) or 'nothing that counts')}. "
             f"<strong>Effect</strong>: {_e(effect(diff))}.</p>")
    if diff.sources:
        p.append("<h2>Cause: what changed in the sources</h2><ul>")
        for s in diff.sources:
            name = f"{s.old_path} → {s.path}" if s.old_path else s.path
            p.append(f"<li><code>{_e(name)}</code> {_e(s.status)}" + (
                "<ul>" + "".join(f"<li>{_e(d)}</li>" for d in s.details) + "</ul>" if s.details else "") + "</li>")
        p.append("</ul>")
    p.append("<h2>Editions</h2><table><tr><th scope='col'>Edition</th><th scope='col'>Status</th>"
             "<th scope='col'>Pages (base → head)</th><th scope='col'>What changed</th></tr>")
    for e in diff.editions:
        what = edition_line(e.variant, diff.pages[e.variant]).split(": ", 1)[1] if e.variant in diff.pages else ""
        pages = f"{e.base_pages or '–'} → {e.head_pages or '–'}" if e.format == "pdf" else "–"
        p.append(f"<tr><td>{_e(e.variant)}</td><td>{_e(e.status)}</td><td>{_e(pages)}</td><td>{_e(what)}</td></tr>")
    p.append("</table>")
    if diff.metadata:
        p.append("<h2>Metadata</h2><table><tr><th scope='col'>Field</th><th scope='col'>Edition</th>"
                 "<th scope='col'>Base</th><th scope='col'>Head</th></tr>")
        p += [f"<tr><td>{_e(m['field'])}</td><td>{_e(m['edition'])}</td><td>{_e(_cut(m['base'], 400))}</td>"
              f"<td>{_e(_cut(m['head'], 400))}</td></tr>" for m in diff.metadata]
        p.append("</table>")
    changed = [s for s in diff.sections if s.status != "unchanged"]
    if changed or diff.renumbered_documents:
        p.append("<h2>Sections</h2>")
        for s in changed:
            if s.status == "moved":
                p.append(f"<h3>{_e(s.heading)} (moved)</h3><p>From {_e(s.base_place)}"
                         + (f", after “{_e(s.base_after)}”" if s.base_after else ", at its start")
                         + f", to {_e(s.place)}" + (f", after “{_e(s.after)}”" if s.after else ", at its start")
                         + ".</p>")
            else:
                p.append(f"<h3>{_e(s.title)} ({_e(s.status)})</h3><p>{_inline_diff(s.diff)}</p>")
        if diff.renumbered_documents:
            p.append(f"<p>Renumbered ({len(diff.renumbered_documents)}): "
                     f"{_e(', '.join(diff.renumbered_documents))}.</p>")
    _figures_html(p, diff, base, head, budget)
    if diff.files:
        p.append("<h2>Stylesheets, fonts, images and other files</h2><ul>")
        for heading, members in file_groups(diff.files):
            if heading:
                p.append(f"<li>{_e(heading)}: " + ", ".join(f"<code>{_e(f.file)}</code>" for f in members) + "</li>")
                continue
            f = members[0]
            p.append(f"<li>{_e(f.edition)}: <code>{_e(f.file)}</code> {_e(f.kind)} {_e(f.status)} "
                     f"({f.base_bytes or 0:,} → {f.head_bytes or 0:,} bytes)"
                     + (f", {_e(f.figure)}" if f.figure else "")
                     + ("<ul>" + "".join(f"<li><code>{_e(d)}</code></li>" for d in f.details) + "</ul>"
                        if f.details else "") + "</li>")
        p.append("</ul>")
    if diff.structure:
        p.append("<h2>Structure</h2><ul>")
        for s in diff.structure:
            items = [f"<del>{_e(x)}</del>" for x in s.removed] + [f"<ins>{_e(x)}</ins>" for x in s.added] + \
                    [f"moved “{_e(x)}”" for x in s.moved] + [_e(x) for x in s.changed]
            if s.renumbered:
                items.append(f"{len(s.renumbered)} renumbered: {_e(', '.join(s.renumbered))}")
            p.append(f"<li>{_e(s.kind)} ({_e(', '.join(s.editions))}): {' '.join(items)}</li>")
        p.append("</ul>")
    if diff.pages:
        p.append("<h2>Pages</h2>")
        with Renderer() as renderer:
            for variant, pages in diff.pages.items():
                _pages_html(p, variant, pages, base, head, renderer, budget)
    p.append("</body></html>")
    return "\n".join(p)


def _figure_image(side: Side, facts: dict) -> bytes | None:
    if not facts or side.epub is None:
        return None
    try:
        with zipfile.ZipFile(side.epub.path) as z:
            info = z.getinfo(f"EPUB/{facts['src']}")
            return z.read(info) if info.file_size <= FIGURE_BYTES else None
    except KeyError:
        return None


MIME = {"svg": "image/svg+xml", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg"}


def _figures_html(p: list[str], diff: Diff, base: Side, head: Side, budget: _Budget) -> None:
    figures = [f for f in diff.figures if f.status not in ("unchanged", "renumbered")]
    renumbered = [f for f in diff.figures if f.status == "renumbered"]
    if not figures and not renumbered:
        return
    p.append("<h2>Figures</h2>")
    for f in figures:
        p.append(f"<h3>{_e(f.label)} ({_e(f.place)}): {_e('; '.join(f.changes))}</h3><div class='pair'>")
        for name, side, facts in (("Base", base, f.base), ("Head", head, f.head)):
            data = _figure_image(side, facts)
            mime = MIME.get(facts.get("src", "").rsplit(".", 1)[-1].lower(), "") if facts else ""
            text = (f"<p>Alt text: “{_e(facts.get('alt'))}”<br />Caption: “{_e(facts.get('caption'))}”<br />"
                    f"File: <code>{_e(facts.get('src'))}</code></p>") if facts else "<p>(none)</p>"
            picture_html = ""
            if data and mime and budget.take(len(data) * 4 // 3):
                picture_html = (f"<img style='max-width:20em' alt='{_e(name)}: {_e(facts.get('alt'))}' "
                                f"src='{_uri(data, mime)}' />")
            p.append(f"<figure>{picture_html}<figcaption>{name}{text}</figcaption></figure>")
        p.append("</div>")
    if renumbered:
        p.append(f"<p>Renumbered ({len(renumbered)}): "
                 + _e(", ".join(f"{f.base['label']} → {f.label}" for f in renumbered)) + ".</p>")


def _pages_html(p: list[str], variant: str, pages: list[PageChange], base: Side, head: Side,
                renderer: Renderer, budget: _Budget) -> None:
    p.append(f"<h3>{_e(variant)}</h3><p>{_e(edition_line(variant, pages))}.</p>")
    shown = [c for c in pages if c.status in ("changed", "added", "removed")]
    if not shown:
        return
    base_pdf = base.path(variant)
    head_pdf = head.path(variant)
    not_shown = []
    thumbs: list[str] = []
    for n, c in enumerate(shown):
        full = n < FULL_PAIRS
        if n >= FULL_PAIRS + THUMB_PAIRS:
            not_shown.append(c)
            continue
        dpi = DPI if full else THUMB_DPI
        a = picture(renderer, base_pdf, c.base - 1, dpi=dpi) if c.base else b""
        b = picture(renderer, head_pdf, c.head - 1, c.boxes, dpi=dpi) if c.head else b""
        if not budget.take(len(a) * 4 // 3, len(b) * 4 // 3):
            not_shown.append(c)
            continue
        title = f"{c.status}: base page {c.base or '–'}, head page {c.head or '–'}"
        pair = []
        for label, data, page, boxes in (("Base", a, c.base, []), ("Head", b, c.head, c.boxes)):
            alt = f"{variant} {label.lower()} page {page}" + (f", {len(boxes)} changed region(s) boxed" if boxes else "")
            pair.append(f"<figure><img alt='{_e(alt)}' src='{_uri(data, 'image/png')}' /><figcaption>{label} "
                        f"page {page}</figcaption></figure>" if data else f"<figure><p>(no page)</p>"
                        f"<figcaption>{label}</figcaption></figure>")
        if full:
            p.append(f"<h4>{_e(title)}</h4><div class='pair'>{''.join(pair)}</div>")
        else:
            thumbs.append(f"<div><p>{_e(title)}</p><div class='pair'>{''.join(pair)}</div></div>")
    if thumbs:
        p.append(f"<div class='thumbs'>{''.join(thumbs)}</div>")
    if not_shown:
        p.append(f"<p>Not pictured, to keep this report small ({len(not_shown)}): head pages "
                 f"{_e(ranges([c.head for c in not_shown if c.head]) or '–')}"
                 + (f", base pages {_e(ranges([c.base for c in not_shown if c.base and not c.head]))}"
                    if any(c.base and not c.head for c in not_shown) else "")
                 + ". diff.json lists every change with its boxes.</p>")


def write_reports(diff: Diff, base: Side, head: Side, out: Path, fail_on: set[str] | None = None) -> list[Path]:
    written = []
    out.mkdir(parents=True, exist_ok=True)
    for name, text in (("summary.md", summary(diff, base, head, fail_on)),
                       ("report.html", report_html(diff, base, head, fail_on)),
                       ("diff.json", json.dumps(diff.to_dict(), indent=2, ensure_ascii=False, default=str) + "\n")):
        with atomic_path(out / name) as tmp:
            tmp.write_text(text, encoding="utf-8")
        written.append(out / name)
    return written
