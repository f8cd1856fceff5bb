"""Fuzzing the line decoders (issue 11): records with fields dropped, retyped, nested deep or
blown up, and raw garbage lines, in every provider's format.

Whatever hypothesis writes into one session's files, a scan must not raise, and the sessions
it did not touch must keep their exact totals: one bad line costs that line, never a file,
a session or a provider.
"""

from __future__ import annotations

import copy
import json
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llm_sessions.config import load_settings
from llm_sessions.core.live.monitor import Monitor

TS = "2026-11-20T10:00:{:02d}.000Z"


def claude_records(sid: str, tag: str) -> list[dict]:
    usage = {"input_tokens": 120, "output_tokens": 30, "cache_creation_input_tokens": 400, "cache_read_input_tokens": 5000,
             "cache_creation": {"ephemeral_5m_input_tokens": 100, "ephemeral_1h_input_tokens": 300}}
    return [
        {"type": "user", "uuid": f"{tag}-u1", "sessionId": sid, "timestamp": TS.format(1), "cwd": "/w",
         "message": {"role": "user", "content": "fix it"}},
        {"type": "assistant", "uuid": f"{tag}-a1", "sessionId": sid, "timestamp": TS.format(2), "cwd": "/w",
         "requestId": f"{tag}-r1", "isSidechain": False,
         "message": {"id": f"{tag}-m1", "model": "claude-sonnet-4-5-20250929", "role": "assistant", "stop_reason": "end_turn",
                     "content": [{"type": "text", "text": "done"}], "usage": usage}},
        {"type": "user", "uuid": f"{tag}-u2", "sessionId": sid, "timestamp": TS.format(3),
         "message": {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "t", "is_error": True, "content": "x"}]}},
        {"type": "system", "subtype": "compact_boundary", "sessionId": sid, "timestamp": TS.format(4), "uuid": f"{tag}-c",
         "compactMetadata": {"trigger": "auto", "preTokens": 170000, "postTokens": 9000}},
        {"type": "summary", "summary": "a title", "leafUuid": f"{tag}-a1"},
    ]


def codex_records(sid: str) -> list[dict]:
    def usage(i, o):
        return {"input_tokens": i, "cached_input_tokens": i // 2, "output_tokens": o, "reasoning_output_tokens": 1,
                "total_tokens": i + o}

    return [
        {"timestamp": TS.format(0), "type": "session_meta", "payload": {"id": sid, "timestamp": TS.format(0), "cwd": "/r",
                                                                       "git": {"branch": "main"}}},
        {"timestamp": TS.format(1), "type": "turn_context", "payload": {"model": "gpt-5-codex", "cwd": "/r"}},
        {"timestamp": TS.format(2), "type": "event_msg", "payload": {"type": "token_count", "info": {
            "total_token_usage": usage(1000, 100), "last_token_usage": usage(1000, 100), "model_context_window": 272000},
            "rate_limits": {"primary": {"used_percent": 12.5, "resets_at": 1790000000, "window_minutes": 300}}}},
        {"timestamp": TS.format(3), "type": "event_msg", "payload": {"type": "user_message", "message": "go"}},
    ]


def gemini_records(sid: str, tag: str) -> list[dict]:
    return [
        {"sessionId": sid, "startTime": TS.format(0), "projectHash": "abc"},
        {"id": f"{tag}-1", "type": "user", "timestamp": TS.format(1), "content": "hi"},
        {"id": f"{tag}-2", "type": "gemini", "timestamp": TS.format(2), "model": "gemini-2.5-pro", "content": "ok",
         "tokens": {"input": 1000, "output": 100, "cached": 400, "thoughts": 50, "tool": 10, "total": 1160},
         "toolCalls": [{"id": "c", "status": "error"}]},
        {"$set": {"summary": "t"}},
    ]


def copilot_records(sid: str) -> list[dict]:
    return [
        {"type": "session.start", "data": {"sessionId": sid, "context": {"cwd": "/c"}, "selectedModel": "gpt-5"},
         "timestamp": TS.format(0)},
        {"type": "user.message", "data": {"content": "hello there"}, "timestamp": TS.format(1)},
        {"type": "assistant.message", "data": {"content": "hi", "outputTokens": 40}, "timestamp": TS.format(2)},
        {"type": "tool.execution_complete", "data": {"success": False, "result": {"content": "boom"}}, "timestamp": TS.format(3)},
        {"type": "assistant.turn_end", "data": {}, "timestamp": TS.format(4)},
    ]


