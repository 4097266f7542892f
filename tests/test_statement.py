"""The generated accessibility statement (issue 12, item 5): a part whose
front matter says `generated: accessibility-statement` opens with a
statement written for the edition it sits in. It lists the editions the
guide comes in, gives the contact details from guide.yaml (required then, and
validated) and the date and result of the last `check` of that edition, or
says plainly that there has been none. Real builds of a copy of the fixture
guide with a statement part added; the record of a real `check` too."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from conftest import BRAND, MINI, ROOT
from guidepub.check import CheckResult
from guidepub.check import record
from guidepub.check.content import ACRONYM
from guidepub.load import load
from guidepub.pipeline import Project, build
from guidepub.render import Renderer, epub_format, pdf_format, web_format
from guidepub.pdf.tagtree import read_tags
from pdf_helpers import outline_titles

CONTACT = """\
contact:
  email: access@example.org
  phone: 0113 496 0000
  address: [Test publisher, 1 Example Street, Exampletown]
  reply_days: 7
"""
PART = """\
---
id: access
title: Accessibility
type: appendix
generated: accessibility-statement
---

## Known problems

The editor's own words stay after the statement.
"""
ALL = ["screen", "large-print", "print", "epub", "web"]


def with_statement(folder: Path, contact: str = CONTACT) -> Path:
    """A copy of the fixture guide whose back matter ends with a statement part."""
    shutil.copytree(MINI, folder)
    text = (folder / "guide.yaml").read_text(encoding="utf-8")
    text = text.replace("back_matter:\n  - terms.md\n", "back_matter:\n  - terms.md\n  - access.md\n")
    (folder / "guide.yaml").write_text(text + contact, encoding="utf-8")
    (folder / "access.md").write_text(PART, encoding="utf-8")
    return folder


def flat(text: str) -> str:
    """Text as a reader sees it: one line, a name broken after a hyphen joined again."""
    return re.sub(r"-\s+", "-", " ".join(text.replace("\u00ad", "").replace("\u2019", "'").split()))


def statement_text(built_outputs: dict[str, Path]) -> dict[str, str]:
    """Each edition's text: the whole PDF, the statement part's EPUB document and web page."""
    texts = {}
    for name, path in built_outputs.items():
        if path.suffix == ".pdf":          # the tagged text: running heads and page numbers are artifacts
            texts[name] = flat(read_tags(path).all_text())
        elif path.suffix == ".epub":
            with zipfile.ZipFile(path) as z:
                texts[name] = flat("".join(etree.fromstring(z.read("EPUB/access.xhtml")).itertext()))
        else:
            texts[name] = flat("".join(etree.parse(str(path / "access.html")).getroot().itertext()))
    return texts


def cli(*args):
    return subprocess.run([sys.executable, str(ROOT / "build.py"), *map(str, args)], capture_output=True,
                          text=True, timeout=900)


@pytest.fixture(scope="module")
def guide(tmp_path_factory) -> Path:
    return with_statement(tmp_path_factory.mktemp("statement") / "guide")


@pytest.fixture(scope="module")
def editions(guide, tmp_path_factory):
    """Every edition, built with no record of a check in the output folder."""
    built = build(Project.at(ROOT, guide, tmp_path_factory.mktemp("statement-dist")), ["all"])
    return built, statement_text(built.outputs)


def test_the_statement_lists_every_edition_with_its_file(editions):
    built, texts = editions
    assert set(texts) == set(ALL)
    files = [p.name for name, p in built.outputs.items() if name != "web"]
    for name, text in texts.items():
        # guide.yaml gives no web address: only the website lists itself
        count = "five" if name == "web" else "four"
        assert "Accessibility statement" in text and f"This guide comes in {count} editions" in text, name
        assert ("web edition" in text) == (name == "web"), name
        for file in files:
            assert f"(file {file})" in text, (name, file)
        assert text.count("the edition you are reading") == 1, name
        own = built.outputs[name].name
        mark = "web edition, a website to read in a browser" if name == "web" else f"(file {own})"
        assert f"{mark}: the edition you are reading" in text, name
    assert "The editor's own words stay after the statement." in texts["epub"], "the editor's text follows"


def test_with_a_web_address_every_edition_lists_the_website(tmp_path):
    folder = with_statement(tmp_path / "g", CONTACT + "web_address: https://guide.example.org/mini/\n")
    for fmt_of in (lambda g: pdf_format(), epub_format):
        text = _statement(folder, fmt_of)
        assert "This guide comes in five editions" in text
        assert "web edition, a website to read in a browser, at guide.example.org/mini" in text
    assert "at guide.example.org" not in _statement(folder, web_format), "the website does not send readers to itself"


def test_the_wording_fits_the_edition_it_sits_in(editions):
    _, texts = editions
    said = {"screen": "the screen edition of", "large-print": "the large-print edition of",
            "print": "the print-ready edition of", "epub": "the electronic publication (EPUB) edition of", "web": "the web edition of"}
    for name, text in texts.items():
        assert f"This statement is about {said[name]} Mini guide" in text, name
        assert [w for w in said.values() if w in text] == [said[name]], "it names no other edition as this one"
    assert "in your reading app" in texts["epub"] and "in your browser" in texts["web"]
    assert "zoom in with your PDF reader" in texts["screen"]
    assert "send it to a printer as it is" in texts["print"]
    assert "text of 18 point or more" in texts["large-print"]
    # The guide comes in large print already: no edition tells its reader to ask for it.
    for name, text in texts.items():
        assert "such as easy read, audio or braille" in text, name
        assert not re.search(r"such as[^.]*large print", text), name


def test_a_guide_without_large_print_offers_it_on_request(guide, tmp_path):
    folder = tmp_path / "g"
    shutil.copytree(guide, folder)
    yaml = folder / "guide.yaml"
    yaml.write_text(yaml.read_text() + "editions: [screen, epub]\n")
    loaded = load(folder, BRAND)
    renderer = Renderer(loaded, ROOT / "templates", ROOT / "styles")
    doc = next(d for d in loaded.documents if d.id == "access")
    for fmt in (pdf_format(), epub_format(loaded)):
        text = flat(re.sub(r"<[^>]+>", " ", str(renderer.body(doc, fmt))))
        assert "such as large print, easy read, audio or braille" in text
        assert "This guide comes in two editions" in text and "large-print" not in text
    assert "the electronic publication (EPUB) edition does" in flat(re.sub(r"<[^>]+>", " ", str(renderer.body(doc, pdf_format()))))


def test_every_acronym_is_written_out_first_in_each_edition(editions):
    """The guide's own rule (CONTENT-ACRONYM), on the words the build writes."""
    _, texts = editions
    known = {"UK", "AA", "DAISY"}           # a country, a conformance level, the name of a tool's maker
    for name, text in texts.items():
        statement = text[text.index("Accessibility statement"):text.index("Known problems")]
        seen: set[str] = set()
        for match in ACRONYM.finditer(statement):
            acronym = match.group(1)
            if acronym in seen or acronym in known:
                continue
            seen.add(acronym)
            before, after = statement[:match.start()], statement[match.end():]
            assert before.rstrip().endswith("(") or re.match(r"\s*\([^)]*\s[^)]*\)", after), (name, acronym)


