"""Content lint: the writing and accessibility rules a machine can check on
the source, before anything is rendered."""

from __future__ import annotations

import re
from pathlib import Path

from markdown_it.token import Token

from ..colour import contrast_ratio, required_ratio
from ..markdown import BLOCK_TYPES, CHAPTER_PARTS, block_name, block_title, inline_text
from ..model import Document, Guide
from . import CheckResult

VAGUE_LINKS = {"click here", "here", "read more", "more", "this link", "link", "this page",
               "this", "go", "find out more", "learn more"}
VAGUE_ALT = {"image", "picture", "figure", "graphic", "photo", "photograph", "diagram", "chart",
             "img", "icon", "illustration"}
ACRONYM = re.compile(r"\b([A-Z][A-Z0-9]*[A-Z])s?\b")     # group 1 leaves out a plural s
SENTENCE_END = re.compile(r"(?<=[.!?])[\"'’”)\]]*\s+(?=[A-Z0-9‘“\"(\[])")
WORD = re.compile(r"[A-Za-z0-9’'-]+")


def _where(doc: Document, token: Token | None) -> str:
    line = doc.line_of(token) if token is not None else None
    return f"{doc.path}:{line}" if line else str(doc.path)


def check_content(guide: Guide) -> CheckResult:
    result = CheckResult("content", "Content lint")
    style = guide.meta.style
    for doc in guide.documents:
        if doc.part == "chapter":
            _check_chapter_parts(doc, style.chapter_parts, style.fictional_case_studies, result)
            _check_chapter_end(doc, style.chapter_parts, result)
        if style.sentence_case:
            _check_headings(doc, style.proper_nouns, result)
        _check_links_and_alt(doc, result)
        if doc.meta.type != "glossary" and style.expand_acronyms:
            _check_acronyms(doc, set(style.known_acronyms), result)
        _check_sentences(doc, style.max_sentence_words, style.max_average_words, result)
        if guide.resources and style.listed_resources:
            _check_resources_listed(doc, {str(r.url) for r in guide.resources}, result)
    _check_contrast(guide, result)
    result.facts = {"documents": len(guide.documents)}
    return result


# --- the parts every chapter has ---------------------------------------------

def _check_chapter_parts(doc: Document, parts: list[str], fictional: bool, result: CheckResult) -> None:
    opened = [(block_name(t.type), t) for t in doc.tokens if block_name(t.type) and t.nesting == 1]
    missing = [name for name in parts if name not in {n for n, _ in opened}]
    if missing:
        result.add("CONTENT-CHAPTER-PARTS", f"chapter has no {', '.join(missing)} block",
                   f"this guide's chapters each have {', '.join(parts)} (guide.yaml style.chapter_parts)",
                   str(doc.path))
    for name, tok in opened:
        if fictional and name == "case-study" and "(fictional)" not in tok.info:
            result.add("CONTENT-CASE-STUDY", "a case study's title does not say it is fictional",
                       "end the title with '(fictional)': case studies are composites, not real people",
                       _where(doc, tok))
    _check_block_levels(doc, result)


def _check_block_levels(doc: Document, result: CheckResult) -> None:
    """A chapter part sits at chapter level (h3, below the section it closes):
    one inside another titled block would take a heading a level deeper than
    in every other chapter."""
    outer: list[str] = []
    for tok in doc.tokens:
        name = block_name(tok.type)
        if not name:
            continue
        if tok.nesting == -1:
            outer.pop()
            continue
        titled = [n for n in outer if BLOCK_TYPES[n].titled]
        if name in CHAPTER_PARTS and titled:
            result.add("CONTENT-BLOCK-LEVEL", f"the {name} block is inside the {titled[-1]} block, so its "
                       "heading would sit a level deeper than in the other chapters",
                       f"close the {titled[-1]} block (:::) before opening {name}: the parts of a chapter "
                       "sit side by side", _where(doc, tok))
        outer.append(name)


# The parts that close a chapter and sum it up: nothing of the chapter's own
# body comes after them. The activity and case study may sit anywhere.
END_PARTS = ("key-points", "self-check", "resources")
_BODY = {"paragraph_open", "bullet_list_open", "ordered_list_open", "table_open", "blockquote_open",
         "fence", "code_block", "hr", "html_block", "dl_open"}