def write_home(home: Path, victim: dict[str, list] | None) -> None:
    """Clean sessions of every provider, plus the victim lines (bytes) where the fuzzer puts them."""

    def jsonl(path: Path, lines) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as fh:
            for line in lines:
                fh.write((line if isinstance(line, bytes) else json.dumps(line).encode()) + b"\n")

    jsonl(home / ".claude" / "projects" / "-clean" / "clean-claude.jsonl", claude_records("clean-claude", "clean"))
    jsonl(home / ".codex" / "sessions" / "2026" / "11" / "20" / "rollout-2026-11-20T10-00-00-clean-codex.jsonl",
          codex_records("clean-codex"))
    jsonl(home / ".gemini" / "tmp" / "p" / "chats" / "session-clean.jsonl", gemini_records("clean-gemini", "cg"))
    jsonl(home / ".copilot" / "session-state" / "clean" / "events.jsonl", copilot_records("clean-copilot"))
    if victim is None:
        return
    jsonl(home / ".claude" / "projects" / "-victim" / "victim.jsonl", victim["claude"])
    jsonl(home / ".codex" / "sessions" / "2026" / "11" / "20" / "rollout-2026-11-20T10-00-00-victim.jsonl", victim["codex"])
    jsonl(home / ".gemini" / "tmp" / "q" / "chats" / "session-victim.jsonl", victim["gemini"])
    jsonl(home / ".copilot" / "session-state" / "victim" / "events.jsonl", victim["copilot"])


def scan(home: Path) -> dict:
    env = {"HOME": str(home), "CLAUDE_CONFIG_DIR": str(home / ".claude"), "CODEX_HOME": str(home / ".codex"),
           "GEMINI_DIR": str(home / ".gemini"), "COPILOT_HOME": str(home / ".copilot"),
           "CURSOR_USER_DIR": str(home / "cursor")}
    snap = Monitor(load_settings(home / "none.toml", {}), env, cache_dir=home / "cache").scan_files()
    return {s.id: s for s in snap.sessions}


def _clean_figures() -> dict:
    home = Path(tempfile.mkdtemp(prefix="fuzz-ref-"))
    try:
        write_home(home, None)
        got = scan(home)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    return {sid: (s.usage, s.turns, s.api_errors, s.tool_errors, s.cost_usd) for sid, s in got.items()}


CLEAN = _clean_figures()
assert set(CLEAN) == {"clean-claude", "clean-codex", "clean-gemini", "clean-copilot"}

# ------------------------------------------------------------------------- strategies

JSON_LEAVES = st.one_of(
    st.none(), st.booleans(), st.text(max_size=8),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, -1, 2**31, 2**63, 2**64, -(2**63), 10**12, 10**30]),
    st.floats(allow_nan=True, allow_infinity=True),
)
JSON_VALUES = st.recursive(JSON_LEAVES, lambda kids: st.one_of(st.lists(kids, max_size=3),
                                                              st.dictionaries(st.text(max_size=5), kids, max_size=3)),
                           max_leaves=8)


def _paths(value, prefix=()):
    """Every (path) to a value inside a JSON record."""
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _paths(v, (*prefix, i))


@st.composite
def mutated(draw, record: dict):
    """A record with one to three edits: a field dropped, retyped, or nested very deep."""
    rec = copy.deepcopy(record)
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(rec) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = rec
        for key in path[:-1]:
            parent = parent[key]
        how = draw(st.sampled_from(["drop", "retype", "deep"]))
        if how == "drop" and isinstance(parent, dict):
            del parent[path[-1]]
        elif how == "deep":
            depth = draw(st.sampled_from([50, 200, 1200]))
            parent[path[-1]] = json.loads("[" * depth + "]" * depth) if depth < 900 else {"x": 1}
            if depth >= 900:  # too deep for json.dumps: written as raw text below
                parent[path[-1]] = "__DEEP__"
        else:
            parent[path[-1]] = draw(JSON_VALUES)
    return rec


def encode(rec) -> bytes:
    text = json.dumps(rec, allow_nan=True)
    return text.replace('"__DEEP__"', "[" * 1200 + "]" * 1200).encode()


RAW_GARBAGE = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([b"{", b"[1,2", b'{"type":"assistant"', b"\xff\xfe\x00", b"null", b'"\\ud800"', b"NaN", b"1e400"]),
)


def lines_for(records):
    one = st.one_of(st.sampled_from(records).flatmap(mutated).map(encode), st.sampled_from(records).map(encode), RAW_GARBAGE)
    return st.lists(one, min_size=1, max_size=8)


# derandomize: CI sees the same 150 cases every run (a wider hunt: set derandomize=False locally)
@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    claude=lines_for(claude_records("victim", "v")),
    codex=lines_for(codex_records("victim-codex")),
    gemini=lines_for(gemini_records("victim-gemini", "vg")),
    copilot=lines_for(copilot_records("victim-copilot")),
)
def test_no_record_escapes_and_untouched_sessions_keep_exact_totals(claude, codex, gemini, copilot):
    home = Path(tempfile.mkdtemp(prefix="fuzz-"))
    try:
        write_home(home, {"claude": claude, "codex": codex, "gemini": gemini, "copilot": copilot})
        got = scan(home)  # must not raise
        for sid, figures in CLEAN.items():
            s = got[sid]
            assert (s.usage, s.turns, s.api_errors, s.tool_errors, s.cost_usd) == figures, sid
        for s in got.values():
            assert all(v >= 0 for v in (s.usage.input, s.usage.output, s.usage.cache_creation, s.usage.cache_read))
            assert s.usage.total <= 10**13
        again = scan(home)  # and a warm run from the cache agrees
        assert {k: v.usage for k, v in again.items()} == {k: v.usage for k, v in got.items()}
    finally:
        shutil.rmtree(home, ignore_errors=True)
