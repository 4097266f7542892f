"""The web edition: a static site from the same partials, well formed, every
link inside it resolving, reproducible, cached and staged like the other
outputs; proven in Debian's Chromium (axe-core, reflow, text spacing,
keyboard, search) on the fixture guide and on the real one; and every one of
those checks shown able to fail on a page broken on purpose."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import tinyhtml5
from lxml import etree

from conftest import MINI, ROOT
from guidepub import web as web_package
from guidepub.check import CheckResult
from guidepub.check import web as web_check
from guidepub.check.parity import check_web_parity
from guidepub.check.web import check_web
from guidepub.errors import GuideError
from guidepub.manifest import output_sha256
from guidepub.pipeline import Project, build

H = {"h": "http://www.w3.org/1999/xhtml"}


@pytest.fixture(scope="module")
def mini_site(tmp_path_factory):
    """The fixture guide's default editions and its web edition, in one build."""
    return build(Project.at(ROOT, MINI, tmp_path_factory.mktemp("web-mini")), ["screen", "epub", "web"])


@pytest.fixture(scope="module")
def real_site(tmp_path_factory):
    return build(Project.at(ROOT, ROOT / "content", tmp_path_factory.mktemp("web-real")), ["screen", "epub", "web"])


def pages(site: Path) -> dict[str, etree._Element]:
    return {p.name: etree.fromstring(p.read_bytes()) for p in sorted(site.glob("*.html"))}


def codes(result: CheckResult, page: str | None = None) -> set[str]:
    return {f.code for f in result.findings if page is None or f.where.split(":")[0] == page}


# --- the site --------------------------------------------------------------------

def test_every_page_is_well_formed_xml_and_html5(mini_site):
    site = mini_site.outputs["web"]
    assert site.is_dir() and site.name == "mini-2-web"
    names = sorted(p.name for p in site.glob("*.html"))
    assert names == ["ch-one.html", "ch-two.html", "imprint.html", "index.html", "intro.html", "search.html",
                     "terms.html", "whats-new.html"]
    for name in names:
        data = (site / name).read_bytes()
        assert data.startswith(b"<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en-GB\">")
        etree.fromstring(data, etree.XMLParser(resolve_entities=False))          # raises if not well formed
        html5 = tinyhtml5.parse(data.decode("utf-8"))                             # an HTML5 parser reads it too
        assert html5.find(".//{http://www.w3.org/1999/xhtml}main") is not None, name
        assert b"epub:type" not in data and b"xmlns:epub" not in data, name


def test_every_link_resolves_inside_the_site(mini_site):
    site = mini_site.outputs["web"]
    result = CheckResult("web", "static")
    web_check._links(site, web_check._parse(site, sorted(p.name for p in site.glob("*.html")), result), result)
    assert result.findings == []
    # and independently: every internal address names a file of the site, and an id on it
    checked = 0
    for name, tree in pages(site).items():
        for element in tree.iter():
            for attribute in ("href", "src"):
                address = element.get(attribute) if isinstance(element.tag, str) else None
                if not address or re.match(r"(https?|mailto):", address):
                    continue
                path, _, fragment = address.partition("#")
                target = (site / (path or name)).resolve()
                assert target.is_relative_to(site.resolve()) and target.is_file(), (name, address)
                if fragment and target.suffix == ".html":
                    assert etree.parse(str(target)).xpath("//*[@id=$id]", id=fragment), (name, address)
                checked += 1
    assert checked > 120


