"""The history store: SQLModel tables and a small repository, `Store`.

What it keeps: the last known state of every session (so `history` and the dashboard can
show sessions whose files are gone), one sample of context/tokens/cost per session per
change (for burn-rate forecasts and sparklines), the exports written, and small key-value
state.

Why it looks like this:
- Nothing happens at import: no engine, no file. `make_engine` / `Store.open` are called by
  the CLI, which decides the path (architecture habit 7; a test checks it).
- SQLite runs in WAL mode with a busy timeout, so the dashboard's writer and a `history`
  reader in another terminal do not block each other; a writer that still cannot get the
  lock within the timeout raises `StoreBusy` instead of hanging or leaking an
  OperationalError.
- A corrupt file is moved aside, not deleted, and an empty store rebuilt: the monitor keeps
  working and the user keeps the evidence (`Store.warnings` says where it went).
- Only plain values leave this module (`Sample`, dicts): ORM objects are bound to a
  session and a thread, and the UI thread must never lazy-load from the worker's session.
- Datetimes are stored as naive UTC (SQLite has no time zones) and always come back as
  timezone-aware UTC.
- An idle dashboard does not grow or even write the database: unchanged sessions are not
  rewritten and unchanged samples are skipped.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Index, LargeBinary, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DatabaseError
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, Session as DbSession, SQLModel, create_engine, delete, select

from llm_sessions.core.models import Snapshot

log = logging.getLogger(__name__)

DB_NAME = "llm-session.db"
DEFAULT_BUSY_TIMEOUT_MS = 5000


class StoreError(Exception):
    """A store problem worth one clear line to the user."""


class StoreBusy(StoreError):
    """Another process held the database lock for longer than the busy timeout."""


class StoreCorrupt(StoreError):
    """The file went bad while open; `Store.open` again moves it aside and rebuilds."""


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, returns aware UTC: the same instant whatever the backend does."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class SessionRow(SQLModel, table=True):
    """Last known state of a session, so history outlives the assistant's own files."""

    __tablename__ = "sessions"

    id: str = Field(primary_key=True)
    tool: str
    cwd: str | None = None
    transcript: str | None = None
    model: str | None = None
    git_branch: str | None = None
    title: str | None = None
    started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_activity: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_tokens: int = 0
    cache_read_tokens: int = 0
    tokens_exact: bool = True
    context_used: int | None = None
    context_window: int | None = None
    cost_usd: float | None = None
    health_score: int | None = None
    status: str | None = None
    state: str = "unknown"
    updated_at: datetime = Field(default_factory=_utc_now, sa_type=UTCDateTime)


class SampleRow(SQLModel, table=True):
    """One point per session per change: the series burn-rate forecasts are fitted to."""

    __tablename__ = "samples"
    __table_args__ = (Index("ix_samples_session_at", "session_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    session_id: str
    at: datetime = Field(sa_type=UTCDateTime)
    context_used: int | None = None
    tokens_total: int = 0
    cost_usd: float | None = None


class ExportRow(SQLModel, table=True):
    """An export written to disk, so `history` can show what was handed on and where."""

    __tablename__ = "exports"

    id: int | None = Field(default=None, primary_key=True)
    session_id: str = Field(index=True)
    path: str
    format: str
    created_at: datetime = Field(default_factory=_utc_now, sa_type=UTCDateTime)
    redactions: int = 0
    tokens_estimate: int = 0


class KeyValueRow(SQLModel, table=True):
    """Small opaque state (UI choices, last prune time) without a table of its own each."""

    __tablename__ = "kv"

    key: str = Field(primary_key=True)
    value: bytes = Field(sa_type=LargeBinary)


@dataclass(frozen=True, slots=True)
class Sample:
    """One point of a session's history, safe to hand to any thread."""

    at: datetime
    context_used: int | None
    tokens_total: int
    cost_usd: float | None


def default_url(data_dir: Path) -> str:
    return f"sqlite:///{Path(data_dir) / DB_NAME}"


def make_engine(url: str | None, data_dir: Path, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> Engine:
    """Build the engine: SQLite `llm-session.db` in `data_dir` unless `url` names another.

    For SQLite every new connection gets WAL journaling and `busy_timeout`, and connections
    may cross threads (the monitor's worker writes, the CLI may read).
    """
    url = url or default_url(data_dir)
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000},
    )

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn, _record) -> None:
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cur.execute("PRAGMA journal_mode = WAL")
            cur.execute("PRAGMA synchronous = NORMAL")
        finally:
            cur.close()

    return engine


def _is_corrupt(exc: BaseException) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return "file is not a database" in text or "malformed" in text or "not a database" in text


def _is_busy(exc: BaseException) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return "database is locked" in text or "database table is locked" in text or "busy" in text


def _sqlite_path(engine: Engine) -> Path | None:
    url = engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).expanduser()


