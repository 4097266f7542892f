"""The reference for a guide's files, generated from the model so it can
never drift from what the build accepts: docs/guide.schema.json (a JSON
Schema, for editors with YAML support) and docs/guide-yaml.md (for people).

    .venv/bin/python -m guidepub.schema      # write both (a test checks they are current)
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from .model import Brand, DocMeta, GuideMeta, ResourceList

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
FILES = (
    ("guide.yaml", GuideMeta, "The guide's settings, in the guide's folder."),
    ("Front matter", DocMeta, "The YAML between `---` lines at the top of each Markdown file."),
    ("Brand file", Brand, "The guide's brand (`brand:` in guide.yaml; default `styles/brand.yaml`). "
                          "Files it names are relative to it."),
    ("Resources file", ResourceList, "The further resources list (`resources:` in guide.yaml)."),
)


def json_schema() -> str:
    schema = GuideMeta.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "guide.yaml"
    schema["description"] = "The settings of a guide for the resource guide publisher (docs/guide-yaml.md)."
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def _type(annotation: Any) -> str:
    text = str(annotation).replace("typing.", "")
    for old, new in (("<class '", ""), ("'>", ""), ("guidepub.model.", ""), ("NoneType", "null"),
                     ("datetime.date", "date (YYYY-MM-DD)"), ("pydantic.networks.HttpUrl", "URL"),
                     ("Annotated[str, AfterValidator(func=_not_blank)]", "text")):
        text = text.replace(old, new)
    if text.startswith("Optional[") and text.endswith("]"):        # Literal[...] | None
        text = text[len("Optional["):-1]
    text = text.replace("Optional[", "").replace("Union[", "")
    if "Annotated[str" in text:
        text = "text"
    text = re.sub(r"\bstr\b", "text", text).replace(" | None", "").replace("None", "")
    if text.startswith("Literal["):
        text = "one of " + text[len("Literal["):-1]
    return text.replace("|", "or")


def _section(title: str, model: type[BaseModel], intro: str, seen: set[type]) -> list[str]:
    lines = [f"## {title}", "", intro, "", "| field | type | required | what it is |", "|---|---|---|---|"]
    nested = []
    for name, field in model.model_fields.items():
        required = "yes" if field.is_required() else (
            f"no (default {json.dumps(field.default, default=str)})"
            if field.default is not PydanticUndefined and field.default is not None else "no")
        if field.default_factory is not None:
            required = "no"
        doc = (field.description or "").replace("|", "\\|")
        lines.append(f"| `{name}` | {_type(field.annotation)} | {required} | {doc} |")
        for candidate in _models(field.annotation):
            if candidate not in seen:
                seen.add(candidate)
                nested.append(candidate)
    lines.append("")
    for sub in nested:
        intro = " ".join((sub.__doc__ or "").strip().split("\n\n")[0].split())
        lines += _section(f"`{sub.__name__}`", sub, intro, seen)
    return lines


def _models(annotation: Any) -> list[type[BaseModel]]:
    found = []
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    for arg in getattr(annotation, "__args__", ()) or ():
        found += _models(arg)
    return found


def reference() -> str:
    lines = ["# A guide's files: the reference", "",
             "Generated from `guidepub/model.py` by `.venv/bin/python -m guidepub.schema`; do not edit by hand.",
             "Editors with YAML support check `guide.yaml` as you type through the JSON Schema",
             "`docs/guide.schema.json` (the first line of a guide made by `python build.py new` points at it).", ""]
    seen: set[type] = {m for _, m, _ in FILES}
    for title, model, intro in FILES:
        lines += _section(title, model, intro, seen)
    return "\n".join(lines).rstrip() + "\n"


def write() -> list[Path]:
    DOCS.mkdir(exist_ok=True)
    targets = {DOCS / "guide.schema.json": json_schema(), DOCS / "guide-yaml.md": reference()}
    for path, text in targets.items():
        path.write_text(text, encoding="utf-8")
    return list(targets)


if __name__ == "__main__":
    for written in write():
        print(written.relative_to(ROOT))
    sys.exit(0)