def test_the_contact_details_are_in_every_edition(editions):
    built, texts = editions
    for name, text in texts.items():
        for wanted in ("email: access@example.org", "phone: 0113 496 0000",
                       "post: Test publisher, 1 Example Street, Exampletown", "within 7 working days"):
            assert wanted in text, (name, wanted)
    with zipfile.ZipFile(built.outputs["epub"]) as z:
        assert 'href="mailto:access@example.org"' in z.read("EPUB/access.xhtml").decode()


def test_the_statement_has_headings_in_the_contents_and_bookmarks(editions):
    built, _ = editions
    assert (1, "Accessibility statement") in outline_titles(built.outputs["screen"])
    with zipfile.ZipFile(built.outputs["epub"]) as z:
        assert "access.xhtml#access--statement" in z.read("EPUB/nav.xhtml").decode()


def test_with_no_record_no_edition_claims_a_check(editions):
    _, texts = editions
    for name, text in texts.items():
        assert "This edition has not yet been checked" in text, name
        assert "We last checked" not in text and "passed" not in text, name


def test_a_check_is_written_into_the_editions_it_checked_and_the_record_is_an_input(guide, tmp_path):
    out = tmp_path / "dist"
    result = cli("check", "--content", guide, "--out", out, "-q")      # screen and EPUB, the defaults
    assert result.returncode in (0, 1), result.stderr[-2000:]
    data = json.loads((out / record.RECORD).read_text())
    assert set(data["editions"]) == {"screen", "epub"}
    epub_checks = data["editions"]["epub"]["checks"]
    assert [c["name"] for c in epub_checks] == ["content", "epub", "parity", "metadata"]
    passed = {c["name"] for c in epub_checks if c["passed"]}
    assert {"content", "epub", "parity"} <= passed, "EPUBCheck, Ace and parity pass with the statement"
    assert data["editions"]["epub"]["date"] == dt.date.today().isoformat()

    # `check` wrote its result into the editions it checked (it built them
    # again with the record, and checked them again): a build reuses them.
    after = build(Project.at(ROOT, guide, out), ["all"])
    assert {"screen", "epub"} <= after.reused, "check left its editions saying what it found"
    texts = statement_text(after.outputs)
    today = dt.date.today()
    day = f"{today.day} {today.strftime('%B %Y')}"
    for name in ("screen", "epub"):
        checks = data["editions"][name]["checks"]
        assert f"We last checked this edition on {day}, with automated tests." in texts[name], name
        if all(c["passed"] for c in checks):
            assert "It passed every test" in texts[name]
        else:
            assert "It failed the tests of" in texts[name] and "It passed every test" not in texts[name]
    assert "the EPUB file, with the EPUBCheck and Ace by DAISY tools" in texts["epub"]
    for name in ("large-print", "print", "web"):          # not checked this time
        assert "This edition has not yet been checked" in texts[name], name

    again = build(Project.at(ROOT, guide, out), ["all"])
    assert again.reused == set(ALL), "the same record: nothing to build again"

    # The record is an input: without it, the statement says something else.
    bare = tmp_path / "bare"
    bare.mkdir()
    assert build(Project.at(ROOT, guide, bare), ["epub"]).outputs["epub"].read_bytes() \
        != after.outputs["epub"].read_bytes()

    # The same sources and the same record give the same bytes, in another folder.
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(out / record.RECORD, other / record.RECORD)
    copy = build(Project.at(ROOT, guide, other), ["epub"])
    assert copy.outputs["epub"].read_bytes() == after.outputs["epub"].read_bytes()


