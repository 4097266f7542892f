"""YAML with line numbers, loaded safely and bounded: a duplicated key is an
error (not "the later one wins"), and aliases may not expand a document past
MAX_YAML_NODES (a "billion laughs" alias bomb is refused before anything
walks it)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import GuideError, Problem, Problems
from .files import CONTROL, read_text

M = TypeVar("M", bound=BaseModel)
SECTIONS = {"GuideMeta": "guide.yaml", "DocMeta": "front matter", "Brand": "brand file",
            "ResourceList": "resources file", "VariantList": "styles/variants.yaml"}
MAX_YAML_NODES = 100_000        # guide.yaml has a few hundred; front matter a dozen


def _problem(message: str, path: Path, mark: Any, line_offset: int, hint: str) -> GuideError:
    return GuideError(Problem("CONTENT-YAML", message, path, mark.line + 1 + line_offset if mark else None,
                              hint, mark.column + 1 if mark else None))


def _check_tree(root: Any, path: Path, line_offset: int) -> None:
    """Refuse duplicated keys, and aliases that expand past MAX_YAML_NODES,
    walking each node once (an alias shares its anchor's node)."""
    sizes: dict[int, int] = {}
    busy: set[int] = set()

    def size(node: Any) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in busy:
            raise _problem("invalid YAML: an alias refers to the value that holds it", path,
                           node.start_mark, line_offset, "remove the alias (*name) or the anchor (&name)")
        busy.add(key)
        total = 1
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, Any] = {}
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode) and k.value != "<<":
                    if k.value in seen:
                        first = seen[k.value].start_mark.line + 1 + line_offset
                        raise _problem(f"invalid YAML: key '{k.value}' appears twice (first on line {first})",
                                       path, k.start_mark, line_offset,
                                       "keep one of them; YAML would silently use the later value")
                    seen[k.value] = k
                total += size(k) + size(v)
        elif isinstance(node, yaml.SequenceNode):
            total += sum(size(v) for v in node.value)
        busy.discard(key)
        sizes[key] = total
        if total > MAX_YAML_NODES:
            raise _problem(f"invalid YAML: its aliases expand to over {MAX_YAML_NODES:,} values", path,
                           node.start_mark, line_offset, "write the values out; anchors (&) and aliases (*) "
                           "may repeat a value, not multiply a document")
        return total

    try:
        size(root)
    except RecursionError:
        raise _problem("invalid YAML: nested too deeply", path, root.start_mark, line_offset,
                       "a guide's YAML is a few levels deep; check the brackets and indentation")


def read_yaml(path: Path, text: str | None = None, line_offset: int = 0):
    """Parse YAML and keep the node tree, so schema errors can name a line."""
    if text is None:
        text = read_text(path)
    # A tab cannot indent YAML; editors insert them by accident. Read them as spaces.
    text = re.sub(r"(?m)^\t+", lambda m: "  " * len(m.group(0)), text)
    if FAST is not None:
        try:
            return _read_fast(text, path, line_offset)
        except (GuideError, yaml.YAMLError, ValueError, RecursionError):
            pass                # the parser below says what is wrong, in its own words
    loader = yaml.SafeLoader(text)
    node = None
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_tree(node, path, line_offset)
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        context = getattr(exc, "context", None) or ""
        # An unclosed [ or { is found lines later; point at where it opened.
        if "flow" in context or (mark is not None and mark.line >= text.count("\n")):
            mark = getattr(exc, "context_mark", None) or mark
        problem = getattr(exc, "problem", None) or str(exc)
        raise _problem(f"invalid YAML: {problem}", path, mark, line_offset,
                       "check the indentation and quote values that contain a colon")
    except RecursionError:
        raise GuideError(Problem("CONTENT-YAML", "invalid YAML: nested too deeply", path, None,
                                 "a guide's YAML is a few levels deep; check the brackets and indentation"))
    except ValueError as exc:          # a value YAML parses but cannot build, e.g. 2026-13-45
        bad = _bad_scalar(node)
        raise GuideError(Problem("CONTENT-YAML", f"invalid value{f' {bad.value!r}' if bad else ''}: {exc}",
                                 path, bad.start_mark.line + 1 + line_offset if bad else None,
                                 "write dates as YYYY-MM-DD, and quote values that only look like dates",
                                 bad.start_mark.column + 1 if bad else None))
    finally:
        loader.dispose()
    return data, node


# libyaml's parser, when PyYAML has it: a fifth of the time. It reads only
# what parses; anything it refuses is read again by the Python parser, whose
# messages (and line numbers) the errors above are written for.
FAST = getattr(yaml, "CSafeLoader", None)


def _read_fast(text: str, path: Path, line_offset: int):
    loader = FAST(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_tree(node, path, line_offset)
        return (loader.construct_document(node) if node is not None else None), node
    finally:
        loader.dispose()


def _bad_scalar(root: Any):
    """The first scalar under `root` that cannot be constructed."""
    stack = [root] if root is not None else []
    seen: set[int] = set()
    while stack:
        node = stack.pop(0)
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, yaml.ScalarNode):
            try:
                yaml.constructor.SafeConstructor().construct_object(node, deep=True)
            except ValueError:
                return node
        elif isinstance(node, yaml.MappingNode):
            stack.extend(v for pair in node.value for v in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return None


def node_line(node: Any, loc: tuple) -> int | None:
    """The 1-based line of the YAML node at `loc` (or its nearest parent)."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == key), None)
            if match is None:
                break
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            break
        line = node.start_mark.line + 1
    return line


def key_line(node: Any, key: str) -> int | None:
    """The 1-based line where `key` of a mapping is written (not its value)."""
    if isinstance(node, yaml.MappingNode):
        for k, _ in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return k.start_mark.line + 1
    return node_line(node, ())


def _control_characters(data: Any, loc: tuple = ()):
    """Where a YAML value holds a control character (from an escape such as
    \\x1f): XML, and so every edition, cannot carry them."""
    if isinstance(data, str) and CONTROL.search(data):
        yield loc
    elif isinstance(data, dict):
        for key, value in data.items():
            yield from _control_characters(value, loc + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield from _control_characters(value, loc + (i,))


def validate(model: type[M], data: Any, node: Any, path: Path, line_offset: int = 0) -> M:
    bad = list(_control_characters(data))
    if bad:
        problems = Problems()
        for loc in bad:
            line = node_line(node, loc)
            problems.add("CONTENT-SCHEMA", f"field '{'.'.join(str(p) for p in loc)}' holds a control character",
                         path, line + line_offset if line else None, "remove it; only printable text is allowed")
        problems.raise_if_any()
    try:
        return model.model_validate(data if data is not None else {})
    except ValidationError as exc:
        problems = Problems()
        for err in exc.errors():
            loc = tuple(err["loc"])
            fieldname = ".".join(str(p) for p in loc) or "(document)"
            line = node_line(node, loc)
            problems.add("CONTENT-SCHEMA", f"field '{fieldname}': {err['msg']}", path,
                         line + line_offset if line else None,
                         f"see docs/guide-yaml.md ({SECTIONS.get(model.__name__, model.__name__)})")
        problems.raise_if_any()
        raise  # unreachable


def load_model(model: type[M], path: Path, text: str | None = None) -> M:
    data, node = read_yaml(path, text)
    return validate(model, data, node, path)


def load_model_with_node(model: type[M], path: Path, text: str | None = None) -> tuple[M, Any]:
    data, node = read_yaml(path, text)
    return validate(model, data, node, path), node