class Store:
    """Repository over the tables. Thread-safe: each call uses its own DB session."""

    def __init__(self, engine: Engine, warnings: list[str] | None = None):
        self.engine = engine
        self.warnings: list[str] = warnings or []
        self._lock = threading.Lock()
        # per session: last written row signature and last sample values, so an idle poll
        # costs no write at all
        self._row_sig: dict[str, tuple] = {}
        self._last_sample: dict[str, tuple[datetime, int | None, int, float | None]] = {}

    # -- opening -------------------------------------------------------------------------
    @classmethod
    def open(cls, url: str | None, data_dir: Path, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> Store:
        """Open (creating tables), moving a corrupt SQLite file aside and starting afresh."""
        engine = make_engine(url, data_dir, busy_timeout_ms)
        warnings: list[str] = []
        try:
            cls._create(engine)
        except DatabaseError as exc:
            path = _sqlite_path(engine)
            if _is_busy(exc):
                engine.dispose()
                raise StoreBusy(f"{path or engine.url}: database is locked by another process") from None
            if path is None or not _is_corrupt(exc):
                engine.dispose()
                raise StoreError(f"{path or engine.url}: cannot open the store: {getattr(exc, 'orig', exc)}") from None
            engine.dispose()
            moved = cls._move_aside(path)
            msg = f"{path} was not a usable database ({getattr(exc, 'orig', exc)}); moved it to {moved} and started an empty store"
            log.warning(msg)
            warnings.append(msg)
            engine = make_engine(url, data_dir, busy_timeout_ms)
            cls._create(engine)
        return cls(engine, warnings)

    @staticmethod
    def _create(engine: Engine) -> None:
        with engine.connect() as conn:
            # reading the schema is what fails first on a garbage file
            conn.exec_driver_sql("SELECT count(*) FROM sqlite_master" if engine.url.get_backend_name() == "sqlite" else "SELECT 1")
        SQLModel.metadata.create_all(
            engine, tables=[SessionRow.__table__, SampleRow.__table__, ExportRow.__table__, KeyValueRow.__table__]
        )

    @staticmethod
    def _move_aside(path: Path) -> Path:
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

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- helpers ---------------------------------------------------------------------------
    def _session(self) -> DbSession:
        return DbSession(self.engine, expire_on_commit=False)

    def _guard(self, exc: Exception) -> None:
        """Turn driver errors the user can act on into StoreBusy / StoreCorrupt; re-raise others."""
        where = _sqlite_path(self.engine) or self.engine.url
        if _is_busy(exc):
            raise StoreBusy(f"{where}: database is locked by another process") from None
        if _is_corrupt(exc):
            raise StoreCorrupt(
                f"{where}: database is damaged ({getattr(exc, 'orig', exc)}); reopen the store to move it aside"
            ) from None
        raise exc

    # -- sessions and samples -------------------------------------------------------------
    def record_snapshot(self, snapshot: Snapshot, min_interval_s: float = 0) -> int:
        """Upsert every session and append a sample where something changed.

        A sample is skipped when context, tokens and cost equal the session's previous sample
        (an idle dashboard does not grow the db) or when it comes sooner than
        `min_interval_s` after the previous one. Returns the number of samples written.
        """
        at = snapshot.taken_at if snapshot.taken_at.tzinfo else snapshot.taken_at.replace(tzinfo=timezone.utc)
        written = 0
        with self._lock:
            try:
                with self._session() as db:
                    pending_samples: dict[str, tuple] = {}
                    pending_sigs: dict[str, tuple] = {}
                    for s in snapshot.sessions:
                        values = self._row_values(s)
                        sig = tuple(sorted(values.items()))
                        if self._row_sig.get(s.id) != sig:
                            row = db.get(SessionRow, s.id)
                            if row is None:
                                row = SessionRow(id=s.id, **values)
                            else:
                                for key, value in values.items():
                                    setattr(row, key, value)
                            row.updated_at = at
                            db.add(row)
                            pending_sigs[s.id] = sig
                        point = (
                            s.context.used if s.context else None,
                            s.usage.total,
                            round(s.cost_usd, 9) if s.cost_usd is not None else None,
                        )
                        prev = self._previous_sample(db, s.id)
                        if prev is not None:
                            if prev[1:] == point:
                                continue
                            if min_interval_s > 0 and (at - prev[0]).total_seconds() < min_interval_s:
                                continue
                        db.add(SampleRow(session_id=s.id, at=at, context_used=point[0], tokens_total=point[1], cost_usd=point[2]))
                        pending_samples[s.id] = (at, *point)
                        written += 1
                    db.commit()
            except DatabaseError as exc:
                self._guard(exc)
            # only remember what actually reached the disk
            self._row_sig.update(pending_sigs)
            self._last_sample.update(pending_samples)
        return written

    @staticmethod
    def _row_values(s) -> dict[str, Any]:
        return {
            "tool": s.tool,
            "cwd": s.cwd,
            "transcript": s.transcript,
            "model": s.model,
            "git_branch": s.git_branch,
            "title": s.title,
            "started_at": s.started_at,
            "last_activity": s.last_activity,
            "input_tokens": s.usage.input,
            "output_tokens": s.usage.output,
            "cache_creation_tokens": s.usage.cache_creation,
            "cache_read_tokens": s.usage.cache_read,
            "tokens_exact": s.usage.exact,
            "context_used": s.context.used if s.context else None,
            "context_window": s.context.window if s.context else None,
            "cost_usd": s.cost_usd,
            "health_score": s.health.score if s.health else None,
            "status": s.health.status if s.health else None,
            "state": s.state,
        }

    def _previous_sample(self, db: DbSession, session_id: str) -> tuple | None:
        cached = self._last_sample.get(session_id)
        if cached is not None:
            return cached
        row = db.exec(
            select(SampleRow).where(SampleRow.session_id == session_id).order_by(SampleRow.at.desc()).limit(1)
        ).first()
        if row is None:
            return None
        found = (row.at, row.context_used, row.tokens_total, row.cost_usd)
        self._last_sample[session_id] = found
        return found

    def samples(self, session_id: str, since: datetime | None = None) -> list[Sample]:
        """The session's samples, oldest first, optionally only those at or after `since`."""
        try:
            with self._session() as db:
                q = select(SampleRow).where(SampleRow.session_id == session_id)
                if since is not None:
                    q = q.where(SampleRow.at >= since)
                rows = db.exec(q.order_by(SampleRow.at, SampleRow.id)).all()
                return [Sample(r.at, r.context_used, r.tokens_total, r.cost_usd) for r in rows]
        except DatabaseError as exc:
            self._guard(exc)
            raise

    def known_sessions(self) -> list[dict]:
        """Every stored session as a plain dict, most recently active first."""
        try:
            with self._session() as db:
                rows = db.exec(select(SessionRow)).all()
                out = [r.model_dump() for r in rows]
        except DatabaseError as exc:
            self._guard(exc)
            raise
        epoch = datetime.min.replace(tzinfo=timezone.utc)
        out.sort(key=lambda d: d["last_activity"] or d["updated_at"] or epoch, reverse=True)
        return out

    # -- exports ---------------------------------------------------------------------------
    def record_export(
        self, session_id: str, path: str | Path, format: str, redactions: int = 0, tokens_estimate: int = 0
    ) -> int:
        """Remember an export written to disk; returns its id."""
        try:
            with self._lock, self._session() as db:
                row = ExportRow(
                    session_id=session_id,
                    path=str(path),
                    format=format,
                    redactions=redactions,
                    tokens_estimate=tokens_estimate,
                )
                db.add(row)
                db.commit()
                return int(row.id)
        except DatabaseError as exc:
            self._guard(exc)
            raise

    def exports(self, session_id: str | None = None) -> list[dict]:
        """Exports as dicts, newest first; only one session's when `session_id` is given."""
        try:
            with self._session() as db:
                q = select(ExportRow)
                if session_id is not None:
                    q = q.where(ExportRow.session_id == session_id)
                rows = db.exec(q.order_by(ExportRow.created_at.desc(), ExportRow.id.desc())).all()
                return [r.model_dump() for r in rows]
        except DatabaseError as exc:
            self._guard(exc)
            raise

    # -- small state -----------------------------------------------------------------------
    def get_value(self, key: str) -> bytes | None:
        try:
            with self._session() as db:
                row = db.get(KeyValueRow, key)
                return None if row is None else bytes(row.value)
        except DatabaseError as exc:
            self._guard(exc)
            raise

    def set_value(self, key: str, value: bytes) -> None:
        try:
            with self._lock, self._session() as db:
                row = db.get(KeyValueRow, key)
                if row is None:
                    db.add(KeyValueRow(key=key, value=value))
                else:
                    row.value = value
                    db.add(row)
                db.commit()
        except DatabaseError as exc:
            self._guard(exc)

    # -- housekeeping ----------------------------------------------------------------------
    def prune(self, older_than_days: float, now: datetime | None = None) -> dict[str, int]:
        """Delete samples older than the cutoff and sessions inactive since before it.

        Export records stay: they describe files the user owns and may still want to find.
        """
        now = now or _utc_now()
        cutoff = now - timedelta(days=older_than_days)
        try:
            with self._lock, self._session() as db:
                old_samples = db.exec(delete(SampleRow).where(SampleRow.at < cutoff)).rowcount
                stale = db.exec(
                    select(SessionRow.id).where(SessionRow.updated_at < cutoff).where(
                        (SessionRow.last_activity == None) | (SessionRow.last_activity < cutoff)  # noqa: E711
                    )
                ).all()
                removed_samples = 0
                if stale:
                    removed_samples = db.exec(delete(SampleRow).where(SampleRow.session_id.in_(stale))).rowcount
                    db.exec(delete(SessionRow).where(SessionRow.id.in_(stale)))
                db.commit()
        except DatabaseError as exc:
            self._guard(exc)
            raise
        for sid in stale:
            self._row_sig.pop(sid, None)
        self._last_sample.clear()  # the newest sample may have been pruned; re-read lazily
        return {"samples": int(old_samples or 0) + int(removed_samples or 0), "sessions": len(stale)}


__all__ = [
    "DB_NAME",
    "ExportRow",
    "KeyValueRow",
    "Sample",
    "SampleRow",
    "SessionRow",
    "Store",
    "StoreBusy",
    "StoreCorrupt",
    "StoreError",
    "UTCDateTime",
    "make_engine",
]
