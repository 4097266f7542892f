"""A fix for a line-breaking bug in WeasyPrint 70: a word left alone on a line.

WeasyPrint lays out each run of text (a text box) from the start of the line
to the end of the run. A run that stops just before a link, an emphasis or
any other inline element ends with the space before it. When the rest of the
run fits the line only if that trailing space hangs past the margin (a window
one space wide), `split_first_line` measures the line with the space, finds
it too wide, takes the line for one long word and puts only the first word on
it. The line breaks after "also" with most of its width unused, and the
paragraph gets a line more ("also" / "apply to how you treat yourself ...").
Cross-references, which are links, hit it most often; the page number after
them has nothing to do with it.

`install()` wraps `split_first_line` where the inline layout calls it: when
the original broke a run that ends with collapsible spaces, and the run
without them fits in one line, the whole run goes on the line, as the CSS
Text module says (a collapsible space at the end of a line hangs). The layout
then breaks before the next inline element, as it does when the run is
shorter. Everything else reaches WeasyPrint untouched.
"""

from __future__ import annotations

import re

from weasyprint.layout import inline
from weasyprint.text import line_break

_original = line_break.split_first_line
_COLLAPSING = ("normal", "nowrap", "pre-line")


def split_first_line(text, style, context, max_width, justification_spacing,
                     is_line_start=True, minimum=False):
    result = _original(text, style, context, max_width, justification_spacing,
                       is_line_start, minimum)
    if (result[2] is None or minimum or max_width is None or not text.endswith(" ")
            or style["white_space"] not in _COLLAPSING):
        return result
    stripped = text.rstrip(" ")
    if not stripped:
        return result
    fits = _original(stripped, style, context, max_width, justification_spacing,
                     is_line_start, minimum)
    if fits[2] is not None or fits[3] > max_width:
        return result
    # The words fit; only the trailing space does not, and it may hang.
    return _original(text, style, context, None, justification_spacing, is_line_start, minimum)


def install() -> None:
    """Use the fixed function for the inline layout (idempotent)."""
    inline.split_first_line = split_first_line


# -- headings -------------------------------------------------------------------

HEADING = re.compile(r"(<(h[1-6]|figcaption|caption)\b[^>]*>)(.*?)(</\2>)", re.S)
TAG = re.compile(r"(<[^>]+>)")
RUNT = 26              # characters: two last words longer than this may break apart


def keep_last_words(html: str) -> str:
    """The book's HTML with the last two words of each heading and caption
    joined by a no-break space, so that none ends with one word on a line of
    its own (WeasyPrint has no `text-wrap: balance`; check: PDF-LAYOUT-RUNT).
    The words are found in the text as it reads, across inline elements (a
    last word in code, a note's number after it); only text is changed, and
    only when the two words are short enough to share any line."""
    def join(match: re.Match) -> str:
        parts = TAG.split(match.group(3))            # text, tag, text, tag, ..., text
        text = "".join(parts[0::2]).rstrip()
        spaces = [text.rfind(" ")]
        if 0 < spaces[0] and len(text) - spaces[0] <= 4:       # a note's number, a short last word: one more
            spaces.append(text.rfind(" ", 0, spaces[0]))
        before = text.rfind(" ", 0, spaces[-1]) + 1
        if spaces[-1] <= 0 or before == 0 or len(text) - before > RUNT:
            return match.group(0)
        for space in spaces:
            for index in range(0, len(parts), 2):
                if space < len(parts[index]):
                    parts[index] = parts[index][:space] + "\u00a0" + parts[index][space + 1:]
                    break
                space -= len(parts[index])
        return match.group(1) + "".join(parts) + match.group(4)
    return HEADING.sub(join, html)
