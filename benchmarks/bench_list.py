"""`llm-session list --all --json` against ccusage 20 on the same transcripts, side by side.

    python -m llm_sessions.synth --out bench-data/1g --size 1GB --seed 1
    python -m llm_sessions.synth --out bench-data/1g-real --size 1GB --seed 1 --shape real
    python benchmarks/bench_list.py --data bench-data/1g --rounds 5

Runs, in one process and alternating so both tools see the same machine load:
  cold    llm-session with no scan cache   vs  ccusage claude session --json --offline
  warm    llm-session with its scan cache  vs  the same ccusage command
  append  llm-session after 1 MiB, then 10 MiB, is appended to one transcript
Each figure is the median of the rounds with its range; the ratio is that of the medians,
with the range of the per-round ratios. CPU time is user + system of the whole process tree
(our parse workers, node's threads). Peak memory is the largest PSS summed over the whole
process tree, sampled every 20 ms in separate, untimed runs. The machine's load average is
printed before and after: the machine is shared, so read ratios, not absolute times. It
also checks every session's totals against truth.json, so a fast wrong answer cannot pass
unnoticed.
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


class Run(tuple):
    """(wall seconds, CPU seconds of the whole process tree, peak PSS bytes or 0)."""

    wall = property(lambda self: self[0])
    cpu = property(lambda self: self[1])
    peak = property(lambda self: self[2])


def measure(cmd: list[str], env: dict, stdout_path: Path | None = None, memory: bool = False) -> Run:
    """Wall and CPU time (user + system, children included), and with `memory` the peak PSS
    of the whole process tree.

    Timed runs do not sample memory: reading smaps of every process every 20 ms costs CPU,
    more for a tool with worker processes, and would bias the timing. CPU time comes from
    wait4, so it counts our parse workers and node's threads alike.
    """
    out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    start = time.perf_counter()
    proc = psutil.Popen(cmd, env=env, stdout=out, stderr=subprocess.DEVNULL)
    peak = 0
    while memory and proc.poll() is None:
        try:
            peak = max(peak, _tree_memory(proc))
        except psutil.Error:
            pass
        time.sleep(0.02)
    _, status, usage = os.wait4(proc.pid, 0) if proc.returncode is None else (0, 0, None)
    wall = time.perf_counter() - start
    if not isinstance(out, int):
        out.close()
    code = os.waitstatus_to_exitcode(status) if usage is not None else proc.returncode
    if code != 0:
        raise SystemExit(f"{cmd[0]} failed with {code}")
    cpu = usage.ru_utime + usage.ru_stime if usage is not None else float("nan")
    return Run((wall, cpu, peak))


def corpus_env(data: Path, cache_home: Path) -> dict:
    """A run that sees only the corpus (its truth.json names HOME and the assistants' roots)
    and keeps its own files under `cache_home`: nothing inherited from this shell points it
    at the machine's own transcripts, config or caches."""
    truth = json.loads((data / "truth.json").read_text())
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLM_SESSION_", "CLAUDE_", "CODEX_", "XDG_"))}
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # measure as installed: with bytecode caches
    for k, v in truth["env"].items():
        env[k] = ",".join(str(data / p) for p in v.split(","))
    env.update(truth.get("settings_env", {}))  # the corpus's Aider folders
    env["LLM_SESSION_HOME"] = str(cache_home)
    for k in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
        env[k] = str(cache_home / k.lower())
    return env


def check_truth(data: Path, out_json: Path) -> tuple[int, int]:
    truth = json.loads((data / "truth.json").read_text())["sessions"]
    out = json.loads(out_json.read_text())
    got = {o["id"]: o for o in (out["sessions"] if isinstance(out, dict) else out)}
    bad = 0
    for sid, t in truth.items():
        o = got.get(sid)
        mine = {k: o["tokens"][k] for k in t["tokens"]} if o is not None else None
        # An estimated session (a Copilot run with no shutdown yet) is exact up to its
        # estimated tail: its tokens must reach the exact part, as tests/unit/test_truth.py has it.
        tokens_ok = mine == t["tokens"] if t.get("exact", True) else mine is not None and all(
            mine[k] >= t["tokens"][k] for k in mine)
        if o is None or not tokens_ok or (t["context"] and o["context"]["used"] != t["context"]["used"]):
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


def _stats(values: list[float], fmt: str) -> str:
    """Median and range, e.g. `1.23 s (1.20-1.31)`."""
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def _machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores ({model or 'unknown CPU'}), {psutil.virtual_memory().total / 2**30:.0f} GiB RAM"


def _load() -> str:
    return "/".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: cold,warm,append,memory")
    ap.add_argument("--md", type=Path, help="append the result tables to this Markdown file")
    args = ap.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    data = args.data.resolve()
    work = Path(tempfile.mkdtemp(prefix="llm-bench-"))
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "llm_sessions")], check=True)
    env = corpus_env(data, work / "home")
    ours = our_command() + ["list", "--all", "--json"]
    theirs = [str(ccusage_bin()), "claude", "session", "--json", "--offline"]
    size = sum(p.stat().st_size for p in data.rglob("*.jsonl"))
    files = sum(1 for _ in data.rglob("*.jsonl"))
    load_before = _load()
    out_json = work / "ours.json"
    lines = [f"Data: {data.name}, {size / 2**30:.2f} GiB in {files} JSONL files; machine: {_machine()}; "
             f"{args.rounds} alternating rounds, median (min-max)."]
    rows: dict[str, list[Run]] = {k: [] for k in ("cold", "ccusage", "warm", "ccusage2")}
    sessions = bad = 0
    if not {"cold", "warm"} <= skip:
        for _ in range(args.rounds):
            shutil.rmtree(work / "home", ignore_errors=True)
            cold = measure(ours, env, out_json)
            if "cold" not in skip:
                rows["cold"].append(cold)
                rows["ccusage"].append(measure(theirs, env, work / "ccusage.json"))
            if "warm" not in skip:
                rows["warm"].append(measure(ours, env, out_json))
                rows["ccusage2"].append(measure(theirs, env))
        sessions, bad = check_truth(data, out_json)
        lines += ["", "| run | llm-session wall | ccusage 20.0.24 wall | ratio (ours/theirs) | llm-session CPU | ccusage CPU |",
                  "|---|---|---|---|---|---|"]
        for name, ours_key, theirs_key in (("cold (no cache)", "cold", "ccusage"), ("warm (nothing changed)", "warm", "ccusage2")):
            a, b = rows[ours_key], rows[theirs_key]
            if not a:
                continue
            ratios = [x.wall / y.wall for x, y in zip(a, b, strict=False)]
            fmt = "{:.3f} s" if ours_key == "warm" else "{:.2f} s"
            lines.append(f"| {name} | {_stats([x.wall for x in a], fmt)} | {_stats([y.wall for y in b], '{:.2f} s')} | "
                         f"**{statistics.median(w.wall for w in a) / statistics.median(w.wall for w in b):.3f}** "
                         f"({min(ratios):.3f}-{max(ratios):.3f}) | {_stats([x.cpu for x in a], '{:.2f} s')} | "
                         f"{_stats([y.cpu for y in b], '{:.2f} s')} |")
    if "memory" not in skip:
        # Separate, untimed runs that sample memory.
        shutil.rmtree(work / "home", ignore_errors=True)
        mem_cold = measure(ours, env, memory=True).peak
        mem_warm = measure(ours, env, memory=True).peak
        mem_cc = measure(theirs, env, memory=True).peak
        lines += ["", "| peak memory (PSS, whole process tree) | llm-session | ccusage 20.0.24 |", "|---|---|---|",
                  f"| cold | {mem_cold / 2**20:.0f} MiB | {mem_cc / 2**20:.0f} MiB |",
                  f"| warm | {mem_warm / 2**20:.0f} MiB | {mem_cc / 2**20:.0f} MiB |"]
    if "append" not in skip:
        target = largest_transcript(data)
        original = target.stat().st_size
        lines += ["", f"Appends to the largest transcript ({original / 2**20:.1f} MiB), each round a warm run, the append, "
                  "then the next run:", "",
                  "| appended | warm before | after the append | extra wall time (median of pairs, range) | extra CPU time |",
                  "|---|---|---|---|---|"]
        try:
            for nbytes in (1 << 20, 10 << 20):
                bases, afters = [], []
                for r in range(args.rounds):
                    measure(ours, env)  # settle: the cache is current
                    bases.append(measure(ours, env))
                    append_lines(target, nbytes, seed=r)
                    afters.append(measure(ours, env, out_json))
                deltas = [(a.wall - b.wall) * 1000 for a, b in zip(afters, bases, strict=False)]
                cpu = [(a.cpu - b.cpu) * 1000 for a, b in zip(afters, bases, strict=False)]
                lines.append(f"| {nbytes >> 20} MiB | {_stats([b.wall for b in bases], '{:.3f} s')} | "
                             f"{_stats([a.wall for a in afters], '{:.3f} s')} | "
                             f"**{statistics.median(deltas):+.0f} ms** ({min(deltas):+.0f} to {max(deltas):+.0f}) | "
                             f"{statistics.median(cpu):+.0f} ms ({min(cpu):+.0f} to {max(cpu):+.0f}) |")
        finally:
            os.truncate(target, original)  # leave the corpus equal to its truth.json
    if sessions:
        lines += ["", f"Accuracy at this size: {sessions - bad} of {sessions} sessions equal truth.json to the token."]
    lines += ["", f"Load average (1/5/15 min) before: {load_before}, after: {_load()}."]
    text = "\n".join(lines)
    sys.stdout.write(text + "\n")
    if args.md:
        with args.md.open("a") as fh:
            fh.write(text + "\n")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
