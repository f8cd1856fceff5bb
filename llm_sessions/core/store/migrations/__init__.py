"""Alembic migrations of the store, shipped in the package and run by `migrate.upgrade` on open.

Revisions go forward only. `env.py` runs them on the connection (and inside the transaction
and lock) that `migrate.py` hands over through `config.attributes`, never on a URL from an
ini file, so the same code migrates a user's SQLite file and a team's PostgreSQL.
"""
