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


@dataclass(frozen=True, slots=True)
class Alert:
    session_id: str
    kind: AlertKind
    message: str

    @property
    def severity(self) -> Literal["information", "warning", "error"]:
        """The toast severity: critical is an error, waiting is information, the rest warn."""
        return {"critical": "error", "limit_critical": "error", "waiting": "information"}.get(self.kind, "warning")


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

    With no previous snapshot (the first poll) nothing fires: the table already shows every
    session's state, and a burst of toasts at start-up would teach users to ignore them. A
    session new since the previous snapshot counts as coming from "healthy and working", so a
    session that appears already critical is reported. Ended sessions never alert.
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
        label = _label(s)
        if s.health is not None:
            old_rank = _STATUS_RANK.get(old.health.status, 0) if old and old.health else 0
            new_rank = _STATUS_RANK[s.health.status]
            if new_rank > old_rank:
                alerts.append(Alert(s.id, s.health.status, f"{label}: health {s.health.status} ({s.health.score})"))
        if _waiting(s) and (old is None or not _waiting(old)):
            alerts.append(Alert(s.id, "waiting", f"{label} is waiting for input"))
        eta = current_eta.get(s.id)
        if _soon(eta, within) and not _soon(previous_eta.get(s.id), within):
            alerts.append(Alert(s.id, "compaction", f"{label}: auto-compaction in {_minutes(eta)}"))
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
