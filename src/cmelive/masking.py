"""Secret masking (placeholder API; the real rules land with their tests)."""

from __future__ import annotations

MASK = "<masked>"


def mask_line(line: str) -> str:
    return line


def mask_text(text: str) -> str:
    return "\n".join(mask_line(line) for line in text.split("\n"))
