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
LAST_TEXT = re.compile(r"^(.*?)([^<>]*)((?:\s*</[^>]+>)*\s*)$", re.S)    # markup, its last text, closing tags
RUNT = 26              # characters: two last words longer than this may break apart


def keep_last_words(html: str) -> str:
    """The book's HTML with the last two words of each heading and caption
    joined by a no-break space, so that none ends with one word on a line of
    its own (WeasyPrint has no `text-wrap: balance`; check: PDF-LAYOUT-RUNT).
    Only the plain text after the last inline tag is touched, and only when
    the two words are short enough to share any line."""
    def join(match: re.Match) -> str:
        head, text, closing = LAST_TEXT.match(match.group(3)).groups()
        stripped = text.rstrip()
        space = stripped.rfind(" ")
        if space <= 0:
            return match.group(0)
        before = stripped.rfind(" ", 0, space) + 1
        if before == 0 and not head or len(stripped) - before > RUNT:
            return match.group(0)
        joined = stripped[:space] + "\u00a0" + stripped[space + 1:] + text[len(stripped):]
        return match.group(1) + head + joined + closing + match.group(4)
    return HEADING.sub(join, html)