def _results(failures: int) -> list[CheckResult]:
    results = [CheckResult(name, name) for name in ("content", "pdf", "epub", "parity", "metadata")]
    for _ in range(failures):
        results[1].add("PDF-TAGGED", "not tagged", "tag it")
    return results


def _statement(folder: Path, fmt_of) -> str:
    """The statement as a build of the guide in `folder` into `folder/dist` would write it."""
    loaded = load(folder, BRAND)
    keys = record.inputs(loaded)
    loaded.last_check = record.last_check(folder / "dist", loaded, keys)
    doc = next(d for d in loaded.documents if d.id == "access")
    html = str(Renderer(loaded, ROOT / "templates", ROOT / "styles").body(doc, fmt_of(loaded)))
    return flat(re.sub(r"<[^>]+>", " ", html))


def test_a_failed_check_is_never_called_a_pass_and_a_change_voids_it(tmp_path):
    folder = with_statement(tmp_path / "g")
    out = folder / "dist"
    out.mkdir()
    loaded = load(folder, BRAND)
    outputs = {"screen": out / "s.pdf", "epub": out / "e.epub"}
    record.write(out, loaded, outputs, record.inputs(loaded), _results(2), today=dt.date(2026, 3, 4))
    screen = _statement(folder, lambda g: pdf_format())
    assert "We last checked this edition on 4 March 2026" in screen
    assert ("It failed the tests of the structure of the PDF file, against the PDF/UA-1 standard, "
            "with 2 problems found") in screen
    assert "passed every test" not in screen
    epub = _statement(folder, epub_format)
    assert "It passed every test: the writing" in epub, "the EPUB's own families all passed"
    assert "This edition has not yet been checked" in _statement(folder, web_format), "no web edition was checked"
    # A later check of the EPUB alone keeps the screen edition's entry.
    record.write(out, loaded, {"epub": outputs["epub"]}, record.inputs(loaded), _results(0),
                 today=dt.date(2026, 3, 5))
    assert "on 4 March 2026" in _statement(folder, lambda g: pdf_format())
    assert "on 5 March 2026" in _statement(folder, epub_format)
    # Any change to the sources since: the edition has not been checked as it is now.
    part = folder / "one.md"
    part.write_text(part.read_text() + "\nA new sentence.\n")
    changed = _statement(folder, epub_format)
    assert "This edition has changed since we last checked it, on 5 March 2026" in changed
    assert "not yet been checked in its current form" in changed and "passed" not in changed


