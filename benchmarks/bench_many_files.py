"""Many small transcripts: `list` against listing the same folders with os.scandir.

    python benchmarks/bench_many_files.py --files 100000 --rounds 5

Writes `--files` small Claude Code transcripts (3 lines each, 200 per project folder, their
mtimes spread over a year as a real history's are) under bench-data/many-<files>/ once, and
starts one fake running Claude Code (a process named `claude` in a folder with a fresh
transcript, stopped at the end), then measures, alternating the commands so all see the same
machine load, and reports medians (and min-max) of wall time and of CPU time (user + sys of
the whole process tree, which a shared machine disturbs far less than wall time):
  scandir     a Python process that walks the projects folders with os.scandir: the floor,
              start-up included
  warm-all    `llm-session list --all --json` with its scan cache (nothing changed)
  warm-live   `llm-session list --json` (running sessions only: the one fake assistant)
  cold-all    `list --all --json` without a scan cache (fewer rounds: it is the slow one)
Peak memory (PSS of the process tree) is sampled in a separate, untimed run of each.
`--src DIR` runs the llm_sessions package found in DIR instead (a `git archive` of another
commit), for before/after figures in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_list import measure

ROOT = Path(__file__).resolve().parents[1]
PER_FOLDER = 200

SCANDIR = r"""
import os, sys
n = 0
stack = [os.path.join(sys.argv[1], "projects")]
while stack:
    for e in os.scandir(stack.pop()):
        if e.is_dir(follow_symlinks=False):
            stack.append(e.path)
        elif e.name.endswith(".jsonl"):
            os.stat(e.path)
            n += 1
print(n)
"""


def _line(rec: dict) -> str:
    return json.dumps(rec, separators=(",", ":")) + "\n"


def build(root: Path, files: int) -> None:
    """`files` transcripts of one prompt and one answer each; skipped when already there."""
    marker = root / "done"
    if marker.exists():
        return
    shutil.rmtree(root, ignore_errors=True)
    for i in range(files):
        folder = root / ".claude" / "projects" / f"-work-project-{i // PER_FOLDER:05d}"
        if i % PER_FOLDER == 0:
            folder.mkdir(parents=True)
        sid = f"{i:08d}-0000-4000-8000-000000000000"
        ts = f"2026-0{1 + i % 9}-1{i % 10}T10:{i % 60:02d}:00.000Z"
        cwd = f"/home/dev/project-{i // PER_FOLDER:05d}"
        with open(folder / f"{sid}.jsonl", "w") as fh:
            fh.write(_line({"type": "user", "uuid": f"u{i}", "sessionId": sid, "timestamp": ts, "cwd": cwd,
                            "message": {"role": "user", "content": "fix the failing test"}}))
            fh.write(_line({"type": "assistant", "uuid": f"a{i}", "sessionId": sid, "timestamp": ts, "cwd": cwd,
                            "requestId": f"req_{i}", "message": {"id": f"msg_{i}", "model": "claude-sonnet-4-5-20250929",
                            "role": "assistant", "content": [{"type": "text", "text": "done"}], "stop_reason": "end_turn",
                            "usage": {"input_tokens": 10 + i % 7, "output_tokens": 20, "cache_creation_input_tokens": 300,
                                      "cache_read_input_tokens": 4000}}}))
            fh.write(_line({"type": "summary", "summary": f"session {i}", "leafUuid": f"a{i}"}))
    marker.write_text(str(files))


def spread_mtimes(root: Path, files: int) -> None:
    """Spread the transcripts' mtimes over a year (once): a history is mostly old files."""
    marker = root / "spread"
    if marker.exists():
        return
    now = time.time()
    for i, path in enumerate(sorted((root / ".claude" / "projects").glob("*/*.jsonl"))):
        when = now - (i % 365) * 86400 - 3600
        os.utime(path, (when, when))
    marker.write_text("1")


def start_live_session(root: Path):
    """A process named `claude` whose cwd has a project folder with a fresh transcript."""
    from llm_sessions.core.accounting.roots import encode_cwd

    cwd = root / "live-cwd"
    cwd.mkdir(exist_ok=True)
    folder = root / ".claude" / "projects" / encode_cwd(str(cwd.resolve()))
    folder.mkdir(parents=True, exist_ok=True)
    sid = "live0000-0000-4000-8000-000000000000"
    ts = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    with open(folder / f"{sid}.jsonl", "w") as fh:
        fh.write(_line({"type": "user", "uuid": "lu", "sessionId": sid, "timestamp": ts, "cwd": str(cwd),
                        "message": {"role": "user", "content": "go"}}))
    bindir = root / "bin"
    bindir.mkdir(exist_ok=True)
    exe = bindir / "claude"
    if not exe.exists():
        exe.symlink_to(os.path.realpath(sys.executable))
    return subprocess.Popen([str(exe), "-c", "import time; time.sleep(3600)"], cwd=cwd)


