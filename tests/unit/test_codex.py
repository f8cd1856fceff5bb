"""The Codex CLI provider: cumulative counters, re-emits, null info, forks, rate limits."""

from __future__ import annotations

import json
from pathlib import Path

from llm_sessions.core.accounting.providers.codex import CodexProvider


def line(ts, kind, payload):
    return json.dumps({"timestamp": ts, "type": kind, "payload": payload}, separators=(",", ":"))


def meta(ts, sid, forked=None):
    p = {"id": sid, "timestamp": ts, "cwd": "/repo", "cli_version": "0.60.0", "git": {"branch": "main"}}
    if forked:
        p["forked_from_id"] = forked
    return line(ts, "session_meta", p)


def tokens(ts, total, last, window=272000, rates=None):
    def u(i, c, o, r):
        return {"input_tokens": i, "cached_input_tokens": c, "output_tokens": o, "reasoning_output_tokens": r,
                "total_tokens": i + o}
    info = None if total is None else {"total_token_usage": u(*total), "last_token_usage": u(*last),
                                       "model_context_window": window}
    return line(ts, "event_msg", {"type": "token_count", "info": info, "rate_limits": rates})


def rollout(home: Path, name: str, lines: list[str]) -> Path:
    p = home / ".codex" / "sessions" / "2026" / "11" / "20" / f"rollout-2026-11-20T10-00-00-{name}.jsonl"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text("\n".join(lines) + "\n")
    return p


def sessions(home: Path):
    return {s.id: s for s in CodexProvider({"HOME": str(home)}).scan().sessions}


def test_totals_from_the_cumulative_counter_not_the_sum(tmp_path):
    rates = {"primary": {"used_percent": 12.5, "window_minutes": 300, "resets_at": 1790000000},
             "secondary": {"used_percent": 40.0, "window_minutes": 10080, "resets_at": 1790500000}}
    rollout(tmp_path, "a", [
        meta("2026-11-20T10:00:00.000Z", "sid-a"),
        line("2026-11-20T10:00:00.100Z", "turn_context", {"cwd": "/repo", "model": "gpt-5-codex"}),
        tokens("2026-11-20T10:00:01.000Z", None, None),  # info null: tolerated
        tokens("2026-11-20T10:00:02.000Z", (1000, 200, 50, 10), (1000, 200, 50, 10)),
        tokens("2026-11-20T10:00:03.000Z", (1000, 200, 50, 10), (1000, 200, 50, 10)),  # re-emitted
        tokens("2026-11-20T10:00:04.000Z", (2500, 1200, 90, 20), (1500, 1000, 40, 10), rates=rates),
    ])
    s = sessions(tmp_path)["sid-a"]
    assert (s.usage.input, s.usage.cache_read, s.usage.cache_creation, s.usage.output) == (1300, 1200, 0, 90)
    assert s.usage.total == 2590
    assert s.turns == 2
    assert (s.context.used, s.context.window) == (1540, 272000)
    assert s.model == "gpt-5-codex" and s.git_branch == "main" and s.cwd == "/repo"
    assert [(r.name, r.used_percent) for r in s.rate_limits] == [("primary", 12.5), ("secondary", 40.0)]
    assert s.cost_usd is None  # no price table given: unknown, never 0


def test_fork_does_not_count_the_parents_replay(tmp_path):
    rollout(tmp_path, "fork", [
        meta("2026-11-20T11:00:00.000Z", "sid-fork", forked="sid-parent"),
        meta("2026-11-20T10:00:00.000Z", "sid-parent"),
        tokens("2026-11-20T10:00:05.000Z", (5000, 1000, 300, 0), (5000, 1000, 300, 0)),
        tokens("2026-11-20T11:00:05.000Z", (6000, 1500, 350, 0), (1000, 500, 50, 0)),
    ])
    s = sessions(tmp_path)["sid-fork"]
    assert (s.usage.input, s.usage.cache_read, s.usage.output) == (500, 500, 50)
    assert s.turns == 1


def test_failed_commands_are_tool_errors(tmp_path):
    out = json.dumps({"output": "boom", "metadata": {"exit_code": 2}})
    ok = json.dumps({"output": "fine", "metadata": {"exit_code": 0}})
    rollout(tmp_path, "b", [
        meta("2026-11-20T10:00:00.000Z", "sid-b"),
        line("2026-11-20T10:00:01.000Z", "response_item", {"type": "function_call_output", "call_id": "c1", "output": out}),
        line("2026-11-20T10:00:02.000Z", "response_item", {"type": "function_call_output", "call_id": "c2", "output": ok}),
        "{garbage",
    ])
    s = sessions(tmp_path)["sid-b"]
    assert s.tool_errors == 1 and s.malformed_lines == 1
