"""What the store answers: samples, stored sessions, the team view, limits, exports, small state.

Only plain values leave these calls (`Sample`, `HostRow`, dicts, `Session`s): rows are read
into frozen values inside the transaction, so no thread ever lazy-loads from another's
connection.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.engine import Connection

from llm_sessions.core.models import RateLimit, Session
from llm_sessions.core.store.connection import DEFAULT_HEARTBEAT_S, StoreBase
from llm_sessions.core.store.rows import session_from_row
from llm_sessions.core.store.statements import aware
from llm_sessions.core.store.tables import exports, hosts, kv, limits, samples, sessions


@dataclass(frozen=True, slots=True)
class Sample:
    """One point of a session's history, safe to hand to any thread."""

    at: datetime
    context_used: int | None
    tokens_total: int
    cost_usd: float | None


@dataclass(frozen=True, slots=True)
class HostRow:
    """A publishing host as the team view sees it."""

    host: str
    os_user: str
    last_seen_at: datetime
    heartbeat_seconds: float
    version: str | None
    sessions: int

    def stale(self, now: datetime, periods: float = 3.0) -> bool:
        """No heartbeat for `periods` heartbeat intervals (plus a few seconds of slack)."""
        return (now - self.last_seen_at).total_seconds() > periods * self.heartbeat_seconds + 5


class StoreReads(StoreBase):
    """The read side of the repository."""

    def samples(
        self, session_id: str, since: datetime | None = None, *, host: str | None = None, os_user: str | None = None
    ) -> list[Sample]:
        """A session's samples, oldest first, optionally only those at or after `since`."""
        host = host or self.identity.host
        os_user = os_user or self.identity.os_user

        def read(conn: Connection) -> list[Sample]:
            q = select(samples).where(samples.c.host == host, samples.c.os_user == os_user, samples.c.session_id == session_id)
            if since is not None:
                q = q.where(samples.c.at >= aware(since))
            return [Sample(r.at, r.context_used, r.tokens_total, r.cost_usd) for r in conn.execute(q.order_by(samples.c.at))]

        return self._run(read)

    def known_sessions(self, *, all_hosts: bool = False) -> list[dict[str, Any]]:
        """Stored sessions as plain dicts (this identity's unless `all_hosts`), most recent first."""

        def read(conn: Connection) -> list[dict[str, Any]]:
            q = select(sessions) if all_hosts else select(sessions).where(self._own(sessions))
            return [dict(r._mapping) for r in conn.execute(q)]

        out = self._run(read)
        epoch = datetime.min.replace(tzinfo=UTC)
        out.sort(key=lambda d: d["last_activity"] or d["updated_at"] or epoch, reverse=True)
        return out

    def team(self, *, present_only: bool = True) -> tuple[list[HostRow], list[Session]]:
        """Every publishing host and its sessions (those in its latest publish by default)."""

        def read(conn: Connection) -> tuple[list[HostRow], list[Session]]:
            host_rows = [
                HostRow(r.host, r.os_user, r.last_seen_at, r.heartbeat_seconds or DEFAULT_HEARTBEAT_S, r.version, r.sessions or 0)
                for r in conn.execute(select(hosts).order_by(hosts.c.host, hosts.c.os_user))
            ]
            lim: dict[tuple[str, str, str], list[RateLimit]] = {}
            for r in conn.execute(select(limits)):
                reading = RateLimit(r.name, r.used_percent or 0.0, r.resets_at, r.window_minutes)
                lim.setdefault((r.host, r.os_user, r.tool), []).append(reading)
            q = select(sessions)
            if present_only:
                q = q.where(sessions.c.present.is_(True))
            found = [
                session_from_row(cast(Mapping[str, Any], r._mapping), tuple(lim.get((r.host, r.os_user, r.tool), ())))
                for r in conn.execute(q)
            ]
            return host_rows, found

        return self._run(read)

    def limit_rows(self) -> list[dict[str, Any]]:
        """Every host's published usage-limit windows as plain dicts."""
        q = select(limits).order_by(limits.c.host, limits.c.tool, limits.c.name)
        return self._run(lambda conn: [dict(r._mapping) for r in conn.execute(q)])

    def exports(self, session_id: str | None = None) -> list[dict[str, Any]]:
        """This identity's exports as dicts, newest first; only one session's when given."""

        def read(conn: Connection) -> list[dict[str, Any]]:
            q = select(exports).where(self._own(exports))
            if session_id is not None:
                q = q.where(exports.c.session_id == session_id)
            return [dict(r._mapping) for r in conn.execute(q.order_by(exports.c.created_at.desc(), exports.c.id.desc()))]

        return self._run(read)

    def get_value(self, key: str) -> bytes | None:
        """A small local value (kv table), or None."""
        value = self._run(lambda conn: conn.execute(select(kv.c.value).where(kv.c.key == key)).scalar())
        return None if value is None else bytes(value)
