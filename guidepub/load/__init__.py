"""Stage 1: read content/ and styles/brand.yaml, validate them against the
schema and the guide's rules, and return a Guide. Nothing renders until this
succeeds; every problem names its file and line.

The build opens only the files the guide uses: guide.yaml, the parts it
lists, their figures and the resources file, each checked to lie inside the
content folder before it is opened, and each read with a size limit
(files.py). The limits are stated in the README."""

from __future__ import annotations

import datetime as dt
import functools
import os
import subprocess
from pathlib import Path

from ..errors import GuideError, Problems
from ..model import COLOUR_ROLES, Brand, Document, Font, Guide, GuideMeta, ResourceList, Target, VariantList
from .documents import DocumentReader, resolve_links
from . import figures
from .files import MAX_GUIDE_BYTES, MAX_IMAGE_BYTES, Refused, inside, keep_file, read_limited, read_text, user_cache
from .statement import statement_parts
from .yamlio import key_line, load_model, load_model_with_node, node_line

__all__ = ["load", "load_brand", "load_variants", "load_model", "build_date", "read_text"]

MAX_PARTS = 400                  # documents a guide may list (the 10x benchmark guide has 130)
# Files an editor keeps beside a guide that are not part of it.
NOT_PARTS = {"README", "LICENSE", "LICENCE", "CHANGES", "CHANGELOG", "CONTRIBUTING", "CODE_OF_CONDUCT",
             "NOTICE", "AUTHORS", "SOURCES"}
PARTS = (("front_matter", "front"), ("chapters", "chapter"), ("back_matter", "back"))


def build_date(meta: GuideMeta, content: Path) -> dt.datetime:
    """The date stamped on outputs: SOURCE_DATE_EPOCH when set, else the
    last commit that touched the content folder, else the edition date.
    Never the clock, so builds are reproducible."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        epoch = _last_commit_time(content)
    elif not epoch.strip().isdigit():
        raise GuideError.one("BUILD-DATE", f"SOURCE_DATE_EPOCH='{epoch}' is not a whole number of seconds",
                             hint="unset it or set it to a Unix time such as 1732406400")
    if epoch:
        return dt.datetime.fromtimestamp(int(epoch), dt.timezone.utc)
    return dt.datetime.combine(meta.edition.date, dt.time(), dt.timezone.utc)


def _last_commit_time(folder: Path) -> str | None:
    try:
        run = subprocess.run(["git", "log", "-1", "--format=%ct", "--", "."], cwd=folder,
                             capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    value = run.stdout.strip()
    return value if run.returncode == 0 and value.isdigit() else None


def load_variants(path: Path, meta: GuideMeta, guide_file: Path | None = None, node=None) -> list:
    """The project's edition variants (styles/variants.yaml), narrowed to the
    ones the guide's `editions` lists."""
    variants = load_model(VariantList, path).variants
    problems = Problems()
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        problems.add("VARIANT", "two variants have the same name", path)
    if not any(v.format == "pdf" and v.default for v in variants):
        problems.add("VARIANT", "no default PDF variant: the EPUB's page list needs one", path)
    if meta.editions is not None:
        for i, name in enumerate(meta.editions):
            if name not in names:
                problems.add("CONTENT-SCHEMA", f"field 'editions': no edition is called '{name}'", guide_file,
                             node_line(node, ("editions", i)), f"use some of: {', '.join(names)}")
        chosen = [v for v in variants if v.name in meta.editions]
        source = next((v for v in variants if v.format == "pdf" and v.default), None)
        if not problems.items and (not chosen or (any(v.format == "epub" for v in chosen)
                                                  and source not in chosen)):
            problems.add("CONTENT-SCHEMA", "field 'editions': "
                         + ("it lists no edition" if not chosen else
                            f"the EPUB's page list follows the {source.name} PDF, which is not listed"),
                         guide_file, key_line(node, "editions"),
                         f"list {source.name if source else 'a PDF edition'} as well")
        variants = chosen
    names = [v.name for v in variants]
    for name in meta.identifiers.isbn:
        if name not in names:
            problems.add("CONTENT-SCHEMA", f"field 'identifiers.isbn.{name}': no edition is called '{name}'",
                         guide_file, node_line(node, ("identifiers", "isbn", name)),
                         f"use one of: {', '.join(names)}")
    problems.raise_if_any()
    return variants


