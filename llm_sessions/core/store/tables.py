"""The tables at the newest schema revision (`HEAD`), as plain SQLAlchemy Core.

Core rather than ORM models: every write is a dialect `INSERT ... ON CONFLICT` statement,
the migrations describe the same tables, and the store's commands start without loading
pydantic. What a column may hold is decided in `rows.py`: metadata and numbers only, never
transcript text (titles, prompts and transcript paths are not stored at all).

Every key starts with (host, os_user): rows of different machines and users never collide.
Token counts are 64-bit (a long session passes 2^31 cache-read tokens).
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.types import TypeDecorator

HEAD = "0002"  # the newest migration in migrations/versions (a test keeps them in step)


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


BigId = BigInteger().with_variant(Integer(), "sqlite")  # SQLite autoincrements INTEGER keys only

metadata = MetaData()


def _who() -> list[Column]:
    return [Column("host", String, primary_key=True), Column("os_user", String, primary_key=True)]


hosts = Table(
    "hosts",
    metadata,
    *_who(),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("heartbeat_seconds", Float, nullable=False, default=30.0),
    Column("version", String),
    Column("sessions", Integer, nullable=False, default=0),
    Column("maintained_at", UTCDateTime),
)

sessions = Table(
    "sessions",
    metadata,
    *_who(),
    Column("id", String, primary_key=True),
    Column("tool", String, nullable=False),
    Column("cwd", Text),
    Column("model", String),
    Column("git_branch", String),
    Column("started_at", UTCDateTime),
    Column("last_activity", UTCDateTime),
    Column("turns", Integer, nullable=False, default=0),
    Column("input_tokens", BigInteger, nullable=False, default=0),
    Column("output_tokens", BigInteger, nullable=False, default=0),
    Column("cache_creation_tokens", BigInteger, nullable=False, default=0),
    Column("cache_read_tokens", BigInteger, nullable=False, default=0),
    Column("tokens_exact", Boolean, nullable=False, default=True),
    Column("context_used", BigInteger),
    Column("context_window", BigInteger),
    Column("compact_at", BigInteger),
    Column("cost_usd", Float),
    Column("health_score", Integer),
    Column("status", String),
    Column("health", Text),  # JSON: the four components with their generated reasons
    Column("api_errors", Integer, nullable=False, default=0),
    Column("tool_errors", Integer, nullable=False, default=0),
    Column("compactions", Integer, nullable=False, default=0),
    Column("limit_resets_at", UTCDateTime),
    Column("pid", Integer),
    Column("state", String, nullable=False, default="unknown"),
    Column("present", Boolean, nullable=False, default=True),  # in the host's latest publish
    Column("updated_at", UTCDateTime, nullable=False),
    Index("ix_sessions_last_activity", "last_activity"),
    Index("ix_sessions_present", "host", "os_user", "present"),
)

samples = Table(
    "samples",
    metadata,
    *_who(),
    Column("session_id", String, primary_key=True),
    Column("at", UTCDateTime, primary_key=True),
    Column("context_used", BigInteger),
    Column("tokens_total", BigInteger, nullable=False, default=0),
    Column("cost_usd", Float),
    Index("ix_samples_at", "at"),
)

exports = Table(
    "exports",
    metadata,
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("host", String, nullable=False),
    Column("os_user", String, nullable=False),
    Column("session_id", String, nullable=False, index=True),
    Column("path", Text, nullable=False),
    Column("format", String, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("redactions", Integer, nullable=False, default=0),
    Column("tokens_estimate", BigInteger, nullable=False, default=0),
)

kv = Table(
    "kv",
    metadata,
    Column("key", String, primary_key=True),
    Column("value", LargeBinary, nullable=False),
)

# Usage-limit windows per (host, user, assistant, window kind): the snapshot's account windows
# (`Snapshot.limits`), else the sessions' own readings (Codex primary/secondary).
limits = Table(
    "limits",
    metadata,
    *_who(),
    Column("tool", String, primary_key=True),
    Column("name", String, primary_key=True),
    Column("used_percent", Float),
    Column("resets_at", UTCDateTime),
    Column("window_minutes", Integer),
    Column("source", String),  # statusline, codex, api-error, estimate; "session" for a session's own reading
    Column("exact", Boolean, nullable=False, default=False),
    Column("burn_per_hour", Float),
    Column("eta", UTCDateTime),
    Column("limit_hit", Boolean, nullable=False, default=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

__all__ = ["HEAD", "UTCDateTime", "exports", "hosts", "kv", "limits", "metadata", "samples", "sessions"]
