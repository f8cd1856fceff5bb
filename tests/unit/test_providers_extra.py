"""Gemini, Aider, Cursor and Copilot providers over generated files in a fake HOME."""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from llm_sessions.config import load_settings
from llm_sessions.core.accounting.estimate import BASE_TOKENS, text_tokens
from llm_sessions.core.accounting.providers.aider import AiderProvider, parse_count
from llm_sessions.core.accounting.providers.base import Provider
from llm_sessions.core.accounting.providers.copilot import CopilotProvider
from llm_sessions.core.accounting.providers.cursor import CursorProvider
from llm_sessions.core.accounting.providers.gemini import GeminiProvider, gemini_usage


def _bump(path: Path) -> None:
    """Move the mtime forward so a rewrite within one clock tick still counts as a change."""
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def _jsonl(path: Path, *records, mode: str = "w") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, mode, encoding="utf-8") as fh:
        for r in records:
            fh.write((r if isinstance(r, str) else json.dumps(r)) + "\n")


def _window(model):
    return {"gemini-2.5-pro": 1_048_576, "gpt-4o": 128_000, "claude-sonnet-4": 200_000}.get(model)


# ----------------------------------------------------------------------------- gemini


def _gem(i, tokens=None, kind="gemini", **extra):
    msg = {"id": f"m{i}", "timestamp": f"2026-11-24T10:00:{i:02d}Z", "type": kind, "content": f"text {i}"}
    if kind == "gemini":
        msg["model"] = "gemini-2.5-pro"
        msg["tokens"] = tokens or {"input": 1000, "output": 100, "cached": 400, "thoughts": 50, "tool": 10, "total": 1160}
    msg.update(extra)
    return msg


def test_gemini_usage_mapping_sums_to_geminis_total():
    u = gemini_usage({"input": 1000, "output": 100, "cached": 400, "thoughts": 50, "tool": 10, "total": 1160})
    assert (u.input, u.cache_read, u.output, u.cache_creation) == (610, 400, 150, 0)
    assert u.total == 1160 and u.exact


def test_gemini_jsonl_replay_last_copy_wins_set_and_rewind(fake_env):
    chats = Path(fake_env["GEMINI_DIR"]) / "tmp" / "abc123" / "chats"
    path = chats / "session-2026-11-24T10-00-deadbeef.jsonl"
    _jsonl(
        path,
        {"sessionId": "gem-1", "projectHash": "abc123", "startTime": "2026-11-24T10:00:00Z", "directories": ["/w/proj"]},
        _gem(1, kind="user"),
        _gem(2, {"input": 500, "output": 10, "cached": 0, "thoughts": 0, "tool": 0, "total": 510}),
        # m2 updated (tool calls finished): re-appended, must replace the first copy
        _gem(2, {"input": 1000, "output": 100, "cached": 400, "thoughts": 50, "tool": 10, "total": 1160}),
        "not json at all",
        {"weird": True},
        {"$set": {"summary": "Fix the parser", "lastUpdated": "2026-11-24T10:05:00Z"}},
    )
    p = GeminiProvider(fake_env, context_window=_window)
    [s] = p.scan().sessions
    assert s.id == "gem-1" and s.cwd == "/w/proj" and s.title == "Fix the parser"
    assert (s.usage.input, s.usage.cache_read, s.usage.output) == (610, 400, 150)
    assert s.turns == 1 and s.malformed_lines == 2 and s.awaiting_user
    assert s.context.used == 1010 and s.context.window == 1_048_576 and s.context.exact
    assert s.last_activity == datetime(2026, 11, 24, 10, 5, tzinfo=UTC)

    # Appending: only the new bytes are read; a rewind to m3 drops m3 and m4 from the
    # conversation, but m4's request was made and billed, so it stays in the usage.
    _jsonl(path, _gem(3, kind="user"), _gem(4, {"input": 3000, "output": 10, "cached": 0, "thoughts": 0, "tool": 0, "total": 3010}),
           {"$rewindTo": "m3"}, mode="a")
    _bump(path)
    [s] = p.scan().sessions
    assert s.turns == 2 and s.usage.total == 1160 + 3010
    assert s.context.used == 1010  # the conversation is back at m2
    _jsonl(path, _gem(5, kind="user"), _gem(6), {"$set": {"messages": [_gem(5, kind="user"), _gem(6)]}}, mode="a")
    _bump(path)
    [s] = p.scan().sessions
    assert s.turns == 3 and s.usage.total == 2 * 1160 + 3010  # a $set batch upserts, never doubles


