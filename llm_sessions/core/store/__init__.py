"""The history store: tables, migrations, retention, and the repository over them.

Owns everything that talks to the database. May import the core's models, SQLAlchemy and
(only when a migration is due) Alembic; never Textual, psutil or the providers. Nothing
happens at import: no engine, no file (architecture habit 7; a test checks it).

Modules, each with one job:
- `errors`     one-line errors (no SQLAlchemy: the CLI can name them cheaply)
- `identity`   host name and OS user, part of every key
- `engine`     SQLite / PostgreSQL engines, URL rules, timeouts, driver errors -> StoreErrors
- `tables`     the schema at HEAD (SQLAlchemy Core)
- `migrate`    migrations on open, locked against concurrent openers
- `migrations` the Alembic scripts shipped in the package
- `rows`       what a session becomes in the store (metadata and numbers only) and back
- `retention`  pruning and downsampling
- `statements` the SQL shapes on both backends: upsert and insert-or-ignore that cannot race
- `connection` `StoreBase`: opening, one transaction per call, recovery (damaged file, server down)
- `reads`      samples, stored sessions, the team view, limits, exports (plain values only)
- `upkeep`     when pruning and thinning run, and what the writer forgets after them
- `repository` `Store` (connection + reads + upkeep) and its writes: snapshots, exports, kv
- `writer`     a background writer, so the UI never waits on the database
- `team`       the team view: hosts, staleness, a monitor over the shared store
"""

from llm_sessions.core.store.engine import DB_NAME, POSTGRES_EXTRA, default_url, describe, make_engine, parse_url
from llm_sessions.core.store.errors import StoreBusy, StoreCorrupt, StoreDriverMissing, StoreError, StoreUnavailable
from llm_sessions.core.store.identity import Identity, local_identity
from llm_sessions.core.store.repository import HostRow, Sample, Store, move_aside
from llm_sessions.core.store.retention import Retention
from llm_sessions.core.store.tables import HEAD, UTCDateTime

__all__ = [
    "DB_NAME",
    "HEAD",
    "HostRow",
    "Identity",
    "POSTGRES_EXTRA",
    "Retention",
    "Sample",
    "Store",
    "StoreBusy",
    "StoreCorrupt",
    "StoreDriverMissing",
    "StoreError",
    "StoreUnavailable",
    "UTCDateTime",
    "default_url",
    "describe",
    "local_identity",
    "make_engine",
    "move_aside",
    "parse_url",
]
