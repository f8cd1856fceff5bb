"""Fixtures for store tests on both backends: `db_url` runs a test on SQLite and on PostgreSQL.

The PostgreSQL server is started once per test session by `tests.pg_server` (see its
docstring for where the binaries come from and how root is handled); each test gets a fresh
database that is dropped afterwards. Where no server can run, the PostgreSQL half of each
test is skipped with the reason, and the SQLite half still runs.
"""

from __future__ import annotations

import uuid

import pytest

from tests.pg_server import PgServer, PgUnavailable


@pytest.fixture(scope="session")
def pg_server():
    try:
        import psycopg  # noqa: F401
    except ImportError:
        pytest.skip("PostgreSQL tests need the driver: pip install 'llm-session[postgres]'")
    try:
        server = PgServer().start()
    except PgUnavailable as exc:
        pytest.skip(f"PostgreSQL tests skipped: {exc}")
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server):
    name = "t_" + uuid.uuid4().hex[:12]
    url = pg_server.create_database(name)
    yield url
    pg_server.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("pg_url")