def test_pages_have_landmarks_skip_link_breadcrumb_and_previous_next(mini_site):
    site = pages(mini_site.outputs["web"])
    order = ["index.html", "intro.html", "ch-one.html", "ch-two.html", "terms.html", "imprint.html",
             "whats-new.html"]
    for i, name in enumerate(order):
        tree = site[name]
        body = tree.find("h:body", H)
        skip = body[0]
        assert skip.tag.endswith("}a") and skip.get("href") == "#site--main", name
        assert tree.xpath("//h:main[@id='site--main']", namespaces=H), name
        assert tree.xpath("/h:html/h:body/h:header", namespaces=H) and tree.xpath("/h:html/h:body/h:footer",
                                                                                  namespaces=H), name
        assert len(tree.xpath("//h:h1", namespaces=H)) == 1, name
        prev = tree.xpath("//h:nav[@class='pagination']//h:a[@rel='prev']/@href", namespaces=H)
        nxt = tree.xpath("//h:nav[@class='pagination']//h:a[@rel='next']/@href", namespaces=H)
        assert prev == ([order[i - 1]] if i else []), name
        assert nxt == ([order[i + 1]] if i + 1 < len(order) else []), name
        crumbs = tree.xpath("//h:nav[@aria-label='Breadcrumb']//h:li", namespaces=H)
        if name == "index.html":
            assert not crumbs
        else:
            assert crumbs[0].find("h:a", H).get("href") == "index.html"
            assert crumbs[-1].find("h:span", H).get("aria-current") == "page"
    assert "Chapter\u00a01: First chapter" in "".join(site["ch-one.html"].xpath(
        "//h:nav[@aria-label='Breadcrumb']//text()", namespaces=H))
    # the start page lists every page and the documents' sections
    contents = site["index.html"].xpath("//h:nav[@class='contents']//h:a/@href", namespaces=H)
    assert {"intro.html", "ch-one.html", "ch-two.html", "terms.html", "imprint.html", "whats-new.html",
            "ch-one.html#ch-one-opening-section", "ch-two.html#ch-two-tables-and-terms"} <= set(contents)
    # only the search page loads a script; the others need none to be read
    for name, tree in site.items():
        scripts = tree.xpath("//h:script/@src", namespaces=H)
        assert scripts == (["js/lunr.min.js", "js/search-index.js", "js/search.js"] if name == "search.html"
                           else []), name


def test_same_partials_and_cross_references_across_pages(mini_site):
    site = pages(mini_site.outputs["web"])
    one, two = site["ch-one.html"], site["ch-two.html"]
    # the block partials of the PDF and EPUB: one element and class each
    for cls in ("block-key-points", "block-activity", "block-case-study", "block-self-check", "block-resources"):
        assert one.xpath(f"//*[contains(@class, '{cls}')]", namespaces=H), cls
    assert one.xpath("//h:figure[@id='fig-box']/h:img[@alt='A square box with a tick inside']", namespaces=H)
    assert one.xpath("//h:a[@class='xref' and @href='ch-two.html']", namespaces=H)
    assert one.xpath("//h:a[@class='xref' and @href='ch-one.html#fig-box']", namespaces=H)
    assert two.xpath("//h:a[@class='xref' and @href='ch-one.html#ch-one-opening-section']", namespaces=H)
    assert site["intro.html"].xpath("//h:a[@class='xref' and @href='ch-one.html']", namespaces=H)
    # a table too wide for a phone scrolls in its own named region, reachable by keyboard
    [wrap] = two.xpath("//h:div[@class='table-wrap']", namespaces=H)
    assert wrap.get("tabindex") == "0" and wrap.get("role") == "region"
    assert wrap.get("aria-label") == "Table 1. Some data"


def test_download_block_lists_the_other_editions(mini_site):
    site = mini_site.outputs["web"]
    out = site.parent
    manifest = {e["variant"]: e for e in json.loads((out / "manifest.json").read_text())["outputs"]}
    for name, tree in pages(site).items():
        items = tree.xpath("//h:aside[@class='downloads']//h:li", namespaces=H)
        assert [i.find("h:a", H).get("href") for i in items] == [
            "downloads/mini-2-screen.pdf", "downloads/mini-2-epub.epub"], name
        facts = [" ".join("".join(i.xpath(".//h:span[@class='download-facts']//text()", namespaces=H)).split())
                 for i in items]
        pdf = manifest["screen"]
        assert facts == [f"PDF, {round(pdf['bytes'] / 1024)} KB, {pdf['pages']} pages",
                         f"EPUB, {round(manifest['epub']['bytes'] / 1024)} KB"], name
    for file in ("mini-2-screen.pdf", "mini-2-epub.epub"):
        assert (site / "downloads" / file).read_bytes() == (out / file).read_bytes()
    # the manifest records the site as one output: a sha256 over its files
    entry = manifest["web"]
    assert entry["file"] == "mini-2-web" and entry["format"] == "web"
    assert entry["sha256"] == output_sha256(site) and entry["documents"] == 8


