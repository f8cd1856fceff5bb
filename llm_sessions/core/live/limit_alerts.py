"""Alerts about usage-limit windows: about to run out, crossing 80% or 95%, or hit.

Like core.live.alerts, a pure function of two snapshots that fires on the crossing, not on the
condition: a window that stays at 96% is reported once, when it got there. Alerts name the
window, not a session (`session_id` is `limit:<assistant>/<kind>`), and say which session
burns most of it, because that is the one a user would pause.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from llm_sessions.core.accounting.limit_report import label, used_text, when
from llm_sessions.core.live.alerts import Alert, AlertKind
from llm_sessions.core.models import LimitWindow, Snapshot

THRESHOLDS = (95.0, 80.0)


def _soon(w: LimitWindow | None, now: datetime, within: timedelta) -> bool:
    return w is not None and w.eta is not None and not w.limit_hit and w.eta - now <= within


def _crossed(old: LimitWindow | None, new: LimitWindow) -> float | None:
    """The highest threshold the window rose through since the previous snapshot."""
    if new.used_percent is None:
        return None
    before = old.used_percent if old is not None and old.used_percent is not None else 0.0
    if old is not None and old.resets_at != new.resets_at and old.source == new.source and new.exact:
        before = 0.0  # a new window began: its rise starts from nothing
    return next((t for t in THRESHOLDS if before < t <= new.used_percent), None)


def _who(w: LimitWindow) -> str:
    if not w.shares:
        return ""
    top = w.shares[0]
    return f"; {top.session_id[:8]} used {100 * top.share:.0f}% of it"


def detect_limit_alerts(previous: Snapshot | None, current: Snapshot, *, limit_minutes: float = 30.0) -> list[Alert]:
    """Alerts for windows that were hit, will run out within `limit_minutes`, or crossed
    80%/95% since `previous`. Nothing on the first snapshot (the header shows the state)."""
    if previous is None:
        return []
    before = {w.key: w for w in previous.limits}
    now = current.taken_at
    within = timedelta(minutes=limit_minutes)
    out: list[Alert] = []
    for w in current.limits:
        old = before.get(w.key)
        name = f"{w.assistant} {label(w.kind)} limit"
        approx = "" if w.exact else " (estimate)"
        if w.limit_hit:
            if old is None or not old.limit_hit:
                reset = f"; resets {when(w.resets_at, now)}" if w.resets_at else ""
                out.append(Alert(f"limit:{w.key}", "limit_critical", f"{name} reached{reset}"))
            continue
        if w.eta is not None and _soon(w, now, within) and not _soon(old, previous.taken_at, within):
            minutes = max(1, round((w.eta - now).total_seconds() / 60))
            out.append(Alert(f"limit:{w.key}", "limit", f"{name}{approx}: {used_text(w)}, full in ~{minutes} min at this rate{_who(w)}"))
            continue
        crossed = _crossed(old, w)
        if crossed is not None:
            kind: AlertKind = "limit_critical" if crossed >= 95 else "limit"
            out.append(Alert(f"limit:{w.key}", kind, f"{name}{approx} passed {crossed:.0f}% ({used_text(w)}){_who(w)}"))
    return out


__all__ = ["THRESHOLDS", "detect_limit_alerts"]
