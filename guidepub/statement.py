"""What the generated accessibility statement says in each edition: which
edition it sits in, the editions the guide comes in (with their file names),
the guide's contact details and the last check of this edition. The words
are in templates/partials/accessibility-statement.html.j2, one partial for
every format; load/statement.py checks the part that asks for it."""

from __future__ import annotations

from dataclasses import dataclass

from .check.record import EditionCheck
from .load.statement import SECTIONS, section_ids
from .model import Document, Guide, Variant

# What kind of edition a variant is, for the wording: the project's own
# variants by name (styles/variants.yaml); any other by its format.
KINDS = {"screen": "screen", "large-print": "large-print", "print": "print"}

# Each family of checks (CheckResult.name), as a reader would say it.
FAMILY_TEXT = {
    "content": "the writing (plain English, headings, link text and text descriptions of figures)",
    "pdf": "the structure of the PDF file, against the PDF/UA-1 standard",
    "epub": "the EPUB file, with the EPUBCheck and Ace by DAISY tools",
    "parity": "whether the PDF and the EPUB hold the same headings, figures, tables and links",
    "metadata": "whether what the EPUB says about its accessibility is true",
    "web": "every page in a web browser, with zoom, text spacing and a keyboard alone",
    "parity-web": "whether the website holds the same headings, figures, tables and links as the EPUB",
}


@dataclass(frozen=True)
class EditionInfo:
    name: str            # the variant's name
    kind: str            # screen, large-print, print, pdf (another PDF), epub or web
    title: str
    description: str     # the variant's own description, for a kind without words of its own
    file: str | None     # the file a reader downloads; None for the web edition (a site)
    this: bool           # the edition the statement sits in
    address: str | None = None     # the web edition's, when guide.yaml gives it


def kind_of(variant: Variant) -> str:
    return KINDS.get(variant.name, "pdf") if variant.format == "pdf" else variant.format


def edition_of(guide: Guide, fmt) -> Variant | None:
    """The variant a Format renders: a PDF by its CSS layers, the others by format."""
    for variant in guide.variants:
        if variant.format == fmt.name and (fmt.name != "pdf" or tuple(variant.css) == fmt.css_layers[1:]):
            return variant
    return None


def family_text(name: str, title: str) -> str:
    if name.startswith("pdf-"):
        name = "pdf"
    return FAMILY_TEXT.get(name, title)


def context(guide: Guide, doc: Document, fmt) -> dict:
    """What the partial needs to write the statement for one edition."""
    from .pipeline import output_name
    meta = guide.meta
    here = edition_of(guide, fmt)
    editions = [EditionInfo(v.name, kind_of(v), v.title, v.description,
                            None if v.format == "web" else output_name(meta.slug, meta.edition.number, v.name,
                                                                       v.format),
                            here is not None and v.name == here.name,
                            str(meta.web_address) if v.format == "web" and meta.web_address else None)
                for v in guide.variants]
    # A reader of another edition cannot find a website without its address.
    editions = [e for e in editions if e.kind != "web" or e.address or e.this]
    check = EditionCheck("none")
    if here is not None and guide.last_check is not None:
        check = guide.last_check.of(here.name)
    ids = section_ids(doc)
    kinds = {e.kind for e in editions}
    return {"doc": doc, "edition": next((e for e in editions if e.this), None), "editions": editions,
            "kinds": kinds, "reflows": [k for k in ("epub", "web") if k in kinds], "contact": meta.contact, "check": check,
            "family_text": family_text,
            # "statement", "using", "editions", "checks", "contact" -> (level, id, heading)
            "sections": {suffix.removeprefix("statement-"): (level, ids[suffix], text)
                         for level, suffix, text in SECTIONS}}
