"""Engines for the two backends, and the translation of driver errors into StoreErrors.

SQLite (the default, one file in the data dir):
- WAL journaling and a busy timeout, so a dashboard writing and a `history` reading in
  another terminal do not block each other.
- We emit BEGIN ourselves (pysqlite's implicit transactions are switched off): writes start
  with `BEGIN IMMEDIATE`, taking the write lock up front. A deferred transaction that reads
  and then writes fails at once with "database is locked" when another writer committed in
  between, without waiting for the busy timeout; that was the collision two dashboards hit.

PostgreSQL (a team's shared store): psycopg 3, a connect timeout, and statement and lock
timeouts set per connection, so an unreachable or stuck server costs seconds, never a hang.
`postgres://` (Heroku's spelling) and a bare `postgresql://` both mean psycopg 3.
"""

from __future__ import annotations

import math
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, create_engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from llm_sessions.core.store.errors import StoreBusy, StoreCorrupt, StoreDriverMissing, StoreError, StoreUnavailable

DB_NAME = "llm-session.db"
DEFAULT_BUSY_TIMEOUT_MS = 5000
DEFAULT_CONNECT_TIMEOUT_S = 5.0
DEFAULT_STATEMENT_TIMEOUT_S = 15.0
POSTGRES_EXTRA = "pip install 'llm-session[postgres]'"
WRITE = {"llm_write": True}  # execution option: this connection's transactions will write


def default_url(data_dir: Path) -> str:
    return f"sqlite:///{Path(data_dir) / DB_NAME}"


def parse_url(url: str) -> URL:
    """The URL as SQLAlchemy will use it: `postgres://` accepted, psycopg 3 by default."""
    text = url.strip()
    if text.startswith("postgres://"):
        text = "postgresql://" + text[len("postgres://") :]
    try:
        parsed = make_url(text)
    except ArgumentError:
        raise StoreError(f"not a database URL: {url!r} (try sqlite:///path/to/file.db or postgresql://user@host/db)") from None
    if parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def describe(url: URL | str) -> str:
    """The URL for messages: never the password."""
    if isinstance(url, str):
        try:
            url = parse_url(url)
        except StoreError:
            return "<invalid URL>"
    if url.get_backend_name() == "sqlite":
        return url.database or ":memory:"
    return url.render_as_string(hide_password=True)


def sqlite_path(engine_or_url) -> Path | None:
    url = engine_or_url.url if isinstance(engine_or_url, Engine) else engine_or_url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).expanduser()


def make_engine(
    url: str | None,
    data_dir: Path,
    busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS,
    *,
    connect_timeout_s: float = DEFAULT_CONNECT_TIMEOUT_S,
    statement_timeout_s: float = DEFAULT_STATEMENT_TIMEOUT_S,
) -> Engine:
    """Build the engine (no connection is made yet): SQLite in `data_dir` unless `url` names another."""
    parsed = parse_url(url or default_url(data_dir))
    backend = parsed.get_backend_name()
    try:
        if backend == "sqlite":
            return _sqlite_engine(parsed, busy_timeout_ms)
        if backend == "postgresql":
            return _postgres_engine(parsed, connect_timeout_s, statement_timeout_s)
        return create_engine(parsed, pool_pre_ping=True)
    except ImportError as exc:
        if backend == "postgresql":
            raise StoreDriverMissing(f"a PostgreSQL store needs the psycopg driver: {POSTGRES_EXTRA}") from None
        raise StoreDriverMissing(f"{describe(parsed)}: the database driver is not installed ({exc.name or exc})") from None
    except NoSuchModuleError:
        raise StoreError(f"{describe(parsed)}: unknown database type; use sqlite:///FILE or postgresql://USER@HOST/DB") from None


def _set_wal(cur, busy_timeout_ms: int) -> None:
    """Switch a new database to WAL. The switch needs the file to itself, and SQLite answers
    a second process doing the same at the same moment with "locked" at once, without its
    busy handler: retry within the busy timeout, as every other statement waits."""
    import sqlite3
    import time

    deadline = time.monotonic() + busy_timeout_ms / 1000
    while True:
        try:
            cur.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


def _sqlite_engine(parsed: URL, busy_timeout_ms: int) -> Engine:
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": busy_timeout_ms / 1000})

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None  # BEGIN is ours (see _begin)
        cur = dbapi_conn.cursor()
        try:
            cur.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            _set_wal(cur, busy_timeout_ms)
            cur.execute("PRAGMA synchronous = NORMAL")
        finally:
            cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("llm_write") else "BEGIN")

    return engine


def _postgres_engine(parsed: URL, connect_timeout_s: float, statement_timeout_s: float) -> Engine:
    import psycopg  # noqa: F401  (fail here, with the extra's name, rather than on first use)

    ms = max(1, int(statement_timeout_s * 1000))
    return create_engine(
        parsed,
        pool_pre_ping=True,
        pool_size=2,
        max_overflow=4,
        connect_args={
            # libpq takes whole seconds and treats anything below 2 as 2
            "connect_timeout": max(2, math.ceil(connect_timeout_s)),
            "options": f"-c statement_timeout={ms} -c lock_timeout={ms} -c idle_in_transaction_session_timeout={4 * ms}",
            "application_name": "llm-session",
        },
    )


# -- errors --------------------------------------------------------------------------------


def _text(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = [ln.strip() for ln in str(orig).splitlines() if ln.strip()]
    return lines[0] if lines else type(orig).__name__


def is_corrupt(exc: BaseException) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return "file is not a database" in text or "malformed" in text or "not a database" in text


def is_busy(exc: BaseException) -> bool:
    text = str(getattr(exc, "orig", exc)).lower()
    return "database is locked" in text or "database table is locked" in text or "database is busy" in text


def translate(exc: BaseException, engine: Engine) -> StoreError | None:
    """The StoreError a user should see for a driver error, or None for a programming error."""
    where = describe(engine.url)
    if engine.url.get_backend_name() == "sqlite":
        if is_busy(exc):
            return StoreBusy(f"{where}: database is locked by another process")
        if is_corrupt(exc):
            return StoreCorrupt(f"{where}: database is damaged ({_text(exc)})")
        if isinstance(exc, DBAPIError) and type(exc).__name__ == "OperationalError":
            return StoreError(f"{where}: {_text(exc)}")
        return None
    text = _text(exc)
    low = str(getattr(exc, "orig", exc)).lower()
    if "statement timeout" in low or "lock timeout" in low or "canceling statement" in low:
        return StoreBusy(f"{where}: the server did not answer in time ({text})")
    if isinstance(exc, DBAPIError) and (
        exc.connection_invalidated or type(exc).__name__ in ("OperationalError", "InterfaceError")
    ):
        return StoreUnavailable(f"cannot reach {where}: {text}")
    if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
        return StoreUnavailable(f"cannot reach {where}: {text}")
    return None


__all__ = [
    "DB_NAME",
    "DEFAULT_BUSY_TIMEOUT_MS",
    "POSTGRES_EXTRA",
    "WRITE",
    "default_url",
    "describe",
    "is_busy",
    "is_corrupt",
    "make_engine",
    "parse_url",
    "sqlite_path",
    "translate",
]
