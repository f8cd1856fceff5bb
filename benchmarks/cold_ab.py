"""Two source trees side by side on a cold scan: which one parses a corpus with less CPU.

    git worktree add /tmp/base main        # or: git archive main | tar -x -C /tmp/base
    python benchmarks/cold_ab.py --data bench-data/r1g --rounds 3 /tmp/base .
    python benchmarks/cold_ab.py --data bench-data/r1g --rounds 5 --list /tmp/base .

Default (parse): every Claude transcript of the corpus parsed in one process (`parse_file`,
no pool, no cache), CPU time of the parse alone, and a digest of the partial results, which
must be equal across trees (the content check of each cursor is left out: it hashes bytes
and is equal anyway). With --list: `llm-session list --all --json` with no scan cache, wall
and CPU of the whole process tree. Each tree is imported through PYTHONPATH; runs alternate,
so both see the same machine load; medians with the range. Never a test: speed is measured
here, not asserted.
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
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from bench_list import corpus_env  # a sibling script, not a package

T = TypeVar("T")

PARSE = r"""
import gc, hashlib, os, sys, time
gc.disable()
import msgspec
from llm_sessions.core.accounting.providers.claude_listing import classify, parse_file
from llm_sessions.core.accounting.providers.claude_file import ClaudeFile
paths = sorted(os.path.join(r, n) for r, _, fs in os.walk(sys.argv[1]) for n in fs
               if n.endswith(".jsonl") and f"{os.sep}projects{os.sep}" in r + os.sep)
sts = [os.stat(p) for p in paths]
t = time.process_time()
out = [parse_file(ClaudeFile(path=p, subagent=classify(p)[0], session=classify(p)[1]), st) for p, st in zip(paths, sts)]
cpu = time.process_time() - t
h = hashlib.sha1()
enc = msgspec.msgpack.Encoder()
for f in out:
    f.cursor.check = 0
    h.update(enc.encode(f))
print(cpu, h.hexdigest()[:12], sum(s.st_size for s in sts))
"""


def _env(tree: Path, data: Path, home: Path) -> dict:
    """bench_list's corpus environment, importing `tree`."""
    return corpus_env(data, home) | {"PYTHONPATH": str(tree)}


def _one(tree: Path, data: Path, listing: bool) -> tuple[float, float, str]:
    """(wall, CPU, digest) of one run."""
    home = Path(tempfile.mkdtemp(prefix="cold-ab-"))
    try:
        env = _env(tree, data, home)
        if not listing:
            out = subprocess.run([sys.executable, "-c", PARSE, str(data)], env=env, cwd=home,
                                 capture_output=True, text=True, check=True).stdout.split()
            return float("nan"), float(out[0]), out[1]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "llm_sessions", "list", "--all", "--json"], env=env, cwd=home,
                              capture_output=True, check=True)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
        sessions = json.loads(done.stdout)["sessions"]
        return wall, cpu, str(len(sessions))
    finally:
        shutil.rmtree(home, ignore_errors=True)


def parser(doc: str, rounds: int) -> argparse.ArgumentParser:
    """The arguments both side-by-side scripts take: trees, --data, --rounds."""
    ap = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    ap.add_argument("trees", nargs="+", type=Path, help="source trees (folders holding llm_sessions/)")
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--rounds", type=int, default=rounds)
    return ap


def alternate(args: argparse.Namespace, one: Callable[[Path, Path], T]) -> dict[Path, list[T]]:
    """`one(tree, data)` for each tree in turn, `args.rounds` times, with the load around it."""
    trees = [t.resolve() for t in args.trees]
    runs: dict[Path, list[T]] = {t: [] for t in trees}
    print(f"load before: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for _ in range(args.rounds):
        for t in trees:
            runs[t].append(one(t, args.data.resolve()))
    print(f"load after:  {' / '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return runs


def main() -> None:
    ap = parser(__doc__ or "", 3)
    ap.add_argument("--list", action="store_true", help="time a cold `list --all --json` instead of the parse")
    args = ap.parse_args()
    runs = alternate(args, lambda tree, data: _one(tree, data, args.list))
    what = "cold `list --all --json`" if args.list else "single-process parse"
    print(f"\n{what}, {args.data.name}, median of {args.rounds} alternating (min-max)\n")
    print("| tree | wall | CPU | digest / sessions |\n|---|---|---|---|")
    for t, rs in runs.items():
        walls, cpus = [r[0] for r in rs], [r[1] for r in rs]
        wall = "" if not args.list else f"{statistics.median(walls):.2f} s ({min(walls):.2f}-{max(walls):.2f})"
        print(f"| {t} | {wall} | {statistics.median(cpus):.2f} s ({min(cpus):.2f}-{max(cpus):.2f}) | "
              f"{', '.join(sorted({r[2] for r in rs}))} |")


if __name__ == "__main__":
    main()
