"""The team view: every host's current sessions from a shared store, and which hosts are stale.

A host is stale when it has not published for `STALE_PERIODS` of its own heartbeat interval
(each publisher writes at least every `heartbeat_seconds`, 30 s by default, and on every
change): its sessions are shown with state `unknown`, since nobody knows whether they still
run. `TeamMonitor` gives the dashboard the same interface as the local `Monitor`, so
`llm-session --team` is the ordinary dashboard over the shared store: sessions keep their
host, and ids that repeat across hosts get `@host` appended so every row has its own key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from llm_sessions.core.models import Session, Snapshot
from llm_sessions.core.store.repository import HostRow, Store

STALE_PERIODS = 3.0


def ago(delta: timedelta) -> str:
    s = int(max(delta.total_seconds(), 0))
    if s < 90:
        return f"{s}s ago"
    if s < 5400:
        return f"{s // 60}m ago"
    if s < 172800:
        return f"{s // 3600}h ago"
    return f"{s // 86400}d ago"


@dataclass(frozen=True, slots=True)
class TeamView:
    taken_at: datetime
    hosts: tuple[HostRow, ...]
    sessions: tuple[Session, ...]
    stale: frozenset[tuple[str, str]]
    limits: tuple[dict, ...] = ()  # each host's usage-limit windows, as published

    def is_stale(self, host: str | None, os_user: str | None) -> bool:
        return (host, os_user) in self.stale

    def problems(self) -> tuple[str, ...]:
        return tuple(
            f"{h.os_user}@{h.host}: last publish {ago(self.taken_at - h.last_seen_at)} (stale)"
            for h in self.hosts
            if (h.host, h.os_user) in self.stale
        )


def team_view(store: Store, now: datetime | None = None, *, present_only: bool = True) -> TeamView:
    now = now or datetime.now(timezone.utc)
    hosts, sessions = store.team(present_only=present_only)
    stale = frozenset((h.host, h.os_user) for h in hosts if h.stale(now, STALE_PERIODS))
    sessions = [s.with_(state="unknown") if (s.host, s.os_user) in stale and s.state != "ended" else s for s in sessions]
    sessions.sort(key=lambda s: (s.host or "", s.os_user or "", -(s.last_activity.timestamp() if s.last_activity else 0), s.id))
    return TeamView(now, tuple(hosts), tuple(sessions), stale, tuple(store.limit_rows()))


def unique_ids(sessions: list[Session] | tuple[Session, ...]) -> list[Session]:
    """Give ids that occur on more than one (host, user) a `@host` (or `@user@host`) suffix."""
    owners: dict[str, set[tuple[str | None, str | None]]] = {}
    for s in sessions:
        owners.setdefault(s.id, set()).add((s.host, s.os_user))
    out = []
    for s in sessions:
        if len(owners[s.id]) > 1:
            hosts_with_id = {h for h, _u in owners[s.id]}
            where = s.host if len(hosts_with_id) == len(owners[s.id]) else f"{s.os_user}@{s.host}"
            s = s.with_(id=f"{s.id}@{where}")
        out.append(s)
    return out


class TeamMonitor:
    """The dashboard's monitor for `--team`: polls read the shared store, nothing is watched."""

    def __init__(self, store: Store, clock=lambda: datetime.now(timezone.utc)) -> None:
        self.store = store
        self.clock = clock
        self._origin: dict[str, tuple[str, str | None, str | None]] = {}

    def poll(self) -> Snapshot:
        view = team_view(self.store, self.clock())
        sessions = unique_ids(view.sessions)
        self._origin = {s.id: (o.id, o.host, o.os_user) for s, o in zip(sessions, view.sessions)}
        searched = tuple(f"{h.os_user}@{h.host}" for h in view.hosts)
        return Snapshot(taken_at=view.taken_at, sessions=tuple(sessions), problems=view.problems(), searched=searched)

    def watch_paths(self) -> list:
        return []

    def history(self, session_id: str, since: datetime | None = None) -> list:
        sid, host, user = self._origin.get(session_id, (session_id, None, None))
        return self.store.samples(sid, since=since, host=host, os_user=user)

    def save_cache(self) -> None:
        """Nothing to save: the team view keeps no scan cache."""


__all__ = ["STALE_PERIODS", "TeamMonitor", "ago", "TeamView", "team_view", "unique_ids"]