def _check_chapter_end(doc: Document, parts: list[str], result: CheckResult) -> None:
    """The end-of-chapter parts this guide's style lists (key points,
    self-check, further resources) come last: no `##` section and no body
    text after one of them. Other chapter parts (an activity, a case study)
    may follow them, and footnotes are collected at the end anyway. Only
    chapters are held to it, and only in guides whose style lists these parts."""
    ending = [name for name in END_PARTS if name in parts]
    if not ending:
        return
    first: tuple[str, Token] | None = None
    for tok in doc.tokens:
        if tok.level != 0 or tok.nesting == -1:
            continue
        name = block_name(tok.type)
        if first is None:
            if name in ending:
                first = (name, tok)
            continue
        if name in CHAPTER_PARTS:
            continue
        if tok.type == "heading_open" and tok.tag in ("h1", "h2"):
            after = f"the section '{_heading_after(doc, tok)}'"
        elif tok.type in _BODY or (name and name not in CHAPTER_PARTS):
            line = doc.line_of(tok)
            after = f"body text (line {line})" if line else "body text"
        else:
            continue
        part, opener = first
        result.add("CONTENT-CHAPTER-END", f"the {part} block is not at the end of the chapter: "
                   f"{after} comes after it",
                   f"move it after the chapter's last section and any case study: {_and(ending)} "
                   "close every chapter, in the same place (guide.yaml style.chapter_parts)",
                   _where(doc, opener))
        return


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def _heading_after(doc: Document, heading: Token) -> str:
    i = doc.tokens.index(heading)
    return inline_text(doc.tokens[i + 1])


# --- headings --------------------------------------------------------------

def _is_sentence_case(title: str, proper_nouns: list[str]) -> bool:
    for noun in sorted(proper_nouns, key=len, reverse=True):
        title = title.replace(noun, "")
    words = [w.strip("‘’'\"“”():,.?!") for w in title.split()[1:]]
    capitalised = [w for w in words if w[:1].isupper() and not ACRONYM.fullmatch(w) and w != "I"]
    return not capitalised


def _check_headings(doc: Document, proper_nouns: list[str], result: CheckResult) -> None:
    titles: list[tuple[str, Token | None]] = [(doc.meta.title, None)]
    for i, tok in enumerate(doc.tokens):
        if tok.type == "heading_open":
            titles.append((inline_text(doc.tokens[i + 1]), tok))
        elif (name := block_name(tok.type)) and tok.nesting == 1:
            block = BLOCK_TYPES[name]
            title = block_title(tok.info, block)
            if title and block.titled:
                titles.append((title, tok))
    for title, tok in titles:
        if not _is_sentence_case(title, proper_nouns):
            result.add("CONTENT-HEADING-CASE", f"heading '{title}' is not in sentence case",
                       "capitalise only the first word and names; list names in guide.yaml style.proper_nouns",
                       _where(doc, tok))


# --- links and alt text ----------------------------------------------------

def _check_links_and_alt(doc: Document, result: CheckResult) -> None:
    for tok in doc.tokens:
        if tok.type != "inline":
            continue
        children = tok.children or []
        for j, child in enumerate(children):
            if child.type == "link_open":
                href = str(child.attrGet("href") or "")
                text = []
                for inner in children[j + 1:]:
                    if inner.type == "link_close":
                        break
                    text.append(inner.content)
                label = " ".join("".join(text).split())
                if (label.lower().strip(".") in VAGUE_LINKS or re.match(r"^(https?://|www\.)", label)
                        or label == href):
                    result.add("CONTENT-LINK-TEXT", f"link text '{label}' does not say where it goes",
                               "name the destination, e.g. [NHS Leadership Academy programmes](https://...)",
                               _where(doc, tok))
            elif child.type == "image":
                src = str(child.attrGet("src") or "")
                alt = " ".join(child.content.split())
                stem = Path(src).stem
                if (alt.lower().strip(".") in VAGUE_ALT or alt in (src, Path(src).name, stem)
                        or len(alt.split()) < 3):
                    result.add("CONTENT-ALT-TEXT", f"alt text '{alt}' does not describe the figure",
                               "say what the figure shows and why it matters, in a sentence",
                               _where(doc, tok))


