"""Context fill per turn as a small bar chart, with the compaction point and compactions.

One column per turn (or per group of turns when there are more turns than columns, showing
the group's peak), eighth-block characters for height, the colour of the context bar at that
fill (core.accounting.health.context_level), a dashed line at the auto-compaction point, and a ▲ under
each column where the session compacted. The scale tops out a little above the larger of
the peak and the compaction point, so the line is always in view.
"""

from __future__ import annotations

from textual.content import Content
from textual.widget import Widget

from llm_sessions.core.accounting.context_history import ContextHistory
from llm_sessions.core.accounting.health import context_level
from llm_sessions.ui.format import human_tokens

BLOCKS = " ▁▂▃▄▅▆▇█"
LEVEL_STYLE = {"healthy": "$text-success", "warning": "$text-warning", "critical": "$text-error"}


STRETCH = 3
"""A short series is drawn up to this many columns per point, so a few turns are not a sliver."""


def buckets(values: list[int], compactions: tuple[int, ...], width: int) -> tuple[list[int], set[int]]:
    """Peak per column and the columns holding a compaction, for `width` columns."""
    n = len(values)
    if n <= width:
        k = max(1, min(STRETCH, width // max(n, 1)))
        cols = [v for v in values for _ in range(k)]
        return cols, {min(i, max(n - 1, 0)) * k for i in compactions}
    cols = [max(values[i * n // width : max((i + 1) * n // width, i * n // width + 1)]) for i in range(width)]
    marks = {min(width - 1, i * width // n) for i in compactions}
    return cols, marks


def chart_lines(history: ContextHistory, width: int, height: int, compact_at: int | None, window: int | None) -> list[Content]:
    """The chart as `height` rows plus one marker row (pure: tested without a terminal)."""
    values = [p.used for p in history.points]
    cols, marks = buckets(values, history.compactions, max(1, width))
    top = max(max(cols, default=0), compact_at or 0, 1) * 1.1
    limit = compact_at or window
    line_row = None
    if compact_at:
        line_row = height - 1 - min(height - 1, int(compact_at / top * height))
    rows: list[Content] = []
    for r in range(height):
        base = (height - 1 - r) * 8
        parts: list[tuple[str, str]] = []
        for v in cols:
            eighths = round(v / top * height * 8)
            if eighths >= base + 8:
                ch = BLOCKS[8]
            elif eighths > base:
                ch = BLOCKS[eighths - base]
            else:
                ch = ""
            if ch:
                parts.append((ch, LEVEL_STYLE[context_level(v, limit)]))
            elif r == line_row:
                parts.append(("╌", "$text-warning 70%"))
            else:
                parts.append((" ", ""))
        rows.append(Content.assemble(*parts))
    rows.append(Content.assemble(*(("▲", "bold $text-error") if i in marks else ("─", "$text-muted") for i in range(len(cols)))))
    return rows


def legend(history: ContextHistory, compact_at: int | None) -> list[str]:
    """The legend's parts: what is counted, then what is marked (joined to fit by `pack`)."""
    n = len(history.points) - history.sampled
    parts = [f"{n} turn{'s' if n != 1 else ''}"] if n else []
    if history.sampled:
        parts.append(f"{history.sampled} live sample{'s' if history.sampled != 1 else ''}")
    parts.append(f"peak {human_tokens(history.peak)}")
    if compact_at:
        parts.append(f"╌ compacts at {human_tokens(compact_at)}")
    k = len(history.compactions)
    parts.append(f"▲ {k} compaction{'s' if k != 1 else ''}" if k else "no compaction")
    return parts


def pack(parts: list[str], width: int, sep: str = " · ") -> list[str]:
    """Parts joined into as few lines of at most `width` as possible, never cut inside a part."""
    lines: list[str] = []
    for part in parts:
        if lines and len(lines[-1]) + len(sep) + len(part) <= width:
            lines[-1] += sep + part
        else:
            lines.append(part)
    return lines


class ContextChart(Widget):
    """The drilldown's chart; `show()` gives it a history and the session's limits."""

    DEFAULT_CSS = """
    ContextChart {
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(self, rows: int = 6, **kwargs) -> None:
        super().__init__(**kwargs)
        self.rows = rows
        self.history = ContextHistory()
        self.compact_at: int | None = None
        self.window: int | None = None
        self.note = ""

    def show(self, history: ContextHistory, compact_at: int | None, window: int | None, note: str = "") -> None:
        self.history, self.compact_at, self.window, self.note = history, compact_at, window, note
        self.refresh(layout=True)

    def get_content_height(self, container, viewport, width: int) -> int:
        if not self.history.points:
            return 1
        return self.rows + 1 + len(pack(legend(self.history, self.compact_at), max(1, width)))

    def render(self) -> Content:
        if not self.history.points:
            return Content.styled(self.note or "no per-turn context recorded for this session", "$text-muted")
        width = max(1, self.content_size.width)
        lines = chart_lines(self.history, width, self.rows, self.compact_at, self.window)
        lines.extend(Content.styled(text, "$text-muted") for text in pack(legend(self.history, self.compact_at), width))
        return Content("\n").join(lines)


__all__ = ["ContextChart", "buckets", "chart_lines", "legend", "pack"]