def test_gemini_unchanged_file_is_not_reparsed_and_legacy_json(fake_env):
    chats = Path(fake_env["GEMINI_DIR"]) / "tmp" / "slug" / "chats"
    chats.mkdir(parents=True)
    (Path(fake_env["GEMINI_DIR"]) / "projects.json").write_text(json.dumps({"projects": {"/w/legacy": "slug"}}))
    legacy = chats / "session-2026-11-20T09-00-cafe0001.json"
    legacy.write_text(json.dumps({
        "sessionId": "legacy-1", "startTime": "2026-11-20T09:00:00Z",
        "messages": [_gem(1, kind="user"), _gem(2, toolCalls=[{"status": "error"}]), _gem(3, kind="error")],
    }))
    p = GeminiProvider(fake_env)
    [s] = p.scan().sessions
    assert s.id == "legacy-1" and s.cwd == "/w/legacy"
    assert s.tool_errors == 1 and s.api_errors == 1 and s.usage.total == 1160
    assert s.context is None  # no window lookup given: no guess
    parses = p.parses
    p.scan()
    assert p.parses == parses


def test_gemini_half_written_line_waits_for_the_rest(fake_env):
    path = Path(fake_env["GEMINI_DIR"]) / "tmp" / "h" / "chats" / "session-x.jsonl"
    _jsonl(path, {"sessionId": "g", "startTime": "2026-11-24T10:00:00Z"})
    line = json.dumps(_gem(1))
    with open(path, "a") as fh:
        fh.write(line[:20])
    p = GeminiProvider(fake_env)
    assert p.scan().sessions[0].turns == 0
    with open(path, "a") as fh:
        fh.write(line[20:] + "\n")
    _bump(path)
    [s] = p.scan().sessions
    assert s.turns == 1 and s.malformed_lines == 0


# ----------------------------------------------------------------------------- aider

AIDER_LOG = """# aider chat started at 2026-11-23 09:00:00

> /usr/bin/aider --model gpt-4o
> Aider v0.80.0
> Model: gpt-4o with diff edit format

#### add a test

Sure, here is the test.

> Tokens: 812 sent, 95 received. Cost: $0.0030 message, $0.0030 session.

# aider chat started at 2026-11-24 10:00:00

> Main model: claude-sonnet-4 with diff edit format

#### refactor

Done.

> Tokens: 4.5k sent, 1.2k cache write, 3.3k cache hit, 429 received. Cost: $0.0018 message, $0.0018 session.

#### and again

> Tokens: 12k sent, 1.1M cache hit, 1,024 received. Cost: $0.01 message, $0.0118 session.
"""


@pytest.mark.parametrize(("n", "s", "want"), [("812", "", (812, True)), ("4.5", "k", (4500, False)),
                                              ("1.1", "M", (1_100_000, False)), ("1,024", "", (1024, True))])
def test_aider_count_suffixes(n, s, want):
    assert parse_count(n, s) == want


def test_aider_runs_are_sessions_with_counts_and_exactness(tmp_path, fake_env):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    (repo / "src").mkdir()
    (repo / ".aider.chat.history.md").write_text(AIDER_LOG)
    p = AiderProvider(fake_env, context_window=_window)
    assert p.scan().sessions == []  # nowhere to look yet
    p.note_cwds([str(repo / "src")])  # a running aider's cwd inside the repo
    first, second = p.scan().sessions
    assert first.model == "gpt-4o" and first.cost_usd == 0.003
    assert (first.usage.input, first.usage.output, first.usage.exact) == (812, 95, True)
    assert first.last_activity == second.started_at
    assert second.model == "claude-sonnet-4" and second.turns == 2 and second.cost_usd == 0.0118
    u = second.usage
    assert (u.input, u.cache_creation, u.cache_read, u.output) == (16_500, 1_200, 1_103_300, 1_453)
    assert u.exact is False
    assert second.context.used == 12_000 + 1_100_000 and second.context.window == 200_000
    assert second.awaiting_user and second.cwd == str(repo)
    assert first.id != second.id


