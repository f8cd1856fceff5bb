"""Which changes between two snapshots deserve the user's attention.

A pure function of (previous snapshot, new snapshot, predicted times to auto-compaction), so
the rules can be tested without a terminal and the UI only decides how to show them (toast,
bell, flagged row). An alert fires on the *crossing*, not on the condition: a session that
stays critical is reported once, when it became critical.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from llm_sessions.core.models import Session, Snapshot

AlertKind = Literal["warning", "critical", "waiting", "compaction", "limit", "limit_critical"]

_STATUS_RANK = {"healthy": 0, "warning": 1, "critical": 2}
_SEVERITY: dict[str, Literal["information", "warning", "error"]] = {
    "critical": "error", "limit_critical": "error", "waiting": "information",
}


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert. The message leads with what happened and ends with which session, so a
    40-column notice line cut with an ellipsis still says the part that matters."""

    session_id: str
    kind: AlertKind
    message: str

    @property
    def severity(self) -> Literal["information", "warning", "error"]:
        """The toast severity: critical is an error, waiting is information, the rest warn."""
        return _SEVERITY.get(self.kind, "warning")


def _label(s: Session) -> str:
    folder = (s.cwd or "").rstrip("/").rsplit("/", 1)[-1]
    return f"{s.tool} {s.id[:8]}" + (f" ({folder})" if folder else "")


def _waiting(s: Session) -> bool:
    """Waiting for the user, whether discovery set the state or the transcript said so."""
    return s.state == "waiting" or s.awaiting_user


def _soon(eta: timedelta | None, within: timedelta) -> bool:
    return eta is not None and eta <= within


def _minutes(eta: timedelta) -> str:
    minutes = max(0, round(eta.total_seconds() / 60))
    return "under a minute" if minutes < 1 else f"~{minutes} min"


def detect_alerts(
    previous: Snapshot | None,
    current: Snapshot,
    *,
    previous_eta: Mapping[str, timedelta | None] | None = None,
    current_eta: Mapping[str, timedelta | None] | None = None,
    compaction_minutes: float = 10.0,
) -> list[Alert]:
    """Alerts for sessions that crossed into warning/critical, started waiting, or will compact.

    Only a *change* alerts. The first poll establishes every session's state, and so does the
    first sight of a session that appears later (a demo's children, an assistant started
    while we watch): the table shows its state, and a burst of alerts at start-up would teach
    users to ignore them. Likewise the first forecast of a session (one exists only once the
    store holds two samples) is a baseline: `previous_eta` must hold the session's id, with a
    later time or None ("not growing"), for entering the window to alert. Ended sessions
    never alert.
    """
    if previous is None:
        return []
    before = previous.by_id()
    previous_eta = previous_eta or {}
    current_eta = current_eta or {}
    within = timedelta(minutes=compaction_minutes)
    alerts: list[Alert] = []
    for s in current.sessions:
        if s.state == "ended":
            continue
        old = before.get(s.id)
        if old is None:
            continue  # first sight: its state is the baseline
        label = _label(s)
        if s.health is not None and old.health is not None:
            old_rank = _STATUS_RANK[old.health.status]
            new_rank = _STATUS_RANK[s.health.status]
            if new_rank > old_rank:  # so the new status is warning or critical, never healthy
                kind: AlertKind = "critical" if s.health.status == "critical" else "warning"
                alerts.append(Alert(s.id, kind, f"health {s.health.status} ({s.health.score}): {label}"))
        if _waiting(s) and not _waiting(old):
            alerts.append(Alert(s.id, "waiting", f"waiting for input: {label}"))
        eta = current_eta.get(s.id)
        if eta is not None and _soon(eta, within) and s.id in previous_eta and not _soon(previous_eta[s.id], within):
            alerts.append(Alert(s.id, "compaction", f"auto-compaction in {_minutes(eta)}: {label}"))
    return alerts


class AlertThrottle:
    """Drops repeats of the same alert for the same session within `cooldown`.

    A session that finishes a turn every minute crosses into "waiting" every minute; with
    ten sessions that is a toast every few seconds, which teaches users to ignore toasts.
    The row stays flagged either way; only the toast and the bell are rationed.
    """

    def __init__(self, cooldown: timedelta) -> None:
        self.cooldown = cooldown
        self._last: dict[tuple[str, str], datetime] = {}

    def filter(self, alerts: list[Alert], now: datetime) -> tuple[list[Alert], list[Alert]]:
        """(alerts to announce, alerts only to flag)."""
        loud, quiet = [], []
        for a in alerts:
            key = (a.session_id, a.kind)
            last = self._last.get(key)
            if last is not None and now - last < self.cooldown:
                quiet.append(a)
                continue
            self._last[key] = now
            loud.append(a)
        return loud, quiet


_SEVERITY_RANK = {"information": 0, "warning": 1, "error": 2}


def toasts(alerts: list[Alert], *, most: int = 2) -> list[tuple[str, str]]:
    """(message, severity) to show for one tick's alerts: one each, or one summary.

    With many sessions a single tick can raise several alerts (turns end together); more than
    `most` toasts would stack over the table, so they become one toast with the worst
    severity that names each session.
    """
    if len(alerts) <= most:
        return [(a.message, a.severity) for a in alerts]
    worst = max((a.severity for a in alerts), key=_SEVERITY_RANK.__getitem__)
    return [(f"{len(alerts)} alerts:\n" + "\n".join(a.message for a in alerts), worst)]


__all__ = ["Alert", "AlertKind", "AlertThrottle", "detect_alerts", "toasts"]
