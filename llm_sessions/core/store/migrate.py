"""Bring a database to the newest schema on open, safely when many processes open it at once.

- A store at `HEAD` costs one cheap read and never imports Alembic (it is only needed when
  there is something to migrate: ~0.3 s of imports saved on every command).
- Otherwise the migration runs in ONE transaction that first takes a lock: on PostgreSQL a
  transaction-level advisory lock, on SQLite the write lock (`BEGIN IMMEDIATE`). A second
  process opening at the same moment waits, then finds the schema current and does nothing;
  that is what "creating the tables from two processes at once" needed.
- A store written by the first release (tables, no `alembic_version`) is stamped as 0001 and
  upgraded, keeping its rows. A store newer than this program is refused with one line.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from llm_sessions.core.store.engine import WRITE
from llm_sessions.core.store.errors import StoreError
from llm_sessions.core.store.identity import Identity
from llm_sessions.core.store.tables import HEAD

MIGRATIONS = Path(__file__).parent / "migrations"
UNVERSIONED = "0001"  # what a store without a version table but with our tables is
KNOWN = ("0001", "0002")
_PG_LOCK = 0x6C6C6D2D73657373  # "llm-sess": one advisory lock id for our migrations


def current_revision(conn: Connection) -> str | None:
    """The schema revision of the database; None when it holds none of our tables."""
    names = set(inspect(conn).get_table_names())
    if "alembic_version" in names:
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    if "sessions" in names:
        return UNVERSIONED
    return None


def _alembic_config(conn: Connection, identity: Identity):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    cfg.attributes["identity"] = identity
    return cfg


def upgrade(engine: Engine, identity: Identity, target: str = "head") -> str | None:
    """Migrate to `target` (default: the newest); returns the revision found before, or None."""
    with engine.connect() as conn:
        found = current_revision(conn)
        conn.rollback()
    if target == "head" and found == HEAD:
        return found
    _check_known(found)
    with engine.connect() as conn:
        conn.execution_options(**WRITE)
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_LOCK})
            found = current_revision(conn)  # again, under the lock: someone may have done it
            if target == "head" and found == HEAD:
                return found
            _check_known(found)
            from alembic import command

            cfg = _alembic_config(conn, identity)
            if found is not None and not _has_version_table(conn):
                command.stamp(cfg, UNVERSIONED)
            command.upgrade(cfg, target)
    return found


def _has_version_table(conn: Connection) -> bool:
    return "alembic_version" in inspect(conn).get_table_names()


def _check_known(revision: str | None) -> None:
    if revision is not None and revision not in KNOWN:
        raise StoreError(
            f"the store's schema is revision {revision}, newer than this llm-session knows ({HEAD}); upgrade llm-session"
        )


__all__ = ["HEAD", "KNOWN", "MIGRATIONS", "UNVERSIONED", "current_revision", "upgrade"]