def cpu_run(cmd: list[str], env: dict) -> tuple[float, float]:
    """(wall, cpu) seconds of one run; cpu is user + sys of the command and its children."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, cwd=tempfile.gettempdir())
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--cold-rounds", type=int, default=1)
    ap.add_argument("--src", type=Path, help="run llm_sessions from this source tree instead")
    ap.add_argument("--data", type=Path, help="where the transcripts go (default bench-data/many-<files>)")
    args = ap.parse_args()
    data = (args.data or ROOT / "bench-data" / f"many-{args.files}").resolve()
    t0 = time.perf_counter()
    build(data, args.files)
    spread_mtimes(data, args.files)
    live = start_live_session(data)
    sys.stderr.write(f"corpus ready in {time.perf_counter() - t0:.1f} s: {data}\n")
    try:
        run_all(args, data)
    finally:
        live.kill()  # our own fake assistant, by its pid
        live.wait()


def run_all(args, data: Path) -> None:

    work = Path(tempfile.mkdtemp(prefix="llm-many-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLM_SESSION_", "CLAUDE_", "CODEX_"))}
    env.update(HOME=str(data), CLAUDE_CONFIG_DIR=str(data / ".claude"), CODEX_HOME=str(data / ".codex"),
               XDG_CONFIG_HOME=str(data / ".config"), LLM_SESSION_HOME=str(work / "lsh"))
    if args.src:
        env["PYTHONPATH"] = str(args.src.resolve())
    ours = [sys.executable, "-m", "llm_sessions"]
    cmds = {
        "scandir": [sys.executable, "-c", SCANDIR, str(data / ".claude")],
        "warm-all": ours + ["list", "--all", "--json"],
        "warm-live": ours + ["list", "--json"],
    }
    cache = work / "lsh" / "cache"
    out = work / "out.json"

    # correctness and a warm cache first
    with open(out, "wb") as fh:
        subprocess.run(cmds["warm-all"], env=env, stdout=fh, check=True, cwd=tempfile.gettempdir())
    text = out.read_text()
    answer = json.loads(text)
    sessions = answer["sessions"] if isinstance(answer, dict) else answer
    # process-only sessions (other assistants running on a shared machine) have no transcript
    history = [s for s in sessions if not s["id"].startswith("live") and s.get("transcript")]
    assert len(history) == args.files, (len(history), args.files)
    assert all(s["tokens"]["total"] == 4330 + int(s["id"][:8]) % 7 for s in history)

    times: dict[str, list[tuple[float, float]]] = {k: [] for k in (*cmds, "cold-all")}
    for r in range(args.rounds):
        for name, cmd in cmds.items():
            times[name].append(cpu_run(cmd, env))
        if r < args.cold_rounds:
            shutil.rmtree(cache, ignore_errors=True)
            times["cold-all"].append(cpu_run(cmds["warm-all"], env))
    memory = {name: measure(cmd, env, memory=True)[1] for name, cmd in cmds.items()}
    shutil.rmtree(cache, ignore_errors=True)
    memory["cold-all"] = measure(cmds["warm-all"], env, memory=True)[1]

    floor_wall = statistics.median(w for w, _ in times["scandir"])
    floor_cpu = statistics.median(c for _, c in times["scandir"])
    lines = [f"{args.files:,} transcripts, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}, src={args.src or 'this tree'}",
             f"{'command':<10} {'wall s':>7} {'min-max':>12} {'x scandir':>9} {'cpu s':>7} {'min-max':>12} {'x scandir':>9} {'peak MB':>8}"]
    for name, runs in times.items():
        if not runs:
            continue
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        w, c = statistics.median(walls), statistics.median(cpus)
        lines.append(
            f"{name:<10} {w:>7.2f} {min(walls):>5.2f}-{max(walls):<6.2f} {w / floor_wall:>9.2f} "
            f"{c:>7.2f} {min(cpus):>5.2f}-{max(cpus):<6.2f} {c / floor_cpu:>9.2f} {memory[name] / 1e6:>8.0f}"
        )
    sys.stdout.write("\n".join(lines) + "\n")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
