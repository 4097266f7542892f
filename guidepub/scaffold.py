"""`python build.py new DIR`: a new guide that builds and passes `check` at
once: guide.yaml (with a fresh urn:uuid, today's date and the JSON Schema
line for editors), two starter chapters that show every block, a figure, its
own brand folder, an accessibility statement the build writes (with example
contact details to replace) and a README for its editor."""

from __future__ import annotations

import datetime as dt
import os
import re
import textwrap
import uuid
from pathlib import Path

from .colour import contrast_ratio
from .errors import GuideError

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = ROOT / "docs" / "guide.schema.json"
WHITE = "#FFFFFF"


def _hex(rgb: tuple[float, float, float]) -> str:
    return "#" + "".join(f"{max(0, min(255, round(c))):02X}" for c in rgb)


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


def _mix(colour: str, other: str, amount: float) -> str:
    a, b = _rgb(colour), _rgb(other)
    return _hex(tuple(x + (y - x) * amount for x, y in zip(a, b)))


def _darken_until(colour: str, background: str, ratio: float) -> str:
    """The colour, darkened in small steps until it reaches `ratio` on `background`."""
    step = 0.0
    result = colour
    while contrast_ratio(result, background) < ratio and step < 1:
        step += 0.05
        result = _mix(colour, "#000000", step)
    return result


def palette(main: str) -> tuple[dict[str, str], list[str]]:
    """Colours by role from one main colour, every pair at WCAG 2.2 AA.
    Returns the colours and notes on what had to change."""
    notes = []
    surface = _mix(main, WHITE, 0.9)
    primary = _darken_until(main, surface, 4.5)
    if primary != main.upper():
        notes.append(f"the main colour {main} was darkened to {primary} so that links and labels "
                     "reach 4.5:1 contrast on white and on the callout background")
    colours = {
        "primary": primary,
        "heading": _darken_until(_mix(primary, "#000000", 0.35), surface, 7),
        "text": "#1F2328",
        "muted": "#4A5560",
        "surface": surface,
        "background": WHITE,
        "on-primary": WHITE,
        "activity": "#2E7D32",
        "case-study": _mix(primary, "#000000", 0.5),
        "self-check": "#B26A00",
    }
    return colours, notes


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:48].strip("-") or "guide"


