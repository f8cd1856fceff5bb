"""A fake assistant that writes a transcript at human pace, for the dashboard's demo mode.

Run as a child process:

    python -m llm_sessions.synth.live --tool claude --home HOME --cwd CWD --session-id ID \
        [--pace SECONDS] [--seed N] [--turns N]

It appends one turn every few seconds (jittered) to exactly the path the real assistant
would use under HOME, flushing every line, so the monitor's tailer, discovery and health see
a session that behaves like a live one: context grows turn by turn (big file reads), an
auto-compaction drops it, a tool fails now and then. For Claude it also writes
HOME/.claude/sessions/<pid>.json as newer builds do (procStart, status idle/busy) and
removes it on exit. Codex rollouts
go to HOME/.codex/sessions/YYYY/MM/DD/ (CODEX_HOME is ignored: HOME is the whole fake). SIGTERM and
SIGINT end it cleanly (exit status 0).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from llm_sessions.synth.claude_options import ClaudeOptions
from llm_sessions.synth.claude_session import ClaudeSession
from llm_sessions.synth.clock import WallClock
from llm_sessions.synth.codex_session import CodexSession
from llm_sessions.synth.codex_writer import CodexOptions
from llm_sessions.synth.corpus_layout import claude_project_dir


def claude_transcript_path(home: Path, cwd: str, session_id: str) -> Path:
    """Where Claude Code keeps the transcript of `session_id` started in `cwd`."""
    return Path(home) / ".claude" / "projects" / claude_project_dir(cwd) / f"{session_id}.jsonl"


class _LiveSink:
    """Appends and flushes each line at once, pausing briefly so a turn streams in."""

    def __init__(self, base: Path, rng: random.Random, pace: float) -> None:
        self.base = base
        self.rng = rng
        self.pace = pace
        self.handles: dict[str, BinaryIO] = {}

    def __call__(self, rel: str, line: bytes, complete: bool = True) -> None:
        f = self.handles.get(rel)
        if f is None:
            path = self.base / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            f = self.handles[rel] = open(path, "ab")  # kept open like the real tools
        f.write(line + b"\n" if complete else line)
        f.flush()
        time.sleep(self.pace * self.rng.uniform(0.02, 0.08))

    def close(self) -> None:
        for f in self.handles.values():
            f.close()
        self.handles.clear()


def _stop(signum, frame) -> None:
    raise SystemExit(0)


def _loop(turn, turns: int, pace: float, rng: random.Random) -> None:
    i = 0
    while turns <= 0 or i < turns:
        turn(i)
        i += 1
        time.sleep(pace * rng.uniform(0.6, 1.4))


def _proc_start() -> str | None:
    """This process's start time in clock ticks (field 22 of /proc/self/stat), Linux only."""
    try:
        raw = Path("/proc/self/stat").read_bytes()
    except OSError:
        return None
    return raw[raw.rfind(b")") + 2:].split()[19].decode()


def run_claude(home: Path, cwd: str, session_id: str, *, pace: float, seed: int, turns: int) -> None:
    rng = random.Random(seed)
    sink = _LiveSink(home / ".claude", rng, pace)
    opts = ClaudeOptions(turns=max(turns, 1), big_reads=True, tool_error_rate=0.08, compact_at=160_000)
    session = ClaudeSession(rng, session_id=session_id, cwd=cwd, project_dir=claude_project_dir(cwd), clock=WallClock(),
                            sink=sink, traps=Counter(), opts=opts)
    pid_file = home / ".claude" / "sessions" / f"{os.getpid()}.json"
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    started_ms = int(datetime.now(UTC).timestamp() * 1000)
    record = {"pid": os.getpid(), "sessionId": session_id, "cwd": cwd, "startedAt": started_ms,
              "kind": "interactive", "entrypoint": "cli"}
    if _proc_start() is not None:
        record["procStart"] = _proc_start()

    def status(state: str) -> None:
        """As 2.1.2xx builds do: idle at the prompt, busy while a turn runs."""
        record.update(status=state, statusUpdatedAt=int(datetime.now(UTC).timestamp() * 1000))
        tmp = pid_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(record))
        os.replace(tmp, pid_file)

    status("idle")
    try:
        def turn(i: int) -> None:
            events = [e for e, p in (("side", 0.1), ("api_error", 0.03), ("meta", 0.05)) if rng.random() < p]
            status("busy")
            session.turn(i, {i: events})
            status("idle")
            _status_line(session_id, claude_transcript_path(home, cwd, session_id), cwd, started_ms / 1000)

        _loop(turn, turns, pace, rng)
    finally:
        sink.close()
        pid_file.unlink(missing_ok=True)


def _status_line(session_id: str, transcript: Path, cwd: str, started: float) -> None:
    """Feed llm-session's status line as Claude Code would after a turn, with made-up
    account limits that fill at a steady pace, so the demo shows its limits too."""
    from llm_sessions.cli_statusline import compute

    now = time.time()
    minutes = (now - started) / 60
    block_end = int(started // 3600 * 3600 + 5 * 3600)
    data = {
        "session_id": session_id, "transcript_path": str(transcript), "cwd": cwd,
        "model": {"id": "claude-sonnet-4-5-20250929", "display_name": "Sonnet 4.5"},
        "rate_limits": {
            "five_hour": {"used_percentage": round(min(100.0, 31 + 0.8 * minutes), 1), "resets_at": block_end},
            "seven_day": {"used_percentage": round(min(100.0, 18 + 0.05 * minutes), 1), "resets_at": block_end + 4 * 86400},
        },
    }
    try:
        compute(json.dumps(data).encode(), os.environ, now, pid=(os.getpid(), None))
    except Exception:  # the demo's status line is decoration; a turn must never fail for it
        pass


def run_codex(home: Path, cwd: str, session_id: str, *, pace: float, seed: int, turns: int) -> None:
    rng = random.Random(seed)
    sink = _LiveSink(home / ".codex", rng, pace)
    now = datetime.now(UTC)
    rel = f"sessions/{now:%Y/%m/%d}/rollout-{now:%Y-%m-%dT%H-%M-%S}-{session_id}.jsonl"
    session = CodexSession(rng, session_id=session_id, cwd=cwd, path=rel, clock=WallClock(), sink=sink, traps=Counter(),
                           opts=CodexOptions(turns=max(turns, 1), fail_rate=0.08, compact_at=200_000))
    try:
        session.start()
        _loop(lambda i: session.turn(i, error_event=rng.random() < 0.03), turns, pace, rng)
    finally:
        sink.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m llm_sessions.synth.live", description=__doc__.split("\n")[0])
    parser.add_argument("--tool", choices=("claude", "codex"), required=True)
    parser.add_argument("--home", type=Path, required=True, help="the fake HOME to write under")
    parser.add_argument("--cwd", required=True, help="the project folder the session pretends to run in")
    parser.add_argument("--session-id", required=True)
    parser.add_argument("--pace", type=float, default=4.0, help="mean seconds between turns")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--turns", type=int, default=0, help="stop after this many turns (0: until signalled)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    run = run_claude if args.tool == "claude" else run_codex
    try:
        run(args.home, args.cwd, args.session_id, pace=args.pace, seed=args.seed, turns=args.turns)
    except SystemExit as e:
        return int(e.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
