"""Where a cold `list --all --json`'s parent spends its serial time, two trees side by side.

    python benchmarks/cold_timeline.py --data bench-data/r1g --rounds 5 /tmp/base .

Each run starts `llm-session list --all --json` with no scan cache through a small launcher
that notes when the pool is first handed work (the fork), when each worker result arrives
and what the parent spends after the last one (wall and CPU): the part that stays serial
once the workers are done. Runs alternate between the trees; medians with the range, and
the gap between the last batches' arrivals (how long one worker waited for the other).
Speed is measured here, never asserted in a test.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from cold_ab import _env, alternate, parser  # a sibling script, not a package

LAUNCHER = r"""
import atexit, os, sys, time
import concurrent.futures.process as cfp
with open("/proc/self/stat") as f:
    started = int(f.read().rsplit(")", 1)[1].split()[19]) / os.sysconf("SC_CLK_TCK")
with open("/proc/uptime") as f:
    BASE = time.time() - (float(f.read().split()[0]) - started)
from llm_sessions.core.accounting import pool
arrivals, fork = [], []
class Noting:
    def __init__(self, dec): self.dec = dec
    def decode(self, raw):
        arrivals.append((time.time() - BASE, time.process_time()))
        return self.dec.decode(raw)
pool._dec = Noting(pool._dec)
submit = cfp.ProcessPoolExecutor.submit
def noting_submit(self, *a, **k):
    fork or fork.append(time.time() - BASE)
    return submit(self, *a, **k)
cfp.ProcessPoolExecutor.submit = noting_submit
def report():
    end, (last, cpu) = time.time() - BASE, arrivals[-1]
    batches = [b[0] for a, b in zip(arrivals, arrivals[1:]) if b[0] - a[0] > 0.002]
    gap = max([y - x for x, y in zip(batches[-4:], batches[-3:])], default=0.0)
    sys.stderr.write(f"\nTIMELINE {fork[0]} {last} {end} {time.process_time() - cpu} {gap}\n")
atexit.register(report)
sys.argv = ["llm-session", "list", "--all", "--json"]
from llm_sessions.entry import main
main()
"""


def _one(tree: Path, data: Path) -> list[float]:
    """fork, last result, end (s from process start), parent CPU after the last result, tail gap."""
    home = Path(tempfile.mkdtemp(prefix="cold-tl-"))
    try:
        done = subprocess.run([sys.executable, "-c", LAUNCHER], env=_env(tree, data, home), cwd=home,
                              capture_output=True, text=True, check=True)
        line = next(x for x in done.stderr.splitlines() if x.startswith("TIMELINE "))
        return [float(v) for v in line.split()[1:]]
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    args = parser(__doc__ or "", 5).parse_args()
    runs = alternate(args, _one)

    def med(vals: list[float]) -> str:
        return f"{statistics.median(vals):.3f} s ({min(vals):.3f}-{max(vals):.3f})"

    print(f"\ncold `list --all --json`, {args.data.name}, median of {args.rounds} alternating (min-max)\n")
    print("| tree | fork | parent wall after the last result | its CPU | last batches' gap | end |\n|---|---|---|---|---|---|")
    for t, rs in runs.items():
        print(f"| {t} | {med([r[0] for r in rs])} | {med([r[2] - r[1] for r in rs])} | {med([r[3] for r in rs])} | "
              f"{med([r[4] for r in rs])} | {med([r[2] for r in rs])} |")


if __name__ == "__main__":
    main()
