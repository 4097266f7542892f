"""Colour contrast as WCAG 2.2 defines it (relative luminance, 1:1 to 21:1)."""

from __future__ import annotations


def _luminance(hex_colour: str) -> float:
    value = hex_colour.lstrip("#")
    channels = [int(value[i:i + 2], 16) / 255 for i in (0, 2, 4)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_ratio(foreground: str, background: str) -> float:
    lighter, darker = sorted((_luminance(foreground), _luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def required_ratio(large_text: bool) -> float:
    """WCAG 2.2 AA: 4.5:1 for body text, 3:1 for large text."""
    return 3.0 if large_text else 4.5
