"""Rich Text for table cells, coloured from the active theme.

DataTable cells are Rich renderables, which cannot name CSS variables, so the colours are
read from the App's CSS variables once per theme (`Palette.from_app`) instead of being written
as hex anywhere. The functions are pure given a Palette, so cell contents are compared by
value when the table is diffed and only changed cells are updated.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.style import Style
from rich.text import Text

from llm_sessions.core.accounting.health import context_level
from llm_sessions.core.inert import inert
from llm_sessions.core.models import ContextFill, HealthReport
from llm_sessions.ui.format import bar


@dataclass(frozen=True, slots=True)
class Palette:
    good: Style
    warn: Style
    bad: Style
    accent: Style
    muted: Style

    @classmethod
    def from_app(cls, app) -> Palette:
        # get_css_variables() rather than theme_variables: the latter is refreshed only
        # after the theme watchers ran, so it still holds the old theme when we rebuild.
        v = app.get_css_variables()
        return cls(
            good=Style(color=v["text-success"]),
            warn=Style(color=v["text-warning"]),
            bad=Style(color=v["text-error"]),
            accent=Style(color=v["text-primary"]),
            muted=Style(color=v["foreground-darken-3"]),
        )

    def for_status(self, status: str | None) -> Style:
        return {"healthy": self.good, "warning": self.warn, "critical": self.bad}.get(status or "", self.muted)


class KeyedText(Text):
    """A Text that remembers its session id, so DataTable.sort's key function can find it.

    DataTable.sort passes cell values, not row keys, to the key callable; the id cell carries
    the key so sorting stays on public API.
    """

    def __init__(self, text: str, session_id: str, style: Style | str = "") -> None:
        super().__init__(text, style=style, end="")
        self.session_id = session_id

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, KeyedText)
            and other.session_id == self.session_id
            and Text.__eq__(self, other)
        )

    __hash__ = None  # type: ignore[assignment]  # mutable, like Text: unhashable on purpose


def fill_level(fill: ContextFill) -> str:
    """healthy / warning / critical for a context fill, relative to where compaction fires.

    Measured against `compact_at` when known, since that is the point the user loses context,
    not 100% of the window. The fractions live in core.accounting.health, next to the rule that makes a
    session at 90% of that point never healthy, so the bar and the score tell one story.
    """
    return context_level(fill.used, fill.compact_at or fill.window)


def context_cell(fill: ContextFill | None, palette: Palette, width: int = 8) -> Text:
    if fill is None or not fill.window:
        return Text("-", style=palette.muted, end="")
    style = palette.for_status(fill_level(fill))
    text = Text(end="")
    if width:
        text.append(bar(fill.used / fill.window, width), style=style)
        text.append(" ")
    pct = f"{fill.percent:.0f}%" + ("" if fill.exact else "~")
    text.append(pct.rjust(4), style=style)
    return text


def health_cell(report: HealthReport | None, palette: Palette) -> Text:
    if report is None:
        return Text("-", style=palette.muted, end="")
    return Text(f"{report.score:>3}", style=palette.for_status(report.status) + Style(bold=report.status != "healthy"), end="")


SHORT_STATES = {"working": "work", "waiting": "wait", "idle": "idle", "ended": "end", "unknown": "?"}


def state_cell(state: str, palette: Palette, short: bool = False) -> Text:
    style = {
        "working": palette.good,
        "waiting": palette.warn + Style(bold=True),
        "idle": palette.accent,
        "ended": palette.muted,
    }.get(state, palette.muted)
    return Text(SHORT_STATES.get(state, state) if short else state, style=style, end="")


def id_cell(session_id: str, short: str, flagged: bool, palette: Palette) -> KeyedText:
    if flagged:
        return KeyedText(f"!{inert(short)}", session_id, palette.warn + Style(bold=True, reverse=True))
    return KeyedText(f" {inert(short)}", session_id)


def plain(value: str, palette: Palette | None = None, *, muted: bool = False, right: bool = False) -> Text:
    """A cell of text read from outside: a Text (never markup) with control characters spelled out."""
    text = Text(inert(value), style=palette.muted if (muted and palette) else "", end="")
    if right:
        text.justify = "right"
    return text


__all__ = ["SHORT_STATES", "KeyedText", "Palette", "context_cell", "fill_level", "health_cell", "id_cell", "plain", "state_cell"]