def test_brand_fonts_are_self_hosted_and_nothing_comes_from_another_host(mini_site):
    site = mini_site.outputs["web"]
    css = (site / "css" / "guide.css").read_text()
    assert "#005EB8" in css and "var(--" not in css           # the brand's colours, written in
    fonts = re.findall(r'url\("\.\./(fonts/[^"]+)"\)', css)
    assert fonts and all((site / f).is_file() and f.endswith(".woff2") for f in fonts)
    brand_files = {Path(f).name for f in mini_site.guide.brand.font_files}
    assert {Path(f).name for f in fonts} <= brand_files
    assert sorted(p.name for p in (site / "fonts").iterdir()) == sorted({Path(f).name for f in fonts})
    for p in site.rglob("*"):
        if p.suffix in (".html", ".css"):
            text = p.read_text()
            assert not re.search(r'(src|@import)[=( ]*"?https?://', text), p.name
    assert "@media print" in css


def test_glossary_terms_link_from_their_first_use_on_each_page(real_site):
    site = pages(real_site.outputs["web"])
    glossary = site["glossary.html"]
    assert glossary.xpath("//h:dt[@id='glossary--term-collective-leadership']", namespaces=H)
    teams = site["ch-teams.html"]
    links = teams.xpath("//h:main//h:a[@class='glossary-term']", namespaces=H)
    targets = [a.get("href") for a in links]
    assert "glossary.html#glossary--term-collective-leadership" in targets
    assert len(targets) == len(set(targets))                    # each term once a page
    for a in links:                                             # never inside a heading or another link
        assert not a.xpath("ancestor::h:h1|ancestor::h:h2|ancestor::h:h3|ancestor::h:h4|ancestor::h:a",
                           namespaces=H)
    # the first use after the chapter's opener (its title, summary and outcomes are left alone)
    first = teams.xpath("//h:section[contains(@class, 'document')]/*[not(self::h:header)]"
                        "//text()[contains(., 'collective leadership')][not(ancestor::h:h2 or ancestor::h:h3)]",
                        namespaces=H)
    linked = [t.is_text and t.getparent().get("class") == "glossary-term" for t in first]
    assert linked[0] and not any(linked[1:])
    assert not glossary.xpath("//h:a[@class='glossary-term']", namespaces=H)


def test_a_document_may_not_take_a_page_name_of_the_site(guide_copy, tmp_path):
    chapter = guide_copy / "two.md"
    chapter.write_text(chapter.read_text().replace("id: ch-two", "id: search"))
    for path in guide_copy.glob("*.md"):
        path.write_text(path.read_text().replace("#ch-two", "#search"))
    with pytest.raises(GuideError) as caught:
        build(Project.at(ROOT, guide_copy, tmp_path), ["web"])
    [problem] = caught.value.problems
    assert problem.code == "CONTENT-DUPLICATE-ID" and problem.path == chapter and problem.line == 2


# --- reproducible, cached, staged ---------------------------------------------------

