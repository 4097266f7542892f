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
    lines = []
    for key in sorted(a.keys() | b.keys()):
        before, after = a.get(key), b.get(key)
        if before == after:
            continue
        selector, prop = key
        if before is None:
            lines.append(f"{selector} › {prop}: added {after}")
        elif after is None:
            lines.append(f"{selector} › {prop}: removed ({before})")
        else:
            lines.append(f"{selector} › {prop}: {before} → {after}")
    if len(lines) > limit:
        lines = lines[:limit] + [f"… and {len(lines) - limit} more"]
    return lines
