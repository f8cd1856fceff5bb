"""Team store under load: N hosts x M sessions publishing every P seconds into one PostgreSQL.

    python benchmarks/bench_team_store.py --hosts 50 --sessions 20 --period 2 --seconds 300

Starts its own PostgreSQL server (tests/pg_server.py, fsync ON: the durable defaults) on a
free localhost port, then runs the hosts as threads spread over a few worker processes (one
process would measure Python's GIL, not the database). Each host owns a `Store` with its own
identity and publishes a snapshot of its sessions every period; in each round about half of
its sessions are working (tokens, context and cost grow) and the rest are idle. Measured:
- write latency: one `record_snapshot` (upserts + samples + heartbeat, one transaction);
- team view: `team_view()` as `llm-session team` and the team dashboard run it, every period;
- database size (`pg_database_size`) at the start and every 30 s.
Results go to benchmarks/out/team-store.json and a Markdown summary to stdout.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import random
import statistics
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _session(host: int, j: int, step: int, now: datetime):
    from llm_sessions.core.models import ContextFill, HealthComponent, HealthReport, Session, Usage

    used = 20_000 + 1_500 * step + 37 * j
    return Session(
        id=f"{host:02d}{j:02d}aaaa-bbbb-cccc-dddd-{j:012d}",
        tool="claude" if j % 3 else "codex",
        cwd=f"/home/dev{host}/src/project-{j % 5}",
        model="claude-sonnet-4-5" if j % 3 else "gpt-5-codex",
        git_branch=f"feature/{j}",
        started_at=now - timedelta(hours=1),
        last_activity=now,
        turns=10 + step,
        usage=Usage(input=5_000 + step * 40, output=2_000 + step * 90, cache_creation=30_000 + step * 500, cache_read=used * (step + 1)),
        context=ContextFill(used=used % 180_000, window=200_000, compact_at=167_000),
        cost_usd=0.01 * step + 0.5,
        health=HealthReport(70, "healthy", (HealthComponent("tokens", 70, 40.0, "context 50% of the compaction point"),)),
        state="working" if step % 2 else "idle",
    )


def _policy(maintain_every: float | None, detail: float | None):
    from llm_sessions.core.store import Retention

    policy = Retention()
    if maintain_every:
        policy = Retention(every=timedelta(seconds=maintain_every), tiers=policy.tiers)
    if detail:
        policy = Retention(every=policy.every, tiers=((timedelta(seconds=detail), 60), (timedelta(days=1), 900)))
    return policy


def _host_loop(url, host: int, sessions: int, period: float, until: float, out: list, errors: list, policy=None) -> None:
    from llm_sessions.core.models import Snapshot
    from llm_sessions.core.store import Identity, Store

    rng = random.Random(host)
    store = Store.open(url, Path("/nonexistent"), identity=Identity(f"bench-host-{host:02d}", "dev"), policy=policy)
    steps = [0] * sessions
    time.sleep(rng.uniform(0, period))  # hosts do not publish in lock-step
    try:
        while time.monotonic() < until:
            t0 = time.monotonic()
            now = datetime.now(timezone.utc)
            for j in range(sessions):
                if rng.random() < 0.5:
                    steps[j] += 1
            snap = Snapshot(taken_at=now, sessions=tuple(_session(host, j, steps[j], now) for j in range(sessions)))
            try:
                store.record_snapshot(snap)
                out.append(time.monotonic() - t0)
            except Exception as exc:  # noqa: BLE001 - counted and reported
                errors.append(repr(exc))
            time.sleep(max(0.0, period - (time.monotonic() - t0)))
    finally:
        store.close()


def _worker(url, hosts: list[int], sessions: int, period: float, until: float, queue, maintain_every=None, detail=None) -> None:
    lat: list[float] = []
    errors: list[str] = []
    policy = _policy(maintain_every, detail)
    threads = [threading.Thread(target=_host_loop, args=(url, h, sessions, period, until, lat, errors, policy)) for h in hosts]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    queue.put((lat, errors))


def _pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hosts", type=int, default=50)
    ap.add_argument("--sessions", type=int, default=20)
    ap.add_argument("--period", type=float, default=2.0)
    ap.add_argument("--seconds", type=float, default=300)
    ap.add_argument("--procs", type=int, default=5)
    ap.add_argument("--maintain-every", type=float, default=None, help="seconds between maintenance runs (default: the store's 10 min)")
    ap.add_argument("--detail-seconds", type=float, default=None, help="full-detail window (default: the store's 15 min)")
    ap.add_argument("--out", default="team-store.json")
    args = ap.parse_args()

    from llm_sessions.core.store import Identity, Store
    from llm_sessions.core.store.team import team_view
    from tests.pg_server import PgServer

    with PgServer(durable=True) as pg:
        url = pg.create_database("bench")
        with Store.open(url, Path("/nonexistent"), identity=Identity("reader", "dev")) as reader:
            sizes = [(0.0, pg.database_size("bench"))]
            start = time.monotonic()
            until = start + args.seconds
            queue = mp.get_context("spawn").Queue()
            groups = [list(range(i, args.hosts, args.procs)) for i in range(args.procs)]
            procs = [mp.get_context("spawn").Process(target=_worker, args=(url, g, args.sessions, args.period, until, queue, args.maintain_every, args.detail_seconds)) for g in groups]
            for p in procs:
                p.start()
            team_times: list[float] = []
            team_rows: list[int] = []
            next_size = start + 30
            while time.monotonic() < until:
                t0 = time.monotonic()
                view = team_view(reader)
                team_times.append(time.monotonic() - t0)
                team_rows.append(len(view.sessions))
                if time.monotonic() >= next_size:
                    sizes.append((time.monotonic() - start, pg.database_size("bench")))
                    next_size += 30
                time.sleep(max(0.0, args.period - (time.monotonic() - t0)))
            latencies: list[float] = []
            errors: list[str] = []
            for _ in procs:
                lat, err = queue.get()
                latencies += lat
                errors += err
            for p in procs:
                p.join()
            sizes.append((time.monotonic() - start, pg.database_size("bench")))
            view = team_view(reader)
            from sqlalchemy import text

            with reader.engine.connect() as conn:
                counts = {t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in ("sessions", "samples", "hosts")}
        elapsed = sizes[-1][0]
    result = {
        "hosts": args.hosts, "sessions_per_host": args.sessions, "period_s": args.period, "seconds": round(elapsed, 1),
        "writes": len(latencies), "errors": len(errors), "error_samples": errors[:5],
        "write_ms": {"p50": 1000 * _pct(latencies, 50), "p99": 1000 * _pct(latencies, 99), "max": 1000 * max(latencies)},
        "team_view_ms": {"p50": 1000 * _pct(team_times, 50), "p99": 1000 * _pct(team_times, 99), "runs": len(team_times),
                         "sessions_seen_last": team_rows[-1] if team_rows else 0},
        "db_bytes": sizes, "rows": counts, "stale_hosts_at_end": len(view.stale),
        "expected_writes": int(args.hosts * elapsed / args.period),
        "maintain_every_s": args.maintain_every, "detail_s": args.detail_seconds,
    }
    out = ROOT / "benchmarks" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / args.out).write_text(json.dumps(result, indent=2))
    grow = (sizes[-1][1] - sizes[0][1]) / max(elapsed, 1) * 3600 / 2**20
    print(f"| hosts x sessions | period | run | writes | errors | write p50 | write p99 | team view p50 | team view p99 | DB size start -> end | growth |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {args.hosts} x {args.sessions} | {args.period:g} s | {elapsed:.0f} s | {len(latencies):,} | {len(errors)} "
        f"| {result['write_ms']['p50']:.1f} ms | {result['write_ms']['p99']:.1f} ms "
        f"| {result['team_view_ms']['p50']:.1f} ms | {result['team_view_ms']['p99']:.1f} ms "
        f"| {sizes[0][1] / 2**20:.1f} -> {sizes[-1][1] / 2**20:.1f} MiB | {grow:.0f} MiB/h |"
    )
    print(f"rows at the end: {counts}; team view saw {result['team_view_ms']['sessions_seen_last']} sessions; "
          f"median team view {statistics.median(team_times) * 1000:.1f} ms over {len(team_times)} runs")


if __name__ == "__main__":
    main()