def _yaml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def create(folder: Path, title: str, language: str, colour: str, project_brand: Path,
           today: dt.date | None = None) -> list[str]:
    """Write the new guide into `folder` (which must be empty or new).
    Returns notes for the editor."""
    problems = []
    if not title.strip():
        problems.append("the title is empty")
    if not re.fullmatch(r"[a-z]{2,3}(-[A-Z]{2})?", language):
        problems.append(f"'{language}' is not a language tag such as en-GB or cy")
    if not re.fullmatch(r"#[0-9A-Fa-f]{6}", colour):
        problems.append(f"'{colour}' is not a colour written #RRGGBB")
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        problems.append(f"{folder} already exists and is not an empty folder")
    if problems:
        raise GuideError.one("NEW-USAGE", "; ".join(problems),
                             hint="e.g. python build.py new my-guide --title \"My guide\" "
                                  "--language en-GB --colour \"#005EB8\"")
    today = today or dt.date.today()
    colours, notes = palette(colour.upper())
    for sub in ("chapters", "figures", "brand"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    schema = os.path.relpath(SCHEMA, folder.resolve())
    files = {
        "guide.yaml": GUIDE.format(schema=schema, slug=_slug(title), title=_yaml_string(title.strip()),
                                   language=language, date=today.isoformat(), urn=uuid.uuid4()),
        "chapters/01-getting-started.md": CHAPTER_ONE,
        "chapters/02-working-with-blocks.md": CHAPTER_TWO,
        "back/glossary.md": GLOSSARY,
        "back/accessibility.md": ACCESSIBILITY,
        "figures/three-steps.svg": FIGURE.format(**colours),
        "brand/brand.yaml": _brand(project_brand, folder / "brand", colours),
        "brand/mark.svg": MARK,
        "README.md": README.format(title=title.strip()),
    }
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    notes.append("guide.yaml's `contact:` holds an example email address (accessibility@example.org): "
                 "put your own there before you publish; every edition's accessibility statement prints it")
    return notes


def _brand(project_brand: Path, brand_dir: Path, colours: dict[str, str]) -> str:
    """The project's brand file with this guide's colours and mark; font
    paths rewritten to stay pointing at the installed font packages."""
    text = project_brand.read_text(encoding="utf-8")
    fonts = (project_brand.parent / "../node_modules").resolve()
    text = text.replace("../node_modules", os.path.relpath(fonts, brand_dir.resolve()))
    block = "colours:\n" + "".join(f"  {role}: \"{value}\"\n" for role, value in colours.items())
    text = re.sub(r"(?m)^colours:\n(?:[ \t]+.*\n)*", block, text, count=1)
    text = re.sub(r"(?m)^name: .*$", "name: The guide's own brand (made by `build.py new`)", text, count=1)
    text = re.sub(r"(?m)^mark: .*$", "mark: mark.svg", text, count=1)
    return text


GUIDE = """\
# yaml-language-server: $schema={schema}
# The guide's settings. Every field is described in docs/guide-yaml.md of the
# publishing tool; an editor with YAML support checks this file as you type.
slug: {slug}
title: {title}
publisher: Your organisation
language: {language}
description: A short description of the guide, for catalogues and reading apps.
keywords: [guide]
contributors:
  - {{name: Your name, role: author}}
licence:
  name: CC BY 4.0
  url: https://creativecommons.org/licenses/by/4.0/
edition:
  number: 1
  date: {date}
  version: "1.0"
changelog:
  - edition: 1
    version: "1.0"
    date: {date}
    changes:
      - what: First edition.
        why: To publish the guide.
identifiers:
  urn: urn:uuid:{urn}
accessibility_summary: >-
  This guide has a logical reading order, real headings, a table of contents
  and a text description for every figure.
# How readers reach you, printed in every edition's accessibility statement
# (back/accessibility.md). Replace these example details with your own: an
# email address is required; phone, address and reply_days are optional.
contact:
  email: accessibility@example.org
  # phone: 0113 496 0000
  # address: [Your organisation, 1 Example Street, Exampletown]
  reply_days: 10
brand: brand/brand.yaml
style:
  # House rules: turn on the ones your organisation follows.
  sentence_case: true
  learning_outcomes: false
  chapter_parts: []
chapters:
  - chapters/01-getting-started.md
  - chapters/02-working-with-blocks.md
back_matter:
  - back/glossary.md
  - back/accessibility.md
"""

CHAPTER_ONE = """\
---
id: ch-getting-started
title: Getting started
summary: What this guide is for and how to write it.
learning_outcomes:
  - write a chapter in Markdown
  - build every edition of the guide
---

## What this guide is for

This is the first chapter of your new guide. Replace its text with your own.
Each chapter is a Markdown file listed in guide.yaml.

![Three steps rising from left to right, each a little taller than the last](figures/three-steps.svg "Three steps to a finished guide"){#fig-steps}

[](#fig-steps) shows the three steps: write, build and check.[^steps]

[^steps]: A footnote. Its number is added for you.

::: key-points
- Write each chapter as a Markdown file.
- Build every edition with one command.
- Check the editions before you share them.
:::

## Building the guide

Run the build from the publishing tool's folder. It makes a document for
screens, one in large print, one for printers and an ebook for reading apps.

::: activity Try a change
Change a sentence in this chapter. Build the guide again and find your change.
:::

::: case-study A first guide (fictional)
Sam leads a small team. Sam writes a guide for new starters in an afternoon.
The team reads it on phones, on paper and with a screen reader.
:::

::: self-check
1. Which file lists the chapters?
2. What does the build make?
:::

::: resources
- [Markdown guide](https://www.markdownguide.org/) explains how to write Markdown.
:::
"""

CHAPTER_TWO = """\
---
id: ch-working-with-blocks
title: Working with blocks
summary: The blocks a chapter can use.
learning_outcomes:
  - use each kind of block
---

## Blocks for readers

Blocks give structure that readers can find again. Go back to [](#ch-getting-started) to see them in use.

{#tbl-blocks caption="The blocks a chapter can use and what each is for"}
| Block | What it is for |
|-------|----------------|
| Key points | The main ideas of a section |
| Activity | Something to try or think about |
| Case study | A short story that shows an idea |
| Self-check | Questions to test what you learned |

[](#tbl-blocks) lists the blocks.

::: quote A team leader
Short chapters with clear headings are easier to read.
:::

Guide
: A document that helps people do something.

Edition
: One format of the guide, such as the large print edition.

::: key-points
- Blocks make a chapter easy to scan.
:::

::: activity Plan a chapter
Write down the three things your next chapter must say.
:::

::: case-study A clearer handbook (fictional)
Ali turns a long handbook into short chapters. Each ends with a self-check.
:::

::: self-check
1. Which block holds questions for the reader?
:::

::: resources
- [Plain English guidance](https://www.gov.uk/guidance/content-design/writing-for-gov-uk) explains how to write clearly.
:::
"""

GLOSSARY = """\
---
id: glossary
title: Glossary
type: glossary
---

Block
: A part of a chapter with its own heading, such as key points.

Edition
: One format of the guide.
"""

ACCESSIBILITY = """\
---
id: accessibility
title: Accessibility and other formats
type: appendix
# The build writes the accessibility statement at the top of this part, for
# each edition: what the edition is, the other editions, the date and result
# of the last check, and how to contact you (contact: in guide.yaml). Add
# anything else readers should know below, such as known problems.
generated: accessibility-statement
---
"""

FIGURE = """\
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 300 160" width="300" height="160">
  <rect x="10" y="100" width="80" height="50" fill="{primary}"/>
  <rect x="110" y="65" width="80" height="85" fill="{heading}"/>
  <rect x="210" y="30" width="80" height="120" fill="{case-study}"/>
</svg>
"""

MARK = """\
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 120" width="120" height="120" aria-hidden="true">
  <!-- A placeholder mark: replace it with your organisation's own. -->
  <circle cx="60" cy="60" r="52" fill="none" stroke="#FFFFFF" stroke-width="8"/>
  <circle cx="60" cy="60" r="20" fill="#FFFFFF"/>
</svg>
"""

README = """\
# {title}

This folder is a guide for the resource guide publisher. It holds:

- `guide.yaml`: the guide's settings (title, edition, chapters, brand, house rules);
- `chapters/` and `back/`: the text, one Markdown file each (the
  accessibility statement in `back/accessibility.md` is written by the build,
  with the contact details from `guide.yaml`);
- `figures/`: pictures used in the chapters;
- `brand/`: the guide's colours, fonts and mark.

From the publisher's folder, build every edition, then check them:

```sh
python build.py --content path/to/this/folder --variant all
python build.py check --content path/to/this/folder
```

`python build.py lint --content path/to/this/folder` checks the writing in
seconds. Every setting in guide.yaml is described in the publisher's
docs/guide-yaml.md.
"""
