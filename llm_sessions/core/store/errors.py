"""The store's errors: each one is a single line a user can act on (the CLI exits 3).

They live in their own module without SQLAlchemy, so callers can name them in `except`
clauses without paying for the database stack.
"""

from __future__ import annotations


class StoreError(Exception):
    """A store problem worth one clear line to the user."""


class StoreBusy(StoreError):
    """Another process held the database lock for longer than the busy timeout."""


class StoreCorrupt(StoreError):
    """The SQLite file is damaged; it has been moved aside (the message says where)."""


class StoreUnavailable(StoreError):
    """The database server cannot be reached (or did not answer within the timeout)."""


class StoreDriverMissing(StoreError):
    """The URL needs a database driver that is not installed."""


__all__ = ["StoreBusy", "StoreCorrupt", "StoreDriverMissing", "StoreError", "StoreUnavailable"]
