"""The record of the last `check`, which the next build reads so that each
edition's accessibility statement can give the date and result of its last
check (templates/partials/accessibility-statement.html.j2).

`build.py check` writes `check-record.json` into the output folder, beside
the editions and their manifest (never into the guide's folder, which may be
read-only). For each edition checked it keeps the date, the result of every
family of checks that concerns that edition, and the build-cache key of the
inputs it was built from (without the record itself). An edition not checked
this time keeps its entry from the last record of the same guide, edition
and version.

A build reads the record (`last_check`): an edition whose inputs have changed
since its check, or that was never checked, is "not yet checked"; a record of
another guide or edition, or one that cannot be read, counts as no record.
The record is an input of every edition (cache.py folds its digest into the
keys), so the same sources and the same record give the same bytes."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..load.files import Refused, read_limited
from ..outputs import atomic_path

RECORD = "check-record.json"
FORMAT = 1
MAX_RECORD_BYTES = 1 << 20

# Which families of checks (CheckResult.name) concern an edition of each format.
# A PDF edition other than the page source has its own family, "pdf-NAME".
FAMILIES = {"pdf": ("content", "pdf", "parity"), "epub": ("content", "epub", "parity", "metadata"),
            "web": ("content", "web", "parity-web")}


@dataclass(frozen=True)
class Family:
    """One family of checks, as it went for an edition."""

    name: str
    title: str
    passed: bool
    findings: int


@dataclass(frozen=True)
class EditionCheck:
    """What the statement of one edition says about its last check.
    `state`: "passed", "failed", "changed" (its inputs changed since) or
    "none" (never checked); `date` is None for "none"."""

    state: str
    date: dt.date | None = None
    families: tuple[Family, ...] = ()

    @property
    def checked(self) -> bool:
        return self.state in ("passed", "failed")


@dataclass(frozen=True)
class LastCheck:
    """The record as the build read it, with the editions whose inputs still
    match the ones checked."""

    editions: dict = field(default_factory=dict)       # variant name -> its entry in the record
    current: frozenset = frozenset()                  # variant names whose inputs are unchanged
    digest: str = ""                                  # of the record and `current`: part of the cache key

    def of(self, variant: str) -> EditionCheck:
        entry = self.editions.get(variant)
        if entry is None:
            return EditionCheck("none")
        date = dt.date.fromisoformat(entry["date"])
        if variant not in self.current:
            return EditionCheck("changed", date)
        families = tuple(Family(c["name"], c["title"], bool(c["passed"]), int(c["findings"]))
                         for c in entry["checks"])
        return EditionCheck("passed" if all(f.passed for f in families) else "failed", date, families)


def _identity(guide) -> dict:
    meta = guide.meta
    return {"slug": meta.slug, "urn": meta.identifiers.urn, "edition": meta.edition.number,
            "version": meta.edition.version}


def _valid_entry(entry) -> bool:
    """An edition's entry as `entry()` writes it."""
    try:
        dt.date.fromisoformat(entry["date"])
    except (TypeError, KeyError, ValueError):
        return False
    checks = entry.get("checks")
    return (isinstance(entry.get("inputs"), str) and isinstance(checks, list) and bool(checks)
            and all(isinstance(c, dict) and isinstance(c.get("name"), str) and isinstance(c.get("title"), str)
                    and isinstance(c.get("passed"), bool) and isinstance(c.get("findings"), int)
                    for c in checks))


def _read(out: Path) -> dict | None:
    """The record in `out`, or None when there is none or it cannot be
    trusted (a damaged record never makes a statement claim a pass)."""
    try:
        data = json.loads(read_limited(out / RECORD, MAX_RECORD_BYTES).decode("utf-8"))
    except (OSError, Refused, ValueError):
        return None
    if not (isinstance(data, dict) and data.get("format") == FORMAT and isinstance(data.get("guide"), dict)
            and isinstance(data.get("editions"), dict)
            and all(isinstance(e, dict) and _valid_entry(e) for e in data["editions"].values())):
        return None
    return data


def last_check(out: Path, guide, keys: dict[str, str]) -> LastCheck | None:
    """What the last check in `out` says about this guide's editions, given
    the cache keys of their inputs now (cache.input_keys, without a record);
    None when the guide has no generated statement, or there is no record
    of this guide, edition and version."""
    if not any(doc.meta.generated == "accessibility-statement" for doc in guide.documents):
        return None         # nothing reports it: not an input
    data = _read(out)
    if data is None or data["guide"] != _identity(guide):
        return None
    editions = {name: entry for name, entry in sorted(data["editions"].items())
                if name in {v.name for v in guide.variants}}
    current = frozenset(name for name, entry in editions.items() if keys.get(name) == entry["inputs"])
    text = json.dumps({"editions": editions, "current": sorted(current)}, sort_keys=True)
    return LastCheck(editions, current, hashlib.sha256(text.encode()).hexdigest())


def families_of(guide, variant) -> tuple[str, ...]:
    """The families of checks that concern an edition."""
    names = FAMILIES.get(variant.format, ("content",))
    if variant.format == "pdf" and variant.name != guide.page_source.name:
        names = ("content", f"pdf-{variant.name}")
    return names


def entry(guide, results, checked: list[str], keys: dict[str, str], today: dt.date,
          previous: dict | None = None) -> str:
    """The record after a check of the editions `checked` (variant names),
    as JSON text: this check's entries, and those of the `previous` record
    for the editions not checked this time."""
    editions = {}
    if previous and previous["guide"] == _identity(guide):
        editions = {name: e for name, e in previous["editions"].items() if name not in checked}
    by_name = {r.name: r for r in results}
    for variant in guide.variants:
        if variant.name not in checked:
            continue
        checks = [{"name": r.name, "title": r.title, "passed": r.passed, "findings": len(r.findings)}
                  for name in families_of(guide, variant) if (r := by_name.get(name)) is not None]
        if checks:
            editions[variant.name] = {"date": today.isoformat(), "inputs": keys.get(variant.name, ""),
                                      "checks": checks}
    record = {"format": FORMAT, "guide": _identity(guide),
              "passed": all(r.passed for r in results), "editions": dict(sorted(editions.items()))}
    return json.dumps(record, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def inputs(guide) -> dict[str, str]:
    """The cache keys of the editions' inputs now, without any record:
    taken as a check starts, so a file saved while it runs makes the next
    statement say the edition changed since its check."""
    from ..cache import input_keys
    root = Path(__file__).resolve().parent.parent.parent
    return input_keys(replace(guide, last_check=None), guide.root, root / "templates", root / "styles")


def write(out: Path, guide, outputs: dict[str, Path], keys: dict[str, str], results,
          today: dt.date | None = None) -> Path:
    """Write the record of a check of `outputs` into `out`; `keys` from inputs()."""
    text = entry(guide, results, sorted(outputs), keys, today or dt.date.today(), _read(out))
    path = out / RECORD
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path
