"""Before/after of warm `llm-session list` runs: two source trees, alternating, side by side.

    git worktree add --detach /tmp/before main
    python benchmarks/ab_warm.py --before /tmp/before --data bench-data/r1g bench-data/d1g
    python benchmarks/ab_warm.py --before /tmp/before --many bench-data/many-100000 --rounds 3

`--data`: `list --all --json` over each corpus (made by llm_sessions.synth) with a warm scan
cache; both trees must give every session the same tokens, cost and health. `--many`: the
corpus of bench_many_files.py with its one fake running Claude Code: `list --json`, `list
--all --json` and the os.scandir floor. Each tree keeps its own scan cache. Reported: median
and range of wall time and CPU time (user + sys of the process tree). Other processes'
assistants are seen by the process scan; `unshare --pid --fork --mount-proc python ...`
keeps them out (as root), so both trees see the same machine.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_list import corpus_env
from bench_many_files import SCANDIR, cpu_run, start_live_session

RUN = "import sys; sys.argv[0] = 'llm-session'; from llm_sessions.entry import main; main()"


def _answers(cmd: list[str], env: dict) -> dict:
    out = subprocess.run(cmd, env=env, capture_output=True, check=True, cwd=tempfile.gettempdir()).stdout
    return {s["id"]: (s["tokens"], s["cost_usd"], s["health"]) for s in json.loads(out)["sessions"] if s.get("transcript")}


def _table(title: str, runs: dict[str, list[tuple[float, float]]]) -> None:
    print(f"{title} (load {os.getloadavg()[0]:.1f})")
    for name, rs in runs.items():
        walls, cpus = [w for w, _ in rs], [c for _, c in rs]
        print(f"  {name:<14} wall {statistics.median(walls):7.3f} s ({min(walls):.3f}-{max(walls):.3f})"
              f"  cpu {statistics.median(cpus):7.3f} s ({min(cpus):.3f}-{max(cpus):.3f})")


def _alternate(cmds: dict[str, tuple[list[str], dict]], rounds: int) -> dict[str, list[tuple[float, float]]]:
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in cmds}
    for i in range(rounds):
        for name in list(cmds)[:: 1 if i % 2 == 0 else -1]:
            runs[name].append(cpu_run(*cmds[name]))
    return runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", type=Path, required=True, help="a source tree holding llm_sessions/")
    ap.add_argument("--after", type=Path, default=Path(__file__).resolve().parents[1])
    ap.add_argument("--data", type=Path, nargs="*", default=[])
    ap.add_argument("--many", type=Path)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="llm-ab-warm-"))
    trees = {"before": args.before.resolve(), "after": args.after.resolve()}
    ours = [sys.executable, "-c", RUN, "list"]
    for data in args.data:
        data = data.resolve()
        cmds = {}
        for name, src in trees.items():
            env = corpus_env(data, work / f"{data.name}-{name}") | {"PYTHONPATH": str(src)}
            cmds[name] = (ours + ["--all", "--json"], env)
            _answers(*cmds[name])  # the scan cache, and bytecode, written
        same = _answers(*cmds["before"]) == _answers(*cmds["after"])
        _table(f"{data.name}: warm list --all --json; tokens, cost and health equal in both trees: {same}",
               _alternate(cmds, args.rounds))
    if args.many:
        root = args.many.resolve()
        live = start_live_session(root)
        try:
            cmds = {"scandir floor": ([sys.executable, "-c", SCANDIR, str(root / ".claude")], dict(os.environ))}
            for name, src in trees.items():
                env = {k: v for k, v in os.environ.items() if not k.startswith(("LLM_SESSION_", "CLAUDE_", "CODEX_"))}
                env.update(HOME=str(root), CLAUDE_CONFIG_DIR=str(root / ".claude"), CODEX_HOME=str(root / ".codex"),
                           XDG_CONFIG_HOME=str(root / ".config"), LLM_SESSION_HOME=str(work / f"many-{name}"),
                           PYTHONPATH=str(src))
                env.pop("PYTHONDONTWRITEBYTECODE", None)
                cmds[f"{name} list"] = (ours + ["--json"], env)
                cmds[f"{name} list --all"] = (ours + ["--all", "--json"], env)
                _answers(*cmds[f"{name} list --all"])  # a warm cache
                _answers(*cmds[f"{name} list"])  # and, since r4-scope, the scoped cache it seeds
            _table(f"{root.name}: warm list and list --all, one fake assistant running", _alternate(cmds, args.rounds))
        finally:
            live.kill()  # our own fake assistant, by its pid
            live.wait()
    shutil.rmtree(work, ignore_errors=True)  # the trees' scan caches (95 MB each at 100,000 files)


if __name__ == "__main__":
    main()
