"""`Store`: the repository over the tables, for one identity (host, OS user).

What it keeps: the last known state of every session (so `history`, `team` and the team
dashboard can show sessions whose files are gone or live on another machine), one sample of
context/tokens/cost per session per change, the exports written, usage limits, one row per
publishing host, and small local key-value state.

Why it looks like this:
- Every write is an `INSERT ... ON CONFLICT` (SQLite and PostgreSQL dialects), inside one
  transaction that takes the write lock up front: two dashboards, or fifty agents, never
  collide on a key. Samples are keyed by (host, user, session, instant), so a retried write
  is a no-op, never a duplicate.
- The schema is migrated on open (`migrate.py`); nothing happens at import.
- Unchanged sessions are not rewritten and unchanged samples are skipped; an idle writer
  only refreshes its host's heartbeat every `heartbeat_s`.
- A damaged SQLite file is detected on open (`PRAGMA quick_check` while the file is small
  enough for it to be cheap) or on the first error that says so, then moved aside (with its
  -wal/-shm) and an empty store is built in its place; the message names where it went.
- A PostgreSQL server that cannot be reached raises `StoreUnavailable` within the connect
  timeout, and further calls fail fast for `retry_s` instead of each waiting again.
- Only plain values leave this module (`Sample`, dicts, `Session`s): rows are read into
  frozen values inside the call, so no thread ever lazy-loads from another's connection.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import and_, delete, func, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from llm_sessions import __version__
from llm_sessions.core.models import RateLimit, Session, Snapshot
from llm_sessions.core.store import migrate, retention
from llm_sessions.core.store.engine import (
    DEFAULT_BUSY_TIMEOUT_MS,
    DEFAULT_CONNECT_TIMEOUT_S,
    DEFAULT_STATEMENT_TIMEOUT_S,
    WRITE,
    describe,
    is_corrupt,
    make_engine,
    sqlite_path,
    translate,
)
from llm_sessions.core.store.errors import StoreCorrupt, StoreError, StoreUnavailable
from llm_sessions.core.store.identity import Identity, local_identity
from llm_sessions.core.store.rows import limit_values, sample_point, session_from_row, session_values, window_values
from llm_sessions.core.store.tables import exports, hosts, kv, limits, samples, sessions

log = logging.getLogger("llm_sessions.core.store")

T = TypeVar("T")
# quick_check reads every page, ~7 ms per MiB on a busy 2-core machine: on open only below
# this size; a long-running dashboard checks any size from its writer thread
QUICK_CHECK_MAX_BYTES = 8 * 1024 * 1024
DEFAULT_HEARTBEAT_S = 30.0
DEFAULT_RETRY_S = 15.0


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


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


def _insert(conn: Connection, table):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def upsert(conn: Connection, table, rows: list[dict], keys: Iterable[str]) -> None:
    """INSERT ... ON CONFLICT (keys) DO UPDATE: the write that cannot race, on both backends."""
    if not rows:
        return
    keys = tuple(keys)
    stmt = _insert(conn, table)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c[k] for k in keys],
        set_={c: stmt.excluded[c] for c in rows[0] if c not in keys},
    )
    conn.execute(stmt, rows)


def insert_ignore(conn: Connection, table, rows: list[dict]) -> None:
    if rows:
        conn.execute(_insert(conn, table).on_conflict_do_nothing(), rows)


class Store:
    """Repository over the tables. Thread-safe: each call checks out its own connection."""

    def __init__(
        self,
        engine: Engine,
        identity: Identity | None = None,
        warnings: list[str] | None = None,
        *,
        share_cwd: bool = True,
        heartbeat_s: float = DEFAULT_HEARTBEAT_S,
        policy: retention.Retention | None = None,
        retry_s: float = DEFAULT_RETRY_S,
        rebuild: Callable[[], Engine] | None = None,
    ):
        self.engine = engine
        self.identity = identity or local_identity()
        self.warnings: list[str] = list(warnings or [])
        self.share_cwd = share_cwd
        self.heartbeat_s = heartbeat_s
        self.policy = policy or retention.Retention()
        self.retry_s = retry_s
        self._rebuild_engine = rebuild
        self._lock = threading.RLock()
        self._ready = False
        self._down_until = 0.0
        self._down_reason = ""
        self._reset_caches()

    def _reset_caches(self) -> None:
        # per session: last written row and last sample, so an idle poll costs no write
        self._row_sig: dict[str, tuple] = {}
        self._settled: dict[str, object] = {}  # session objects stored whole (see record_snapshot)
        self._last_sample: dict[str, tuple[datetime, int | None, int, float | None]] | None = None
        self._limit_sig: dict[tuple[str, str], tuple] = {}
        self._present: set[str] | None = None
        self._heartbeat_at: datetime | None = None
        self._next_maintenance: datetime | None = None

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        url: str | None,
        data_dir: Path,
        busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
        *,
        identity: Identity | None = None,
        connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
        statement_timeout_s: float = DEFAULT_STATEMENT_TIMEOUT_S,
        lazy: bool = False,
        **options: Any,
    ) -> Store:
        """Open the store, migrating it; a damaged SQLite file is moved aside and rebuilt.

        With `lazy=True` nothing is connected yet: the first call does it (a dashboard starts
        even when a shared server is down, and keeps retrying).
        """

        def build() -> Engine:
            return make_engine(
                url, data_dir, busy_timeout_ms, connect_timeout_s=connect_timeout_s, statement_timeout_s=statement_timeout_s
            )

        store = cls(build(), identity, rebuild=build, **options)
        if not lazy:
            store.ensure_ready()
        return store

    @property
    def url(self) -> str:
        return describe(self.engine.url)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.url.get_backend_name() == "sqlite"

    def ensure_ready(self) -> None:
        """Check and migrate the database once; raises a StoreError the user can read."""
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            if time.monotonic() < self._down_until:
                raise StoreUnavailable(self._down_reason)
            try:
                self._check_integrity()
                migrate.upgrade(self.engine, self.identity)
            except (SQLAlchemyError, OSError, StoreCorrupt) as exc:
                err = exc if isinstance(exc, StoreCorrupt) else self._translate(exc)
                if not isinstance(err, StoreCorrupt):
                    raise err from None
                self._recover(err)  # opening goes on with an empty store and a warning
            self._ready = True

    def check_integrity(self) -> str | None:
        """Run `PRAGMA quick_check` whatever the size; a damaged file is moved aside and rebuilt.

        Returns the warning (where the file went) or None. For a long-running process, off the
        UI thread: it reads every page.
        """
        with self._lock:
            try:
                self._check_integrity(any_size=True)
            except (SQLAlchemyError, OSError, StoreCorrupt) as exc:
                err = exc if isinstance(exc, StoreCorrupt) else self._translate(exc)
                if not isinstance(err, StoreCorrupt):
                    raise err from None
                return str(self._recover(err))
        return None

    def _check_integrity(self, any_size: bool = False) -> None:
        path = sqlite_path(self.engine)
        if path is None or not path.exists() or (not any_size and path.stat().st_size > QUICK_CHECK_MAX_BYTES):
            return
        with self.engine.connect() as conn:
            rows = [r[0] for r in conn.exec_driver_sql("PRAGMA quick_check").fetchall()]
            conn.rollback()
        if rows != ["ok"]:
            raise StoreCorrupt(f"{path}: database is damaged ({'; '.join(map(str, rows[:2]))})")

    def _translate(self, exc: BaseException) -> StoreError:
        err = translate(exc, self.engine)
        if err is None:
            err = StoreError(f"{self.url}: {str(getattr(exc, 'orig', exc)).splitlines()[0] if str(exc) else type(exc).__name__}")
        if isinstance(err, StoreUnavailable):
            # further calls fail fast with the same words until the back-off is over
            self._down_until = time.monotonic() + self.retry_s
            self._down_reason = str(err)
            self._ready = False
        return err

    def _recover(self, err: StoreCorrupt) -> StoreCorrupt:
        """Move the damaged file aside, start an empty store; returns the error saying truly where it went."""
        path = sqlite_path(self.engine)
        if path is None:
            raise err
        self.engine.dispose()
        moved = move_aside(path)
        msg = f"{path} was damaged ({str(err).split(': ', 1)[-1]}); moved it to {moved} and started an empty store"
        log.warning(msg)
        self.warnings.append(msg)
        if self._rebuild_engine is not None:
            self.engine = self._rebuild_engine()
        self._reset_caches()
        migrate.upgrade(self.engine, self.identity)
        self._ready = True
        return StoreCorrupt(msg)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- running statements ------------------------------------------------------------------
    def _run(self, fn: Callable[[Connection], T], *, write: bool = False) -> T:
        """Run `fn` in one transaction, turning driver errors into StoreErrors.

        A damaged file found here is moved aside and rebuilt before StoreCorrupt is raised:
        this call's work is lost, the next one works.
        """
        self.ensure_ready()
        try:
            with self.engine.connect() as conn:
                if write:
                    conn.execution_options(**WRITE)
                with conn.begin():
                    return fn(conn)
        except (SQLAlchemyError, OSError) as exc:
            if isinstance(exc, SQLAlchemyError) and not isinstance(exc, DBAPIError) and not is_corrupt(exc):
                raise
            err = self._translate(exc)
            if isinstance(err, StoreCorrupt) and self.is_sqlite:
                with self._lock:
                    err = self._recover(err)
            raise err from None

    def _own(self, table):
        return and_(table.c.host == self.identity.host, table.c.os_user == self.identity.os_user)

    # -- sessions and samples -------------------------------------------------------------
    def record_snapshot(self, snapshot: Snapshot, min_interval_s: float = 0) -> int:
        """Upsert the snapshot's sessions, append samples where something changed.

        A sample is skipped when context, tokens and cost equal the session's previous one
        (an idle dashboard does not grow the db) or when it comes sooner than
        `min_interval_s` after it. Sessions not in the snapshot are marked not present.
        Returns the number of samples written.
        """
        at = _aware(snapshot.taken_at)
        who = {"host": self.identity.host, "os_user": self.identity.os_user}
        with self._lock:
            if self._last_sample is None:
                self._last_sample = self._run(self._load_last_samples)
            by_id = {s.id: s for s in snapshot.sessions}  # one row per key, or ON CONFLICT refuses
            rows, sigs, points, lims, lim_sigs = [], {}, {}, [], {}
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
                if self._row_sig.get(sid) != sig or self._present is None or sid not in self._present:
                    rows.append({**who, "id": sid, **values, "present": True, "updated_at": at})
                    sigs[sid] = sig
                point = sample_point(s)
                prev = self._last_sample.get(sid)
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
            # the account's windows when the limits feature computed them, else the sessions' readings
            windows = [window_values(w) for w in getattr(snapshot, "limits", ())] or [
                lim for s in by_id.values() for lim in limit_values(s)
            ]
            for lim in windows:
                key = (lim["tool"], lim["name"])
                lsig = tuple(lim.values())
                if self._limit_sig.get(key) != lsig:
                    lims.append({**who, **lim, "updated_at": at})
                    lim_sigs[key] = lsig
            gone = (self._present - by_id.keys()) if self._present is not None else None
            beat = bool(rows or points or gone) or self._heartbeat_at is None or (at - self._heartbeat_at).total_seconds() >= self.heartbeat_s
            if not (rows or points or lims or gone or beat):
                self._settled = now_settled
                return 0

            def write(conn: Connection) -> None:
                if self._present is None:
                    conn.execute(update(sessions).where(self._own(sessions), sessions.c.present.is_(True)).values(present=False))
                elif gone:
                    for chunk in _chunks(sorted(gone), 500):
                        conn.execute(update(sessions).where(self._own(sessions), sessions.c.id.in_(chunk)).values(present=False))
                upsert(conn, sessions, rows, ("host", "os_user", "id"))
                if points:
                    # another writer of this identity (a second dashboard) may have stored
                    # the same values already: under the write lock, skip what it wrote
                    stored = self._load_last_samples(conn, list(points))
                    for sid, prev in stored.items():
                        if prev[1:] == points[sid][1:] or prev[0] >= points[sid][0]:
                            del points[sid]
                            self._last_sample[sid] = prev
                insert_ignore(conn, samples, [
                    {**who, "session_id": sid, "at": p[0], "context_used": p[1], "tokens_total": p[2], "cost_usd": p[3]}
                    for sid, p in points.items()
                ])
                upsert(conn, limits, _last_per_key(lims, ("tool", "name")), ("host", "os_user", "tool", "name"))
                if beat:
                    upsert(conn, hosts, [{
                        **who, "last_seen_at": at, "heartbeat_seconds": float(self.heartbeat_s),
                        "version": __version__, "sessions": len(by_id),
                    }], ("host", "os_user"))

            self._run(write, write=True)
            # only remember what actually reached the database
            self._row_sig.update(sigs)
            self._last_sample.update(points)
            self._limit_sig.update(lim_sigs)
            self._present = set(by_id)
            self._settled = now_settled
            if beat:
                self._heartbeat_at = at
        self._maybe_maintain(at)
        return len(points)

    def _load_last_samples(self, conn: Connection, ids: list[str] | None = None) -> dict[str, tuple]:
        """The newest sample of each of our sessions (or of `ids`), in one query per 500 ids."""
        out: dict[str, tuple] = {}
        for chunk in [None] if ids is None else list(_chunks(ids, 500)):
            where = [self._own(samples)]
            if chunk is not None:
                where.append(samples.c.session_id.in_(chunk))
            latest = select(samples.c.session_id, func.max(samples.c.at).label("at")).where(*where).group_by(samples.c.session_id).subquery()
            q = select(samples.c.session_id, samples.c.at, samples.c.context_used, samples.c.tokens_total, samples.c.cost_usd).join(
                latest, and_(samples.c.session_id == latest.c.session_id, samples.c.at == latest.c.at)
            ).where(*where)
            out.update({r.session_id: (_aware(r.at), r.context_used, r.tokens_total, r.cost_usd) for r in conn.execute(q)})
        return out

    def samples(self, session_id: str, since: datetime | None = None, *, host: str | None = None, os_user: str | None = None) -> list[Sample]:
        """A session's samples, oldest first, optionally only those at or after `since`."""
        host = host or self.identity.host
        os_user = os_user or self.identity.os_user

        def read(conn: Connection) -> list[Sample]:
            q = select(samples).where(samples.c.host == host, samples.c.os_user == os_user, samples.c.session_id == session_id)
            if since is not None:
                q = q.where(samples.c.at >= _aware(since))
            return [Sample(r.at, r.context_used, r.tokens_total, r.cost_usd) for r in conn.execute(q.order_by(samples.c.at))]

        return self._run(read)

    def known_sessions(self, *, all_hosts: bool = False) -> list[dict]:
        """Stored sessions as plain dicts (this identity's unless `all_hosts`), most recent first."""

        def read(conn: Connection) -> list[dict]:
            q = select(sessions) if all_hosts else select(sessions).where(self._own(sessions))
            return [dict(r._mapping) for r in conn.execute(q)]

        out = self._run(read)
        epoch = datetime.min.replace(tzinfo=timezone.utc)
        out.sort(key=lambda d: d["last_activity"] or d["updated_at"] or epoch, reverse=True)
        return out

    # -- the team view ----------------------------------------------------------------------
    def team(self, *, present_only: bool = True) -> tuple[list[HostRow], list[Session]]:
        """Every publishing host and its sessions (those in its latest publish by default)."""

        def read(conn: Connection):
            host_rows = [
                HostRow(r.host, r.os_user, r.last_seen_at, r.heartbeat_seconds or DEFAULT_HEARTBEAT_S, r.version, r.sessions or 0)
                for r in conn.execute(select(hosts).order_by(hosts.c.host, hosts.c.os_user))
            ]
            lim: dict[tuple[str, str, str], list[RateLimit]] = {}
            for r in conn.execute(select(limits)):
                lim.setdefault((r.host, r.os_user, r.tool), []).append(RateLimit(r.name, r.used_percent or 0.0, r.resets_at, r.window_minutes))
            q = select(sessions)
            if present_only:
                q = q.where(sessions.c.present.is_(True))
            found = [
                session_from_row(r._mapping, tuple(lim.get((r.host, r.os_user, r.tool), ())))
                for r in conn.execute(q)
            ]
            return host_rows, found

        return self._run(read)

    def limit_rows(self) -> list[dict]:
        """Every host's published usage-limit windows as plain dicts."""
        return self._run(lambda conn: [dict(r._mapping) for r in conn.execute(select(limits).order_by(limits.c.host, limits.c.tool, limits.c.name))])

    # -- exports ---------------------------------------------------------------------------
    def record_export(
        self, session_id: str, path: str | Path, format: str, redactions: int = 0, tokens_estimate: int = 0
    ) -> int:
        """Remember an export written to disk; returns its id."""
        row = {
            "host": self.identity.host, "os_user": self.identity.os_user, "session_id": session_id, "path": str(path),
            "format": format, "created_at": _utc_now(), "redactions": int(redactions), "tokens_estimate": int(tokens_estimate),
        }
        return int(self._run(lambda conn: conn.execute(exports.insert().returning(exports.c.id), row).scalar_one(), write=True))

    def exports(self, session_id: str | None = None) -> list[dict]:
        """This identity's exports as dicts, newest first; only one session's when given."""

        def read(conn: Connection) -> list[dict]:
            q = select(exports).where(self._own(exports))
            if session_id is not None:
                q = q.where(exports.c.session_id == session_id)
            return [dict(r._mapping) for r in conn.execute(q.order_by(exports.c.created_at.desc(), exports.c.id.desc()))]

        return self._run(read)

    # -- small state -----------------------------------------------------------------------
    def get_value(self, key: str) -> bytes | None:
        value = self._run(lambda conn: conn.execute(select(kv.c.value).where(kv.c.key == key)).scalar())
        return None if value is None else bytes(value)

    def set_value(self, key: str, value: bytes) -> None:
        self._run(lambda conn: upsert(conn, kv, [{"key": key, "value": value}], ("key",)), write=True)

    # -- housekeeping ----------------------------------------------------------------------
    def prune(self, older_than_days: float, now: datetime | None = None) -> dict[str, int]:
        """Delete history older than the cutoff (export records stay: they name the user's files)."""
        cutoff = (now or _utc_now()) - timedelta(days=older_than_days)
        with self._lock:
            result = self._run(lambda conn: retention.prune(conn, cutoff), write=True)
            self._last_sample = None  # the newest sample may have been pruned; re-read lazily
            self._row_sig.clear()
            self._settled = {}
        return result

    def maintain(self, now: datetime | None = None) -> dict[str, int]:
        """Prune past the horizon and thin this host's older samples (what a writer runs every 10 min)."""
        now = now or _utc_now()
        cutoff = now - timedelta(days=self.policy.keep_days)

        def work(conn: Connection) -> dict[str, int]:
            since = conn.execute(
                select(hosts.c.maintained_at).where(self._own(hosts))
            ).scalar()
            thinned = retention.downsample(conn, self.identity, now, _aware(since) if since else None, self.policy)
            result = retention.prune(conn, cutoff)
            retention.mark_maintained(conn, self.identity, now)
            return {**result, "thinned": thinned}

        with self._lock:
            result = self._run(work, write=True)
            if result["samples"] or result["sessions"] or result["thinned"]:
                self._last_sample = None
                self._row_sig.clear()
                self._settled = {}
        return result

    def _maybe_maintain(self, now: datetime) -> None:
        if self._next_maintenance is None:
            # the first run waits one period too: a short-lived command never pays for it
            self._next_maintenance = now + self.policy.every
            return
        if now < self._next_maintenance:
            return
        self._next_maintenance = now + self.policy.every
        try:
            result = self.maintain(now)
            log.info("store maintenance: %s", result)
        except StoreError as exc:
            log.warning("store maintenance failed: %s", exc)


def move_aside(path: Path) -> Path:
    """Rename a damaged file (and its -wal/-shm) to `<name>.corrupt-<UTC stamp>`; never delete."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
        n += 1
    os.replace(path, target)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        if side.exists():
            os.replace(side, target.with_name(target.name + suffix))
    return target


def _chunks(items: list, size: int):
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _last_per_key(rows: list[dict], keys: tuple[str, ...]) -> list[dict]:
    out: dict[tuple, dict] = {}
    for r in rows:
        out[tuple(r[k] for k in keys)] = r
    return list(out.values())


def health_check(store: Store) -> str:
    """`SELECT 1` through the store's error handling: a cheap reachability probe."""
    return str(store._run(lambda conn: conn.execute(text("SELECT 1")).scalar()))


__all__ = ["HostRow", "Sample", "Store", "health_check", "insert_ignore", "move_aside", "upsert"]