@functools.lru_cache(maxsize=256)
def _cmap(path: Path, mtime: float) -> frozenset[int]:
    """The characters a font file has. Reading a WOFF2 font's map decodes
    the whole font (about 0.1 s), so the map is also kept in the user's
    cache, under the file's digest."""
    import hashlib
    import json
    data = path.read_bytes()
    kept = user_cache("cmaps") / f"{hashlib.sha256(data).hexdigest()}.json"
    try:
        found = json.loads(kept.read_text(encoding="utf-8"))
        if isinstance(found, list) and all(isinstance(c, int) for c in found):
            return frozenset(found)
    except (OSError, ValueError):
        pass
    from io import BytesIO

    from fontTools.ttLib import TTFont

    from ..fontfiles import decoded
    with TTFont(BytesIO(decoded(data)), lazy=True) as font:
        found = sorted(font.getBestCmap())
    keep_file(kept, json.dumps(found).encode())
    return frozenset(found)


def font_glyphs(font: Font, base: Path) -> frozenset[int]:
    """The characters a family has in every weight and style it gives: the
    files of one weight and style (a package's subsets) together, then what
    all of them share. Raises if a file cannot be read as a font."""
    styles: dict[tuple[int, str], set[int]] = {}
    for face in font.faces:
        path = (base / face.file).resolve()
        styles.setdefault((face.weight, face.style), set()).update(_cmap(path, path.stat().st_mtime))
    return frozenset.intersection(*map(frozenset, styles.values()))


def brand_glyphs(brand: Brand, base: Path) -> dict[str, frozenset[int]] | None:
    """For each role of text (body, heading, monospace), the characters its
    fonts can draw: the role's own font and the fallbacks (None if a font
    cannot be read: the PDF stage reports that)."""
    try:
        glyphs = {font.family: font_glyphs(font, base) for font in brand.fonts.all()}
    except Exception:        # a damaged font: PDF-WEASYPRINT will say so with its file
        return None
    return {role: frozenset().union(*(glyphs[font.family] for font in brand.fonts.stack(role)))
            for role in brand.fonts.roles()}


def load_brand(path: Path) -> Brand:
    """A brand file: colours by role, fonts, the mark and extra CSS, each
    file relative to the brand file. Every mistake names its line."""
    try:
        brand, node = load_model_with_node(Brand, path)
    except GuideError as exc:
        raise GuideError([_as_brand(p) for p in exc.problems])
    problems = Problems()
    base = path.parent
    missing_fonts: set[str] = set()
    for loc, font in _font_roles(brand):
        for i, face in enumerate(font.faces):
            if face.file not in missing_fonts and not (base / face.file).is_file():
                missing_fonts.add(face.file)        # once, where it is first named
                problems.add("BRAND-FONT", f"font file '{face.file}' not found", path,
                             node_line(node, (*loc, "faces", i)), "run `make` to install the pinned font "
                             "packages, or fix the path (relative to the brand file)")
    if not (base / brand.mark).is_file():
        problems.add("BRAND-MARK", f"mark '{brand.mark}' not found", path, key_line(node, "mark"),
                     "give the path of an SVG file, relative to the brand file")
    else:
        _check_mark(base / brand.mark, brand.mark, path, key_line(node, "mark"), problems)
    for i, css in enumerate(brand.css):
        if not (base / css).is_file():
            problems.add("BRAND-CSS", f"stylesheet '{css}' not found", path, node_line(node, ("css", i)),
                         "give the path of a CSS file, relative to the brand file")
    missing = [role for role in COLOUR_ROLES if role not in brand.colours]
    if missing:
        problems.add("BRAND-COLOUR", f"no colour for the role{'s' if len(missing) > 1 else ''} "
                     f"{', '.join(missing)}", path, key_line(node, "colours"),
                     f"give every role a #RRGGBB value: {', '.join(COLOUR_ROLES)}")
    for i, pair in enumerate(brand.pairs):
        for colour in (pair.text, pair.background):
            if colour not in brand.colours:
                problems.add("BRAND-COLOUR", f"pair '{pair.use}' uses unknown colour '{colour}'", path,
                             node_line(node, ("pairs", i)), "use a colour named under colours:")
    problems.raise_if_any()
    return brand