def test_aider_repos_from_config_and_incremental_append(tmp_path, fake_env):
    repo = tmp_path / "configured"
    repo.mkdir()
    log = repo / ".aider.chat.history.md"
    log.write_text(AIDER_LOG.split("# aider chat started at 2026-11-24")[0])
    settings = load_settings(tmp_path / "none.toml", {"LLM_SESSION_AIDER_REPOS": str(repo)})
    p = AiderProvider(fake_env, settings)
    assert len(p.scan().sessions) == 1
    with open(log, "a") as fh:
        fh.write("# aider chat started at 2026-11-24 11:00:00\n\n#### hi\n\n> Tokens: 10 sent, 5 received.\n")
    _bump(log)
    sessions = p.scan().sessions
    assert len(sessions) == 2 and sessions[1].usage.total == 15 and sessions[1].cost_usd is None
    parses = p.parses
    p.scan()
    assert p.parses == parses


# ----------------------------------------------------------------------------- cursor


def _cursor_db(path: Path, rows: dict[str, object], table: str = "cursorDiskKV") -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE IF NOT EXISTS ItemTable (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB)")
    conn.execute("CREATE TABLE IF NOT EXISTS cursorDiskKV (key TEXT UNIQUE ON CONFLICT REPLACE, value BLOB)")
    for k, v in rows.items():
        conn.execute(f"INSERT INTO {table} VALUES (?, ?)", (k, json.dumps(v) if not isinstance(v, str) else v))
    conn.commit()
    return conn


def test_cursor_reads_wal_db_read_only_and_estimates_missing_counts(tmp_path, fake_env):
    user = Path(fake_env["CURSOR_USER_DIR"])
    project = tmp_path / "proj"
    project.mkdir()
    (project / "main.py").write_text("p" * 4000)
    ws = user / "workspaceStorage" / "h1"
    ws.mkdir(parents=True)
    (ws / "workspace.json").write_text(json.dumps({"folder": f"file://{project}"}))
    _cursor_db(ws / "state.vscdb", {"composer.composerData": {"allComposers": [{"composerId": "c1"}]}}, "ItemTable").close()
    now_ms = 1_795_000_000_000
    writer = _cursor_db(user / "globalStorage" / "state.vscdb", {
        "composerData:c1": {"name": "Exact one", "createdAt": now_ms, "lastUpdatedAt": now_ms + 5000,
                            "modelConfig": {"modelName": "claude-sonnet-4"}, "contextTokensUsed": 42_000,
                            "contextTokenLimit": 200_000,
                            "fullConversationHeadersOnly": [{"bubbleId": "b1", "type": 1}, {"bubbleId": "b2", "type": 2}]},
        "bubbleId:c1:b1": {"type": 1, "text": "hello", "tokenCount": {"inputTokens": 120, "outputTokens": 0}},
        "bubbleId:c1:b2": {"type": 2, "text": "hi!", "tokenCount": {"inputTokens": 0, "outputTokens": 30}},
        "composerData:c2": {"name": "Estimated", "createdAt": now_ms, "lastUpdatedAt": now_ms,
                            "modelConfig": {"modelName": "gpt-4o"}, "contextUsagePercent": 25},
        "bubbleId:c2:x1": {"type": 1, "text": "u" * 400, "tokenCount": {"inputTokens": 0, "outputTokens": 0}},
        "bubbleId:c2:x2": {"type": 2, "text": "a" * 80},
        "bubbleId:c2:x3": "{broken",
    })
    try:
        assert (user / "globalStorage" / "state.vscdb-wal").exists()  # the writer is still open
        p = CursorProvider(fake_env, context_window=_window)
        by_id = {s.id: s for s in p.scan().sessions}
        c1, c2 = by_id["c1"], by_id["c2"]
        assert c1.title == "Exact one" and c1.cwd == str(project) and c1.model == "claude-sonnet-4"
        assert (c1.usage.input, c1.usage.output, c1.usage.exact) == (120, 30, True)
        assert c1.context.used == 42_000 and c1.context.exact and c1.awaiting_user and c1.turns == 1
        assert c2.usage.exact is False
        assert (c2.usage.input, c2.usage.output) == (100 + BASE_TOKENS, 20)
        assert c2.context.used == 32_000 and c2.context.exact is False and c2.malformed_lines == 1
        assert c2.cwd is None

        # A new message in c2 (lastUpdatedAt moves): only c2's bubbles are read again.
        queries = p.queries
        writer.execute("INSERT INTO cursorDiskKV VALUES (?, ?)", ("bubbleId:c2:x4", json.dumps({"type": 1, "text": "more"})))
        writer.execute("INSERT INTO cursorDiskKV VALUES (?, ?)", ("composerData:c2", json.dumps(
            {"name": "Estimated", "createdAt": now_ms, "lastUpdatedAt": now_ms + 9000, "modelConfig": {"modelName": "gpt-4o"}})))
        writer.commit()
        c2 = {s.id: s for s in p.scan().sessions}["c2"]
        assert p.queries == queries + 1
        assert c2.usage.input == 100 + 1 + BASE_TOKENS and not c2.awaiting_user
        # No context figures left: estimated from base + project + messages with the model's window.
        assert c2.context.source == "estimate" and c2.context.window == 128_000
        assert c2.context.used == BASE_TOKENS + sum(text_tokens(t) for t in ("u" * 400, "a" * 80, "more"))
        p.scan()
        assert p.queries == queries + 1
    finally:
        writer.close()


