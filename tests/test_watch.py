"""Watch mode rebuilds after a change, reports it, and survives an error."""

from __future__ import annotations

import shutil
import threading
import time

from conftest import MINI, ROOT
from guidepub import watch
from guidepub.pipeline import Project


def wait_for(messages, text, timeout=60, count=1):
    end = time.time() + timeout
    while time.time() < end:
        if sum(text in m for m in messages) >= count:
            return True
        time.sleep(0.2)
    return False


def test_watch_rebuilds_and_keeps_going_after_an_error(tmp_path):
    guide = tmp_path / "guide"
    shutil.copytree(MINI, guide)
    project = Project.at(ROOT, guide, tmp_path / "dist")
    messages: list[str] = []
    stop = threading.Event()
    thread = threading.Thread(target=watch.run, args=(project, None, messages.append, stop), daemon=True)
    thread.start()
    try:
        assert wait_for(messages, "Rebuilt epub, screen"), messages
        chapter = guide / "one.md"
        good = chapter.read_text()
        chapter.write_text(good.replace("![A square box with a tick inside]", "![]"))
        assert wait_for(messages, "Build failed"), messages
        assert any("CONTENT-ALT" in m for m in messages)
        chapter.write_text(good.replace("Some text", "Other text"))
        assert wait_for(messages, "Rebuilt epub, screen in", 90, count=2), messages
        assert any("Changed: one.md" in m for m in messages)
        # one chapter changed: only its part of the PDF was laid out again (pdf/parts.py)
        assert "laid out again, the others kept" in [m for m in messages if "Rebuilt epub, screen in" in m][-1]
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()


def test_what_a_rebuild_is_done_with_is_freed_after_it_reports():
    """later.hold() keeps an object (a spliced book) until the freed_later()
    block around the rebuild ends, after its report; outside one, nothing."""
    import gc
    import weakref
    from guidepub import later

    class Book:
        pass

    with later.freed_later():
        book = Book()
        alive = weakref.ref(book)
        later.hold(book)
        del book
        gc.collect()
        assert alive() is not None                 # held while the rebuild reports
    assert alive() is None                         # freed when the block ends
    book = Book()
    alive = weakref.ref(book)
    later.hold(book)
    del book
    assert alive() is None                         # no block: not held at all