def _check_mark(mark: Path, name: str, brand_file: Path, line: int | None, problems: Problems) -> None:
    """The mark is drawn inside the EPUB's cover (cover.py), so it must hold
    everything it draws: checked like a figure (figures.py)."""
    if mark.suffix.lower() not in (".svg", ".png", ".jpg", ".jpeg"):
        problems.add("BRAND-MARK", f"mark '{name}' is not SVG, PNG or JPEG", brand_file, line,
                     "give an SVG file (or a PNG or JPEG), relative to the brand file")
        return
    try:
        figures.clean(mark, name, read_limited(mark, MAX_IMAGE_BYTES))
    except figures.FigureRefused as exc:
        problems.add("BRAND-MARK", f"mark '{name}': {exc.problem.message}", brand_file, line,
                     "the mark is drawn inside the EPUB's cover and must hold everything it draws: "
                     + (exc.problem.hint or "save it again as plain SVG"))
    except (OSError, Refused) as exc:
        problems.add("BRAND-MARK", f"mark '{name}' cannot be read ({exc})", brand_file, line,
                     "give the path of an SVG file, relative to the brand file")


def _font_roles(brand: Brand) -> list[tuple[tuple, Font]]:
    """Each font the brand declares, with where it sits in the brand file."""
    fonts = brand.fonts
    found = [(("fonts", "body"), fonts.body)]
    if fonts.heading is not None:
        found.append((("fonts", "heading"), fonts.heading))
    found.append((("fonts", "monospace"), fonts.monospace))
    found += [(("fonts", "fallbacks", i), font) for i, font in enumerate(fonts.fallbacks)]
    return found


def _as_brand(problem):
    """A schema or YAML mistake in a brand file is a brand problem."""
    if problem.code == "CONTENT-SCHEMA":
        problem.code = "BRAND-SCHEMA"
        problem.hint = "see docs/guide-yaml.md (brand file)"
    return problem


def _listed_parts(meta: GuideMeta, node, content: Path, guide_file: Path,
                  problems: Problems) -> list[tuple[str, str, Path]]:
    """(part, path as listed, real path) of each document guide.yaml lists,
    checked before anything is opened: inside the content folder, listed
    once, existing, and no more than MAX_PARTS of them."""
    total = sum(len(getattr(meta, key)) for key, _ in PARTS)
    if total > MAX_PARTS:
        raise GuideError.one("CONTENT-TOO-MANY", f"guide.yaml lists {total:,} documents, over the limit of "
                             f"{MAX_PARTS}", guide_file, key_line(node, "chapters"),
                             "split the guide into volumes, or join short documents")
    listed: list[tuple[str, str, Path]] = []
    first_line: dict[Path, int | None] = {}
    for key, part in PARTS:
        for i, rel in enumerate(getattr(meta, key)):
            line = node_line(node, (key, i))
            try:
                real = inside(content, rel)
            except Refused as exc:
                problems.add("CONTENT-PATH", f"'{rel}' {exc.why}", guide_file, line, exc.hint)
                continue
            if real in first_line:
                problems.add("CONTENT-REPEATED", f"'{rel}' is listed again (first on line {first_line[real]})",
                             guide_file, line, "list each document once")
                continue
            first_line[real] = line
            if not real.exists():
                problems.add("CONTENT-MISSING", f"'{rel}' is listed but there is no such file", guide_file, line,
                             "fix the path in guide.yaml, or add the file")
                continue
            listed.append((part, rel, real))
    return listed


def _unlisted(content: Path, listed: set[Path], problems: Problems) -> None:
    """Markdown files in the content folder that guide.yaml does not list
    (drafts left behind). Nothing is opened; READMEs and licences are fine."""
    for path in sorted(content.rglob("*.md")):
        if path.stem.upper() in NOT_PARTS or any(p.startswith(".") for p in path.relative_to(content).parts):
            continue
        if path.resolve() not in listed:
            problems.add("CONTENT-UNLISTED", f"'{path.relative_to(content)}' is not listed in guide.yaml", path, None,
                         "add it to front_matter, chapters or back_matter, or move drafts out of the content folder")