def test_cursor_missing_or_broken_db_is_a_problem_not_a_crash(tmp_path, fake_env):
    p = CursorProvider(fake_env)
    assert p.scan().sessions == []
    db = Path(fake_env["CURSOR_USER_DIR"]) / "globalStorage" / "state.vscdb"
    db.parent.mkdir(parents=True)
    db.write_bytes(b"this is not sqlite" * 100)
    result = p.scan()
    assert result.sessions == [] and any("cannot read" in str(x) for x in result.problems)


# ----------------------------------------------------------------------------- copilot


def test_copilot_events_estimate_tokens(fake_env):
    path = Path(fake_env["COPILOT_HOME"]) / "session-state" / "3bc4d926-f2d2-48ec-81fb-aafb579e671a" / "events.jsonl"
    ev = lambda t, data, s: {"type": t, "data": data, "id": f"e{s}", "timestamp": f"2026-11-24T10:00:{s:02d}Z"}  # noqa: E731
    _jsonl(
        path,
        ev("session.start", {"sessionId": "cp-1", "selectedModel": "gpt-4o", "context": {"cwd": "/w/pay"}}, 0),
        ev("user.message", {"content": "u" * 40}, 1),
        ev("assistant.turn_start", {}, 2),
        ev("assistant.message", {"content": "a" * 80}, 3),
        ev("tool.execution_complete", {"success": False, "result": {"content": "t" * 12}}, 4),
        ev("assistant.message", {"content": "ignored text", "outputTokens": 7}, 5),
        ev("assistant.turn_end", {}, 6),
        ev("some.future_event", {}, 7),
        "{oops",
    )
    p = CopilotProvider(fake_env, context_window=_window)
    [s] = p.scan().sessions
    assert s.id == "cp-1" and s.cwd == "/w/pay" and s.model == "gpt-4o"
    assert s.usage.exact is False
    assert (s.usage.input, s.usage.output) == (BASE_TOKENS + 10 + 3, 20 + 7)
    assert s.tool_errors == 1 and s.turns == 1 and s.awaiting_user and s.malformed_lines == 2
    assert s.context.exact is False and s.context.used == s.usage.total
    _jsonl(path, ev("user.message", {"content": "next"}, 9), mode="a")
    _bump(path)
    [s] = p.scan().sessions
    assert not s.awaiting_user and s.usage.input == BASE_TOKENS + 14


def test_all_four_satisfy_the_provider_protocol(fake_env):
    providers: list[Provider] = [GeminiProvider(fake_env), AiderProvider(fake_env), CursorProvider(fake_env), CopilotProvider(fake_env)]
    for p in providers:
        assert p.tool in {"gemini", "aider", "cursor", "copilot"}
        assert all(isinstance(r, Path) for r in p.roots())
        result = p.scan()  # nothing on disk: empty, no crash
        assert result.sessions == []
        assert all(str(r).startswith(fake_env["HOME"]) for r in p.roots()) or p.tool == "aider"


