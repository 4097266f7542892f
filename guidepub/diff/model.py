"""What a diff finds, as plain data: diff.json is these dataclasses."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

# What a diff compares, and what `--fail-on` can name.
KINDS = ("metadata", "text", "structure", "figures", "files", "pages")


@dataclass
class SectionChange:
    id: str
    heading: str
    place: str                  # where it is in head: "Chapter 4: Compassion" (the document's name)
    status: str                 # added, removed, changed, moved, unchanged
    diff: str = ""              # a short word diff: [-old-]{+new+}
    base_place: str = ""        # moved: where it was
    base_after: str = ""        # moved: the heading it followed in base ("" = the start of its document)
    after: str = ""             # moved: the heading it follows in head

    @property
    def title(self) -> str:
        """'Chapter 4: Compassion' for a document's own heading, else
        'Chapter 4: Compassion › A section'."""
        return self.place if self.heading in ("", self.place) or self.place.endswith(self.heading) \
            else f"{self.place} › {self.heading}"


@dataclass
class FigureChange:
    label: str                  # "Figure 4" (head's, or base's when removed)
    id: str
    place: str
    status: str                 # changed, added, removed, unchanged
    changes: list[str] = field(default_factory=list)   # "image changed", "alt text changed", ...
    base: dict = field(default_factory=dict)           # label, caption, alt, src, sha256
    head: dict = field(default_factory=dict)


@dataclass
class FileChange:
    file: str                   # path inside the EPUB, e.g. css/guide.css
    kind: str                   # stylesheet, font, image, other
    status: str                 # changed, added, removed
    base_bytes: int | None = None
    head_bytes: int | None = None
    details: list[str] = field(default_factory=list)   # for a stylesheet: the declarations that changed
    figure: str = ""            # the figure that shows this image, if any
    edition: str = "epub"       # the edition it belongs to (the EPUB, or a website)


@dataclass
class PageChange:
    status: str                 # unchanged, renumbered, changed, added, removed
    base: int | None            # 1-based page numbers
    head: int | None
    boxes: list[list[float]] = field(default_factory=list)   # changed regions on the head page, in points


@dataclass
class EditionChange:
    variant: str
    format: str                 # pdf, epub
    status: str                 # unchanged (byte for byte), changed, added, removed
    base_pages: int | None = None
    head_pages: int | None = None


@dataclass
class StructureChange:
    kind: str                   # outline, headings, tables, links, tags, epub spine, epub contents
    editions: list[str]         # where this change was found
    removed: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    renumbered: list[str] = field(default_factory=list)   # "4. Teams → 5. Teams"
    changed: list[str] = field(default_factory=list)      # counts: "Figure: 4 → 5"


@dataclass
class SourceChange:
    path: str
    status: str                 # added, removed, changed, renamed
    old_path: str = ""
    details: list[str] = field(default_factory=list)     # "colours.primary: #005EB8 → #0B5CAD"


@dataclass
class Diff:
    identical: bool
    base: dict = field(default_factory=dict)            # label, folder, commit, subject
    head: dict = field(default_factory=dict)
    editions: list[EditionChange] = field(default_factory=list)
    metadata: list[dict] = field(default_factory=list)  # {field, edition, base, head}
    sections: list[SectionChange] = field(default_factory=list)
    renumbered_documents: list[str] = field(default_factory=list)   # "Chapter 4 → Chapter 5"
    figures: list[FigureChange] = field(default_factory=list)
    files: list[FileChange] = field(default_factory=list)
    structure: list[StructureChange] = field(default_factory=list)
    pages: dict[str, list[PageChange]] = field(default_factory=dict)   # variant -> its pages
    sources: list[SourceChange] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def changed(self) -> set[str]:
        kinds = set()
        if self.metadata or any(e.status in ("added", "removed") for e in self.editions):
            kinds.add("metadata")
        if any(s.status != "unchanged" for s in self.sections):
            kinds.add("text")
        if self.structure:
            kinds.add("structure")
        if any(f.status not in ("unchanged", "renumbered") for f in self.figures):
            kinds.add("figures")
        if self.files:
            kinds.add("files")
        if any(p.status not in ("unchanged", "renumbered") for pages in self.pages.values() for p in pages):
            kinds.add("pages")
        return kinds

    def counts(self, what: str, variant: str | None = None) -> dict[str, int]:
        """How many sections (what='sections'), figures, or pages (of one
        edition, or of all) have each status."""
        if what == "sections":
            items = self.sections
        elif what == "figures":
            items = self.figures
        else:
            items = [p for v, pages in self.pages.items() if variant in (None, v) for p in pages]
        result: dict[str, int] = {}
        for item in items:
            result[item.status] = result.get(item.status, 0) + 1
        return result

    def pages_changed(self) -> dict[str, int]:
        """variant -> pages changed, added or removed (renumbering aside)."""
        return {v: n for v, pages in self.pages.items()
                if (n := sum(p.status in ("changed", "added", "removed") for p in pages))}

    def to_dict(self) -> dict:
        return asdict(self) | {"changed": sorted(self.changed)}
