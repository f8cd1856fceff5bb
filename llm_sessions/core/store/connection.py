"""`StoreBase`: one identity's connection to the store, kept usable whatever the database does.

What it owns: opening (migrating on first use, or lazily so a dashboard starts while a
shared server is down), running each call in one transaction that turns driver errors into
one-line `StoreError`s, and recovery:
- A damaged SQLite file is detected on open (`PRAGMA quick_check` while the file is small
  enough for it to be cheap) or on the first error that says so, then moved aside (with its
  -wal/-shm) and an empty store is built in its place; the message names where it went.
- A PostgreSQL server that cannot be reached raises `StoreUnavailable` within the connect
  timeout, and further calls fail fast for `retry_s` instead of each waiting again.

The per-session caches that spare an idle writer its writes live here too, because
recovery must forget them; the reads, writes and upkeep built on this base are in
`reads`, `repository` and `upkeep`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TypeVar

from sqlalchemy import ColumnElement, Table, and_, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

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

if TYPE_CHECKING:
    from llm_sessions.core.models import Session

log = logging.getLogger("llm_sessions.core.store")

T = TypeVar("T")
# quick_check reads every page, ~7 ms per MiB on a busy 2-core machine: on open only below
# this size; a long-running dashboard checks any size from its writer thread
QUICK_CHECK_MAX_BYTES = 8 * 1024 * 1024
DEFAULT_HEARTBEAT_S = 30.0
DEFAULT_RETRY_S = 15.0

#: A session's newest stored sample: (at, context used, tokens total, cost).
LastSample = tuple[datetime, int | None, int, float | None]


class StoreBase:
    """Connection, transactions and recovery for one identity. Thread-safe: each call checks
    out its own connection."""

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
        self._row_sig: dict[str, tuple[Any, ...]] = {}
        self._settled: dict[str, Session] = {}  # session objects stored whole (see record_snapshot)
        self._last_sample: dict[str, LastSample] | None = None
        self._limit_sig: dict[tuple[str, str], tuple[Any, ...]] = {}
        self._present: set[str] | None = None
        self._heartbeat_at: datetime | None = None
        self._next_maintenance: datetime | None = None

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
    ) -> Self:
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
            first = str(getattr(exc, "orig", exc)).splitlines()[0] if str(exc) else type(exc).__name__
            err = StoreError(f"{self.url}: {first}")
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

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

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

    def _own(self, table: Table) -> ColumnElement[bool]:
        """The rows of this identity (host, OS user) in `table`."""
        return and_(table.c.host == self.identity.host, table.c.os_user == self.identity.os_user)


def move_aside(path: Path) -> Path:
    """Rename a damaged file (and its -wal/-shm) to `<name>.corrupt-<UTC stamp>`; never delete."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
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


def health_check(store: StoreBase) -> str:
    """`SELECT 1` through the store's error handling: a cheap reachability probe."""
    return str(store._run(lambda conn: conn.execute(text("SELECT 1")).scalar()))
