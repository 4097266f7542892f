"""Render the README's pictures from the built PDF: the cover and one inner
spread (two facing pages). Run after `make`:

    .venv/bin/python scripts/readme_images.py [PDF] [FIRST_PAGE_OF_SPREAD]
"""

import sys
from pathlib import Path

import pypdfium2 as pdfium
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "images"


def render(pdf: pdfium.PdfDocument, index: int, width: int) -> Image.Image:
    page = pdf[index]
    scale = width / page.get_width()
    return page.render(scale=scale).to_pil().convert("RGB")


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "dist" / "first-principles-1-screen.pdf"
    first = int(sys.argv[2]) if len(sys.argv) > 2 else 47
    pdf = pdfium.PdfDocument(str(path))
    OUT.mkdir(parents=True, exist_ok=True)
    render(pdf, 0, 420).save(OUT / "cover.png", optimize=True)
    left, right = render(pdf, first - 1, 420), render(pdf, first, 420)
    spread = Image.new("RGB", (left.width + right.width + 12, left.height), "#768692")
    spread.paste(left, (0, 0))
    spread.paste(right, (left.width + 12, 0))
    spread.save(OUT / "spread.png", optimize=True)
    print(f"wrote {OUT / 'cover.png'} and {OUT / 'spread.png'} (pages {first}-{first + 1})")


if __name__ == "__main__":
    main()
