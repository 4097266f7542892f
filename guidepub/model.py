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
    """A person or organisation credited in the imprint and metadata."""

    name: Text = Field(description="as it should be printed")
    role: Literal["author", "editor", "illustrator", "reviewer", "designer"] = "author"


class Licence(Strict):
    """The licence the guide is published under."""

    name: Text = Field(description="e.g. CC BY 4.0")
    url: HttpUrl = Field(description="where the licence text is")


class Edition(Strict):
    """This edition of the guide."""

    number: int = Field(ge=1, description="1 for the first edition")
    date: dt.date = Field(description="publication date of this edition")
    version: str = Field(pattern=r"^\d+\.\d+(\.\d+)?$", description="e.g. \"1.0\" (quoted)")


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
    """Identifiers of the publication."""

    urn: str = Field(pattern=r"^urn:[a-z0-9][a-z0-9-]{0,31}:\S+$",
                     description="A stable identifier for the publication, e.g. urn:uuid:...")
    isbn: dict[str, Annotated[str, AfterValidator(isbn13)]] = Field(
        default_factory=dict, description="ISBN-13 per variant name, e.g. {screen: 978-...}")


class Change(Strict):
    """One change in an edition."""

    what: Text = Field(description="what changed")
    why: Text = Field(description="why it changed")


class ChangelogEntry(Strict):
    """One edition in the changelog: what changed and why."""

    edition: int = Field(ge=1, description="the edition number")
    version: str = Field(pattern=r"^\d+\.\d+(\.\d+)?$", description="its version")
    date: dt.date = Field(description="its date")
    changes: list[Change] = Field(min_length=1, description="what changed and why")


class Variant(Strict):
    """One edition variant (styles/variants.yaml): a format plus CSS layers."""

    name: str = Field(pattern=ID_PATTERN)
    title: str
    description: str
    format: Literal["pdf", "epub", "web"]
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

    id: str = Field(pattern=ID_PATTERN, description="lower-case words joined by hyphens")
    title: Text = Field(description="the resource's name")
    publisher: Text = Field(description="who publishes it")
    url: HttpUrl = Field(description="its web address")
    offers: Text = Field(min_length=1, description="what a reader finds there, in a sentence")


class ResourceList(Strict):
    """The further resources file."""

    resources: list[Resource] = Field(min_length=1, description="the resources, in any order (printed A to Z)")


# An address a mailto: link carries as it is (no ?, & or %, which would start a query).
EMAIL = re.compile(r"[A-Za-z0-9._+'-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+")


def _email(value: str) -> str:
    value = value.strip()
    if not EMAIL.fullmatch(value) or ".." in value or value.split("@")[1].rsplit(".", 1)[1].isdigit():
        raise ValueError(f"'{value}' is not an email address: write one such as access@example.org")
    return value


def _phone(value: str) -> str:
    value = " ".join(value.split())
    digits = re.sub(r"\D", "", value)
    if not re.fullmatch(r"\+?[0-9][0-9 ()-]*", value) or not 7 <= len(digits) <= 15:
        raise ValueError(f"'{value}' is not a phone number: write digits and spaces, such as 0113 496 0000 "
                         "or +44 113 496 0000")
    return value


class Contact(Strict):
    """How readers reach the publisher: printed in the generated accessibility
    statement of every edition (required when a part asks for it, with
    `generated: accessibility-statement` in its front matter)."""

    email: Annotated[str, AfterValidator(_email)] = Field(description="an email address readers can write to, "
                                                                      "e.g. accessibility@example.org")
    phone: Annotated[str, AfterValidator(_phone)] | None = Field(None, description="a phone number, e.g. "
                                                                 "0113 496 0000 (digits, spaces, + ( ) -)")
    address: list[Text] | None = Field(None, min_length=1, max_length=8,
                                       description="a postal address, one line per item")
    reply_days: int | None = Field(None, ge=1, le=60, description="how many working days readers wait "
                                                                  "for a reply at most")


