"""A build laid out in worker processes gives the very bytes of one laid out
in a single process, and the cost model spreads layouts over processes as
its rules say. (How much sooner the parallel build ends is measured by
`make bench`, never here.)"""

from __future__ import annotations

import pytest

from conftest import BRAND, MINI, ROOT
from guidepub.load import load
from guidepub.pipeline import Job, Project, _jobs, available_cores, build, pdf_seconds, processes_for


def files(folder):
    """Every file under a build folder (the web edition's too), by relative path."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.startswith(".")}


def test_a_parallel_build_gives_the_bytes_of_a_serial_one(tmp_path):
    serial = build(Project.at(ROOT, MINI, tmp_path / "serial"), ["all"], processes=1)
    steps: list[str] = []
    parallel = build(Project.at(ROOT, MINI, tmp_path / "parallel"), ["all"], step=steps.append)
    if available_cores() > 1:
        assert any(s.startswith("Building ") and s.endswith(" processes") for s in steps), steps
    assert set(serial.outputs) == set(parallel.outputs) == {"screen", "large-print", "print", "epub", "web"}
    one, other = files(tmp_path / "serial"), files(tmp_path / "parallel")
    assert one.keys() == other.keys()
    assert [name for name in one if one[name] != other[name]] == []      # manifest.json included


@pytest.fixture(scope="module")
def guide():
    return load(MINI, BRAND)


def jobs_of(guide, names):
    todo = [guide.variant(name) for name in names]
    return _jobs(guide, todo, {v.name: MINI / v.name for v in todo}, "mini-screen.pdf")


def test_the_epub_goes_with_its_page_source_and_the_longest_jobs_come_first(guide):
    jobs = jobs_of(guide, ["screen", "large-print", "print", "epub"])
    assert [([v.name for v in j.pdfs], j.epub and j.epub.name) for j in jobs] == [
        (["screen"], "epub"), (["large-print"], None), (["print"], None)]
    # Without its PDF, the EPUB's job lays the page source out alone: less than a PDF.
    alone = jobs_of(guide, ["large-print", "epub"])
    assert [([v.name for v in j.pdfs], j.epub and j.epub.name) for j in alone] == [
        (["large-print"], None), ([], "epub")]
    assert 0 < alone[1].cost < alone[0].cost


def test_one_job_or_one_core_is_built_in_this_process(guide):
    assert processes_for(jobs_of(guide, ["screen", "epub"]), 8, 60.0) == 1
    assert processes_for(jobs_of(guide, ["screen", "large-print", "print", "epub"]), 1, 60.0) == 1


def test_layouts_longer_than_a_worker_start_all_run_at_once(guide):
    three = jobs_of(guide, ["screen", "large-print", "print", "epub"])
    # The real guide's size (4.4 s a PDF): three processes on two cores.
    assert processes_for(three, 2, 4.4) == 3
    # A tiny guide: a process a core, as many as there are jobs.
    assert processes_for(three, 2, 0.3) == 2
    assert processes_for(three, 4, 0.3) == 3
    assert processes_for(jobs_of(guide, ["large-print", "print"]), 2, 4.4) == 2


def test_never_more_than_two_processes_a_core(guide):
    variant = guide.variant("large-print")
    many = [Job([variant], None, {}, "x.pdf") for _ in range(9)]
    assert 2 < processes_for(many, 2, 30.0) <= 4
    assert processes_for(many, 16, 30.0) == 9


def test_the_cost_of_a_pdf_grows_with_the_guide(guide):
    assert 0 < pdf_seconds(guide) < pdf_seconds(load(ROOT / "content", BRAND))
