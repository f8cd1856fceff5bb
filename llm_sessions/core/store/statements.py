"""The few SQL statement shapes the repository builds, on SQLite and PostgreSQL alike.

`upsert` (INSERT ... ON CONFLICT DO UPDATE) is the write that cannot race: two dashboards,
or fifty agents, writing the same key never collide. `insert_ignore` makes a retried
sample a no-op instead of a duplicate. Both need the dialect's own `insert`, chosen per
connection. Also the small helpers for batching (`chunks`) and instants (`aware`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Table
from sqlalchemy.engine import Connection

T = TypeVar("T")


def utc_now() -> datetime:
    return datetime.now(UTC)


def aware(at: datetime) -> datetime:
    """SQLite hands back naive datetimes: every instant in the store is UTC."""
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _insert(conn: Connection, table: Table) -> Any:
    # the two dialects' Insert types differ but share on_conflict_do_update/do_nothing
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def upsert(conn: Connection, table: Table, rows: list[dict[str, Any]], keys: Iterable[str]) -> None:
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


def insert_ignore(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING: a retried write is a no-op, never a duplicate."""
    if rows:
        conn.execute(_insert(conn, table).on_conflict_do_nothing(), rows)


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """`items` in slices of `size`: SQL parameter lists stay under every backend's limit."""
    for i in range(0, len(items), size):
        yield items[i : i + size]


def last_per_key(rows: list[dict[str, Any]], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """One row per key, the last one given: ON CONFLICT refuses a key twice in one statement."""
    out: dict[tuple[Any, ...], dict[str, Any]] = {}
    for r in rows:
        out[tuple(r[k] for k in keys)] = r
    return list(out.values())
