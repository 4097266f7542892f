"""The real guide in content/, built end to end."""

from __future__ import annotations

import pikepdf

from guidepub.pdf.tagtree import read_tags
from pdf_helpers import outline_titles, tag_headings
from test_epub import epubcheck_messages


def test_real_guide_builds_valid_outputs(real):
    messages, _ = epubcheck_messages(real.epub)
    assert messages == []
    titles = outline_titles(real.pdf)
    for doc in real.guide.documents:
        assert (0, doc.meta.title) in titles
    with pikepdf.open(real.pdf) as pdf:
        assert len(real.guide.chapters) * 2 <= len(pdf.pages) <= 400
    tags = read_tags(real.pdf)
    assert [t for _, t in tag_headings(tags)].count("Contents") == 1
    figures = [n for n in tags.walk() if n.role == "Figure"]
    assert len(figures) == len(real.guide.figures) and all(f.alt for f in figures)