class GuideMeta(Strict):
    """guide.yaml."""

    slug: str = Field(pattern=ID_PATTERN, description="short name used in output file names, e.g. first-principles")
    title: Text = Field(description="the guide's title")
    subtitle: Text | None = Field(None, description="printed under the title")
    series: Text | None = Field(None, description="the series the guide belongs to, printed above the title")
    publisher: Text = Field(description="the organisation that publishes the guide")
    language: str = Field(pattern=r"^[a-z]{2,3}(-[A-Z]{2})?$", description="a language tag, e.g. en-GB or cy")
    description: Text = Field(description="a sentence or two for catalogues and reading apps")
    keywords: list[str] = Field(default_factory=list, description="subject keywords for the metadata")
    contributors: list[Contributor] = Field(min_length=1, description="authors, editors, illustrators, ...")
    licence: Licence = Field(description="the licence of the text")
    edition: Edition = Field(description="number, date and version of this edition")
    identifiers: Identifiers = Field(description="urn (required) and ISBNs")
    accessibility_summary: Text = Field(description="what makes the guide accessible, for the EPUB's metadata")
    web_address: HttpUrl | None = Field(None, description="where the web edition is published, for the "
                                                           "accessibility statement of every edition; "
                                                           "without it, only the web edition lists itself")
    how_to_cite: Text | None = Field(None, description="printed in the imprint")
    contact: Contact | None = Field(None, description="how readers reach the publisher (email required); "
                                                      "required when a part asks for the generated "
                                                      "accessibility statement")
    changelog: list[ChangelogEntry] = Field(min_length=1, description="every edition, newest first; the first "
                                                                      "is this edition")
    style: StyleRules = Field(default_factory=StyleRules, description="the guide's house rules for `lint` and "
                                                                      "`check`")
    resources: str | None = Field(None, description="a YAML file of further resources, e.g. resources.yaml")
    brand: str | None = Field(None, description="the guide's brand file, relative to the guide's folder "
                                                "(e.g. brand/brand.yaml); default: the project's styles/brand.yaml")
    editions: list[str] | None = Field(None, description="the edition variants this guide builds "
                                                         "(`python build.py --list`); default: every one")
    front_matter: list[str] = Field(default_factory=list, description="Markdown files before the chapters, "
                                                                      "relative to the guide's folder")
    chapters: list[str] = Field(min_length=1, description="the chapters' Markdown files, in order")
    back_matter: list[str] = Field(default_factory=list, description="Markdown files after the chapters "
                                                                     "(glossary, resources, ...)")

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

    id: str = Field(pattern=ID_PATTERN, description="lower-case words joined by hyphens, e.g. ch-teams; "
                                                    "cross-references use it: [](#ch-teams)")
    title: Text = Field(description="the document's only level 1 heading")
    summary: Text | None = Field(None, description="one sentence on what the document is about")
    learning_outcomes: list[Text] = Field(default_factory=list, description="what a reader will be able to "
                                          "do after the chapter (required when style.learning_outcomes is on)")
    type: DocKind = Field("chapter", description="what kind of document it is")
    generated: Literal["accessibility-statement"] | None = Field(
        None, description="`accessibility-statement`: the build writes the guide's accessibility statement at "
                          "the top of this part, worded for each edition (guide.yaml `contact` is then required)")


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
    caption: str             # plain text; "" when the figure has none (its label "Figure N." stays)
    href: str = ""           # the cleaned file, relative to the guide and to the EPUB package
    media_type: str = ""
    data: bytes = field(default=b"", repr=False)     # what every edition shows (load/figures.py)
    width: str | None = None     # a CSS width from {width="80%"} (%, px or em), capped at the text width
    caption_inline: Token | None = field(default=None, repr=False)   # the caption's Markdown, parsed


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
    # The front matter title's Markdown, parsed; meta.title holds its plain
    # text (bookmarks, running heads, <title>, cross-references, nav labels).
    title_inline: Token | None = field(default=None, repr=False)

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
            return f"Chapter\u00a0{self.number}: {self.meta.title}"     # a no-break space: never "Chapter / 5"
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
    last_check: object | None = None     # the last `check` of this output folder (check/record.py), if any

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


