"""The store on SQLite and on a real PostgreSQL server: round trips, keys, races, retention.

`db_url` runs each generic test twice, once per backend (tests/pg_fixture.py starts the
server). SQLite-only behaviour (WAL, locks, damaged files) is tested further down.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import text

from llm_sessions.core.models import ContextFill, HealthComponent, HealthReport, RateLimit, Session, Snapshot, Usage
from llm_sessions.core.store import DB_NAME, Identity, Retention, Sample, Store, StoreBusy, make_engine

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ME = Identity("host-a", "alice")
NO_AUTO = Retention(every=timedelta(days=36500))  # maintenance only when a test asks for it
ROOT = str(Path(__file__).resolve().parents[2])


def sess(sid="s1", used=10_000, out=100, cost=0.5, **kw) -> Session:
    return Session(
        id=sid,
        tool="claude",
        cwd="/srv/proj",
        model="claude-sonnet-4-5",
        started_at=T0 - timedelta(hours=1),
        last_activity=T0,
        usage=Usage(input=1000, output=out, cache_creation=2000, cache_read=used),
        context=ContextFill(used=used, window=200_000, compact_at=167_000),
        cost_usd=cost,
        health=HealthReport(score=88, status="healthy", components=(HealthComponent("tokens", 90, 40.0, "context 10k of 167k"),)),
        state="working",
        **kw,
    )


def snap(at: datetime, *sessions: Session) -> Snapshot:
    return Snapshot(taken_at=at, sessions=tuple(sessions))


def open_store(url, tmp_path, identity=ME, **kw) -> Store:
    kw.setdefault("policy", NO_AUTO)
    return Store.open(url, tmp_path / "unused", identity=identity, **kw)


@pytest.fixture
def store(db_url, tmp_path):
    s = open_store(db_url, tmp_path)
    yield s
    s.close()


# -- on both backends --------------------------------------------------------------------


def test_round_trip_sessions_and_samples(store):
    assert store.record_snapshot(snap(T0, sess("a"), sess("b", used=50_000))) == 2
    rows = {r["id"]: r for r in store.known_sessions()}
    assert set(rows) == {"a", "b"}
    a = rows["a"]
    assert (a["host"], a["os_user"]) == ("host-a", "alice")
    assert a["tool"] == "claude" and a["cwd"] == "/srv/proj" and a["model"] == "claude-sonnet-4-5"
    assert (a["input_tokens"], a["output_tokens"], a["cache_creation_tokens"], a["cache_read_tokens"]) == (1000, 100, 2000, 10_000)
    assert a["context_used"] == 10_000 and a["context_window"] == 200_000 and a["compact_at"] == 167_000
    assert a["cost_usd"] == pytest.approx(0.5)
    assert (a["health_score"], a["status"], a["state"], a["present"]) == (88, "healthy", "working", True)
    assert a["started_at"] == T0 - timedelta(hours=1)
    assert a["started_at"].tzinfo is not None and a["updated_at"].utcoffset() == timedelta(0)
    assert "title" not in a and "transcript" not in a
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


def test_unchanged_samples_are_skipped_also_after_a_restart(db_url, tmp_path):
    with open_store(db_url, tmp_path) as store:
        assert store.record_snapshot(snap(T0, sess())) == 1
        for i in range(1, 20):
            assert store.record_snapshot(snap(T0 + timedelta(seconds=2 * i), sess())) == 0
        assert len(store.samples("s1")) == 1
    with open_store(db_url, tmp_path) as again:
        assert again.record_snapshot(snap(T0 + timedelta(minutes=5), sess())) == 0
        assert again.record_snapshot(snap(T0 + timedelta(minutes=6), sess(out=200))) == 1
        assert len(again.samples("s1")) == 2


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
    plus2 = timezone(timedelta(hours=2))
    assert len(store.samples("s1", since=(T0 + timedelta(minutes=3)).astimezone(plus2))) == 2
    assert len(store.samples("s1", since=(T0 + timedelta(minutes=3)).replace(tzinfo=None))) == 2
    assert store.samples("nobody") == []


def test_exports_and_key_value(store, tmp_path):
    first = store.record_export("a", tmp_path / "a.md", "markdown", redactions=3, tokens_estimate=1200)
    second = store.record_export("b", tmp_path / "b.json", "json")
    assert second > first
    assert [e["id"] for e in store.exports()] == [second, first]
    (e,) = store.exports("a")
    assert (e["path"], e["format"], e["redactions"], e["tokens_estimate"]) == (str(tmp_path / "a.md"), "markdown", 3, 1200)
    assert e["created_at"].tzinfo is not None and e["host"] == "host-a"
    assert store.get_value("k") is None
    store.set_value("k", b"\x00\x01one")
    store.set_value("k", b"two")
    assert store.get_value("k") == b"two"


def test_token_counts_past_32_bits_and_absurd_values_never_stop_the_others(store):
    big = 3 * 2**31
    absurd = sess("absurd", used=10**30).with_(cwd="/srv/\x00nul", cost_usd=float("inf"))
    assert store.record_snapshot(snap(T0, sess("big", used=big), absurd, sess("plain"))) == 3
    rows = {r["id"]: r for r in store.known_sessions()}
    assert rows["big"]["cache_read_tokens"] == big and rows["big"]["context_used"] == big
    assert rows["absurd"]["cache_read_tokens"] == 2**63 - 1  # clamped, not an error
    assert rows["absurd"]["cwd"] == "/srv/nul" and rows["absurd"]["cost_usd"] is None
    assert rows["plain"]["cache_read_tokens"] == 10_000
    assert store.samples("big")[0].tokens_total == 1000 + 100 + 2000 + big


def test_two_hosts_with_the_same_session_ids_never_collide(db_url, tmp_path):
    a = open_store(db_url, tmp_path, Identity("host-a", "alice"))
    b = open_store(db_url, tmp_path, Identity("host-b", "alice"))
    try:
        a.record_snapshot(snap(T0, sess("claude-pid42", used=1000)))
        b.record_snapshot(snap(T0, sess("claude-pid42", used=2000)))
        hosts, sessions = a.team()
        assert sorted((h.host, h.sessions) for h in hosts) == [("host-a", 1), ("host-b", 1)]
        assert sorted((s.host, s.id, s.context.used) for s in sessions) == [
            ("host-a", "claude-pid42", 1000), ("host-b", "claude-pid42", 2000)]
        assert [s.context_used for s in a.samples("claude-pid42")] == [1000]
        assert [s.context_used for s in a.samples("claude-pid42", host="host-b", os_user="alice")] == [2000]
        assert [r["id"] for r in a.known_sessions()] == ["claude-pid42"]
        assert len(a.known_sessions(all_hosts=True)) == 2
    finally:
        a.close()
        b.close()


def test_sessions_that_leave_the_snapshot_are_no_longer_present(store, db_url, tmp_path):
    store.record_snapshot(snap(T0, sess("a"), sess("b")))
    store.record_snapshot(snap(T0 + timedelta(seconds=2), sess("a")))
    _, current = store.team()
    assert [s.id for s in current] == ["a"]
    _, everything = store.team(present_only=False)
    assert sorted(s.id for s in everything) == ["a", "b"]
    # a new process knows nothing of the previous one's set: its first publish resets it
    with open_store(db_url, tmp_path) as again:
        again.record_snapshot(snap(T0 + timedelta(seconds=4), sess("c")))
        assert [s.id for s in again.team()[1]] == ["c"]


def test_limits_are_published_per_tool_and_window(store):
    rl = (RateLimit("primary", 42.0, T0 + timedelta(hours=2), 300), RateLimit("secondary", 7.5, None, 10080))
    store.record_snapshot(snap(T0, sess("x").with_(tool="codex", rate_limits=rl)))
    (s,) = store.team()[1]
    assert sorted((r.name, r.used_percent, r.window_minutes) for r in s.rate_limits) == [("primary", 42.0, 300), ("secondary", 7.5, 10080)]


def test_a_sessions_reading_of_a_window_that_has_reset_is_not_published(store):
    """A Codex transcript from January keeps its last reading (24% of a window that reset
    then); the team view must not show it as this host's limit now."""
    old = RateLimit("primary", 24.1, T0 - timedelta(days=30), 300)
    current = RateLimit("secondary", 7.5, T0 + timedelta(days=2), 10080)
    store.record_snapshot(snap(T0, sess("x").with_(tool="codex", rate_limits=(old, current))))
    assert [(r["name"], r["used_percent"]) for r in store.limit_rows()] == [("secondary", 7.5)]