def test_the_site_is_byte_reproducible(tmp_path):
    def run(out, **env):
        result = subprocess.run([sys.executable, str(ROOT / "build.py"), "-q", "--content", str(MINI), "--out",
                                 str(out), "--variant", "web"], env=dict(os.environ, **env), cwd=tmp_path,
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, result.stderr
        return json.loads((out / "manifest.json").read_text())["outputs"][0]
    first = run(tmp_path / "a")
    second = run(tmp_path / "b", TZ="America/Los_Angeles", LC_ALL="C.UTF-8", PYTHONHASHSEED="7")
    assert first["sha256"] == second["sha256"] == output_sha256(tmp_path / "a" / "mini-2-web")
    files = sorted(p.relative_to(tmp_path / "a").as_posix() for p in (tmp_path / "a").rglob("*") if p.is_file())
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_the_site_is_cached_and_lists_editions_built_later(guide_copy, tmp_path):
    project = Project.at(ROOT, guide_copy, tmp_path / "dist")
    first = build(project, ["web"])
    site = first.outputs["web"]
    assert not pages(site)["index.html"].xpath("//h:aside[@class='downloads']", namespaces=H)   # none built yet
    assert build(project, ["web"]).reused == {"web"}
    build(project, ["epub"])                      # a new edition in dist/: the site must offer it
    again = build(project, ["web"])
    assert again.reused == set()
    assert pages(site)["index.html"].xpath("//h:a[@href='downloads/mini-2-epub.epub']", namespaces=H)
    assert build(project, ["web"]).reused == {"web"}
    (site / "index.html").write_text("edited by hand")
    assert build(project, ["web"]).reused == set()
    chapter = guide_copy / "one.md"
    chapter.write_text(chapter.read_text().replace("Some text", "Other text"))
    assert build(project, ["web"]).reused == set()
    assert "Other text" in (site / "ch-one.html").read_text()


def test_a_failed_build_keeps_the_last_good_site(guide_copy, tmp_path, monkeypatch):
    project = Project.at(ROOT, guide_copy, tmp_path / "dist")
    build(project, ["web"])
    before = output_sha256(tmp_path / "dist" / "mini-2-web")
    chapter = guide_copy / "one.md"
    chapter.write_text(chapter.read_text().replace("Some text", "Other text"))
    real = web_package.build_site

    def half_written(guide, renderer, target, shown, step):
        real(guide, renderer, target, shown, step)
        raise GuideError.one("OUTPUT-WRITE", "disk full halfway")
    monkeypatch.setattr(web_package, "build_site", half_written)
    with pytest.raises(GuideError):
        build(project, ["web"])
    assert output_sha256(tmp_path / "dist" / "mini-2-web") == before
    assert [p.name for p in (tmp_path / "dist").iterdir() if p.name.startswith(".") and p.name != ".build.lock"] == []
    monkeypatch.setattr(web_package, "build_site", real)
    assert build(project, ["web"]).reused == set()
    assert output_sha256(tmp_path / "dist" / "mini-2-web") != before


# --- in the browser ----------------------------------------------------------------

def test_every_browser_check_passes_on_the_fixture_guide(mini_site):
    result = check_web(mini_site.outputs["web"])
    assert [str(f) for f in result.findings] == []
    facts = result.facts["browser"]
    assert facts["pages"] == 8 and facts["axe_rules_passed"] > 200
    assert facts["tab_stops"] == facts["focusable"] > 50


def test_every_browser_check_passes_on_the_real_guide(real_site):
    result = check_web(real_site.outputs["web"])
    assert [str(f) for f in result.findings] == []
    guide = real_site.guide
    # start, every document, the imprint (holding a first edition's What is new), search
    expected = 1 + len(guide.documents) + 1 + (len(guide.meta.changelog) > 1) + 1
    assert result.facts["browser"]["pages"] == expected == len(list(real_site.outputs["web"].glob("*.html")))


def test_web_parity_with_the_epub(mini_site, tmp_path):
    site, epub = mini_site.outputs["web"], mini_site.outputs["epub"]
    result = check_web_parity(site, epub)
    assert result.findings == [] and result.facts["figures"] == 1 and result.facts["tables"] == 1
    broken = tmp_path / "site"
    shutil.copytree(site, broken)
    page = broken / "ch-one.html"
    page.write_text(page.read_text().replace('alt="A square box with a tick inside"', 'alt="Another text"'))
    assert codes(check_web_parity(broken, epub)) == {"PARITY-FIGURES"}
    page.write_text(page.read_text().replace("<h3 id=\"ch-one-deeper-section\">Deeper section</h3>", ""))
    assert codes(check_web_parity(broken, epub)) == {"PARITY-FIGURES", "PARITY-HEADINGS"}


PAGE = ('<!DOCTYPE html>\n<html xmlns="http://www.w3.org/1999/xhtml" lang="en"><head><meta charset="utf-8" />'
        '<title>{name}</title></head><body><main><h1>{name}</h1>{body}</main></body></html>\n')
BROKEN = {
    # page: (what is wrong, the code that must find it)
    "axe.html": (PAGE.replace(' lang="en"', ""), "<p>A page without a language.</p>", "WEB-AXE"),
    "contrast.html": (PAGE, '<p style="color:#b8b8b8">Pale grey text on white.</p>', "WEB-CONTRAST"),
    "reflow.html": (PAGE, '<div style="width:700px">A box wider than a phone.</div>', "WEB-REFLOW"),
    "zoom.html": (PAGE, '<style>@media (max-height: 300px) { .wide { width: 700px; } }</style>'
                  '<div class="wide">Wide only in a window as short as 400 % zoom makes it.</div>', "WEB-ZOOM"),
    "spacing.html": (PAGE, '<p style="height:1.3em;line-height:1.2;overflow:hidden">Short.</p>',
                     "WEB-TEXT-SPACING"),
    "keyboard.html": (PAGE, '<p><a href="index.html" tabindex="-1">The start page</a></p>', "WEB-KEYBOARD"),
    "focus.html": (PAGE, '<p><a href="index.html" style="outline:none">The start page</a></p>', "WEB-FOCUS"),
    "request.html": (PAGE, '<img src="http://127.0.0.2:9/x.png" alt="A picture from another host" />',
                     "WEB-REQUEST"),
    "missing.html": (PAGE, '<img src="figures/none.png" alt="A picture that is not there" />', "WEB-MISSING"),
    "script.html": (PAGE, "<script>throw new Error('broken on purpose');</script>", "WEB-SCRIPT"),
    "link.html": (PAGE, '<p><a href="ch-one.html#no-such-id">A missing section</a></p>', "WEB-LINK"),
    "html.html": (PAGE, "<p>An element never closed.</main></body></html>", "WEB-HTML"),
    # a table cut off at a phone's width: in a box that hides what does not fit, ...
    "clip.html": (PAGE, '<div style="overflow:hidden"><table><caption>Table 9. Wide</caption><tr>'
                  '<td style="white-space:nowrap">A row much wider than a phone, cut off at the edge of its box</td>'
                  '</tr></table></div>', "WEB-CLIP"),
    # ... in a box that scrolls but that the keyboard cannot reach, or that has no name ...
    "scroll.html": (PAGE, '<div style="overflow-x:auto"><table><caption>Table 9. Wide</caption><tr>'
                    '<td style="white-space:nowrap">A row much wider than a phone, in a box Tab never reaches</td>'
                    '</tr></table></div>', "WEB-CLIP"),
    "unnamed.html": (PAGE, '<div style="overflow-x:auto" tabindex="0"><table><caption>Table 9. Wide</caption><tr>'
                     '<td style="white-space:nowrap">A row much wider than a phone, in a box with no name</td>'
                     '</tr></table></div>', "WEB-CLIP"),
    # ... or pushed where the page cannot scroll to
    "offscreen.html": (PAGE, '<p style="margin-left:-4em">Text that starts left of the page.</p>', "WEB-CLIP"),
}


@pytest.fixture(scope="module")
def broken_site(mini_site, tmp_path_factory):
    """The fixture's site with one page broken for each check, and a broken search index."""
    site = tmp_path_factory.mktemp("broken") / "site"
    shutil.copytree(mini_site.outputs["web"], site)
    for name, (page, body, _) in BROKEN.items():
        (site / name).write_text(page.format(name=name[:-5], body=body))
    (site / "js" / "search-index.js").write_text("window.guideSearch = null;\n")
    # the fixture's own table page with its table made wider than a phone: as built it
    # scrolls in its own box; with that box made to hide what does not fit, it is cut off
    page = (site / "ch-two.html").read_text()
    wide = "<style>.table-wrap table { min-width: 600px; }</style>"
    (site / "table-scrolls.html").write_text(page.replace("</head>", wide + "</head>", 1))
    (site / "table-clipped.html").write_text(page.replace(
        "</head>", wide + "<style>.table-wrap { overflow: hidden; }</style></head>", 1))
    return site, check_web(site)


@pytest.mark.parametrize("page", BROKEN)
def test_each_web_check_can_fail(broken_site, page):
    _, result = broken_site
    code = BROKEN[page][2]
    assert code in codes(result, page), [str(f) for f in result.findings if f.where.startswith(page)]
    if page == "axe.html":
        assert any("html-has-lang" in f.message for f in result.findings if f.where == page)
    if page == "zoom.html":                # fine at 320 x 640 CSS px; not at 1280 x 1024 zoomed to 400 %
        assert "WEB-REFLOW" not in codes(result, page)
    assert all(f.hint for f in result.findings)


def test_a_table_cut_off_at_a_phones_width_is_found(broken_site):
    _, result = broken_site
    clipped = [f.message for f in result.findings if f.where == "table-clipped.html" and f.code == "WEB-CLIP"]
    assert clipped and all(m.startswith("at 360 CSS px: div.table-wrap cuts off its content") for m in clipped)
    assert "WEB-CLIP" not in codes(result, "table-scrolls.html")      # its box scrolls, and Tab reaches it
    messages = {page: [f.message for f in result.findings if f.where == page and f.code == "WEB-CLIP"]
                for page in ("scroll.html", "unnamed.html", "offscreen.html")}
    assert any("the keyboard cannot reach it" in m for m in messages["scroll.html"]), messages
    assert any("has no role and name" in m for m in messages["unnamed.html"]), messages
    assert any("left of the page" in m for m in messages["offscreen.html"]), messages


def test_the_pages_left_whole_still_pass(broken_site):
    _, result = broken_site
    whole = {"ch-one.html", "ch-two.html", "imprint.html", "index.html", "intro.html", "terms.html",
             "whats-new.html"}
    assert [str(f) for f in result.findings if f.where.split(":")[0] in whole] == []


def test_a_broken_search_is_found(broken_site):
    _, result = broken_site
    assert "WEB-SEARCH" in codes(result, "search.html")


def test_a_browser_that_cannot_run_is_a_finding(mini_site, monkeypatch):
    monkeypatch.setattr(web_check, "CHROMIUM", "/nonexistent/chromium")
    result = check_web(mini_site.outputs["web"])
    assert codes(result) == {"WEB-RUN"}


def test_blocks_with_one_title_get_distinct_landmark_names(guide_copy, tmp_path):
    chapter = guide_copy / "one.md"
    chapter.write_text(chapter.read_text().replace("::: self-check\n", "::: activity Try this\nAgain.\n:::\n\n"
                                                   "::: self-check\n"))
    site = build(Project.at(ROOT, guide_copy, tmp_path), ["web"]).outputs["web"]
    tree = etree.parse(str(site / "ch-one.html"))
    labels = tree.xpath("//h:section[contains(@class, 'block-activity')]/@aria-label", namespaces=H)
    assert labels == ["Try this (1 of 2)", "Try this (2 of 2)"]
    assert tree.xpath("//*[@class='block-title']/text()", namespaces=H).count("Try this") == 2
    assert "WEB-AXE" not in codes(check_web(site))
