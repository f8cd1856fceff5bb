"""The history store as every command opens it: which URL, which identity, which one-line error.

`--db` is a global option: the root callback sets `global_options["db"]` before any command
runs, and `store_url` prefers it to `general.db_url`. `open_store` turns every way opening
can fail (a bad URL, a locked file, an unreachable server, a read-only disk) into a
`UserError` with the exit code scripts rely on (2 a wrong request, 3 the store cannot be
used). Nothing here imports Typer or SQLAlchemy until a store is really opened.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from llm_sessions.cli_base import UserError

if TYPE_CHECKING:
    from llm_sessions.config import Settings
    from llm_sessions.core.store import Store
    from llm_sessions.paths import AppPaths

#: Global options, set by the root callback before any command runs (`--db` is one of them).
global_options: dict[str, str | None] = {"db": None}


def store_url(settings: Settings, db: str | None = None) -> str | None:
    """The store's URL: `--db` (global), else `general.db_url`, else None (SQLite in the data dir)."""
    return db or global_options["db"] or settings.general_db_url or None


def open_store(paths: AppPaths, settings: Settings, db: str | None = None, *, lazy: bool = False) -> Store:
    """The store for this machine's identity, or a one-line error (exit 3: locked, unreachable, ...)."""
    from llm_sessions.config import check_db_url
    from llm_sessions.core.store import Retention, Store, StoreBusy, StoreError, local_identity

    given = db or global_options["db"]
    bad = check_db_url(given) if given else None
    if bad:
        raise UserError(f"--db: {bad}", code=2)
    try:
        store = Store.open(
            store_url(settings, db),
            paths.data_dir,
            identity=local_identity(settings),
            connect_timeout_s=settings.store_connect_timeout_seconds,
            statement_timeout_s=settings.store_statement_timeout_seconds,
            share_cwd=settings.team_share_cwd,
            policy=Retention(keep_days=settings.store_keep_days),
            lazy=lazy,
        )
    except StoreBusy as exc:
        raise UserError(f"{exc} (another llm-session may be writing; try again)", code=3) from None
    except StoreError as exc:
        raise UserError(str(exc), code=3) from None
    except OSError as exc:  # the data folder cannot be created (read-only or full disk)
        where = exc.filename or paths.data_dir
        raise UserError(f"cannot open the store in {where}: {exc.strerror or exc}", code=3) from None
    for warning in store.warnings:
        sys.stderr.write(f"llm-session: warning: {warning}\n")
    return store


__all__ = ["global_options", "open_store", "store_url"]