def test_truncated_or_replaced_logs_are_read_from_the_start(fake_env, tmp_path):
    path = Path(fake_env["COPILOT_HOME"]) / "session-state" / "s1" / "events.jsonl"
    ev = lambda t, data: {"type": t, "data": data, "timestamp": "2026-11-24T10:00:00Z"}  # noqa: E731
    _jsonl(path, ev("session.start", {"sessionId": "one"}), ev("user.message", {"content": "u" * 400}),
           ev("assistant.turn_end", {}))
    p = CopilotProvider(fake_env)
    [s] = p.scan().sessions
    assert s.id == "one" and s.turns == 1 and s.usage.input == BASE_TOKENS + 100
    _jsonl(path, ev("session.start", {"sessionId": "two"}))  # rewritten, shorter
    _bump(path)
    [s] = p.scan().sessions
    assert s.id == "two" and s.turns == 0 and s.usage.input == BASE_TOKENS

    repo = tmp_path / "r"
    repo.mkdir()
    log = repo / ".aider.chat.history.md"
    log.write_text(AIDER_LOG)
    a = AiderProvider(fake_env, repos=[str(repo)])
    assert len(a.scan().sessions) == 2
    log.write_text("# aider chat started at 2026-11-25 08:00:00\n")
    _bump(log)
    [only] = a.scan().sessions
    assert only.usage.total == 0 and only.started_at.day == 25


METRICS = ("inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens")


def test_copilot_shutdowns_give_exact_usage_by_differences(fake_env):
    from llm_sessions.core.accounting.pricing import PriceTable

    path = Path(fake_env["COPILOT_HOME"]) / "session-state" / "c0ffee00-0000-4000-8000-000000000001" / "events.jsonl"
    ev = lambda t, data, s: {"type": t, "data": data, "id": f"e{s}", "timestamp": f"2026-11-24T10:{s:02d}:00Z"}  # noqa: E731

    def shutdown(s, **metrics):
        return ev("session.shutdown", {"shutdownType": "routine", "modelMetrics": {
            m: {"requests": {"count": 1}, "usage": dict(zip(METRICS, v, strict=True))}
            for m, v in metrics.items()}}, s)

    _jsonl(path,
           ev("session.start", {"sessionId": "cp", "selectedModel": "claude-sonnet-4.6", "context": {"cwd": "/w"}}, 0),
           ev("user.message", {"content": "hi"}, 1), ev("assistant.turn_end", {}, 2),
           ev("session.usage_checkpoint", {"totalNanoAiu": 1}, 3),
           shutdown(4, **{"claude-sonnet-4.6": (10_000, 500, 6_000, 1_000)}),
           ev("session.resume", {"sessionId": "cp"}, 5),
           ev("user.message", {"content": "again"}, 6), ev("assistant.turn_end", {}, 7),
           # cumulative across the resume: only the difference is new
           shutdown(8, **{"claude-sonnet-4.6": (25_000, 900, 16_000, 2_000), "gpt-5.2": (1_000, 100, 0, 0)}))
    p = CopilotProvider(fake_env, prices=PriceTable.load())
    [s] = p.scan().sessions
    assert s.usage.exact and s.context is None
    # sonnet: input 25,000 - 16,000 read - 2,000 write = 7,000 fresh; gpt-5.2: 1,000 fresh
    assert (s.usage.input, s.usage.output, s.usage.cache_read, s.usage.cache_creation) == (8_000, 1_000, 16_000, 2_000)
    want = (7_000 * 3 + 900 * 15 + 16_000 * 0.3 + 2_000 * 3.75 + 1_000 * 1.75 + 100 * 14) / 1e6
    assert s.cost_usd == pytest.approx(want)
    assert set(s.models_used) == {"claude-sonnet-4.6", "gpt-5.2"}
    # a later turn without a shutdown (a crash, /new): partial, estimated, cost of the exact part
    _jsonl(path, ev("session.resume", {"sessionId": "cp"}, 9), ev("user.message", {"content": "x" * 400}, 10), mode="a")
    _bump(path)
    [s] = p.scan().sessions
    assert not s.usage.exact and s.usage.input == 8_000 + 100 and s.cost_usd == pytest.approx(want)
