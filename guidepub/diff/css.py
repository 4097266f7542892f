"""The declarations that differ between two stylesheets, for a reviewer:
`.block-activity › border-left-color: #009639 → #330072`."""

from __future__ import annotations

import re

COMMENT = re.compile(r"/\*.*?\*/", re.S)


def declarations(text: str) -> dict[tuple[str, str], str]:
    """(selector path, property) -> value, for every declaration, nested
    blocks (@media, @page margin boxes) included."""
    text = COMMENT.sub("", text)
    found: dict[tuple[str, str], str] = {}
    stack: list[str] = []
    seen: dict[str, int] = {}
    buffer = ""
    for char in text:
        if char == "{":
            # A selector that opens a second block (@font-face) is told apart by its number.
            path = " › ".join(stack + [" ".join(buffer.split())])
            seen[path] = seen.get(path, 0) + 1
            stack.append(" ".join(buffer.split()) + (f" [{seen[path]}]" if seen[path] > 1 else ""))
            buffer = ""
        elif char in ";}":
            _declaration(buffer, stack, found)
            buffer = ""
            if char == "}" and stack:
                stack.pop()
        else:
            buffer += char
    return found


def _declaration(text: str, stack: list[str], found: dict) -> None:
    if ":" not in text or not stack:
        return
    name, value = text.split(":", 1)
    name, value = name.strip().lower(), " ".join(value.split())
    if name and value:
        key = (" › ".join(stack), name)
        found[key] = value if key not in found else f"{found[key]}; {value}"


def declarations_diff(old: str, new: str, limit: int = 20) -> list[str]:
    a, b = declarations(old), declarations(new)
    return mapping_diff({f"{sel} › {prop}": v for (sel, prop), v in sorted(a.items())},
                        {f"{sel} › {prop}": v for (sel, prop), v in sorted(b.items())}, limit)


def mapping_diff(old: dict[str, str], new: dict[str, str], limit: int, show=lambda v: v) -> list[str]:
    """'key: before → after', 'key: added v', 'key: removed (v)' for every key
    whose value differs (in order of first appearance), at most `limit` lines."""
    lines = []
    for key in dict.fromkeys([*old, *new]):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if before is None:
            lines.append(f"{key}: added {show(after)}")
        elif after is None:
            lines.append(f"{key}: removed ({show(before)})")
        else:
            lines.append(f"{key}: {show(before)} → {show(after)}")
    if len(lines) > limit:
        lines = lines[:limit] + [f"… and {len(lines) - limit} more"]
    return lines
