"""`llm-session statusline` against `ccusage statusline` on one session of a big history.

    python benchmarks/bench_statusline.py --corpus bench-data/c1g [--rounds 11]
    python benchmarks/bench_statusline.py --size 1GB            # builds the corpus first

Both commands get the same Claude Code status-line JSON (a session of the corpus, with
`rate_limits` and the `context_window` fields ccusage requires), with HOME and
CLAUDE_CONFIG_DIR pointed at the corpus. Each round runs the two side by side, in
alternating order, and the medians of the wall times are compared. Two situations:

- `new turn`: one assistant line is appended to the session's transcript before each
  round, which is when Claude Code refreshes its status line. ccusage's cache is keyed on
  the transcript, so it recomputes; we read the appended line.
- `unchanged`: the same input again within a second. ccusage serves its cached line
  (its default `--cache`, 1 s refresh); we still parse, read and record.

Warm means: both ran once before timing (page cache hot, our per-transcript state and
ccusage's cache present). The transcript is restored afterwards.
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
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from ccusage_compare import OUT, corpus_env, ensure_ccusage  # noqa: E402


def status_input(transcript: Path) -> bytes:
    now = int(time.time())
    return json.dumps({
        "session_id": transcript.stem, "transcript_path": str(transcript), "cwd": "/home/dev/projects/app",
        "model": {"id": "claude-sonnet-4-5-20250929", "display_name": "Sonnet 4.5"},
        "workspace": {"current_dir": "/home/dev/projects/app", "project_dir": "/home/dev/projects/app"},
        "version": "2.1.92", "output_style": {"name": "default"},
        "cost": {"total_cost_usd": 3.41, "total_duration_ms": 2257641, "total_api_duration_ms": 951022,
                 "total_lines_added": 210, "total_lines_removed": 13},
        "context_window": {"total_input_tokens": 120000, "total_output_tokens": 5000, "context_window_size": 200000,
                           "used_percentage": 42, "remaining_percentage": 58,
                           "current_usage": {"input_tokens": 10, "output_tokens": 300, "cache_creation_input_tokens": 4000,
                                             "cache_read_input_tokens": 80000}},
        "rate_limits": {"five_hour": {"used_percentage": 23.5, "resets_at": now + 7200},
                        "seven_day": {"used_percentage": 41.2, "resets_at": now + 86400 * 3}},
    }).encode()


def timed(argv: list[str], raw: bytes, env: dict[str, str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    out = subprocess.run(argv, input=raw, env=env, capture_output=True, check=True)
    return time.perf_counter() - t0, out.stdout.decode(errors="replace").strip()


def next_line(transcript: Path, i: int) -> bytes:
    sid = transcript.stem
    at = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    rec = {"type": "assistant", "uuid": f"bench-{i}", "sessionId": sid, "timestamp": at, "isSidechain": False,
           "requestId": f"req-bench-{i}", "message": {"id": f"msg-bench-{i}", "model": "claude-sonnet-4-5-20250929",
           "role": "assistant", "content": [{"type": "text", "text": "ok"}], "stop_reason": "end_turn",
           "usage": {"input_tokens": 10, "output_tokens": 50, "cache_creation_input_tokens": 200, "cache_read_input_tokens": 90000}}}
    return (json.dumps(rec, separators=(",", ":")) + "\n").encode()


def main(argv: list[str] | None = None) -> int:
    from llm_sessions.synth.__main__ import parse_size
    from llm_sessions.synth.corpus import build_corpus

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--corpus", type=Path)
    p.add_argument("--size", type=parse_size, default=None)
    p.add_argument("--rounds", type=int, default=11)
    args = p.parse_args(argv)
    corpus = args.corpus
    if corpus is None:
        corpus = OUT / "corpus-statusline"
        if corpus.exists():
            shutil.rmtree(corpus)
        build_corpus(corpus, seed=1, target_bytes=args.size)
    truth = json.loads((corpus / "truth.json").read_text())
    env = corpus_env(corpus, truth, all_roots=True)
    state = Path(tempfile.mkdtemp(prefix="bench-statusline-"))
    env["LLM_SESSION_HOME"] = str(state)
    env["NO_COLOR"] = "1"
    history = sum(f.stat().st_size for r in env["CLAUDE_CONFIG_DIR"].split(",") for f in Path(r, "projects").rglob("*.jsonl"))
    transcript = max((f for f in Path(env["CLAUDE_CONFIG_DIR"].split(",")[0], "projects").glob("*/*.jsonl")),
                     key=lambda f: f.stat().st_size)
    backup = transcript.read_bytes()
    ours = [str(Path(sys.executable).with_name("llm-session")), "statusline"]
    if not Path(ours[0]).exists():
        ours = [sys.executable, "-m", "llm_sessions", "statusline"]
    theirs = [str(ensure_ccusage()), "statusline", "--offline"]
    raw = status_input(transcript)
    results: dict[str, dict[str, list[float]]] = {"new turn": {"ours": [], "ccusage": []}, "unchanged": {"ours": [], "ccusage": []}}
    try:
        for argv_ in (ours, theirs):  # warm-up: page cache, our state, ccusage's cache
            timed(argv_, raw, env)
        sample = {"ours": timed(ours, raw, env)[1], "ccusage": timed(theirs, raw, env)[1]}
        for i in range(args.rounds):
            with transcript.open("ab") as fh:
                fh.write(next_line(transcript, i))
            order = [("ours", ours), ("ccusage", theirs)][:: 1 if i % 2 == 0 else -1]
            for name, argv_ in order:
                results["new turn"][name].append(timed(argv_, raw, env)[0])
            for name, argv_ in order:
                results["unchanged"][name].append(timed(argv_, raw, env)[0])
    finally:
        transcript.write_bytes(backup)
        shutil.rmtree(state, ignore_errors=True)
    sys.stdout.write(f"history {history / 1e9:.2f} GB, session transcript {len(backup) / 1e6:.1f} MB, {args.rounds} rounds, "
                     f"alternating order\n")
    for situation, r in results.items():
        mo, mc = statistics.median(r["ours"]) * 1000, statistics.median(r["ccusage"]) * 1000
        sys.stdout.write(f"{situation:<10} median: llm-session {mo:7.1f} ms, ccusage {mc:8.1f} ms, ratio 1/{mc / mo:.1f} "
                         f"(ours min {min(r['ours']) * 1000:.1f}, max {max(r['ours']) * 1000:.1f})\n")
    sys.stdout.write(f"llm-session printed: {sample['ours']}\nccusage printed:     {sample['ccusage']}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