def test_the_accounts_limit_windows_are_published_when_the_snapshot_has_them(store):
    from llm_sessions.core.models import LimitWindow

    w = LimitWindow("claude", "five_hour", 63.5, resets_at=T0 + timedelta(hours=2), starts_at=T0 - timedelta(hours=3),
                    source="statusline", exact=True, burn_per_hour=12.0, eta=T0 + timedelta(hours=3))
    s = Snapshot(T0, (sess("x", rate_limits=(RateLimit("primary", 1.0),)),), limits=(w,))
    store.record_snapshot(s)
    (row,) = store.limit_rows()
    where = (row["host"], row["tool"], row["name"], row["used_percent"], row["window_minutes"])
    assert where == ("host-a", "claude", "five_hour", 63.5, 300)
    reading = (row["source"], row["exact"], row["burn_per_hour"], row["eta"], row["limit_hit"])
    assert reading == ("statusline", True, 12.0, T0 + timedelta(hours=3), False)


def test_no_transcript_text_and_folders_hidden_when_asked(db_url, tmp_path):
    secret = "SECRET-TITLE-FROM-THE-TRANSCRIPT"
    s = sess("a", title=secret, transcript=f"/home/u/.claude/projects/-srv-{secret}/a.jsonl")
    with open_store(db_url, tmp_path, share_cwd=False) as store:
        store.record_snapshot(snap(T0, s))
        assert store.known_sessions()[0]["cwd"] is None
        dump = _dump_text(store)
    assert secret not in dump and "/srv/proj" not in dump
    assert "claude-sonnet-4-5" in dump  # the dump really contains the rows


