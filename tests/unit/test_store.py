"""The history store: round trips, idle polls, corruption, locking and import hygiene."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import pytest

from llm_sessions.core.models import ContextFill, HealthReport, Session, Snapshot, Usage
from llm_sessions.core.store import DB_NAME, Sample, Store, StoreBusy, make_engine

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


def sess(sid="s1", used=10_000, out=100, cost=0.5, **kw) -> Session:
    return Session(
        id=sid,
        tool="claude",
        cwd="/srv/proj",
        model="claude-sonnet-4-5",
        started_at=T0 - timedelta(hours=1),
        last_activity=T0,
        usage=Usage(input=1000, output=out, cache_creation=2000, cache_read=used),
        context=ContextFill(used=used, window=200_000),
        cost_usd=cost,
        health=HealthReport(score=88, status="healthy", components=()),
        state="working",
        **kw,
    )


def snap(at: datetime, *sessions: Session) -> Snapshot:
    return Snapshot(taken_at=at, sessions=tuple(sessions))


@pytest.fixture
def store(tmp_path):
    s = Store.open(None, tmp_path)
    yield s
    s.close()


def test_open_creates_sqlite_in_data_dir_with_wal(tmp_path):
    data = tmp_path / "data"
    with Store.open(None, data) as store:
        assert (data / DB_NAME).exists()
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        assert store.warnings == []


def test_any_sqlalchemy_url_is_accepted(tmp_path):
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    with Store.open(url, tmp_path / "unused") as store:
        store.record_snapshot(snap(T0, sess()))
        assert store.known_sessions()[0]["id"] == "s1"
    assert (tmp_path / "elsewhere.db").exists()
    assert not (tmp_path / "unused" / DB_NAME).exists()


def test_round_trip_sessions_and_samples(store):
    assert store.record_snapshot(snap(T0, sess("a"), sess("b", used=50_000))) == 2
    rows = {r["id"]: r for r in store.known_sessions()}
    assert set(rows) == {"a", "b"}
    a = rows["a"]
    assert a["tool"] == "claude" and a["cwd"] == "/srv/proj" and a["model"] == "claude-sonnet-4-5"
    assert (a["input_tokens"], a["output_tokens"], a["cache_creation_tokens"], a["cache_read_tokens"]) == (1000, 100, 2000, 10_000)
    assert a["context_used"] == 10_000 and a["context_window"] == 200_000
    assert a["cost_usd"] == pytest.approx(0.5)
    assert (a["health_score"], a["status"], a["state"]) == (88, "healthy", "working")
    assert a["started_at"] == T0 - timedelta(hours=1)
    assert a["started_at"].tzinfo is not None and a["updated_at"].utcoffset() == timedelta(0)
    samples = store.samples("b")
    assert samples == [Sample(T0, 50_000, 1000 + 100 + 2000 + 50_000, 0.5)]
    assert samples[0].at.tzinfo is not None


def test_session_row_is_updated_in_place(store):
    store.record_snapshot(snap(T0, sess(used=10_000)))
    store.record_snapshot(snap(T0 + timedelta(seconds=5), sess(used=20_000, cost=0.9)))
    rows = store.known_sessions()
    assert len(rows) == 1
    assert rows[0]["context_used"] == 20_000 and rows[0]["cost_usd"] == pytest.approx(0.9)
    assert [s.context_used for s in store.samples("s1")] == [10_000, 20_000]


def test_unchanged_samples_are_skipped(store, tmp_path):
    assert store.record_snapshot(snap(T0, sess())) == 1
    for i in range(1, 20):
        assert store.record_snapshot(snap(T0 + timedelta(seconds=2 * i), sess())) == 0
    assert len(store.samples("s1")) == 1
    assert store.record_snapshot(snap(T0 + timedelta(minutes=1), sess(out=200))) == 1
    assert len(store.samples("s1")) == 2


def test_skip_survives_a_restart(tmp_path):
    with Store.open(None, tmp_path) as first:
        first.record_snapshot(snap(T0, sess()))
    with Store.open(None, tmp_path) as second:
        assert second.record_snapshot(snap(T0 + timedelta(minutes=5), sess())) == 0
        assert len(second.samples("s1")) == 1


def test_min_interval_limits_sample_rate(store):
    store.record_snapshot(snap(T0, sess(used=1)), min_interval_s=10)
    assert store.record_snapshot(snap(T0 + timedelta(seconds=3), sess(used=2)), min_interval_s=10) == 0
    assert store.record_snapshot(snap(T0 + timedelta(seconds=11), sess(used=3)), min_interval_s=10) == 1
    assert [s.context_used for s in store.samples("s1")] == [1, 3]


def test_samples_since(store):
    for i in range(5):
        store.record_snapshot(snap(T0 + timedelta(minutes=i), sess(used=1000 * i)))
    got = store.samples("s1", since=T0 + timedelta(minutes=3))
    assert [s.context_used for s in got] == [3000, 4000]
    # a naive `since` is read as UTC, an aware one in another zone is converted
    plus2 = timezone(timedelta(hours=2))
    assert len(store.samples("s1", since=(T0 + timedelta(minutes=3)).astimezone(plus2))) == 2
    assert len(store.samples("s1", since=(T0 + timedelta(minutes=3)).replace(tzinfo=None))) == 2
    assert store.samples("nobody") == []


def test_exports_round_trip(store, tmp_path):
    first = store.record_export("a", tmp_path / "a.md", "markdown", redactions=3, tokens_estimate=1200)
    second = store.record_export("b", tmp_path / "b.json", "json")
    assert second > first
    all_ = store.exports()
    assert [e["id"] for e in all_] == [second, first]
    only_a = store.exports("a")
    assert len(only_a) == 1
    e = only_a[0]
    assert (e["path"], e["format"], e["redactions"], e["tokens_estimate"]) == (str(tmp_path / "a.md"), "markdown", 3, 1200)
    assert e["created_at"].tzinfo is not None


def test_key_value(store):
    assert store.get_value("k") is None
    store.set_value("k", b"\x00\x01one")
    store.set_value("k", b"two")
    assert store.get_value("k") == b"two"


def test_prune(store):
    old = T0 - timedelta(days=40)
    store.record_snapshot(snap(old, sess("old").with_(last_activity=old)))
    store.record_snapshot(snap(T0 - timedelta(days=35), sess("live", used=1)))
    store.record_snapshot(snap(T0, sess("live", used=2)))
    result = store.prune(30, now=T0)
    assert result == {"samples": 2, "sessions": 1}
    assert [r["id"] for r in store.known_sessions()] == ["live"]
    assert [s.context_used for s in store.samples("live")] == [2]
    # after pruning, an unchanged poll still compares against what is really stored
    assert store.record_snapshot(snap(T0 + timedelta(seconds=1), sess("live", used=2))) == 0


def test_corrupt_file_is_moved_aside_and_rebuilt(tmp_path, caplog):
    db = tmp_path / DB_NAME
    garbage = b"this is not sqlite at all " * 200
    db.write_bytes(garbage)
    with caplog.at_level("WARNING", logger="llm_sessions.core.store"):
        store = Store.open(None, tmp_path)
    try:
        moved = [p for p in tmp_path.iterdir() if p.name.startswith(f"{DB_NAME}.corrupt-")]
        assert len(moved) == 1
        assert moved[0].read_bytes() == garbage  # evidence kept, not deleted
        assert len(store.warnings) == 1 and str(moved[0]) in store.warnings[0]
        assert any("moved it to" in r.getMessage() for r in caplog.records)
        store.record_snapshot(snap(T0, sess()))
        assert store.known_sessions()[0]["id"] == "s1"
    finally:
        store.close()


def test_truncated_database_is_treated_as_corrupt(tmp_path):
    with Store.open(None, tmp_path) as store:
        for i in range(50):
            store.record_snapshot(snap(T0 + timedelta(seconds=i), sess(used=i)))
    db = tmp_path / DB_NAME
    for side in ("-wal", "-shm"):
        (tmp_path / (DB_NAME + side)).unlink(missing_ok=True)
    data = db.read_bytes()
    db.write_bytes(data[:100] + b"\xff" * 200 + data[300:])  # clobber the schema page
    with Store.open(None, tmp_path) as store:
        assert store.warnings
        assert store.known_sessions() == []


def test_locked_database_raises_store_busy_within_the_timeout(tmp_path):
    with Store.open(None, tmp_path) as first:
        first.record_snapshot(snap(T0, sess()))
    holder = sqlite3.connect(tmp_path / DB_NAME, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("INSERT INTO kv (key, value) VALUES ('lock', x'00')")
        store = Store.open(None, tmp_path, busy_timeout_ms=200)
        try:
            # the wait is bounded by SQLite's own busy handler, set from the parameter
            with store.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 200
            with pytest.raises(StoreBusy, match="locked"):
                store.record_snapshot(snap(T0 + timedelta(minutes=1), sess(used=99)))
            with pytest.raises(StoreBusy):
                store.set_value("k", b"v")
        finally:
            store.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # once the lock is gone the same write goes through and the skipped state was not cached
    with Store.open(None, tmp_path) as store:
        assert store.record_snapshot(snap(T0 + timedelta(minutes=1), sess(used=99))) == 1


def test_store_is_usable_from_another_thread(store):
    import threading

    errors: list[BaseException] = []

    def work():
        try:
            store.record_snapshot(snap(T0, sess()))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert errors == []
    assert store.samples("s1")[0].context_used == 10_000


def test_make_engine_does_not_touch_disk_until_used(tmp_path):
    engine = make_engine(None, tmp_path / "d")
    try:
        assert not (tmp_path / "d" / DB_NAME).exists()
    finally:
        engine.dispose()


def test_import_creates_no_engine_and_no_file(tmp_path):
    code = (
        "import gc, sys, os;"
        "import llm_sessions.core.store;"
        "from sqlalchemy.engine import Engine;"
        "assert not [o for o in gc.get_objects() if isinstance(o, Engine)], 'engine built at import';"
        "assert 'textual' not in sys.modules;"
        "assert os.listdir('.') == [], os.listdir('.')"
    )
    env = {"LLM_SESSION_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    work = tmp_path / "cwd"
    work.mkdir()
    import llm_sessions

    root = str(__import__("pathlib").Path(llm_sessions.__file__).parent.parent)
    env["PYTHONPATH"] = root
    subprocess.run([sys.executable, "-c", code], check=True, cwd=work, env=env)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cwd"]


def test_open_while_another_process_holds_a_rollback_journal_lock(tmp_path):
    # a database not yet in WAL mode: even reading the schema needs the lock
    db = tmp_path / DB_NAME
    holder = sqlite3.connect(db, isolation_level=None)
    try:
        holder.execute("PRAGMA journal_mode = DELETE")
        holder.execute("CREATE TABLE other (x)")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("INSERT INTO other VALUES (1)")
        with pytest.raises(StoreBusy, match=DB_NAME):
            Store.open(None, tmp_path, busy_timeout_ms=100)
        assert db.exists() and not list(tmp_path.glob("*.corrupt-*"))  # busy is not corrupt
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_damage_found_after_opening_raises_store_corrupt(tmp_path):
    from llm_sessions.core.store import StoreCorrupt, StoreError

    with Store.open(None, tmp_path) as store:
        store.record_snapshot(snap(T0, sess()))
    db = tmp_path / DB_NAME
    data = db.read_bytes()
    db.write_bytes(data[:100] + b"\xff" * 200 + data[300:])
    store = Store(make_engine(None, tmp_path))  # bypasses open()'s check, as a long-running monitor would
    try:
        with pytest.raises(StoreCorrupt, match="reopen") as info:
            store.known_sessions()
        assert isinstance(info.value, StoreError)
    finally:
        store.close()
