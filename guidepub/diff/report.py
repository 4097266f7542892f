"""The diff's three reports: summary.md (for a CI job summary or a pull
request comment: no images, under 60 KB), report.html (one self-contained
file with base | head page images) and diff.json (for tools and tests)."""

from __future__ import annotations

import base64
import html
import io
import json
from pathlib import Path

from PIL import ImageDraw

from ..outputs import atomic_path
from . import Diff
from .extract import Side
from .pages import DPI, render

SUMMARY_LIMIT = 60_000


def summary(diff: Diff, base: Side, head: Side) -> str:
    lines = ["# What this change does to the guide", "",
             f"Base: `{base.folder}` · Head: `{head.folder}`", ""]
    if diff.identical:
        return "\n".join(lines + ["**No change**: the PDF and EPUB are byte for byte the same.", ""])
    pages, sections = diff.counts("pages"), diff.counts("sections")
    lines += ["| what | changes |", "|---|---|",
              f"| Metadata | {len(diff.metadata)} field(s) |",
              "| Sections | " + ", ".join(f"{n} {k}" for k, n in sorted(sections.items())) + " |",
              f"| Structure | {', '.join(diff.structure) or 'no change'} |",
              "| Pages | " + ", ".join(f"{n} {k}" for k, n in sorted(pages.items())) + " |", ""]
    if diff.metadata:
        lines += ["## Metadata", "", "| field | base | head |", "|---|---|---|"]
        lines += [f"| {m['field']} | {_cell(m['base'])} | {_cell(m['head'])} |" for m in diff.metadata]
        lines.append("")
    changed = [s for s in diff.sections if s.status != "unchanged"]
    if changed:
        lines += ["## Sections", ""]
        for s in changed:
            lines.append(f"- **{s.status}** {s.heading} (`{s.document}`)")
            if s.diff:
                lines.append(f"  > {s.diff}")
        lines.append("")
    if diff.structure:
        lines += ["## Structure", ""]
        for kind, change in diff.structure.items():
            lines.append(f"- **{kind}**: " + "; ".join(
                [f"removed “{x}”" for x in change["removed"][:8]] + [f"added “{x}”" for x in change["added"][:8]]
                + change["changed"][:12]))
        lines.append("")
    moved = [p for p in diff.pages if p.status != "unchanged"]
    if moved:
        lines += ["## Pages", ""]
        lines += [f"- {p.status}: " + (f"page {p.base}" if p.base else "") +
                  (" → " if p.base and p.head else "") + (f"page {p.head}" if p.head else "") for p in moved]
        lines.append("")
    text = "\n".join(lines)
    if len(text.encode()) > SUMMARY_LIMIT:
        text = text.encode()[:SUMMARY_LIMIT - 200].decode(errors="ignore") + \
            "\n\n… cut to stay under 60 KB; report.html and diff.json have everything.\n"
    return text


def _cell(value) -> str:
    return html.escape(str(value)).replace("|", "\\|")[:200]


def _image(side: Side, page: int | None, boxes=()) -> str:
    if page is None:
        return "<p>(no page)</p>"
    image = render(side.pdf, page - 1)
    draw = ImageDraw.Draw(image)
    for x0, y0, x1, y1 in boxes:
        s = DPI / 72
        draw.rectangle([x0 * s - 3, y0 * s - 3, x1 * s + 3, y1 * s + 3], outline=(174, 37, 115), width=3)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    alt = f"Page {page}" + (f", {len(boxes)} changed region(s) outlined" if boxes else "")
    return f'<img alt="{alt}" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}" />'


def report_html(diff: Diff, base: Side, head: Side) -> str:
    parts = ["<!DOCTYPE html>", '<html lang="en-GB"><head><meta charset="utf-8" />',
             "<title>Guide diff</title><style>body{font-family:sans-serif;max-width:70em;margin:auto;"
             "line-height:1.5}del{background:#fdd}ins{background:#dfd}.pair{display:flex;gap:1em}"
             ".pair figure{margin:0}img{border:1px solid #768692;max-width:100%}</style></head><body>",
             "<h1>What this change does to the guide</h1>"]
    if diff.identical:
        parts.append("<p>No change: the PDF and EPUB are byte for byte the same.</p>")
    changed = [s for s in diff.sections if s.status != "unchanged"]
    if diff.metadata:
        parts.append("<h2>Metadata</h2><table><tr><th scope='col'>Field</th><th scope='col'>Base</th>"
                     "<th scope='col'>Head</th></tr>")
        parts += [f"<tr><td>{html.escape(m['field'])}</td><td>{_cell(m['base'])}</td><td>{_cell(m['head'])}</td></tr>"
                  for m in diff.metadata]
        parts.append("</table>")
    if changed:
        parts.append("<h2>Sections</h2>")
        for s in changed:
            text = html.escape(s.diff).replace("[-", "<del>").replace("-]", "</del>") \
                .replace("{+", "<ins>").replace("+}", "</ins>")
            parts.append(f"<h3>{html.escape(s.heading)} ({s.status})</h3><p>{text}</p>")
    if diff.structure:
        parts.append("<h2>Structure</h2><ul>")
        for kind, change in diff.structure.items():
            items = [f"<del>{html.escape(x)}</del>" for x in change["removed"]] + \
                    [f"<ins>{html.escape(x)}</ins>" for x in change["added"]] + \
                    [html.escape(x) for x in change["changed"]]
            parts.append(f"<li>{html.escape(kind)}: {' '.join(items)}</li>")
        parts.append("</ul>")
    pages = [p for p in diff.pages if p.status in ("changed", "added", "removed")]
    if pages:
        parts.append("<h2>Pages</h2>")
        for p in pages:
            parts.append(f"<h3>{p.status}: base page {p.base or '-'}, head page {p.head or '-'}</h3>"
                         f"<div class='pair'><figure>{_image(base, p.base)}<figcaption>Base</figcaption></figure>"
                         f"<figure>{_image(head, p.head, p.boxes)}<figcaption>Head</figcaption></figure></div>")
    renumbered = [p for p in diff.pages if p.status == "renumbered"]
    if renumbered:
        parts.append(f"<p>{len(renumbered)} page(s) only renumbered: "
                     + ", ".join(f"{p.base}→{p.head}" for p in renumbered) + ".</p>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_reports(diff: Diff, base: Side, head: Side, out: Path) -> list[Path]:
    written = []
    for name, text in (("summary.md", summary(diff, base, head)),
                       ("report.html", report_html(diff, base, head)),
                       ("diff.json", json.dumps(diff.to_dict(), indent=2, ensure_ascii=False) + "\n")):
        with atomic_path(out / name) as tmp:
            tmp.write_text(text, encoding="utf-8")
        written.append(out / name)
    return written