FONT_PREFIX = "Brand "      # before each family name in the stylesheets (Font.layers)


class FontFace(Strict):
    """One font file of a family: its weight, style and path (a WOFF2 file,
    relative to the brand file). A family may give several files for one
    weight and style (a font package's latin and latin-ext subsets)."""

    weight: int = Field(ge=100, le=900)
    style: Literal["normal", "italic"] = "normal"
    file: str = Field(pattern=r"\.woff2$", description="a WOFF2 file, relative to the brand file")


class Font(Strict):
    """A font family and the files of its faces."""

    family: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$")] = Field(
        description="the family name the stylesheets use (letters, digits, spaces, dots, hyphens)")
    faces: list[FontFace] = Field(min_length=1)

    @property
    def files(self) -> list[str]:
        return list(dict.fromkeys(face.file for face in self.faces))

    def layers(self) -> list[tuple[str, list[FontFace]]]:
        """The faces as the stylesheets declare them: (family name, faces),
        one file a weight and style in each. The names start "Brand ", so
        that no font installed on the machine has them (fontconfig would
        otherwise choose between the brand's Noto Sans Math and the system's
        by version, and builds would differ between machines). WeasyPrint 70
        treats two files of one family, weight and style as one font and
        mixes up their glyphs, so the second file of a weight and style (a
        package's latin-ext subset after its latin one) is "Brand FAMILY
        part 2", the third "part 3"; the stylesheets list them together."""
        layers: list[list[FontFace]] = []
        seen: dict[tuple[int, str], int] = {}
        for face in self.faces:
            n = seen.get((face.weight, face.style), 0)
            seen[(face.weight, face.style)] = n + 1
            if n == len(layers):
                layers.append([])
            layers[n].append(face)
        return [(f"{FONT_PREFIX}{self.family}" + (f" part {n + 1}" if n else ""), faces)
                for n, faces in enumerate(layers)]


class Fonts(Strict):
    """The brand's fonts by role. Every font is embedded in both formats, and
    no text may be set in any other: a character that none of a text's fonts
    has is CONTENT-GLYPH, and text the PDF sets in another font is
    PDF-FONT-FALLBACK."""

    body: Font = Field(description="the text")
    heading: Font | None = Field(None, description="headings; default: the body font")
    monospace: Font = Field(description="inline code and code blocks")
    fallbacks: list[Font] = Field(default_factory=list,
                                  description="fonts for the characters the others lack (symbols, "
                                              "mathematics, emoji), tried in this order")

    @property
    def headings(self) -> Font:
        return self.heading or self.body

    def roles(self) -> dict[str, Font]:
        """The font of each role: body, heading, monospace."""
        return {"body": self.body, "heading": self.headings, "monospace": self.monospace}

    def stack(self, role: str) -> list[Font]:
        """The fonts text of this role may be set in, first choice first."""
        return [self.roles()[role], *self.fallbacks]

    def all(self) -> list[Font]:
        """Every declared family once, in declaration order, with the faces
        of every role that names it."""
        faces: dict[str, list[FontFace]] = {}
        for font in [self.body, self.headings, self.monospace, *self.fallbacks]:
            known = faces.setdefault(font.family, [])
            known += [face for face in font.faces if face not in known]
        return [Font(family=family, faces=found) for family, found in faces.items()]


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
    fonts: Fonts
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

    @property
    def font(self) -> Font:
        """The body font."""
        return self.fonts.body

    @property
    def font_families(self) -> list[str]:
        """Every family name the stylesheets declare (Font.layers), the only
        fonts the PDF may use."""
        return [name for font in self.fonts.all() for name, _ in font.layers()]

    @property
    def font_files(self) -> list[str]:
        """Every font file the brand names, each once."""
        return list(dict.fromkeys(f for font in self.fonts.all() for f in font.files))
