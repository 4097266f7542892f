"""The glossary on the web: each term gets an id, and its first use on every
other page links to it. Matching is by whole words; a term's first letter
may be either case (it may start a sentence), the rest is as the glossary
writes it, so "FMLM" or "enhance" match only themselves; a plural (s, es)
counts. Headings, links, code and the chapter opener are left alone."""

from __future__ import annotations

import re
import unicodedata

from lxml import etree

from ..model import Guide

H = "{http://www.w3.org/1999/xhtml}"
SKIP = {"a", "h1", "h2", "h3", "h4", "h5", "h6", "code", "pre", "kbd", "samp", "script", "style", "sup",
        "dt", "title", "button", "label"}


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-") or "term"


def glossary_terms(guide: Guide, trees: dict[str, etree._Element]) -> dict[str, str]:
    """term -> its address, from every glossary document (type: glossary);
    each of its terms (<dt>) gets an id there."""
    terms: dict[str, str] = {}
    for doc in guide.documents:
        if doc.meta.type != "glossary":
            continue
        used = {e.get("id") for e in trees[doc.id].iter() if isinstance(e.tag, str) and e.get("id")}
        for dt in trees[doc.id].iter(f"{H}dt"):
            term = " ".join("".join(dt.itertext()).split())
            if not term or term in terms:
                continue
            ident = dt.get("id")
            if not ident:
                ident, n = f"{doc.id}--term-{_slug(term)}", 1
                while ident in used:
                    n += 1
                    ident = f"{doc.id}--term-{_slug(term)}-{n}"
                used.add(ident)
                dt.set("id", ident)
            terms[term] = f"{doc.id}.html#{ident}"
    return terms


def _pattern(terms: list[str]) -> re.Pattern | None:
    if not terms:
        return None
    parts = []
    for i, term in enumerate(terms):
        first, rest = term[0], term[1:]
        body = re.escape(rest).replace(r"\ ", r"\s+")
        head = f"(?i:{re.escape(first)})" if first.isalpha() else re.escape(first)
        parts.append(f"(?P<t{i}>{head}{body}(?:e?s)?)")
    return re.compile(r"(?<![\w’'-])(?:" + "|".join(parts) + r")(?![\w’'-])")


def link_first_uses(root: etree._Element, terms: dict[str, str]) -> None:
    """Link the first use of each term in `root` (a page's main element) to
    its entry, skipping headings, links, code and the chapter's opener."""
    ordered = sorted(terms, key=lambda t: (-len(t), t))          # the longest term wins
    pattern = _pattern(ordered)
    if pattern is None or root is None:
        return
    done: set[str] = set()

    def split(text: str) -> list:
        """The text as pieces: strings, and (term, matched text) to link."""
        pieces, at = [], 0
        for match in pattern.finditer(text):
            term = ordered[int(match.lastgroup[1:])]
            if term in done:
                continue
            done.add(term)
            pieces += [text[at:match.start()], (term, match.group())]
            at = match.end()
        return pieces + [text[at:]] if pieces else [text]

    def link(term: str, words: str) -> etree._Element:
        a = etree.Element(f"{H}a", {"href": terms[term], "class": "glossary-term"})
        a.text = words
        return a

    def walk(element: etree._Element) -> None:
        children = list(element)
        if element.text:
            pieces = split(element.text)
            if len(pieces) > 1:
                element.text = pieces[0]
                at = 0
                for i in range(1, len(pieces), 2):
                    a = link(*pieces[i])
                    a.tail = pieces[i + 1]
                    element.insert(at, a)
                    at += 1
        for child in children:
            if not isinstance(child.tag, str):
                continue
            name = etree.QName(child).localname
            classes = (child.get("class") or "").split()
            if name not in SKIP and "opener" not in classes and "pagination" not in classes:
                walk(child)
            if child.tail:
                pieces = split(child.tail)
                if len(pieces) > 1:
                    child.tail = pieces[0]
                    after = child
                    for i in range(1, len(pieces), 2):
                        a = link(*pieces[i])
                        a.tail = pieces[i + 1]
                        after.addnext(a)
                        after = a

    walk(root)
