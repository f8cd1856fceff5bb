"""Plain-text tables for the CLI: columns aligned by terminal cells, long values cut with "…".

Stdlib only (the CLI's start-up budget has no room for a table library): widths count East
Asian wide characters as two cells and combining marks as none, so a folder named in
Japanese does not push the columns after it out of line. A column can be capped (`limit`)
and cut at its start instead of its end (`keep="end"`, for paths: the tail names the
project). Control characters are spelled out (core.inert) *before* widths are measured, so
a hostile folder name neither moves the cursor nor pushes the columns out of line.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from llm_sessions.core.inert import inert

ELLIPSIS = "…"


def cell_width(text: str) -> int:
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def printable(text: str) -> str:
    """One line with every control character spelled out (`\\x1b`), as everything we print."""
    return inert(text)


def cut(text: str, width: int, keep: Literal["start", "end"] = "start") -> str:
    """`text` in at most `width` cells, an ellipsis marking what was cut."""
    if cell_width(text) <= width:
        return text
    if width <= 1:
        return ELLIPSIS[:width]
    out: list[str] = []
    used = 0
    chars = text if keep == "start" else reversed(text)
    for ch in chars:
        w = cell_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    body = "".join(out) if keep == "start" else "".join(reversed(out))
    return body + ELLIPSIS if keep == "start" else ELLIPSIS + body


@dataclass(frozen=True, slots=True)
class Col:
    header: str
    right: bool = False
    limit: int | None = None
    keep: Literal["start", "end"] = "start"


def render(cols: Sequence[Col], rows: Sequence[Sequence[str]], gap: str = "  ") -> str:
    """Header and rows, aligned; the last column is not padded (no trailing spaces)."""
    cells = [[cut(printable(str(v)), c.limit, c.keep) if c.limit else printable(str(v)) for c, v in zip(cols, row)] for row in rows]
    widths = [max([cell_width(c.header)] + [cell_width(r[i]) for r in cells]) for i, c in enumerate(cols)]

    def line(values: Sequence[str]) -> str:
        out = []
        for i, (c, v) in enumerate(zip(cols, values)):
            pad = widths[i] - cell_width(v)
            last = i == len(cols) - 1
            out.append(" " * pad + v if c.right else (v if last else v + " " * pad))
        return gap.join(out).rstrip()

    return "\n".join([line([c.header for c in cols]), *(line(r) for r in cells)])


__all__ = ["Col", "cell_width", "cut", "printable", "render"]