def _dump_text(store: Store) -> str:
    from llm_sessions.core.store.tables import metadata

    out: list = []
    with store.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(table.select()):
                out.extend(str(v) for v in row)
    return "\n".join(out)


def test_concurrent_writers_on_the_same_keys(db_url, tmp_path):
    """Two dashboards of one user on one store: the same keys, written at once, many rounds."""
    stores = [open_store(db_url, tmp_path) for _ in range(3)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(stores))

    def publish(store: Store, k: int) -> None:
        try:
            start.wait()
            for i in range(25):
                at = T0 + timedelta(seconds=i)
                store.record_snapshot(snap(at, *(sess(f"s{j}", used=1000 * i + j) for j in range(8))))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=publish, args=(s, k)) for k, s in enumerate(stores)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        rows = {r["id"]: r for r in stores[0].known_sessions()}
        assert sorted(rows) == [f"s{j}" for j in range(8)]
        assert all(rows[f"s{j}"]["context_used"] == 24_000 + j for j in range(8))
        assert [s.context_used for s in stores[0].samples("s3")] == [1000 * i + 3 for i in range(25)]
    finally:
        for s in stores:
            s.close()


def test_two_dashboards_of_one_user_do_not_double_the_samples(db_url, tmp_path):
    with open_store(db_url, tmp_path) as one, open_store(db_url, tmp_path) as two:
        for i in range(10):
            value = 1000 * (i // 2)  # changes every other poll
            one.record_snapshot(snap(T0 + timedelta(seconds=2 * i), sess(used=value)))
            two.record_snapshot(snap(T0 + timedelta(seconds=2 * i + 1), sess(used=value)))
        assert [s.context_used for s in one.samples("s1")] == [0, 1000, 2000, 3000, 4000]


def test_many_processes_creating_the_schema_at_once(db_url, tmp_path):
    code = (
        "import sys\n"
        "from datetime import datetime, timezone\n"
        "from llm_sessions.core.models import Session, Snapshot\n"
        "from llm_sessions.core.store import Identity, Store\n"
        "s = Store.open(sys.argv[1], '/nonexistent', identity=Identity('h' + sys.argv[2], 'u'))\n"
        "s.record_snapshot(Snapshot(datetime.now(timezone.utc), (Session(id='x', tool='claude'),)))\n"
        "s.close()\n"
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", code, db_url, str(i)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for i in range(4)
    ]
    results = [(p.wait(60), p.stderr.read()) for p in procs]
    assert all(rc == 0 for rc, _ in results), results
    with open_store(db_url, tmp_path) as store:
        hosts, sessions = store.team()
        assert sorted(h.host for h in hosts) == ["h0", "h1", "h2", "h3"] and len(sessions) == 4


def test_prune(db_url, tmp_path):
    with open_store(db_url, tmp_path) as store:
        old = T0 - timedelta(days=40)
        store.record_snapshot(snap(old, sess("old").with_(last_activity=old)))
        store.record_snapshot(snap(T0 - timedelta(days=35), sess("live", used=1)))
        store.record_snapshot(snap(T0, sess("live", used=2)))
        assert store.prune(30, now=T0) == {"samples": 2, "sessions": 1}
        assert [r["id"] for r in store.known_sessions()] == ["live"]
        assert [s.context_used for s in store.samples("live")] == [2]
        # after pruning, an unchanged poll still compares against what is really stored
        assert store.record_snapshot(snap(T0 + timedelta(seconds=1), sess("live", used=2))) == 0


def test_downsampling_keeps_recent_detail_and_thins_older_history(db_url, tmp_path):
    with open_store(db_url, tmp_path) as store:
        start = T0 - timedelta(hours=26)
        n = 26 * 60 * 3  # one sample every 20 s for 26 hours
        for i in range(0, n, 60):  # in batches: one snapshot per 20 minutes would be too slow
            _bulk_samples(store, "s1", [start + timedelta(seconds=20 * k) for k in range(i, min(i + 60, n))])
        result = store.maintain(now=T0)
        got = [s.at for s in store.samples("s1")]
        recent = [t for t in got if t >= T0 - timedelta(minutes=15)]
        day = [t for t in got if T0 - timedelta(days=1) <= t < T0 - timedelta(minutes=15)]
        older = [t for t in got if t < T0 - timedelta(days=1)]
        assert len(recent) == 45  # every sample of the last 15 minutes
        assert 24 * 60 - 15 - 2 <= len(day) <= 24 * 60 - 15 + 2  # one a minute
        assert len(older) <= 2 * 4 + 2  # one per 15 minutes
        assert result["thinned"] == n - len(got)
        # the next run only looks at what aged since: nothing more to thin
        assert store.maintain(now=T0 + timedelta(seconds=5))["thinned"] == 0


def _bulk_samples(store: Store, sid: str, instants: list[datetime]) -> None:
    from llm_sessions.core.store.repository import insert_ignore
    from llm_sessions.core.store.tables import samples

    rows = [{"host": ME.host, "os_user": ME.os_user, "session_id": sid, "at": at, "context_used": i, "tokens_total": i, "cost_usd": None}
            for i, at in enumerate(instants)]
    store._run(lambda conn: insert_ignore(conn, samples, rows), write=True)


def test_maintenance_runs_by_itself_every_period(db_url, tmp_path):
    with open_store(db_url, tmp_path, policy=Retention(keep_days=1, every=timedelta(minutes=10))) as store:
        store.record_snapshot(snap(T0 - timedelta(days=3), sess("old", used=1)))
        store.record_snapshot(snap(T0 - timedelta(days=3) + timedelta(minutes=1), sess("new", used=1)))
        assert len(store.samples("old")) == 1
        store.record_snapshot(snap(T0, sess("new", used=2)))  # ten minutes later: maintenance is due
        assert store.samples("old") == []
        assert [s.context_used for s in store.samples("new")] == [2]


# -- URLs, drivers, servers ---------------------------------------------------------------


def test_postgres_scheme_and_timeouts(pg_url, tmp_path):
    url = pg_url.replace("postgresql+psycopg://", "postgres://")
    with Store.open(url, tmp_path, identity=ME, statement_timeout_s=7) as store:
        assert store.engine.url.drivername == "postgresql+psycopg"
        with store.engine.connect() as conn:
            assert conn.execute(text("SHOW statement_timeout")).scalar() == "7s"
        store.record_snapshot(snap(T0, sess()))
        assert store.known_sessions()[0]["id"] == "s1"


def test_unreachable_server_fails_fast_with_one_line(tmp_path):
    from llm_sessions.core.store import StoreUnavailable
    from tests.pg_server import free_port

    pytest.importorskip("psycopg")
    url = f"postgresql://nobody@127.0.0.1:{free_port()}/x"
    with pytest.raises(StoreUnavailable) as info:
        Store.open(url, tmp_path, identity=ME, connect_timeout_s=2)
    assert "\n" not in str(info.value) and "127.0.0.1" in str(info.value)
    lazy = Store.open(url, tmp_path, identity=ME, lazy=True, retry_s=60)
    with pytest.raises(StoreUnavailable):
        lazy.known_sessions()
    import time

    t = time.monotonic()
    with pytest.raises(StoreUnavailable, match="cannot reach"):
        lazy.known_sessions()  # inside the back-off: no new connection attempt, the same words
    assert time.monotonic() - t < 0.5


def test_missing_driver_names_the_extra(tmp_path):
    code = (
        "import sys; sys.modules['psycopg'] = None\n"
        "from llm_sessions.core.store import Store, StoreDriverMissing\n"
        "try:\n"
        "    Store.open('postgresql://u@127.0.0.1/x', '/tmp')\n"
        "except StoreDriverMissing as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "pip install 'llm-session[postgres]'" in out and out.count("\n") == 1


def test_bad_urls_are_one_line_errors(tmp_path):
    from llm_sessions.core.store import StoreError

    for url in ("nonsense", "mysqlx://u@h/db"):
        with pytest.raises(StoreError) as info:
            Store.open(url, tmp_path)
        assert "\n" not in str(info.value)


# -- SQLite only ------------------------------------------------------------------------------


@pytest.fixture
def local(tmp_path):
    s = Store.open(None, tmp_path, identity=ME, policy=NO_AUTO)
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


def _damage_pages(db: Path, keep: int = 4096 * 2) -> None:
    """Overwrite every page after the first two with garbage: the header still reads fine."""
    for side in ("-wal", "-shm"):
        db.with_name(db.name + side).unlink(missing_ok=True)
    data = bytearray(db.read_bytes())
    for i in range(keep, len(data), 7):
        data[i] = 0xA5
    db.write_bytes(bytes(data))


def _filled(tmp_path: Path) -> Path:
    with Store.open(None, tmp_path, identity=ME, policy=NO_AUTO) as store:
        for i in range(300):
            store.record_snapshot(snap(T0 + timedelta(seconds=i), *(sess(f"s{j}", used=i * 10 + j) for j in range(5))))
    return tmp_path / DB_NAME


def test_damaged_pages_are_found_on_open_and_the_message_is_true(tmp_path):
    db = _filled(tmp_path)
    _damage_pages(db)
    with Store.open(None, tmp_path, identity=ME) as store:
        (warning,) = store.warnings
        moved = Path(warning.split("moved it to ")[1].split(" and ")[0])
        assert moved.exists() and moved.name.startswith(f"{DB_NAME}.corrupt-")
        assert store.known_sessions() == []
        store.record_snapshot(snap(T0, sess()))
    with Store.open(None, tmp_path, identity=ME) as again:  # and it stays fixed
        assert again.warnings == [] and [r["id"] for r in again.known_sessions()] == ["s1"]


def test_damage_found_while_running_is_moved_aside_and_the_next_call_works(tmp_path):
    from llm_sessions.core.store import StoreCorrupt

    db = _filled(tmp_path)
    store = Store.open(None, tmp_path, identity=ME, policy=NO_AUTO)  # opened while still intact
    try:
        store.engine.dispose()
        _damage_pages(db)
        with pytest.raises(StoreCorrupt) as info:
            store.known_sessions()
        moved = Path(str(info.value).split("moved it to ")[1].split(" and ")[0])
        assert moved.exists()
        assert store.known_sessions() == []  # rebuilt: the next call works
        store.record_snapshot(snap(T0, sess()))
        assert [r["id"] for r in store.known_sessions()] == ["s1"]
    finally:
        store.close()


def test_locked_database_raises_store_busy_within_the_timeout(tmp_path):
    with Store.open(None, tmp_path) as first:
        first.record_snapshot(snap(T0, sess()))
    holder = sqlite3.connect(tmp_path / DB_NAME, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("INSERT INTO kv (key, value) VALUES ('lock', x'00')")
        store = Store.open(None, tmp_path, busy_timeout_ms=200)
        try:
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


def test_open_while_another_process_holds_a_rollback_journal_lock(tmp_path):
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


def test_store_is_usable_from_another_thread(local):
    errors: list[BaseException] = []

    def work():
        try:
            local.record_snapshot(snap(T0, sess()))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert errors == []
    assert local.samples("s1")[0].context_used == 10_000


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
        "assert 'textual' not in sys.modules and 'alembic' not in sys.modules and 'sqlmodel' not in sys.modules;"
        "assert os.listdir('.') == [], os.listdir('.')"
    )
    env = {"LLM_SESSION_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": ROOT}
    work = tmp_path / "cwd"
    work.mkdir()
    subprocess.run([sys.executable, "-c", code], check=True, cwd=work, env=env)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cwd"]


def test_opening_a_current_store_does_not_import_alembic(tmp_path):
    with Store.open(None, tmp_path):
        pass
    code = (
        "import sys; from llm_sessions.core.store import Store\n"
        f"Store.open(None, {str(tmp_path)!r}).close()\n"
        "assert 'alembic' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_a_large_damaged_file_is_found_by_the_dashboards_writer(tmp_path, monkeypatch):
    from llm_sessions.core.store import connection
    from llm_sessions.core.store.writer import BackgroundWriter

    db = _filled(tmp_path)
    _damage_pages(db, keep=(db.stat().st_size * 6 // 10) // 4096 * 4096)  # only the data pages at the end
    monkeypatch.setattr(connection, "QUICK_CHECK_MAX_BYTES", 1024)  # "large": not checked on open
    store = Store.open(None, tmp_path, identity=ME, policy=NO_AUTO)
    assert store.warnings == []
    problems: list = []
    writer = BackgroundWriter(store, on_problem=problems.append, check_first=True)
    try:
        writer.record_snapshot(snap(T0, sess()))
        assert writer.flush(10)
        moved = Path(problems[0].split("moved it to ")[1].split(" and ")[0])
        assert moved.exists() and problems[-1] is None  # then the write went through
        assert [r["id"] for r in store.known_sessions()] == ["s1"]
    finally:
        writer.close()
        store.close()
