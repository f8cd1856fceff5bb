"""Format drift: counted during normal scans, reported by `doctor`, one number on the Snapshot."""

from __future__ import annotations

import json
from pathlib import Path

from llm_sessions.config import load_settings
from llm_sessions.core.accounting.drift import warning_line
from llm_sessions.core.live.monitor import Monitor


def _write(path: Path, *records) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r, separators=(",", ":"))) + "\n" for r in records))


def _assistant(mid, usage, version="2.1.99", **extra):
    return {"type": "assistant", "sessionId": "s1", "version": version, "timestamp": "2026-11-20T10:00:00Z", "cwd": "/w",
            "requestId": f"r{mid}", "message": {"id": mid, "model": "claude-opus-4-6", "usage": usage}, **extra}


def test_newer_claude_and_codex_usage_formats_are_counted(tmp_path):
    home = tmp_path / "home"
    base = {"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 0}
    _write(home / ".claude" / "projects" / "-w" / "s1.jsonl",
           _assistant("m1", base),
           _assistant("m2", {**base, "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_24h_input_tokens": 7},
                             "premium_tokens": 3}, version="2.2.0"),
           {"type": "x-usage-report", "usage": {"input_tokens": 9}, "timestamp": "2026-11-20T10:01:00Z"},
           {"type": "system", "subtype": "x-new-subtype", "timestamp": "2026-11-20T10:01:00Z"},
           {"type": "ai-title", "aiTitle": "hello", "sessionId": "s1"},
           "not json")
    _write(home / ".claude" / "projects" / "-w" / "ghost.jsonl", {"type": "ai-title", "aiTitle": "x", "sessionId": "ghost"},
           {"type": "agent-name", "agentName": "a", "sessionId": "ghost"})
    u = {"input_tokens": 100, "cached_input_tokens": 0, "output_tokens": 5, "reasoning_output_tokens": 0, "total_tokens": 105,
         "image_tokens": 4}
    _write(home / ".codex" / "sessions" / "2026" / "11" / "20" / "rollout-2026-11-20T10-00-00-c1.jsonl",
           {"timestamp": "2026-11-20T10:00:00Z", "type": "session_meta", "payload": {"id": "c1", "cli_version": "0.150.0"}},
           {"timestamp": "2026-11-20T10:00:01Z", "type": "event_msg", "payload": {"type": "token_count", "info": {
               "total_token_usage": u, "last_token_usage": u, "model_context_window": 272000}}},
           {"timestamp": "2026-11-20T10:00:02Z", "type": "x_usage_ledger", "payload": {"input_tokens": 3}})
    mon = Monitor(load_settings(tmp_path / "none.toml", {}), {"HOME": str(home)})
    snap = mon.scan_files()
    assert [s.id for s in snap.sessions if s.tool == "claude"] == ["s1"]  # the ghost stub is no session
    report = mon.drift_report().as_dict()
    tools = {t["tool"]: t for t in report["assistants"]}
    claude = {u["what"]: u for u in tools["claude"]["not_understood"]}
    assert set(claude) == {"usage:cache_creation.ephemeral_24h_input_tokens", "usage:premium_tokens", "record:x-usage-report",
                           "subtype:x-new-subtype"}
    assert claude["record:x-usage-report"]["example"].endswith("s1.jsonl")
    assert tools["claude"]["versions"] == {"2.1.99": 1, "2.2.0": 1}
    assert tools["claude"]["malformed_lines"] == 1
    assert tools["claude"]["files_skipped"] == [{"why": "no conversation record (ghost stub or junk)", "files": 1,
                                                 "example": str(home / ".claude" / "projects" / "-w" / "ghost.jsonl")}]
    codex = {u["what"] for u in tools["codex"]["not_understood"]}
    assert codex == {"usage:image_tokens", "record:x_usage_ledger"}
    # usage-bearing: 2 unknown Claude usage fields + 1 Claude record with usage + 2 Codex (field, record)
    assert snap.format_drift == report["usage_records_not_understood"] == 5
    assert warning_line(snap.format_drift).startswith("5 usage records of a newer format were skipped")
    assert warning_line(0) is None


def test_drift_counts_survive_the_scan_cache(tmp_path):
    home = tmp_path / "home"
    _write(home / ".claude" / "projects" / "-w" / "s1.jsonl", _assistant("m1", {"input_tokens": 1, "novel": 2}))
    settings = load_settings(tmp_path / "none.toml", {})
    first = Monitor(settings, {"HOME": str(home)}, cache_dir=tmp_path / "cache")
    assert first.scan_files().format_drift == 1
    warm = Monitor(settings, {"HOME": str(home)}, cache_dir=tmp_path / "cache")
    assert warm.scan_files().format_drift == 1 and warm.parsed_bytes == 0