def _check_resources_listed(doc: Document, listed: set[str], result: CheckResult) -> None:
    """Links in a chapter's further resources must be in the guide's list, so
    the back matter gathers them all."""
    inside = 0
    for tok in doc.tokens:
        if tok.type in ("container_resources_open", "container_resources_close"):
            inside += tok.nesting
        elif inside and tok.type == "inline":
            for child in tok.children or []:
                href = str(child.attrGet("href") or "") if child.type == "link_open" else ""
                if href and not href.startswith("#") and href not in listed:
                    result.add("CONTENT-RESOURCE", f"further resource '{href}' is not in the resources file",
                               "add it to content/resources.yaml with its title, publisher and what it offers",
                               _where(doc, tok))


# --- acronyms --------------------------------------------------------------

def _prose(doc: Document) -> list[tuple[str, Token | None]]:
    """Reading-order text of a document: summary, outcomes, then the body
    (headings and table cells excluded)."""
    parts: list[tuple[str, Token | None]] = []
    if doc.meta.summary:
        parts.append((doc.meta.summary, None))
    parts += [(o, None) for o in doc.meta.learning_outcomes]
    skip = 0
    for tok in doc.tokens:
        if tok.type in ("heading_open", "th_open", "td_open", "dt_open"):
            skip += 1
        elif tok.type in ("heading_close", "th_close", "td_close", "dt_close"):
            skip -= 1
        elif tok.type == "inline" and not skip:
            parts.append((inline_text(tok) if tok.children else tok.content, tok))
    return parts


def _check_acronyms(doc: Document, known: set[str], result: CheckResult) -> None:
    seen: set[str] = set()
    for text, tok in _prose(doc):
        for match in ACRONYM.finditer(text):
            acronym = match.group(1)
            if acronym in seen or acronym in known:
                continue
            seen.add(acronym)
            before, after = text[:match.start()], text[match.end():]
            expanded_before = before.rstrip().endswith("(") and len(before.split()) >= 3
            expanded_after = re.match(r"\s*\([^)]*\s[^)]*\)", after) is not None
            if not (expanded_before or expanded_after):
                result.add("CONTENT-ACRONYM", f"'{acronym}' is not expanded on first use in this document",
                           f"write it out the first time, e.g. 'Full Name ({acronym})'", _where(doc, tok))


# --- sentences -------------------------------------------------------------

def _check_sentences(doc: Document, longest: int | None, average: float | None, result: CheckResult) -> None:
    counts: list[int] = []
    for text, tok in _prose(doc):
        for sentence in SENTENCE_END.split(text):
            words = WORD.findall(sentence)
            if not words:
                continue
            counts.append(len(words))
            if longest is not None and len(words) > longest:
                result.add("CONTENT-SENTENCE-LONG",
                           f"a sentence of {len(words)} words: '{' '.join(words[:8])} …'",
                           f"split it; keep every sentence to {longest} words or fewer", _where(doc, tok))
    if counts and average is not None and sum(counts) / len(counts) > average:
        result.add("CONTENT-SENTENCE-AVERAGE",
                   f"sentences average {sum(counts) / len(counts):.1f} words", 
                   f"aim for an average of {average:g} words or fewer: split long sentences",
                   str(doc.path))


# --- colour ----------------------------------------------------------------

def _check_contrast(guide: Guide, result: CheckResult) -> None:
    brand = guide.brand
    for pair in brand.all_pairs:
        ratio = contrast_ratio(brand.colours[pair.text], brand.colours[pair.background])
        needed = required_ratio(pair.large_text)
        if ratio < needed:
            result.add("CONTENT-CONTRAST",
                       f"{pair.use}: {pair.text} on {pair.background} is {ratio:.2f}:1, below {needed:g}:1",
                       "choose a darker text colour or a lighter background in the brand file",
                       str(guide.brand_path or "styles/brand.yaml"))
