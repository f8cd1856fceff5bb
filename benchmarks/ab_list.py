"""Before/after: `list --all --json` of two source trees on the same synth corpus, side by side.

    python -m llm_sessions.synth --out bench-data/200m --size 200MB --seed 1
    git archive main llm_sessions | tar -x -C /tmp/main-src
    python benchmarks/ab_list.py --data bench-data/200m --before /tmp/main-src --rounds 5

Each round runs, for `before` then `after` (this tree unless `--after` is given): a cold run
(no scan cache) and a warm run (nothing changed). Reported: median and range of wall time
and of CPU time (user + sys of the process tree, steadier than wall time on a shared
machine), the ratio after/before, and a check that both trees give every session of the
corpus the same token totals as truth.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_many_files import cpu_run  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--before", type=Path, required=True, help="a source tree holding llm_sessions/")
    ap.add_argument("--after", type=Path, default=ROOT)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    data = args.data.resolve()
    truth = json.loads((data / "truth.json").read_text())
    work = Path(tempfile.mkdtemp(prefix="llm-ab-"))
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    envs = {}
    for name, src in trees.items():
        env = {k: v for k, v in os.environ.items() if not k.startswith(("LLM_SESSION_", "CLAUDE_", "CODEX_"))}
        env.update({k: ",".join(str(data / p) for p in v.split(",")) for k, v in truth["env"].items()})
        env.update(PYTHONPATH=str(src), LLM_SESSION_HOME=str(work / name))
        envs[name] = env
    cmd = [sys.executable, "-m", "llm_sessions", "list", "--all", "--json"]

    for name, env in envs.items():  # correctness: every session's tokens equal the truth
        import subprocess

        out = subprocess.run(cmd, env=env, capture_output=True, check=True, cwd=tempfile.gettempdir()).stdout
        answer = json.loads(out)
        sessions = answer["sessions"] if isinstance(answer, dict) else answer
        got = {s["id"]: {k: s["tokens"][k] for k in truth["sessions"][s["id"]]["tokens"]} for s in sessions}
        assert got == {sid: t["tokens"] for sid, t in truth["sessions"].items()}, f"{name} disagrees with truth.json"

    runs: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for _ in range(args.rounds):
        for name, env in envs.items():
            shutil.rmtree(work / name / "cache", ignore_errors=True)
            runs.setdefault((name, "cold"), []).append(cpu_run(cmd, env))
            runs.setdefault((name, "warm"), []).append(cpu_run(cmd, env))
    lines = [f"{data.name}: {len(truth['sessions'])} sessions, {args.rounds} rounds, {os.cpu_count()} cores, "
             f"load {os.getloadavg()[0]:.1f}; totals equal truth.json in both trees",
             f"{'run':<12} {'wall s':>7} {'range':>12} {'cpu s':>7} {'range':>12}"]
    med = {}
    for (name, kind), rs in runs.items():
        walls, cpus = [w for w, _ in rs], [c for _, c in rs]
        med[(name, kind)] = (statistics.median(walls), statistics.median(cpus))
        lines.append(f"{name + ' ' + kind:<12} {med[(name, kind)][0]:>7.2f} {min(walls):>5.2f}-{max(walls):<6.2f} "
                     f"{med[(name, kind)][1]:>7.2f} {min(cpus):>5.2f}-{max(cpus):<6.2f}")
    for kind in ("cold", "warm"):
        (wb, cb), (wa, ca) = med[("before", kind)], med[("after", kind)]
        lines.append(f"after/before {kind}: wall {wa / wb:.2f}x, cpu {ca / cb:.2f}x")
    sys.stdout.write("\n".join(lines) + "\n")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
