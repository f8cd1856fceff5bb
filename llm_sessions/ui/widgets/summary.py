"""The one-line header over the table: sessions by state, cost today, tokens per minute."""

from __future__ import annotations

from textual.widgets import Static

from llm_sessions.core.live.summary import Summary
from llm_sessions.ui.format import human_cost, human_tokens
from llm_sessions.ui.widgets.cells import SHORT_STATES as _SHORT

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
        # most important first: one line, cut with an ellipsis in a narrow pane
        body = f"{states} · {human_cost(summary.cost_today)}{cost_label}"
        if sort:
            body += f" · [$foreground-darken-3]by {sort}[/]"
        body += f" · {rate} tok/min"
    flags = ("[reverse $warning] PAUSED [/] " if paused else "") + ("[reverse $primary] DEMO [/] " if demo else "")
    return flags + body


class SummaryBar(Static):
    """Re-renders only when its text changes: on an idle tick nothing on screen moves."""

    DEFAULT_CSS = """
    SummaryBar {
        height: 1;
        padding: 0 1;
        background: $panel;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    _shown: str | None = None

    def show(self, markup: str) -> None:
        if markup != self._shown:
            self._shown = markup
            self.update(markup, layout=False)  # one fixed line: no screen layout per change


__all__ = ["SummaryBar", "summary_markup"]
