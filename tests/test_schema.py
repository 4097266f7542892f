"""The reference for a guide's files is generated from the model: the
shipped docs/guide-yaml.md and docs/guide.schema.json must be current, and
the JSON Schema must accept the real guides and refuse a broken one."""

from __future__ import annotations

import json

import yaml

from conftest import MINI, ROOT
from guidepub import schema


def test_shipped_reference_is_current():
    assert (ROOT / "docs" / "guide-yaml.md").read_text() == schema.reference(), \
        "run .venv/bin/python -m guidepub.schema"
    assert (ROOT / "docs" / "guide.schema.json").read_text() == schema.json_schema(), \
        "run .venv/bin/python -m guidepub.schema"


def test_reference_describes_every_field():
    text = (ROOT / "docs" / "guide-yaml.md").read_text()
    for title, model, _ in schema.FILES:
        assert f"## {title}" in text
        for name in model.model_fields:
            assert f"| `{name}` |" in text, name
    assert "illutextator" not in text and "None" not in text


def _validate(instance, data):
    """A small structural check of the schema without a validator library:
    required keys exist and no unknown key is allowed at the top level."""
    props = data["properties"]
    missing = [k for k in data.get("required", []) if k not in instance]
    unknown = [k for k in instance if k not in props]
    return missing, unknown


def test_json_schema_lists_required_and_known_fields():
    data = json.loads(schema.json_schema())
    for guide in (MINI / "guide.yaml", ROOT / "content" / "guide.yaml"):
        assert _validate(yaml.safe_load(guide.read_text()), data) == ([], [])
    assert data["additionalProperties"] is False
    assert _validate({"title": "x", "colour": "blue"}, data)[1] == ["colour"]
