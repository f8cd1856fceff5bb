"""Versioned migrations: every older schema upgrades on open and keeps its rows.

The oldest is the first release's store (no version table), reproduced from a dump of a
file that release wrote (`data/store_v0_unversioned.sql`, made with its own code).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, text

from llm_sessions.core.store import HEAD, Identity, Store, StoreError, migrate
from llm_sessions.core.store.engine import make_engine

DATA = Path(__file__).parent / "data"
ME = Identity("host-a", "alice")


def test_head_is_the_newest_script():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(migrate.MIGRATIONS))
    script = ScriptDirectory.from_config(cfg)
    assert script.get_heads() == [HEAD]
    assert [s.revision for s in script.walk_revisions()][::-1] == list(migrate.KNOWN)


def test_the_first_releases_unversioned_store_is_upgraded_with_its_rows(tmp_path):
    db = tmp_path / "llm-session.db"
    with sqlite3.connect(db) as conn:
        conn.executescript((DATA / "store_v0_unversioned.sql").read_text())
    with Store.open(None, tmp_path, identity=ME) as store:
        rows = {r["id"]: r for r in store.known_sessions()}
        assert set(rows) == {"aaaa-1111", "claude-pid4242"}
        a = rows["aaaa-1111"]
        assert (a["host"], a["os_user"], a["cache_read_tokens"], a["present"]) == ("host-a", "alice", 30_000, False)
        assert "title" not in a and "transcript" not in a
        assert [s.context_used for s in store.samples("aaaa-1111")] == [10_000, 20_000, 30_000]
        (export,) = store.exports()
        assert (export["id"], export["path"], export["tokens_estimate"]) == (1, "/tmp/x/aaaa.md", 1234)
        assert store.record_export("aaaa-1111", "/tmp/x/b.md", "md") == 2
        assert store.get_value("ui.sort") == b"health"
        with store.engine.connect() as conn:
            assert migrate.current_revision(conn) == HEAD
    dump = "\n".join(sqlite3.connect(db).iterdump())
    assert "SECRET TITLE" not in dump  # the old title column went with the migration


def _old_rows(conn) -> None:
    conn.execute(text(
        "INSERT INTO sessions (id, tool, cwd, transcript, model, title, input_tokens, output_tokens, cache_creation_tokens,"
        " cache_read_tokens, tokens_exact, context_used, context_window, state, updated_at)"
        " VALUES ('old1', 'codex', '/w', '/t.jsonl', 'gpt-5', 'a title', 1, 2, 3, 2000000000, true, 5, 272000, 'ended', :at)"
    ), {"at": datetime(2026, 1, 1)})
    for at, used in ((datetime(2026, 1, 1, 0, 0), 1), (datetime(2026, 1, 1, 0, 1), 2), (datetime(2026, 1, 1, 0, 1), 2)):
        conn.execute(text("INSERT INTO samples (session_id, at, context_used, tokens_total) VALUES ('old1', :at, :u, 10)"), {"at": at, "u": used})
    conn.execute(text(
        "INSERT INTO exports (id, session_id, path, format, created_at, redactions, tokens_estimate)"
        " VALUES (7, 'old1', '/x.md', 'md', :at, 0, 10)"
    ), {"at": datetime(2026, 1, 1)})


@pytest.mark.parametrize("versioned", [True, False])
def test_from_revision_0001_on_both_backends(db_url, tmp_path, versioned):
    engine = make_engine(db_url, tmp_path)
    migrate.upgrade(engine, ME, target="0001")
    with engine.begin() as conn:
        _old_rows(conn)
        if not versioned:  # exactly what the first release left: no version table at all
            conn.execute(text("DROP TABLE alembic_version"))
    engine.dispose()
    with Store.open(db_url, tmp_path, identity=ME) as store:
        (row,) = store.known_sessions()
        assert (row["id"], row["host"], row["cache_read_tokens"], row["model"]) == ("old1", "host-a", 2_000_000_000, "gpt-5")
        assert [s.context_used for s in store.samples("old1")] == [1, 2]  # the duplicate collapsed
        assert store.record_export("old1", "/y.md", "md") == 8  # ids continue after the copied ones


def test_the_tables_match_the_migrated_schema(db_url, tmp_path):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from llm_sessions.core.store.tables import metadata

    with Store.open(db_url, tmp_path, identity=ME) as store:
        with store.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    assert diff == []


def test_a_newer_schema_is_refused_in_one_line(db_url, tmp_path):
    with Store.open(db_url, tmp_path, identity=ME) as store:
        with store.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreError, match="newer than this llm-session") as info:
        Store.open(db_url, tmp_path, identity=ME)
    assert "\n" not in str(info.value)


def test_sqlite_migration_is_one_transaction(tmp_path):
    """A migration that fails half-way leaves the old schema and rows as they were."""
    db = tmp_path / "llm-session.db"
    with sqlite3.connect(db) as conn:
        conn.executescript((DATA / "store_v0_unversioned.sql").read_text())
        conn.execute("CREATE TABLE hosts (x)")  # 0002 will fail creating it
    with pytest.raises(StoreError):
        Store.open(None, tmp_path, identity=ME)
    engine = create_engine(f"sqlite:///{db}")
    names = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"sessions", "samples", "exports", "kv"} <= names and not names & {"sessions_v1", "alembic_version", "limits"}
    assert sqlite3.connect(db).execute("SELECT count(*) FROM samples").fetchone() == (6,)
