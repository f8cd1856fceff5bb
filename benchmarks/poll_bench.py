"""Dashboard poll cost over a gigabyte of history with live sessions, and over time.

    python benchmarks/poll_bench.py --data bench-data/1g-real --live 20 --minutes 10

What the dashboard's poll worker and UI thread spend per poll, measured on the real code:
a Monitor over the corpus (its scan cache warm, as after the first poll of a running
dashboard) plus `--live` generated Claude sessions writing a turn every ~4 s (children of
this script, found by discovery through their process and `sessions/<pid>.json`, as the
demo does), and a SQLite store written by the BackgroundWriter thread. Every
`--refresh` seconds one poll runs, as the dashboard schedules them; the snapshot is then
applied by the real App (headless) on its UI thread.

Reported per minute: the poll's CPU time in the worker thread, the UI thread's time
applying the snapshot, and the whole process's CPU (worker, UI, store writer) in % of one
core; with `--live 0` that last figure is the idle dashboard. Thread CPU is
`time.thread_time()`, so other processes on the shared machine do not inflate it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def corpus_env(data: Path, live_home: Path) -> dict:
    truth = json.loads((data / "truth.json").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLM_SESSION_", "CLAUDE_", "CODEX_", "XDG_"))}
    for k, v in truth["env"].items():
        env[k] = ",".join(str(data / p) for p in v.split(","))
    env.update(truth.get("settings_env", {}))
    env["CLAUDE_CONFIG_DIR"] += f",{live_home / '.claude'}"  # the live sessions write here
    return env


def start_live(n: int, home: Path, pace: float) -> list[subprocess.Popen]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = []
    for i in range(n):
        cwd = home / "work" / f"project-{i:02d}"
        cwd.mkdir(parents=True)
        sid = f"{i:08x}-1ive-4000-8000-{i:012x}".replace("1ive", "0a11")
        out.append(subprocess.Popen(
            [sys.executable, "-m", "llm_sessions.synth.live", "--tool", "claude", "--home", str(home), "--cwd", str(cwd),
             "--session-id", sid, "--pace", str(pace), "--seed", str(i), "--turns", "100000"],
            env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        ))
    return out


async def run(args) -> None:
    from llm_sessions.config import load_settings
    from llm_sessions.core.live.discovery import Discovery
    from llm_sessions.core.live.monitor import Monitor
    from llm_sessions.core.store import Store
    from llm_sessions.core.store.writer import BackgroundWriter
    from llm_sessions.ui.app import LLMSessionApp
    from llm_sessions.ui.messages import SnapshotReady

    data = args.data.resolve()
    work = Path(tempfile.mkdtemp(prefix="llm-poll-bench-"))
    live_home = work / "live"
    children = start_live(args.live, live_home, args.pace)
    try:
        env = corpus_env(data, live_home)
        settings = load_settings(work / "none.toml", env={"LLM_SESSION_GENERAL_REFRESH_SECONDS": str(args.refresh)})
        cache = work / "cache"
        Monitor(settings, env, cache_dir=cache).scan_files()  # the cold scan a dashboard does once
        store = Store.open(f"sqlite:///{work / 'history.db'}", work)
        writer = BackgroundWriter(store)
        pids = lambda: [c.pid for c in children]  # noqa: E731  (discovery sees only our children)
        monitor = Monitor(settings, env, cache_dir=cache, store=writer,
                          discovery=Discovery(env, tmux=False, pids=pids))
        monitor.poll()  # the dashboard's first poll (the App freezes the GC after it, as here)
        app = LLMSessionApp(monitor, settings)
        rows: list[tuple[float, float, float, float]] = []  # (minute, worker ms, ui ms, process %)
        async with app.run_test(size=(120, 36)) as pilot:
            app._cancel_timer()  # this loop paces the polls instead of the app's timer
            await pilot.pause()
            start = time.monotonic()
            cpu0, t0 = time.process_time(), time.monotonic()
            while time.monotonic() - start < args.minutes * 60:
                tick = time.monotonic()
                w0 = time.thread_time()
                snap = monitor.poll()
                worker = (time.thread_time() - w0) * 1000
                # the harness's own cost (waiting for the app to go idle), measured alone ...
                u0 = time.thread_time()
                await pilot.pause()
                idle = time.thread_time() - u0
                # ... and taken off the time to apply a snapshot and render what changed
                u0 = time.thread_time()
                app.post_message(SnapshotReady(snap, {}, (), worker, tuple(app._watching)))
                await pilot.pause()
                ui = max(0.0, time.thread_time() - u0 - idle) * 1000
                now = time.monotonic()
                proc = 100 * (time.process_time() - cpu0) / max(now - t0, 1e-9)
                cpu0, t0 = time.process_time(), now
                rows.append(((now - start) / 60, worker, ui, proc))
                await asyncio.sleep(max(0.0, args.refresh - (time.monotonic() - tick)))
        writer.close()
        store.close()
        sessions = len(snap.sessions)
        live = sum(1 for s in snap.sessions if s.state in ("working", "waiting", "idle"))
        print(f"{sessions} sessions in the snapshot, {live} live; a poll every {args.refresh:g} s for {args.minutes:g} min; "
              f"{os.cpu_count()} cores, load before {args.load}, after {'/'.join(f'{x:.2f}' for x in os.getloadavg())}")
        print()
        print("| minutes | polls | worker CPU per poll, median (p95) | UI thread per snapshot, median (p95) | process CPU |")
        print("|---|---|---|---|---|")
        edges = [0, 1] + [m for m in range(5, int(args.minutes) + 5, 5) if m <= args.minutes]
        for lo, hi in zip(edges, [*edges[1:], args.minutes + 1], strict=True):
            part = [r for r in rows if lo <= r[0] < hi]
            if len(part) < 2:
                continue
            w = sorted(r[1] for r in part)
            u = sorted(r[2] for r in part)
            p = statistics.median(r[3] for r in part[1:])
            print(f"| {lo:g}-{min(hi, args.minutes):g} | {len(part)} | {statistics.median(w):.1f} ms ({w[int(0.95 * (len(w) - 1))]:.1f}) | "
                  f"{statistics.median(u):.1f} ms ({u[int(0.95 * (len(u) - 1))]:.1f}) | {p:.1f}% |")
    finally:
        for c in children:
            c.terminate()
        for c in children:
            try:
                c.wait(5)
            except subprocess.TimeoutExpired:
                c.kill()
        shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--live", type=int, default=20)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--refresh", type=float, default=2.0)
    ap.add_argument("--pace", type=float, default=4.0)
    args = ap.parse_args()
    args.load = "/".join(f"{x:.2f}" for x in os.getloadavg())
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
