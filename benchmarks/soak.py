"""Soak: 50 live generated sessions, two dashboards on one store, and a `list` loop.

    python benchmarks/soak.py --sessions 50 --minutes 10

Everything runs under a temporary HOME: 50 `llm_sessions.synth.live` children (half Claude,
half Codex, a turn every ~4 s each), two real dashboards (`python -m llm_sessions`) in a
private tmux server at 120x36 sharing the default SQLite store, and a loop running
`llm-session list --json` back to back. At 1, 5 and 10 minutes it reports each dashboard's
CPU (process CPU time over the minute before, in % of one core) and RSS, and the store's
size (db + WAL) and row counts. Only processes this script started are signalled; the tmux
server is private (`-L`) and killed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sessions", type=int, default=50)
    ap.add_argument("--minutes", type=float, default=10)
    ap.add_argument("--marks", default="1,5,10", help="minutes at which to report")
    ap.add_argument("--pace", type=float, default=4.0)
    args = ap.parse_args()
    marks = [float(m) for m in args.marks.split(",") if float(m) <= args.minutes]

    home = Path(tempfile.mkdtemp(prefix="llm-session-soak-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLM_SESSION_", "CLAUDE_", "CODEX_", "XDG_", "TMUX"))}
    env.update(HOME=str(home), LLM_SESSION_HOME=str(home / ".llm-session"), PYTHONPATH=str(ROOT), TERM="xterm-256color")
    sock = f"llm-session-soak-{os.getpid()}"
    children: list[subprocess.Popen] = []
    try:
        for i in range(args.sessions):
            tool = "claude" if i % 2 == 0 else "codex"
            cwd = home / "work" / f"project-{i:02d}"
            cwd.mkdir(parents=True)
            sid = f"{i:08x}-50a4-4000-8000-{i:012x}"
            children.append(subprocess.Popen(
                [sys.executable, "-m", "llm_sessions.synth.live", "--tool", tool, "--home", str(home), "--cwd", str(cwd),
                 "--session-id", sid, "--pace", str(args.pace), "--seed", str(i)],
                env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            ))
        time.sleep(3)
        tmux = ["tmux", "-L", sock]
        cmd = f"exec {sys.executable} -m llm_sessions"
        subprocess.run([*tmux, "new-session", "-d", "-x", "120", "-y", "36", "-s", "one", cmd], env=env, check=True)
        subprocess.run([*tmux, "new-session", "-d", "-x", "120", "-y", "36", "-s", "two", cmd], env=env, check=True)
        pids = [int(subprocess.run([*tmux, "display", "-p", "-t", s, "#{pane_pid}"], env=env, capture_output=True, text=True).stdout)
                for s in ("one", "two")]
        dash = [psutil.Process(p) for p in pids]
        lister = subprocess.Popen(
            ["bash", "-c", f"while true; do {sys.executable} -m llm_sessions list --json > /dev/null 2>&1; done"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        children.append(lister)
        start = time.monotonic()
        rows = []
        for mark in marks:
            time.sleep(max(0.0, start + mark * 60 - 60 - time.monotonic()))
            before = {p.pid: (time.monotonic(), sum(p.cpu_times()[:2])) for p in dash}
            time.sleep(max(0.0, start + mark * 60 - time.monotonic()))
            row = {"minute": mark}
            for n, p in enumerate(dash, 1):
                t0, c0 = before[p.pid]
                c1 = sum(p.cpu_times()[:2])
                row[f"dash{n}_cpu_pct"] = round(100 * (c1 - c0) / (time.monotonic() - t0), 1)
                row[f"dash{n}_rss_mib"] = round(p.memory_info().rss / 2**20, 1)
            db = home / ".llm-session" / "data" / "llm-session.db"
            row["store_mib"] = round(sum(f.stat().st_size for f in db.parent.glob("llm-session.db*")) / 2**20, 2)
            with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
                row["sessions_rows"], row["samples_rows"] = (conn.execute("SELECT count(*) FROM sessions").fetchone()[0],
                                                             conn.execute("SELECT count(*) FROM samples").fetchone()[0])
            row["load_avg_1m"] = os.getloadavg()[0]
            rows.append(row)
            print(json.dumps(row), flush=True)
        screen = subprocess.run([*tmux, "capture-pane", "-p", "-t", "one"], env=env, capture_output=True, text=True).stdout
        alive = [p.is_running() for p in dash]
    finally:
        subprocess.run(["tmux", "-L", sock, "kill-server"], capture_output=True)
        for c in children:
            if c.poll() is None:
                c.terminate()
        for c in children:
            try:
                c.wait(10)
            except subprocess.TimeoutExpired:
                c.kill()
        shutil.rmtree(home, ignore_errors=True)
    out = ROOT / "benchmarks" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "soak.json").write_text(json.dumps({"rows": rows, "dashboards_alive": alive, "screen": screen}, indent=2))
    print("| minute | dashboard 1 CPU | dashboard 1 RSS | dashboard 2 CPU | dashboard 2 RSS | store (db+wal) | sessions | samples | load avg |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['minute']:g} | {r['dash1_cpu_pct']}% | {r['dash1_rss_mib']} MiB | {r['dash2_cpu_pct']}% | {r['dash2_rss_mib']} MiB "
              f"| {r['store_mib']} MiB | {r['sessions_rows']} | {r['samples_rows']:,} | {r['load_avg_1m']:.1f} |")
    print("dashboards alive at the end:", alive)
    print(screen[:600])


if __name__ == "__main__":
    main()
