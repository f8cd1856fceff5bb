"""The background writer and the in-memory series: the UI never waits, a poll's cost stays flat."""

from __future__ import annotations

import sqlite3
import time
from datetime import UTC, datetime, timedelta

from llm_sessions.core.live.series import RecentSeries
from llm_sessions.core.models import ContextFill, Session, Snapshot
from llm_sessions.core.store import DB_NAME, Identity, Store
from llm_sessions.core.store.writer import BackgroundWriter

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def snap(at, **used) -> Snapshot:
    return Snapshot(at, tuple(Session(id=k, tool="claude", context=ContextFill(v, 200_000), state="working") for k, v in used.items()))


def test_a_busy_store_never_blocks_the_caller_and_nothing_is_lost(tmp_path):
    store = Store.open(None, tmp_path, identity=Identity("h", "u"), busy_timeout_ms=100)
    problems: list = []
    writer = BackgroundWriter(store, on_problem=problems.append, min_pause_s=0.05, max_pause_s=0.2)
    holder = sqlite3.connect(tmp_path / DB_NAME, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        t = time.monotonic()
        writer.record_export("s1", tmp_path / "a.md", "md", 0, 10)
        for i in range(5):
            writer.record_snapshot(snap(T0 + timedelta(seconds=i), a=i))
        assert time.monotonic() - t < 0.05  # handed over, not written
        time.sleep(0.5)
        assert problems and "locked" in problems[0]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert writer.flush(10)
    writer.close()
    try:
        assert [e["path"] for e in store.exports()] == [str(tmp_path / "a.md")]
        # the latest snapshot won: older ones that were never written are superseded, not queued
        assert [s.context_used for s in store.samples("a")] == [4]
        assert problems[-1] is None  # and the UI heard that it works again
    finally:
        store.close()


def test_reads_answer_empty_while_the_store_is_unavailable(tmp_path):
    from tests.pg_server import free_port

    store = Store.open(f"postgresql://x@127.0.0.1:{free_port()}/x", tmp_path, lazy=True, connect_timeout_s=2)
    writer = BackgroundWriter(store, min_pause_s=0.05)
    try:
        assert writer.samples("a") == []
    finally:
        writer.close(timeout=0.5)
        store.close()


def test_recent_series_reads_history_once_then_appends_per_poll():
    calls: list[str] = []

    def load(sid, since):
        calls.append(sid)
        return [type("S", (), {"at": since + timedelta(minutes=1), "context_used": 500})()]

    series = RecentSeries(load, window=timedelta(minutes=10))
    for i in range(600):  # 20 minutes of polls every 2 s
        series.update(snap(T0 + timedelta(seconds=2 * i), a=1000 + i // 5, b=7))
    assert calls == ["a", "b"]  # one read per session, not one per poll
    points = series.points("a")
    assert points[0][0] >= T0 + timedelta(seconds=2 * 599) - timedelta(minutes=10)  # the window slides
    assert len(points) <= 64  # a point per change (every 5 polls), bounded by count and by the window
    assert [u for _t, u in points] == sorted({u for _t, u in points})
    assert len(series.points("b")) == 1  # flat: one point, refreshed when the old one ages out
    series.update(snap(T0 + timedelta(hours=1), a=5))
    assert series.points("b") == []  # gone from the snapshot: forgotten


def test_the_bounded_series_forecasts_exactly_as_the_whole_hour_would():
    from llm_sessions.core.accounting.compaction_eta import predict_compaction

    series = RecentSeries(None, window=timedelta(hours=1), max_points=13)
    full: list[tuple[datetime, int]] = []
    used = 10_000
    for i in range(900):  # a turn every 4 s for an hour, with a compaction in the middle
        used = 30_000 if i == 500 else used + 150 + (i * 37) % 90
        at = T0 + timedelta(seconds=4 * i)
        series.update(snap(at, a=used))
        full.append((at, used))
        if i % 50 == 0 or 495 <= i <= 515:
            assert predict_compaction(series.points("a"), 167_000, at) == predict_compaction(full, 167_000, at), i
