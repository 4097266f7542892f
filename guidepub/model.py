"""The content model: the schema of guide.yaml and chapter front matter
(pydantic), and the plain data classes that templates receive."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

from markdown_it.token import Token
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, HttpUrl, model_validator

# Lower-case words joined by single hyphens. Ids the build generates contain
# "--" ({doc}--title, {doc}--p3, {doc}--block-2), so they never meet these.
ID_PATTERN = r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$"


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank: write some text, or leave the field out if it is optional")
    return value


# Text a reader sees: a value of only spaces would print an empty heading or bookmark.
Text = Annotated[str, AfterValidator(_not_blank)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Contributor(Strict):
    name: Text
    role: Literal["author", "editor", "illustrator", "reviewer", "designer"] = "author"


class Licence(Strict):
    name: Text
    url: HttpUrl


class Edition(Strict):
    number: int = Field(ge=1)
    date: dt.date
    version: str = Field(pattern=r"^\d+\.\d+(\.\d+)?$")


def isbn13(value: str) -> str:
    """An ISBN-13 with a valid check digit, written as given (hyphens allowed)."""
    digits = value.replace("-", "").replace(" ", "")
    if not re.fullmatch(r"97[89]\d{10}", digits):
        raise ValueError("an ISBN-13 has 13 digits and starts with 978 or 979")
    check = (10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(digits[:12])) % 10) % 10
    if check != int(digits[12]):
        raise ValueError(f"the check digit should be {check}, not {digits[12]}: is a digit mistyped?")
    return value


class Identifiers(Strict):
    urn: str = Field(pattern=r"^urn:[a-z0-9][a-z0-9-]{0,31}:\S+$",
                     description="A stable identifier for the publication, e.g. urn:uuid:...")
    isbn: dict[str, Annotated[str, AfterValidator(isbn13)]] = Field(
        default_factory=dict, description="ISBN-13 per variant name, e.g. {screen: 978-...}")


class Change(Strict):
    what: Text
    why: Text


class ChangelogEntry(Strict):
    """One edition in the changelog: what changed and why."""

    edition: int = Field(ge=1)
    version: str = Field(pattern=r"^\d+\.\d+(\.\d+)?$")
    date: dt.date
    changes: list[Change] = Field(min_length=1)


class Variant(Strict):
    """One edition variant (styles/variants.yaml): a format plus CSS layers."""

    name: str = Field(pattern=ID_PATTERN)
    title: str
    description: str
    format: Literal["pdf", "epub"]
    css: list[str] = Field(default_factory=list)
    default: bool = False


class VariantList(Strict):
    variants: list[Variant] = Field(min_length=1)


ChapterPart = Literal["key-points", "activity", "case-study", "self-check", "resources"]


class StyleRules(Strict):
    """The guide's house rules (guide.yaml `style`). Each is off unless the
    guide turns it on, so any guide builds as written; the plain-English
    limits apply to every guide (set them to null to turn them off)."""

    proper_nouns: list[str] = Field(default_factory=list,
                                    description="names that keep their capitals in a sentence-case heading")
    known_acronyms: list[str] = Field(default_factory=list,
                                      description="acronyms every reader knows, needing no expansion")
    max_sentence_words: int | None = Field(35, ge=5, description="the longest sentence allowed, in words")
    max_average_words: float | None = Field(20, ge=5, description="the longest average sentence per "
                                            "document, in words")
    expand_acronyms: bool = Field(True, description="every acronym is expanded on first use in each document")
    sentence_case: bool = Field(False, description="headings and block titles are in sentence case")
    learning_outcomes: bool = Field(False, description="every chapter lists learning outcomes in its front matter")
    chapter_parts: list[ChapterPart] = Field(
        default_factory=list, description="blocks every chapter must have, e.g. [key-points, activity, "
                                          "case-study, self-check, resources]")
    fictional_case_studies: bool = Field(False, description="every case study's title ends '(fictional)'")
    listed_resources: bool = Field(False, description="every link in a chapter's further resources block "
                                                      "is in the guide's resources file")


class Resource(Strict):
    """One entry of the further resources list (content/resources.yaml)."""

    id: str = Field(pattern=ID_PATTERN)
    title: Text
    publisher: Text
    url: HttpUrl
    offers: Text = Field(min_length=1, description="what a reader finds there, in a sentence")


class ResourceList(Strict):
    resources: list[Resource] = Field(min_length=1)


class GuideMeta(Strict):
    """guide.yaml."""

    slug: str = Field(pattern=ID_PATTERN)
    title: Text
    subtitle: Text | None = None
    series: Text | None = None
    publisher: Text
    language: str = Field(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$")
    description: Text
    keywords: list[str] = Field(default_factory=list)
    contributors: list[Contributor] = Field(min_length=1)
    licence: Licence
    edition: Edition
    identifiers: Identifiers
    accessibility_summary: Text
    how_to_cite: Text | None = None
    changelog: list[ChangelogEntry] = Field(min_length=1, description="newest first")
    style: StyleRules = Field(default_factory=StyleRules)
    resources: str | None = Field(None, description="a YAML file of further resources, e.g. resources.yaml")
    brand: str | None = Field(None, description="the guide's brand file, relative to the guide's folder "
                                                "(e.g. brand/brand.yaml); default: the project's styles/brand.yaml")
    editions: list[str] | None = Field(None, description="the edition variants this guide builds "
                                                         "(`python build.py --list`); default: every one")
    front_matter: list[str] = Field(default_factory=list)
    chapters: list[str] = Field(min_length=1)
    back_matter: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _current_edition_in_changelog(self):
        newest = self.changelog[0]
        if (newest.edition, newest.version) != (self.edition.number, self.edition.version):
            raise ValueError(f"the newest changelog entry is edition {newest.edition}, version "
                             f"{newest.version}, but the guide is edition {self.edition.number}, "
                             f"version {self.edition.version}: add an entry for this edition first")
        return self

    @property
    def full_title(self) -> str:
        return f"{self.title}: {self.subtitle}" if self.subtitle else self.title


DocKind = Literal["chapter", "introduction", "preface", "glossary", "appendix",
                  "conclusion", "acknowledgments", "bibliography"]


class DocMeta(Strict):
    """The YAML front matter of one Markdown document."""

    id: str = Field(pattern=ID_PATTERN)
    title: Text
    summary: Text | None = None
    learning_outcomes: list[Text] = Field(default_factory=list)
    type: DocKind = "chapter"


@dataclass
class Heading:
    level: int
    text: str
    id: str
    line: int


@dataclass
class Figure:
    id: str
    number: int
    src: str                 # as the Markdown names it, for messages
    alt: str
    caption: str
    href: str = ""           # the cleaned file, relative to the guide and to the EPUB package
    media_type: str = ""
    data: bytes = field(default=b"", repr=False)     # what every edition shows (load/figures.py)


@dataclass
class Table:
    id: str | None
    number: int
    caption: str


@dataclass
class Document:
    """One Markdown file: a chapter, or front or back matter."""

    meta: DocMeta
    path: Path
    part: Literal["front", "chapter", "back"]
    number: int | None          # chapter number; None for front and back matter
    tokens: list[Token]
    line_offset: int = 0        # lines of front matter before the Markdown body
    headings: list[Heading] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.meta.id

    def line_of(self, token: Token) -> int | None:
        """The 1-based line in the file where a token starts."""
        return token.map[0] + 1 + self.line_offset if token.map else None

    @property
    def label(self) -> str:
        """How a cross-reference names this document."""
        if self.number is not None:
            return f"Chapter {self.number}: {self.meta.title}"
        return self.meta.title


@dataclass
class Target:
    """Something a cross-reference can point at."""

    id: str
    doc_id: str
    label: str


@dataclass
class Guide:
    meta: GuideMeta
    root: Path                       # the content directory
    documents: list[Document]
    targets: dict[str, Target]
    brand: "Brand"
    build_date: dt.datetime
    resources: list[Resource] = field(default_factory=list)
    variants: list[Variant] = field(default_factory=list)
    sources: list[Path] = field(default_factory=list)   # every content file the build read (cache key)
    brand_path: Path | None = None       # the brand file; fonts, mark and brand CSS are relative to it

    def variant(self, name: str) -> Variant:
        return next(v for v in self.variants if v.name == name)

    @property
    def page_source(self) -> Variant:
        """The PDF variant whose pages the EPUB's page list follows: the
        first default PDF variant."""
        return next(v for v in self.variants if v.format == "pdf" and v.default)

    @property
    def chapters(self) -> list[Document]:
        return [d for d in self.documents if d.part == "chapter"]

    @property
    def figures(self) -> list[Figure]:
        return [f for d in self.documents for f in d.figures]

    @property
    def tables(self) -> list[Table]:
        return [t for d in self.documents for t in d.tables]


class FontFace(Strict):
    weight: int = Field(ge=100, le=900)
    style: Literal["normal", "italic"] = "normal"
    file: str


class Font(Strict):
    family: str
    faces: list[FontFace] = Field(min_length=1)


class ColourPair(Strict):
    """A text colour on a background colour, as the theme uses it."""

    use: str
    text: str
    background: str
    large_text: bool = False


# The colour roles the stylesheets use (var(--colour-ROLE)); every brand gives each one.
COLOUR_ROLES = ("primary", "heading", "text", "muted", "surface", "background", "on-primary",
                "activity", "case-study", "self-check")
# Every text colour on every background the stylesheets put it on, for the contrast check.
ROLE_PAIRS = tuple(ColourPair(use=u, text=t, background=b) for u, t, b in (
    ("body text", "text", "background"),
    ("headings", "heading", "background"),
    ("links", "primary", "background"),
    ("chapter labels", "primary", "background"),
    ("running heads, page numbers and attributions", "muted", "background"),
    ("callout text", "text", "surface"),
    ("callout headings", "heading", "surface"),
    ("links in callouts", "primary", "surface"),
    ("cover text", "on-primary", "primary"),
    ("table headers", "on-primary", "heading"),
))


class Brand(Strict):
    """styles/brand.yaml: the tokens both formats use."""

    name: str
    colours: dict[str, Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$")]] = Field(
        description=f"a #RRGGBB value for each role: {', '.join(COLOUR_ROLES)} (more names may follow, "
                    "for a brand's own CSS)")
    font: Font
    mark: str
    mark_alt: str
    css: list[str] = Field(default_factory=list,
                           description="extra stylesheets of this brand, relative to the brand file, "
                                       "applied after the project's own")
    pairs: list[ColourPair] = Field(default_factory=list,
                                    description="text/background pairs the brand's own CSS adds, for the "
                                                "contrast check (the stylesheets' pairs are always checked)")

    @property
    def all_pairs(self) -> list[ColourPair]:
        return [*ROLE_PAIRS, *self.pairs]
