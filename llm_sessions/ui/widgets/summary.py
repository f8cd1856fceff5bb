"""The one-line header over the table: sessions by state, cost today, tokens per minute."""

from __future__ import annotations

from textual.widgets import Static

from llm_sessions.core.summary import Summary
from llm_sessions.ui.format import human_cost, human_tokens

_SHORT = {"working": "work", "waiting": "wait", "idle": "idle", "ended": "end", "unknown": "?"}
_STATE_VAR = {"working": "$text-success", "waiting": "$text-warning", "idle": "$text-primary"}


def summary_markup(summary: Summary | None, *, paused: bool, demo: bool, narrow: bool, sort: str = "") -> str:
    """The header text; the sort order is shown here rather than in a toast so it stays visible."""
    if summary is None:
        body = "looking for sessions…"
    else:
        states = " ".join(
            f"[{_STATE_VAR.get(state, '$foreground-darken-3')}]{count} {_SHORT.get(state, state) if narrow else state}[/]"
            for state, count in summary.by_state
        ) or "no sessions"
        rate = "-" if summary.tokens_per_minute is None else human_tokens(round(summary.tokens_per_minute))
        cost_label = "" if narrow else " today"
        body = f"{states} · {human_cost(summary.cost_today)}{cost_label} · {rate} tok/min"
        if sort:
            body += f" · [$foreground-darken-3]by {sort}[/]"
    flags = ("[reverse $warning] PAUSED [/] " if paused else "") + ("[reverse $primary] DEMO [/] " if demo else "")
    return flags + body


class SummaryBar(Static):
    """Re-renders only when its text changes: on an idle tick nothing on screen moves."""

    DEFAULT_CSS = """
    SummaryBar {
        height: auto;
        max-height: 2;
        padding: 0 1;
        background: $panel;
    }
    """

    _shown: str | None = None

    def show(self, markup: str) -> None:
        if markup != self._shown:
            self._shown = markup
            self.update(markup)


__all__ = ["SummaryBar", "summary_markup"]