def test_a_record_of_another_version_or_a_broken_one_counts_as_none(tmp_path):
    folder = with_statement(tmp_path / "g")
    out = folder / "dist"
    out.mkdir()
    loaded = load(folder, BRAND)
    record.write(out, loaded, {"epub": out / "e.epub"}, record.inputs(loaded), _results(0))
    assert "It passed every test" in _statement(folder, epub_format)
    data = json.loads((out / record.RECORD).read_text())
    data["editions"]["epub"]["checks"][0]["passed"] = "yes"
    (out / record.RECORD).write_text(json.dumps(data))
    assert "This edition has not yet been checked" in _statement(folder, epub_format)
    data["editions"]["epub"]["checks"][0]["passed"] = True
    data["guide"]["version"] = "9.9"
    (out / record.RECORD).write_text(json.dumps(data))
    assert "This edition has not yet been checked" in _statement(folder, epub_format)
    (out / record.RECORD).write_text("{not json")
    assert "This edition has not yet been checked" in _statement(folder, epub_format)


@pytest.mark.parametrize("contact, field, hint", [
    ("contact:\n  email: access.example.org\n", "contact.email", "is not an email address"),
    ("contact:\n  email: a@example.org\n  phone: ring us\n", "contact.phone", "is not a phone number"),
    ("contact:\n  email: a@example.org\n  reply_days: 0\n", "contact.reply_days", "greater than or equal to 1"),
])
def test_a_wrong_contact_is_one_line_at_its_place(tmp_path, contact, field, hint):
    folder = with_statement(tmp_path / "g", contact)
    result = cli("lint", "--content", folder, "-q")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if " CONTENT-SCHEMA " in line]
    assert len(lines) == 1, result.stderr
    yaml_lines = (folder / "guide.yaml").read_text().splitlines()
    key = field.split(".")[-1]
    number = max(n for n, text in enumerate(yaml_lines, 1) if text.strip().startswith(f"{key}:"))
    assert lines[0].startswith(f"{folder / 'guide.yaml'}:{number}: CONTENT-SCHEMA field '{field}'"), lines[0]
    assert hint in lines[0] and " — " in lines[0]


def test_a_statement_without_contact_is_one_line_where_the_part_is_listed(tmp_path):
    folder = with_statement(tmp_path / "g", contact="")
    result = cli("lint", "--content", folder, "-q")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if " CONTENT-" in line]
    number = (folder / "guide.yaml").read_text().splitlines().index("  - access.md") + 1
    assert lines == [f"{folder / 'guide.yaml'}:{number}: CONTENT-SCHEMA field 'contact' is missing: access.md "
                     "asks for the generated accessibility statement, which tells readers how to reach you — "
                     "add `contact:` with at least `email:` (and `phone:`, `address:` and `reply_days:` if you "
                     "have them); see docs/guide-yaml.md (Contact)"], result.stderr


def test_only_one_part_holds_the_statement(tmp_path):
    folder = with_statement(tmp_path / "g")
    (folder / "again.md").write_text(PART.replace("id: access", "id: again"))
    yaml = folder / "guide.yaml"
    yaml.write_text(yaml.read_text().replace("  - access.md\n", "  - access.md\n  - again.md\n"))
    result = cli("lint", "--content", folder, "-q")
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if " CONTENT-" in line]
    assert len(lines) == 1 and lines[0].startswith(f"{folder / 'again.md'}:5: CONTENT-SCHEMA field 'generated'")


def test_a_guide_without_the_statement_needs_no_contact():
    shared = ROOT.parent / "shared" / "realworld" / "turing-way"
    if not shared.is_dir():
        pytest.skip("the real-world guide is not here")
    loaded = load(shared, BRAND)
    assert loaded.meta.contact is None
    assert not any(d.meta.generated for d in loaded.documents)


def test_a_guide_without_the_statement_is_not_rebuilt_for_a_record(tmp_path):
    out = tmp_path / "dist"
    first = build(Project.at(ROOT, MINI, out), ["epub"])
    record.write(out, first.guide, first.outputs, record.inputs(first.guide), _results(0))
    assert build(Project.at(ROOT, MINI, out), ["epub"]).reused == {"epub"}, "nothing in it reports the check"
