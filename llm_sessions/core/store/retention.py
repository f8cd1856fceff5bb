"""Retention: keep recent detail, thin older history, drop what is past the horizon.

A dashboard records a sample per session per change (every 2 s while a session works), so
without care the samples table grows by tens of thousands of rows an hour. The policy:
- the last 15 minutes: every sample;
- 15 minutes to one day: the last sample of each minute (the compaction forecast fits the
  last hour, which the dashboard keeps in memory once it has read it);
- older: the last sample of each 15 minutes;
- past `keep_days`: deleted, and so are sessions that are no longer present and have been
  inactive that long, and hosts that have not published that long (with their rows).

Thinning is incremental: each run looks only at the span that aged into a tier since the
previous run (a watermark per host), so its cost follows the new rows, not the table.
Each host thins its own rows; pruning past the horizon applies to the whole store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, cast, delete, func, select, tuple_, update
from sqlalchemy import BigInteger, Integer
from sqlalchemy.engine import Connection

from llm_sessions.core.store.identity import Identity
from llm_sessions.core.store.tables import hosts, limits, samples, sessions


@dataclass(frozen=True, slots=True)
class Retention:
    keep_days: float = 30.0
    every: timedelta = timedelta(minutes=10)  # how often a writer runs maintenance
    # (age after which a tier starts, bucket width in seconds), youngest first
    tiers: tuple[tuple[timedelta, int], ...] = ((timedelta(minutes=15), 60), (timedelta(days=1), 900))


def _bucket(conn: Connection, width: int):
    col = samples.c.at
    if conn.dialect.name == "postgresql":
        return cast(func.floor(func.extract("epoch", col) / width), BigInteger)
    return cast(func.strftime("%s", col), Integer) // width  # floor division (`/` is true division)


def _own(ident: Identity):
    return and_(samples.c.host == ident.host, samples.c.os_user == ident.os_user)


def downsample(conn: Connection, ident: Identity, now: datetime, since: datetime | None, policy: Retention) -> int:
    """Thin this host's samples that aged into each tier since `since` (None: all). Returns rows deleted."""
    removed = 0
    for age, width in policy.tiers:
        hi = now - age
        where = [_own(ident), samples.c.at < hi]
        if since is not None:
            # re-visit one bucket before the old edge: it may have been only partly aged then
            where.append(samples.c.at >= since - age - timedelta(seconds=width))
        bucket = _bucket(conn, width)
        keep = select(samples.c.session_id, func.max(samples.c.at)).where(*where).group_by(samples.c.session_id, bucket)
        result = conn.execute(delete(samples).where(*where, tuple_(samples.c.session_id, samples.c.at).not_in(keep)))
        removed += max(result.rowcount or 0, 0)
    return removed


def prune(conn: Connection, cutoff: datetime) -> dict[str, int]:
    """Delete samples older than `cutoff`, absent sessions idle since then, and silent hosts."""
    gone_samples = conn.execute(delete(samples).where(samples.c.at < cutoff)).rowcount or 0
    gone_sessions = (
        conn.execute(
            delete(sessions)
            .where(sessions.c.present.is_(False))
            .where(sessions.c.updated_at < cutoff)
            .where((sessions.c.last_activity.is_(None)) | (sessions.c.last_activity < cutoff))
        ).rowcount
        or 0
    )
    silent = conn.execute(select(hosts.c.host, hosts.c.os_user).where(hosts.c.last_seen_at < cutoff)).all()
    for host, user in silent:
        for table in (samples, limits):
            conn.execute(delete(table).where(table.c.host == host, table.c.os_user == user))
        gone_sessions += conn.execute(delete(sessions).where(sessions.c.host == host, sessions.c.os_user == user)).rowcount or 0
        conn.execute(delete(hosts).where(hosts.c.host == host, hosts.c.os_user == user))
    return {"samples": int(gone_samples), "sessions": int(gone_sessions)}


def mark_maintained(conn: Connection, ident: Identity, now: datetime) -> None:
    conn.execute(update(hosts).where(hosts.c.host == ident.host, hosts.c.os_user == ident.os_user).values(maintained_at=now))


__all__ = ["Retention", "downsample", "mark_maintained", "prune"]
