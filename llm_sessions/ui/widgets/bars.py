"""Labelled bars for the drilldown: a health component and the context window.

Each is a Static whose content is built with Textual markup, so colours are theme variables
($success/$warning/$error) and follow the user's theme.
"""

from __future__ import annotations

from textual.markup import escape
from textual.widgets import Static

from llm_sessions.core.models import ContextFill, HealthComponent
from llm_sessions.ui.format import bar, human_tokens
from llm_sessions.ui.widgets.cells import fill_level

# Theme variable for each health status, shared by every markup that colours a status.
STATUS_VAR = {"healthy": "$text-success", "warning": "$text-warning", "critical": "$text-error"}


def score_status(score: int, healthy_min: int, warning_min: int) -> str:
    return "healthy" if score >= healthy_min else "warning" if score >= warning_min else "critical"


class HealthBar(Static):
    """One health component: name, bar, score, weight and the reason the core gave."""

    DEFAULT_CSS = """
    HealthBar {
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(self, component: HealthComponent, *, healthy_min: int = 70, warning_min: int = 40, **kwargs) -> None:
        super().__init__(**kwargs)
        self.healthy_min = healthy_min
        self.warning_min = warning_min
        self.show(component)

    def show(self, c: HealthComponent) -> None:
        colour = STATUS_VAR[score_status(c.score, self.healthy_min, self.warning_min)]
        self.update(
            f"{c.name:<9}[{colour}]{bar(c.score / 100, 12)}[/] {c.score:>3}  "
            f"[$foreground-darken-3]w {c.weight:g}[/]  {escape(c.reason)}"
        )


class ContextBar(Static):
    """Context fill as a bar with used/window and where auto-compaction fires."""

    DEFAULT_CSS = """
    ContextBar {
        height: auto;
        padding: 0 1;
    }
    """

    def show(self, fill: ContextFill | None, width: int = 24) -> None:
        if fill is None or not fill.window:
            self.update("[$foreground-darken-3]context fill unknown[/]")
            return
        colour = STATUS_VAR[fill_level(fill)]
        exact = "" if fill.exact else " (estimated)"
        compact = f"  auto-compacts at {human_tokens(fill.compact_at)}" if fill.compact_at else ""
        self.update(
            f"[{colour}]{bar(fill.used / fill.window, width)} {fill.percent:.1f}%[/]  "
            f"{human_tokens(fill.used)} / {human_tokens(fill.window)}{exact}{compact}"
        )


__all__ = ["STATUS_VAR", "ContextBar", "HealthBar", "score_status"]