def load(content: Path, brand_path: Path) -> Guide:
    """Read and validate the whole guide. Raises GuideError listing every problem.
    `brand_path` is the project's default brand, used unless guide.yaml names
    its own (`brand:`); the styles folder holding it also holds variants.yaml."""
    guide_file = content / "guide.yaml"
    try:
        guide_real = inside(content, "guide.yaml")
    except Refused as exc:
        raise GuideError.one("CONTENT-PATH", f"guide.yaml {exc.why}", guide_file, None, exc.hint)
    meta, node = load_model_with_node(GuideMeta, guide_file, read_text(guide_real, shown=guide_file,
                                    hint="--content names a guide's folder, the one holding guide.yaml "
                                         "(`python build.py new DIR` starts one)"))
    variants = load_variants(brand_path.parent / "variants.yaml", meta, guide_file, node)
    if meta.brand:
        try:
            brand_path = inside(content, meta.brand)
        except Refused as exc:
            raise GuideError.one("CONTENT-PATH", f"brand '{meta.brand}' {exc.why}", guide_file,
                                 key_line(node, "brand"), exc.hint)
        if not brand_path.is_file():
            raise GuideError.one("BRAND-MISSING", f"brand file '{meta.brand}' not found", guide_file,
                                 key_line(node, "brand"), "give the path of the guide's brand.yaml, relative "
                                 "to the guide's folder, or leave `brand:` out for the project's brand")
    brand = load_brand(brand_path)
    problems = Problems()
    reader = DocumentReader(content, problems, {}, {"figure": 0, "table": 0})
    reader.outcomes_required = meta.style.learning_outcomes
    reader.glyphs = brand_glyphs(brand, brand_path.parent)
    listed = _listed_parts(meta, node, content, guide_file, problems)
    _unlisted(content, {real for _, _, real in listed}, problems)
    documents: list[Document] = []
    chapter_no = 0
    for part, rel, real in listed:
        number = None
        if part == "chapter":
            chapter_no += 1
            number = chapter_no
        doc = reader.read(content / rel, real, part, number)
        if doc:
            documents.append(doc)
        if reader.bytes_read > MAX_GUIDE_BYTES:
            problems.add("CONTENT-TOO-LARGE", f"the guide's files add up to over {MAX_GUIDE_BYTES // 2**20} MB",
                         guide_file, None, "a guide is a few megabytes of text and figures; split it into volumes")
            problems.raise_if_any()
    if len(documents) < sum(len(getattr(meta, key)) for key, _ in PARTS):
        problems.raise_if_any()     # links into a file that failed to load would only add noise
    keys = {part: key for key, part in PARTS}
    statement_parts(meta, node, documents, [(keys[part], rel, real) for part, rel, real in listed], content,
                    guide_file, problems)
    targets: dict[str, Target] = {}
    for doc in documents:
        targets[doc.id] = Target(doc.id, doc.id, doc.label)
        for h in doc.headings:
            targets[h.id] = Target(h.id, doc.id, h.text)
        for f in doc.figures:
            targets[f.id] = Target(f.id, doc.id, f"Figure\u00a0{f.number}")     # no-break spaces
        for t in doc.tables:
            if t.id:
                targets[t.id] = Target(t.id, doc.id, f"Table\u00a0{t.number}")
    resolve_links(documents, targets, problems)
    resources: list = []
    sources = [guide_real] + [real for _, _, real in listed] + sorted(reader.figures)
    if meta.resources:
        try:
            real = inside(content, meta.resources)
            shown = content / meta.resources
            resources = load_model(ResourceList, shown, read_text(real, shown=shown)).resources
            sources.append(real)
        except Refused as exc:
            problems.add("CONTENT-PATH", f"'{meta.resources}' {exc.why}", guide_file,
                         key_line(node, "resources"), exc.hint)
        except GuideError as exc:
            problems.extend(exc)
    problems.raise_if_any()
    return Guide(meta=meta, root=content, documents=documents, targets=targets, brand=brand,
                 build_date=build_date(meta, content), variants=variants,
                 resources=sorted(resources, key=lambda r: r.title.lower()), sources=sources,
                 brand_path=brand_path.resolve())
