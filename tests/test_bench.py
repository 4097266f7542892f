"""The benchmark compares like with like: its bare-WeasyPrint run lays out the
very HTML and CSS our build lays out, in the same fonts, to the same number
of pages. (No timing here: speed goals live in `make bench`.)"""

from __future__ import annotations

import subprocess
import sys

from bench import run as bench
from conftest import MINI, ROOT


def test_bare_weasyprint_lays_out_our_pages_in_our_fonts(tmp_path):
    out, captured, bare = tmp_path / "out", tmp_path / "captured", tmp_path / "bare.pdf"
    subprocess.run([sys.executable, str(ROOT / "bench" / "driver.py"), "--capture", str(captured), "--", "-q",
                    "--content", str(MINI), "--out", str(out), "--variant", "screen"], check=True, timeout=300)
    subprocess.run([sys.executable, "-c", bench.BARE, str(captured / "book.html"), str(captured / "book.css"),
                    (captured / "root").as_uri() + "/", str(bare)], check=True, timeout=300)
    ours = next(out.glob("*-screen.pdf"))
    assert bench.pages(bare) == bench.pages(ours)
    assert bench.fonts(bare) == bench.fonts(ours)
    # The brand's fonts, not a system font the stylesheet never named (the old baseline's DejaVu).
    assert any("Atkinson" in name for name in bench.fonts(bare))
    assert not any("DejaVu" in name for name in bench.fonts(bare))


def test_pandoc_and_typst_read_every_part_as_plain_markdown(tmp_path):
    files, title = bench.plain_markdown(MINI, tmp_path / "plain")
    assert title == "Mini guide"
    assert len(files) == len(bench.parts(MINI)) > 0
    for name in files:
        text = (tmp_path / "plain" / name).read_text(encoding="utf-8")
        assert text.startswith("# ") and "{#" in text.splitlines()[0]      # the part's title and id
        assert "](#" not in text                                             # no cross-reference left dangling
    assert (tmp_path / "plain" / "figures").is_dir()
