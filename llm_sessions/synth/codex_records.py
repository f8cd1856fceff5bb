"""Builders for single Codex CLI rollout records, in the layout Codex writes (see records.py).

Split from records.py (the Claude Code builders and the shared encoders): one file per
format, so a change upstream in one assistant's format is a change in one file.
"""

from __future__ import annotations

from typing import Any

import msgspec

CODEX_VERSION = "0.63.0"



def codex_line(timestamp: str, kind: str, payload: dict) -> dict:
    return {"timestamp": timestamp, "type": kind, "payload": payload}


def codex_token_usage_record(timestamp: str, *, response_id: str, usage: dict, thread: dict | None = None) -> dict:
    """Top-level usage of an automatic compaction request (2026 builds)."""
    payload = {"response_id": response_id, "usage": usage}
    if thread is not None:
        payload["thread_token_usage"] = thread
    return codex_line(timestamp, "token_usage_record", payload)


def codex_thread_settings(timestamp: str, service_tier: str) -> dict:
    return codex_event(timestamp, "thread_settings_applied", thread_settings={"service_tier": service_tier})


def codex_session_meta(
    timestamp: str,
    *,
    session_id: str,
    cwd: str,
    branch: str,
    commit: str,
    forked_from_id: str | None = None,
    history_base: dict | None = None,
    paginated: bool = False,
    source: str | dict = "cli",
) -> dict:
    payload: dict = {"id": session_id}
    if forked_from_id is not None:
        payload["forked_from_id"] = forked_from_id
    if paginated:
        payload["history_mode"] = "paginated"
    if history_base is not None:
        payload["history_base"] = history_base
    payload |= {
        "timestamp": timestamp,
        "cwd": cwd,
        "originator": "codex_cli_rs",
        "cli_version": CODEX_VERSION,
        "instructions": None,
        "source": source,
        "model_provider": "openai",
        "git": {"commit_hash": commit, "branch": branch, "repository_url": "git@github.com:example/app.git"},
    }
    return codex_line(timestamp, "session_meta", payload)


def codex_turn_context(timestamp: str, *, cwd: str, model: str, effort: str) -> dict:
    return codex_line(
        timestamp,
        "turn_context",
        {
            "cwd": cwd,
            "approval_policy": "on-request",
            "sandbox_policy": {"type": "workspace-write", "network_access": False},
            "model": model,
            "effort": effort,
            "summary": "auto",
        },
    )


def codex_message(timestamp: str, role: str, text: str) -> dict:
    kind = "input_text" if role == "user" else "output_text"
    return codex_line(timestamp, "response_item", {"type": "message", "role": role, "content": [{"type": kind, "text": text}]})


def codex_reasoning(timestamp: str, summary: str, blob: str) -> dict:
    return codex_line(
        timestamp,
        "response_item",
        {"type": "reasoning", "summary": [{"type": "summary_text", "text": summary}], "content": None, "encrypted_content": blob},
    )


def codex_function_call(timestamp: str, *, cid: str, command: str, workdir: str) -> dict:
    args = msgspec.json.encode({"command": ["bash", "-lc", command], "workdir": workdir, "timeout_ms": 120000}).decode()
    return codex_line(timestamp, "response_item", {"type": "function_call", "name": "shell", "arguments": args, "call_id": cid})


def codex_function_output(timestamp: str, *, cid: str, output: str, exit_code: int, duration: float) -> dict:
    body = msgspec.json.encode(
        {"output": output, "metadata": {"exit_code": exit_code, "duration_seconds": round(duration, 1)}}
    ).decode()
    return codex_line(timestamp, "response_item", {"type": "function_call_output", "call_id": cid, "output": body})


def codex_event(timestamp: str, kind: str, **fields: Any) -> dict:
    return codex_line(timestamp, "event_msg", {"type": kind, **fields})


def codex_usage(input_tokens: int, cached: int, output: int, reasoning: int, cache_write: int | None = None) -> dict:
    """One Codex usage: `input_tokens` includes `cached_input_tokens` (and the newer
    `cache_write_input_tokens`, written only when given), output includes reasoning."""
    usage = {"input_tokens": input_tokens, "cached_input_tokens": cached}
    if cache_write is not None:
        usage["cache_write_input_tokens"] = cache_write
    usage |= {"output_tokens": output, "reasoning_output_tokens": reasoning, "total_tokens": input_tokens + output}
    return usage


def codex_token_count(timestamp: str, *, total: dict | None, last: dict | None, window: int, rate_limits: dict | None) -> dict:
    """`event_msg` token_count; `info` is null before the first response of a session."""
    info = None
    if total is not None:
        info = {"total_token_usage": total, "last_token_usage": last, "model_context_window": window}
    return codex_event(timestamp, "token_count", info=info, rate_limits=rate_limits)


def codex_rate_limits(primary_pct: float, primary_reset: int, secondary_pct: float, secondary_reset: int) -> dict:
    return {
        "primary": {"used_percent": primary_pct, "window_minutes": 300, "resets_at": primary_reset},
        "secondary": {"used_percent": secondary_pct, "window_minutes": 10080, "resets_at": secondary_reset},
    }


def codex_compacted(timestamp: str, summary: str, response_id: str | None = None) -> dict:
    payload: dict = {"message": summary}
    if response_id is not None:
        payload["compaction_response_id"] = response_id
    return codex_line(timestamp, "compacted", payload)


__all__ = [
    "CODEX_VERSION",
    "codex_line",
    "codex_token_usage_record",
    "codex_thread_settings",
    "codex_session_meta",
    "codex_turn_context",
    "codex_message",
    "codex_reasoning",
    "codex_function_call",
    "codex_function_output",
    "codex_event",
    "codex_usage",
    "codex_token_count",
    "codex_rate_limits",
    "codex_compacted",
]
