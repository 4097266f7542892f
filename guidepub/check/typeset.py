"""Lines a reader stumbles on, read from the laid-out PDF (check/layout.py
reads it): a heading or caption whose last line is one word, and a printed
web address broken at a hyphen (a paper reader cannot tell the address's own
hyphen from a line-end one) or inside its domain name."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import CheckResult
    from .layout import Layout

# A hyphen that ends a line, as pdfium reads it (it reports one it takes for
# a line-end hyphen as \x02).
HYPHENS = ("-", "\x02", "\u00ad", "\u2010")
DOMAIN = re.compile(r"^\(?(?:www|[\w-]+(?:\.[\w-]+)+)$")        # the start of a domain name, cut short
FILE = re.compile(r"\.(?:pdf|epub|html)\)?[.,;:]?$")              # the end of a file name
ADDRESS = re.compile(r"(?:https?://|www\.)\S*|\S+\.(?:org|uk|com|net|gov|nhs|io|edu)(?:/\S*)?$")


def check_lines(layout: "Layout", result: "CheckResult") -> None:
    from .layout import HEADINGS, lines
    for p, page in enumerate(layout.pages):
        headings = {k for i in page for k in layout.chain(i.element)
                    if layout.elements[k].role in HEADINGS or layout.elements[k].role == "Caption"}
        for key in sorted(headings):
            found = lines([i for i in page if i.is_text and layout.under(i, key)])
            if len(found) < 2:
                continue
            words = _text(found[-1]).split()
            previous = _text(found[-2]).rstrip()
            # the end of an address broken before a slash or a hyphen is no runt: the address rules govern it
            broken = words and (words[0][:1] in "/-" or previous[-1:] in "/.-_\x02")
            if len(words) == 1 and not broken:
                what = "caption" if layout.elements[key].role == "Caption" else "heading"
                result.add("PDF-LAYOUT-RUNT", f"the {what} '{layout.text_of(key)}' ends with one word "
                           f"('{words[0]}') on a line of its own", "keep the last two words together "
                           "(guidepub/pdf/__init__.py joins them with a no-break space)", f"page {p + 1}")
        ordered = lines([i for i in page if i.is_text])
        for line, following in zip(ordered, ordered[1:]):
            text, after = _text(line).rstrip(), _text(following).lstrip()
            last = text.split()[-1] if text.split() else ""
            if after.startswith(".") and DOMAIN.match(last):
                result.add("PDF-LAYOUT-URL", f"the printed web address '{last}{after.split()[0]}' breaks "
                           "inside its domain name", "keep a printed address's domain on one line (the "
                           "url_breaks filter, guidepub/render.py)", f"page {p + 1}")
            elif last.endswith(HYPHENS) and after and (ADDRESS.search(last) or "/" in last
                                                       or FILE.search(after.split()[0])):
                shown = last.rstrip("".join(HYPHENS)) + "-"
                result.add("PDF-LAYOUT-URL", f"the printed address or file name '{shown}{after.split()[0]}' "
                           "breaks at a hyphen, which a reader may take for part of it or not",
                           "break a printed address only after a slash or a full stop (the print_url "
                           "filter, guidepub/render.py)", f"page {p + 1}")


def _text(line) -> str:
    return " ".join(i.text.strip() for i in sorted(line, key=lambda i: i.left))
