"""`Store`: the repository over the tables, for one identity (host, OS user), and its writes.

What it keeps: the last known state of every session (so `history`, `team` and the team
dashboard can show sessions whose files are gone or live on another machine), one sample of
context/tokens/cost per session per change, the exports written, usage limits, one row per
publishing host, and small local key-value state.

`Store` is put together from one module per responsibility:
- `connection` `StoreBase`: opening, transactions, recovery from a damaged file or a server
  that is down (and `move_aside`, `health_check`)
- `reads`      `StoreReads`: samples, stored sessions, the team view, limits, exports
- `upkeep`     `StoreUpkeep`: pruning and thinning, and when a writer runs them
- here         the writes: a snapshot's sessions, samples, limits and heartbeat; exports; kv

Why the writes look like this:
- Every write is an `INSERT ... ON CONFLICT` (`statements`), inside one transaction that
  takes the write lock up front: two dashboards, or fifty agents, never collide on a key.
  Samples are keyed by (host, user, session, instant), so a retried write is a no-op.
- The schema is migrated on open (`migrate.py`); nothing happens at import.
- Unchanged sessions are not rewritten and unchanged samples are skipped; an idle writer
  only refreshes its host's heartbeat every `heartbeat_s`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Connection

from llm_sessions import __version__
from llm_sessions.core.models import Snapshot
from llm_sessions.core.store.connection import LastSample, health_check, move_aside
from llm_sessions.core.store.reads import HostRow, Sample, StoreReads
from llm_sessions.core.store.rows import limit_values, sample_point, session_values, window_values
from llm_sessions.core.store.statements import aware, chunks, insert_ignore, last_per_key, upsert, utc_now
from llm_sessions.core.store.tables import exports, hosts, kv, limits, samples, sessions
from llm_sessions.core.store.upkeep import StoreUpkeep


class Store(StoreReads, StoreUpkeep):
    """Repository over the tables. Thread-safe: each call checks out its own connection."""

    def record_snapshot(self, snapshot: Snapshot, min_interval_s: float = 0) -> int:
        """Upsert the snapshot's sessions, append samples where something changed.

        A sample is skipped when context, tokens and cost equal the session's previous one
        (an idle dashboard does not grow the db) or when it comes sooner than
        `min_interval_s` after it. Sessions not in the snapshot are marked not present.
        Returns the number of samples written.
        """
        at = aware(snapshot.taken_at)
        who = {"host": self.identity.host, "os_user": self.identity.os_user}
        with self._lock:
            if self._last_sample is None:
                self._last_sample = self._run(self._load_last_samples)
            last_sample = self._last_sample
            by_id = {s.id: s for s in snapshot.sessions}  # one row per key, or ON CONFLICT refuses
            rows: list[dict[str, Any]] = []
            sigs: dict[str, tuple[Any, ...]] = {}
            points: dict[str, LastSample] = {}
            lims: list[dict[str, Any]] = []
            lim_sigs: dict[tuple[str, str], tuple[Any, ...]] = {}
            # A session object already stored whole (row and last sample): a monitor hands the
            # same object again while nothing about it changed, so over a long history a poll
            # compares only what is live or changed.
            settled, now_settled = self._settled, {}
            present = self._present
            for sid, s in by_id.items():
                if settled.get(sid) is s and present is not None and sid in present:
                    now_settled[sid] = s
                    continue
                values = session_values(s, share_cwd=self.share_cwd)
                sig = tuple(values.values())
                if self._row_sig.get(sid) != sig or present is None or sid not in present:
                    rows.append({**who, "id": sid, **values, "present": True, "updated_at": at})
                    sigs[sid] = sig
                point = sample_point(s)
                prev = last_sample.get(sid)
                if prev is not None and (
                    prev[1:] == point
                    or at <= prev[0]
                    or (min_interval_s > 0 and (at - prev[0]).total_seconds() < min_interval_s)
                ):
                    if prev[1:] == point:
                        now_settled[sid] = s  # stored whole once the row (if any) is written
                    continue
                points[sid] = (at, *point)
                now_settled[sid] = s
            # the account's windows when the limits feature computed them, else the sessions'
            # readings of windows that have not reset yet (an old reading says nothing of now)
            windows = [window_values(w) for w in getattr(snapshot, "limits", ())] or [
                lim for s in by_id.values() for lim in limit_values(s)
                if lim["resets_at"] is None or aware(lim["resets_at"]) > at
            ]
            for lim in windows:
                key = (lim["tool"], lim["name"])
                lsig = tuple(lim.values())
                if self._limit_sig.get(key) != lsig:
                    lims.append({**who, **lim, "updated_at": at})
                    lim_sigs[key] = lsig
            gone = (present - by_id.keys()) if present is not None else None
            beat = (
                bool(rows or points or gone)
                or self._heartbeat_at is None
                or (at - self._heartbeat_at).total_seconds() >= self.heartbeat_s
            )
            if not (rows or points or lims or gone or beat):
                self._settled = now_settled
                return 0

            def write(conn: Connection) -> None:
                self._mark_absent(conn, gone)
                upsert(conn, sessions, rows, ("host", "os_user", "id"))
                if points:
                    # another writer of this identity (a second dashboard) may have stored
                    # the same values already: under the write lock, skip what it wrote
                    stored = self._load_last_samples(conn, list(points))
                    for sid, prev in stored.items():
                        if prev[1:] == points[sid][1:] or prev[0] >= points[sid][0]:
                            del points[sid]
                            last_sample[sid] = prev
                insert_ignore(conn, samples, [
                    {**who, "session_id": sid, "at": p[0], "context_used": p[1], "tokens_total": p[2], "cost_usd": p[3]}
                    for sid, p in points.items()
                ])
                upsert(conn, limits, last_per_key(lims, ("tool", "name")), ("host", "os_user", "tool", "name"))
                if beat:
                    upsert(conn, hosts, [{
                        **who, "last_seen_at": at, "heartbeat_seconds": float(self.heartbeat_s),
                        "version": __version__, "sessions": len(by_id),
                    }], ("host", "os_user"))

            self._run(write, write=True)
            # only remember what actually reached the database
            self._row_sig.update(sigs)
            last_sample.update(points)
            self._limit_sig.update(lim_sigs)
            self._present = set(by_id)
            self._settled = now_settled
            if beat:
                self._heartbeat_at = at
        self._maybe_maintain(at)
        return len(points)

    def _mark_absent(self, conn: Connection, gone: set[str] | None) -> None:
        """Sessions that left the snapshot are no longer present (all of ours on a first write)."""
        if gone is None:
            conn.execute(update(sessions).where(self._own(sessions), sessions.c.present.is_(True)).values(present=False))
            return
        for chunk in chunks(sorted(gone), 500):
            conn.execute(update(sessions).where(self._own(sessions), sessions.c.id.in_(chunk)).values(present=False))

    def _load_last_samples(self, conn: Connection, ids: list[str] | None = None) -> dict[str, LastSample]:
        """The newest sample of each of our sessions (or of `ids`), in one query per 500 ids."""
        out: dict[str, LastSample] = {}
        for chunk in [None] if ids is None else list(chunks(ids, 500)):
            where = [self._own(samples)]
            if chunk is not None:
                where.append(samples.c.session_id.in_(chunk))
            latest = (
                select(samples.c.session_id, func.max(samples.c.at).label("at"))
                .where(*where).group_by(samples.c.session_id).subquery()
            )
            q = select(
                samples.c.session_id, samples.c.at, samples.c.context_used, samples.c.tokens_total, samples.c.cost_usd
            ).join(latest, (samples.c.session_id == latest.c.session_id) & (samples.c.at == latest.c.at)).where(*where)
            out.update({r.session_id: (aware(r.at), r.context_used, r.tokens_total, r.cost_usd) for r in conn.execute(q)})
        return out

    def record_export(
        self, session_id: str, path: str | Path, format: str, redactions: int = 0, tokens_estimate: int = 0
    ) -> int:
        """Remember an export written to disk; returns its id."""
        row = {
            "host": self.identity.host, "os_user": self.identity.os_user, "session_id": session_id, "path": str(path),
            "format": format, "created_at": utc_now(), "redactions": int(redactions), "tokens_estimate": int(tokens_estimate),
        }
        return int(self._run(lambda conn: conn.execute(exports.insert().returning(exports.c.id), row).scalar_one(), write=True))

    def set_value(self, key: str, value: bytes) -> None:
        """Keep a small local value (kv table) under `key`."""
        self._run(lambda conn: upsert(conn, kv, [{"key": key, "value": value}], ("key",)), write=True)


__all__ = ["HostRow", "Sample", "Store", "health_check", "insert_ignore", "move_aside", "upsert"]
