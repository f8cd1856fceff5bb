"""Usage limits on screen: the header line and the drilldown's section.

Both are self-contained: they watch `App.snapshot` themselves, so a screen places them with
one `yield` and never feeds them. Colours are theme variables chosen by the core's
`urgency` (projected time to 100% against `alerts.limit_minutes`, and 80%/95% used).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from textual.markup import escape
from textual.widgets import Static

from llm_sessions.core.accounting.limit_report import label, short_label, urgency, used_text, when
from llm_sessions.core.accounting.limits import tightest
from llm_sessions.core.models import LimitWindow, Session, Snapshot
from llm_sessions.ui.format import human_duration
from llm_sessions.ui.layout import NARROW_BELOW

if TYPE_CHECKING:
    from llm_sessions.ui.app import LLMSessionApp


URGENCY_VAR = {"bad": "$text-error", "warn": "$text-warning", "ok": "$text-success", "unknown": "$foreground-darken-3"}


def _clock(at: datetime, now: datetime) -> str:
    """`01:17` within a day, `Mon 01:17` beyond: short enough for a side pane."""
    local = at.astimezone()
    return local.strftime("%H:%M") if at - now < timedelta(hours=20) else local.strftime("%a %H:%M")


def _tail(w: LimitWindow, now: datetime, narrow: bool) -> str:
    if w.limit_hit:
        return (_clock(w.resets_at, now) if narrow else f"until {_clock(w.resets_at, now)}") if w.resets_at else ""
    if narrow:
        return ""
    if w.eta is not None:
        return f"full in {human_duration(w.eta - now)}"
    if w.burn_per_hour:
        return f"+{w.burn_per_hour:.1f}%/h"
    return ""


def limits_markup(windows: tuple[LimitWindow, ...], now: datetime, limit_minutes: float, narrow: bool) -> str:
    """One line: per assistant, its tightest window, coloured by how soon it runs out."""
    parts = []
    for tool, w in tightest(windows).items():
        colour = URGENCY_VAR[urgency(w, now, limit_minutes)]
        tail = _tail(w, now, narrow)
        text = f"{tool} {short_label(w.kind)} {used_text(w)}" + (f" {tail}" if tail else "")
        parts.append(f"[{colour}]{escape(text)}[/]")
    if not parts:
        return "[$foreground-darken-3]limits: no window known yet[/]"
    return ("" if narrow else "[$foreground-darken-3]limits[/] ") + " · ".join(parts)


class LimitsBar(Static):
    """The header's limits line; re-renders only when its text changes."""

    if TYPE_CHECKING:
        app: LLMSessionApp  # Textual types it as any App; this one lives only in ours

    DEFAULT_CSS = """
    LimitsBar {
        height: 1;
        padding: 0 1;
        background: $panel;
    }
    """

    _shown: str | None = None

    def on_mount(self) -> None:
        self.watch(self.app, "snapshot", self._on_snapshot, init=True)

    def on_resize(self) -> None:
        self._on_snapshot(self.app.snapshot)

    def _on_snapshot(self, snap: Snapshot | None) -> None:
        if snap is None:
            return
        self.display = bool(snap.limits)  # no window known: no line, rather than one saying so
        minutes = getattr(self.app.settings, "alerts_limit_minutes", 30.0)
        markup = limits_markup(snap.limits, self.app.clock(), minutes, self.app.size.width < NARROW_BELOW)
        if markup != self._shown:
            self._shown = markup
            self.update(markup, layout=False)  # one fixed line: no screen layout per change


def session_limits_markup(
    session: Session, windows: tuple[LimitWindow, ...], now: datetime, limit_minutes: float, auto_continue: bool = False
) -> str:
    """The drilldown's lines: each window this session used, its fill and its part in it."""
    lines = []
    if session.limit_resets_at is not None and session.limit_resets_at > now:
        lines.append(f"[$text-error]usage limit hit; resets {escape(when(session.limit_resets_at, now))}[/]")
        pane = session.process.tmux_pane if session.process else None
        if auto_continue:
            lines.append(f"  auto-continue: types 'continue' into pane {escape(pane)} then" if pane
                         else "  auto-continue: no tmux pane, so it cannot continue this one")
    mine = {s.window: s for s in session.limit_shares}
    for w in windows:
        share = mine.get(w.key)
        if share is None:
            continue
        colour = URGENCY_VAR[urgency(w, now, limit_minutes)]
        source = w.source if w.exact else "estimate"
        reset = f" · resets {when(w.resets_at, now)}" if w.resets_at else ""
        lines.append(
            f"{escape(w.assistant)} {escape(label(w.kind))}: [{colour}]{escape(used_text(w))}[/] ({escape(source)}){escape(reset)}"
            f" · this session [b]{100 * share.share:.0f}%[/b] of it"
        )
    return "\n".join(lines) or "[$foreground-darken-3]no usage-limit window counts this session's recent turns[/]"


class SessionLimits(Static):
    """The drilldown's "Usage limits" lines for one session."""

    if TYPE_CHECKING:
        app: LLMSessionApp  # Textual types it as any App; this one lives only in ours

    DEFAULT_CSS = """
    SessionLimits {
        height: auto;
        padding: 0 1;
    }
    """

    def __init__(self, session_id: str, **kwargs) -> None:
        super().__init__(**kwargs)
        self.session_id = session_id

    def on_mount(self) -> None:
        self.watch(self.app, "snapshot", self._on_snapshot, init=True)

    def _on_snapshot(self, snap: Snapshot | None) -> None:
        session = snap.by_id().get(self.session_id) if snap else None
        if snap is None or session is None:
            return
        minutes = getattr(self.app.settings, "alerts_limit_minutes", 30.0)
        auto = bool(getattr(self.app.settings, "limits_auto_continue", False))
        self.update(session_limits_markup(session, snap.limits, self.app.clock(), minutes, auto))


__all__ = ["LimitsBar", "SessionLimits", "limits_markup", "session_limits_markup"]
