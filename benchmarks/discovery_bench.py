"""CPU cost of live discovery on a busy machine: one first pass and steady-state ticks.

Spawns N cheap sleeping processes (default 2,000) plus 20 fake assistants (symlinks named
`claude`, `codex`, `gemini`, `copilot` pointing at /bin/sleep, each in its own tmp cwd with
a matching transcript under a fake HOME), measures CPU time (this process plus waited-for
children, which is where `tmux list-panes` is charged) of a first `Discovery.scan` and of
steady-state ticks, prints a small table and kills everything it spawned.

    python benchmarks/discovery_bench.py [--procs 2000] [--ticks 20]

Targets: first pass < 50 ms CPU, steady tick < 10 ms CPU.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil

from llm_sessions.core.accounting.roots import encode_cwd
from llm_sessions.core.live.discovery import YOUNG_SECONDS, Discovery
from llm_sessions.core.models import Session, Tool

TOOLS: tuple[Tool, ...] = ("claude",) * 10 + ("codex",) * 4 + ("gemini",) * 3 + ("copilot",) * 3


def cpu_seconds() -> float:
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + kids.ru_utime + kids.ru_stime


def measure(fn):
    c0, w0 = cpu_seconds(), time.perf_counter()
    out = fn()
    return out, (cpu_seconds() - c0) * 1000, (time.perf_counter() - w0) * 1000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--procs", type=int, default=2000)
    ap.add_argument("--ticks", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=5, help="cold first passes to take the median of")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="llm-discovery-bench-"))
    home = tmp / "home"
    env = {
        "HOME": str(home),
        "CLAUDE_CONFIG_DIR": str(home / ".claude"),
        "CODEX_HOME": str(home / ".codex"),
        "GEMINI_DIR": str(home / ".gemini"),
        "COPILOT_HOME": str(home / ".copilot"),
        "TMUX_TMPDIR": str(tmp / "tmux"),
        "PATH": os.environ.get("PATH", os.defpath),
    }
    sleep = shutil.which("sleep") or "/bin/sleep"
    (tmp / "bin").mkdir()
    herd = None
    tmux_bin = None
    sock = tmp / "tmux.sock"
    fakes: list[subprocess.Popen] = []
    try:
        herd = subprocess.Popen(
            ["bash", "-c", f"for i in $(seq {args.procs}); do {sleep} 900 & done; echo up; wait"],
            stdout=subprocess.PIPE,
            start_new_session=True,
        )
        assert herd.stdout is not None  # stdout=PIPE
        herd.stdout.readline()
        sessions = []
        now = datetime.now(UTC)
        for i, tool in enumerate(TOOLS):
            link = tmp / "bin" / tool
            if not link.exists():
                link.symlink_to(sleep)
            cwd = tmp / "work" / f"p{i}"
            cwd.mkdir(parents=True)
            fakes.append(subprocess.Popen([str(link), "900"], cwd=cwd, start_new_session=True))
            transcript = None
            if tool == "claude":
                folder = home / ".claude" / "projects" / encode_cwd(str(cwd.resolve()))
                folder.mkdir(parents=True)
                transcript = folder / f"s{i}.jsonl"
                transcript.write_text("{}\n")
            sessions.append(
                Session(id=f"s{i}", tool=tool, transcript=str(transcript) if transcript else None, cwd=str(cwd), last_activity=now)
            )
        # Let the herd age past YOUNG_SECONDS: processes seen young are re-read once on the
        # next poll (to catch launchers that exec), which is a burst cost, not steady state.
        time.sleep(YOUNG_SECONDS + 0.5)
        total = len(psutil.pids())

        # A private tmux server, so "server" measures real `list-panes` round trips.
        tmux_bin = shutil.which("tmux")
        if tmux_bin:
            subprocess.run([tmux_bin, "-S", str(sock), "-f", "/dev/null", "new-session", "-d", "-s", "bench"],
                           env={**env, "TMUX": ""}, check=True)
        modes = [("off", False, env), ("no server", True, env)]
        if tmux_bin:
            modes.append(("server", True, {**env, "TMUX": f"{sock},0,0"}))
        rows = []
        for label, tmux, mode_env in modes:
            firsts = []
            for _ in range(args.repeat):  # a fresh Discovery each time: a cold first pass
                d = Discovery(mode_env, tmux=tmux)
                result, first_cpu, first_wall = measure(lambda d=d: d.scan(sessions))
                firsts.append((first_cpu, first_wall))
            first_cpu = statistics.median(f[0] for f in firsts)
            first_wall = statistics.median(f[1] for f in firsts)
            matched = len(result.matches)
            ticks = [measure(lambda d=d: d.scan(sessions))[1:] for _ in range(args.ticks)]
            cpu = [t[0] for t in ticks]
            wall = [t[1] for t in ticks]
            rows.append((label, first_cpu, first_wall, statistics.median(cpu), max(cpu), statistics.median(wall), matched))

        print(f"processes on the machine: {total} ({args.procs} sleepers, {len(TOOLS)} fake assistants, the rest pre-existing)")
        print(f"{'tmux':>9} | {'first CPU ms (median)':>21} | {'first wall ms':>13} | {'tick CPU ms (median)':>20} | "
              f"{'tick CPU ms (max)':>17} | {'tick wall ms':>12} | matched")
        for label, fc, fw, tc, tm, tw, m in rows:
            print(f"{label:>9} | {fc:21.1f} | {fw:13.1f} | {tc:20.2f} | {tm:17.2f} | {tw:12.2f} | {m}/{len(TOOLS)}")
        print("targets: first pass < 50 ms CPU, steady tick < 10 ms CPU")
        return 0
    finally:
        if tmux_bin:
            subprocess.run([tmux_bin, "-S", str(sock), "kill-server"], env=env, check=False, capture_output=True)
        for proc in fakes + ([herd] if herd else []):
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
