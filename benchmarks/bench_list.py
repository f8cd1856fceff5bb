"""`llm-session list --all --json` against ccusage 20 on the same transcripts, side by side.

    python -m llm_sessions.synth --out bench-data/1g --size 1GB --seed 1
    python benchmarks/bench_list.py --data bench-data/1g --rounds 3

Runs, in one process and alternating so both tools see the same machine load:
  cold    llm-session with no scan cache   vs  ccusage claude session --json --offline
  warm    llm-session with its scan cache  vs  the same ccusage command
  append  llm-session after 1 MB, then 10 MB, is appended to one transcript
Wall time is the median of the rounds; peak memory is the largest PSS summed over the whole
process tree (our parse workers included), sampled every 20 ms in separate, untimed runs. It also checks every
session's totals against truth.json, so a fast wrong answer cannot pass unnoticed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
CCUSAGE_VERSION = "20.0.24"


def ccusage_bin() -> Path:
    """ccusage from npm, pinned, installed under benchmarks/out (never a test dependency)."""
    prefix = ROOT / "benchmarks" / "out" / "ccusage"
    binary = prefix / "node_modules" / ".bin" / "ccusage"
    if not binary.exists():
        prefix.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--silent", "--prefix", str(prefix), f"ccusage@{CCUSAGE_VERSION}"], check=True)
    return binary


def our_command() -> list[str]:
    script = Path(sys.prefix) / "bin" / "llm-session"
    return [str(script)] if script.exists() else [sys.executable, "-m", "llm_sessions"]


def _tree_memory(proc: psutil.Process) -> int:
    """Proportional set size of a process and its children: shared pages count once.

    Plain RSS summed over a forked worker pool counts the pages the workers share with the
    parent several times; PSS splits them, so the sum is what the tree really holds.
    """
    total = 0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            total += p.memory_full_info().pss
        except psutil.Error:
            pass
    return total


def measure(cmd: list[str], env: dict, stdout_path: Path | None = None, memory: bool = False) -> tuple[float, int]:
    """Wall seconds, and with `memory` the peak PSS (bytes) of the whole process tree.

    Timed runs do not sample memory: reading smaps of every process every 20 ms costs CPU,
    more for a tool with worker processes, and would bias the timing.
    """
    out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    start = time.perf_counter()
    proc = psutil.Popen(cmd, env=env, stdout=out, stderr=subprocess.DEVNULL)
    peak = 0
    if not memory:
        proc.wait()
    while memory and proc.poll() is None:
        try:
            peak = max(peak, _tree_memory(proc))
        except psutil.Error:
            pass
        time.sleep(0.02)
    wall = time.perf_counter() - start
    if not isinstance(out, int):
        out.close()
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed with {proc.returncode}")
    return wall, peak


def corpus_env(data: Path, cache_home: Path) -> dict:
    truth = json.loads((data / "truth.json").read_text())
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # measure as installed: with bytecode caches
    for k, v in truth["env"].items():
        env[k] = ",".join(str(data / p) for p in v.split(","))
    env["LLM_SESSION_HOME"] = str(cache_home)
    return env


def check_truth(data: Path, out_json: Path) -> tuple[int, int]:
    truth = json.loads((data / "truth.json").read_text())["sessions"]
    got = {o["id"]: o for o in json.loads(out_json.read_text())["sessions"]}
    bad = 0
    for sid, t in truth.items():
        o = got.get(sid)
        if o is None or {k: o["tokens"][k] for k in t["tokens"]} != t["tokens"] or (
            t["context"] and o["context"]["used"] != t["context"]["used"]
        ):
            bad += 1
    return len(truth), bad


def largest_transcript(data: Path) -> Path:
    projects = data / "home" / ".claude" / "projects"
    files = [p for p in projects.rglob("*.jsonl") if "subagents" not in p.parts and not p.name.startswith("agent-")]
    return max(files, key=lambda p: p.stat().st_size)


def append_lines(target: Path, nbytes: int, seed: int) -> None:
    """Append `nbytes` of new lines (copies of its own with fresh message ids) to `target`."""
    donor_lines = target.read_bytes().splitlines()[:4000]
    rng = random.Random(seed)
    out, size = [], 0
    while size < nbytes:
        line = rng.choice(donor_lines)
        tag = f"{rng.getrandbits(48):012x}".encode()
        line = re.sub(rb'"id":"msg_', b'"id":"msg_' + tag, line)
        line = re.sub(rb'"requestId":"req_', b'"requestId":"req_' + tag, line)
        out.append(line)
        size += len(line) + 1
    with target.open("ab") as fh:
        fh.write(b"\n".join(out) + b"\n")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--md", type=Path, help="append the result table to this Markdown file")
    args = ap.parse_args()
    data = args.data.resolve()
    work = Path(tempfile.mkdtemp(prefix="llm-bench-"))
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "llm_sessions")], check=True)
    env = corpus_env(data, work / "home")
    ours = our_command() + ["list", "--all", "--json"]
    theirs = [str(ccusage_bin()), "claude", "session", "--json", "--offline"]
    size = sum(p.stat().st_size for p in data.rglob("*.jsonl"))
    files = sum(1 for _ in data.rglob("*.jsonl"))
    rows: dict[str, list[tuple[float, int]]] = {k: [] for k in ("cold", "ccusage", "warm", "ccusage2")}
    out_json = work / "ours.json"
    for _ in range(args.rounds):
        shutil.rmtree(work / "home", ignore_errors=True)
        rows["cold"].append(measure(ours, env, out_json))
        rows["ccusage"].append(measure(theirs, env, work / "ccusage.json"))
        rows["warm"].append(measure(ours, env, out_json))
        rows["ccusage2"].append(measure(theirs, env))
    sessions, bad = check_truth(data, out_json)
    # One more run of each, sampling memory (not timed).
    shutil.rmtree(work / "home", ignore_errors=True)
    mem = {
        "cold": measure(ours, env, memory=True)[1],
        "warm": measure(ours, env, memory=True)[1],
        "ccusage": measure(theirs, env, memory=True)[1],
    }
    mem["ccusage2"] = mem["ccusage"]

    def med(key: str) -> tuple[float, float]:
        return statistics.median(w for w, _ in rows[key]), mem[key] / 2**20

    cold, cc = med("cold"), med("ccusage")
    warm, cc2 = med("warm"), med("ccusage2")
    appends = []
    target = largest_transcript(data)
    original = target.stat().st_size
    try:
        for nbytes in (1 << 20, 10 << 20):
            bases, afters = [], []
            for r in range(args.rounds):
                measure(ours, env)  # settle: the cache is current
                bases.append(measure(ours, env)[0])
                append_lines(target, nbytes, seed=r)
                afters.append(measure(ours, env, out_json)[0])
            deltas = [a - b for a, b in zip(afters, bases, strict=True)]
            appends.append((nbytes, statistics.median(bases), statistics.median(afters), statistics.median(deltas)))
    finally:
        os.truncate(target, original)  # leave the corpus equal to its truth.json
    lines = [
        f"Data: {size / 2**30:.2f} GiB in {files} JSONL files ({sessions} sessions); {os.cpu_count()} cores; "
        f"median of {args.rounds} alternating rounds.",
        "",
        "| run | llm-session | ccusage 20.0.24 | ratio (ours/theirs) | peak memory ours | peak memory ccusage |",
        "|---|---|---|---|---|---|",
        f"| cold | {cold[0]:.2f} s | {cc[0]:.2f} s | {cold[0] / cc[0]:.2f} | {cold[1]:.0f} MiB | {cc[1]:.0f} MiB |",
        f"| warm (no change) | {warm[0]:.3f} s | {cc2[0]:.2f} s | {warm[0] / cc2[0]:.3f} | {warm[1]:.0f} MiB | {cc2[1]:.0f} MiB |",
        "",
        "| appended to one file (each round) | warm before | after the append | extra time (median of pairs) |",
        "|---|---|---|---|",
    ]
    for nbytes, base, after, delta in appends:
        lines.append(f"| {nbytes >> 20} MiB | {base:.3f} s | {after:.3f} s | {delta:+.3f} s |")
    lines += ["", f"Accuracy at this size: {sessions - bad} of {sessions} sessions equal truth.json to the token."]
    text = "\n".join(lines)
    sys.stdout.write(text + "\n")
    if args.md:
        with args.md.open("a") as fh:
            fh.write(text + "\n")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
