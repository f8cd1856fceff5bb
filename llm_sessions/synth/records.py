"""Builders for single transcript records, in the field layout the real assistants write.

Each function returns one plain dict; `dumps` turns it into one compact JSON line. The key
order follows real Claude Code and Codex CLI transcripts because some readers (ccusage's fast
path) look for exact byte strings such as `"usage":{` before they parse a line, and a
generator that spaced its JSON differently would test a format nobody writes.

Nothing here decides *what* happens in a session; the session models (claude_session.py,
codex_session.py) do that. These builders only know the layout, so a format change upstream
is a change in one place. The Codex builders are in codex_records.py.
"""

from __future__ import annotations

import random
import uuid as _uuid
from datetime import UTC, datetime
from typing import Any

import msgspec

_encoder = msgspec.json.Encoder()

CLAUDE_VERSION = "2.0.76"
_B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_HEX = "0123456789abcdef"


def dumps(record: Any) -> bytes:
    """One record as one compact JSON line (no spaces, no newline), like the real tools."""
    return _encoder.encode(record)


def iso(ts: datetime) -> str:
    """ISO 8601 with milliseconds and `Z`, the timestamp form both tools write."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ts.microsecond // 1000:03d}Z"


# ---------------------------------------------------------------- identifiers


def new_uuid(rng: random.Random) -> str:
    """A version-4 UUID drawn from `rng`, so the same seed always gives the same ids."""
    return str(_uuid.UUID(int=rng.getrandbits(128), version=4))


def _b62(rng: random.Random, n: int) -> str:
    return "".join(rng.choices(_B62, k=n))


def message_id(rng: random.Random) -> str:
    return "msg_01" + _b62(rng, 22)


def request_id(rng: random.Random) -> str:
    return "req_011C" + _b62(rng, 20)


def tool_use_id(rng: random.Random) -> str:
    return "toolu_01" + _b62(rng, 22)


def agent_id(rng: random.Random) -> str:
    """Subagent ids are short hex strings in current builds (`agent-a1b2c3d.jsonl`)."""
    return "a" + "".join(rng.choices(_HEX, k=6))


def call_id(rng: random.Random) -> str:
    return "call_" + _b62(rng, 24)


# ---------------------------------------------------------------- Claude Code


def claude_usage(
    input_tokens: int,
    output_tokens: int,
    cache_creation: int,
    cache_read: int,
    *,
    one_hour: bool | int = False,
    split: bool = True,
    speed: str | None = None,
    iterations: list[dict] | None = None,
) -> dict:
    """`message.usage` with the optional per-TTL split newer builds add.

    `one_hour`: True writes every cache token with the 1-hour TTL, an int that many of
    them; `split=False` leaves the split out (older builds); `speed` ("fast"/"standard")
    and `iterations` (advisor calls) are what 2026 builds add.
    """
    hour = cache_creation if one_hour is True else int(one_hour)
    usage: dict[str, Any] = {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": cache_creation,
        "cache_read_input_tokens": cache_read,
    }
    if split:
        usage["cache_creation"] = {"ephemeral_5m_input_tokens": cache_creation - hour, "ephemeral_1h_input_tokens": hour}
    usage["output_tokens"] = output_tokens
    usage["service_tier"] = "standard"
    if speed is not None:
        usage["speed"] = speed
    if iterations is not None:
        usage["iterations"] = iterations
    return usage


def claude_advisor_iterations(main: tuple[int, int], advisor_model: str, advisor: tuple[int, int, int, int]) -> list[dict]:
    """`usage.iterations`: the main call split around one advisor call (its own model and usage)."""
    inp, out = main
    a_in, a_out, a_cc, a_cr = advisor
    return [
        {"type": "message", "input_tokens": inp, "output_tokens": out // 2},
        {"type": "advisor_message", "model": advisor_model, "input_tokens": a_in, "output_tokens": a_out,
         "cache_creation_input_tokens": a_cc, "cache_read_input_tokens": a_cr,
         "cache_creation": {"ephemeral_5m_input_tokens": a_cc, "ephemeral_1h_input_tokens": 0}},
        {"type": "message", "input_tokens": 0, "output_tokens": out - out // 2},
    ]


def claude_ghost_line(kind: str, session_id: str, text: str) -> dict:
    """The only lines of a ghost stub a background session can leave: ai-title, agent-name."""
    key = "aiTitle" if kind == "ai-title" else "agentName"
    return {"type": kind, key: text, "sessionId": session_id}


def claude_envelope(
    *,
    parent_uuid: str | None,
    session_id: str,
    cwd: str,
    git_branch: str,
    is_sidechain: bool = False,
    agent_id: str | None = None,
    version: str = CLAUDE_VERSION,
) -> dict:
    """The leading fields every conversational Claude line carries, in their real order."""
    env: dict = {"parentUuid": parent_uuid, "isSidechain": is_sidechain, "userType": "external"}
    env["cwd"] = cwd
    env["sessionId"] = session_id
    env["version"] = version
    env["gitBranch"] = git_branch
    if agent_id is not None:
        env["agentId"] = agent_id
    return env


def claude_user_text(env: dict, *, uuid: str, timestamp: str, text: str, is_meta: bool = False) -> dict:
    """A typed prompt (string content), or an `isMeta` line the UI hides (caveats, commands)."""
    rec = dict(env)
    if is_meta:
        rec["isMeta"] = True
    rec["type"] = "user"
    rec["message"] = {"role": "user", "content": text}
    rec["uuid"] = uuid
    rec["timestamp"] = timestamp
    return rec


def claude_tool_result(
    env: dict,
    *,
    uuid: str,
    timestamp: str,
    tool_use_id: str,
    content: str,
    is_error: bool,
) -> dict:
    """A user line answering a tool_use; failed tools carry `is_error: true`."""
    rec = dict(env)
    rec["type"] = "user"
    rec["message"] = {
        "role": "user",
        "content": [
            {"tool_use_id": tool_use_id, "type": "tool_result", "content": content, "is_error": is_error}
        ],
    }
    rec["uuid"] = uuid
    rec["timestamp"] = timestamp
    if is_error:
        rec["toolUseResult"] = "Error: " + content[:200]
    else:
        rec["toolUseResult"] = {"stdout": content, "stderr": "", "interrupted": False, "isImage": False}
    return rec


def claude_assistant(
    env: dict,
    *,
    uuid: str,
    timestamp: str,
    msg_id: str,
    req_id: str | None,
    model: str,
    block: dict,
    usage: dict,
    stop_reason: str | None,
    api_error: bool = False,
) -> dict:
    """One assistant line holding one content block of a (possibly multi-line) response."""
    rec = dict(env)
    rec["message"] = {
        "id": msg_id,
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [block],
        "stop_reason": stop_reason,
        "stop_sequence": "" if api_error else None,
        "usage": usage,
    }
    if req_id is not None:
        rec["requestId"] = req_id
    rec["type"] = "assistant"
    rec["uuid"] = uuid
    rec["timestamp"] = timestamp
    if api_error:
        rec["isApiErrorMessage"] = True
    return rec


def text_block(text: str) -> dict:
    return {"type": "text", "text": text}


def thinking_block(text: str, signature: str) -> dict:
    return {"type": "thinking", "thinking": text, "signature": signature}


def tool_use_block(tid: str, name: str, tool_input: dict) -> dict:
    return {"type": "tool_use", "id": tid, "name": name, "input": tool_input}


def claude_compact_boundary(
    env: dict, *, uuid: str, logical_parent: str | None, timestamp: str, trigger: str, pre: int, post: int
) -> dict:
    """The `system` line written when the conversation is compacted.

    Real builds start a new chain here (`parentUuid` null, `logicalParentUuid` set).
    """
    rec = dict(env)
    rec["parentUuid"] = None
    rec["logicalParentUuid"] = logical_parent
    rec["type"] = "system"
    rec["subtype"] = "compact_boundary"
    rec["content"] = "Conversation compacted"
    rec["isMeta"] = False
    rec["timestamp"] = timestamp
    rec["uuid"] = uuid
    rec["level"] = "info"
    rec["compactMetadata"] = {"trigger": trigger, "preTokens": pre, "postTokens": post}
    return rec


def claude_compact_summary(env: dict, *, uuid: str, timestamp: str, text: str) -> dict:
    """The user line carrying the summary right after a boundary (not a turn, no usage)."""
    rec = claude_user_text(env, uuid=uuid, timestamp=timestamp, text=text)
    rec["isCompactSummary"] = True
    rec["isVisibleInTranscriptOnly"] = True
    return rec


def claude_summary(summary: str, leaf_uuid: str) -> dict:
    return {"type": "summary", "summary": summary, "leafUuid": leaf_uuid}


def claude_file_history_snapshot(msg_uuid: str, timestamp: str, files: list[str]) -> dict:
    backups = {
        f: {"backupFileName": None, "version": 1, "backupTime": timestamp} for f in files
    }
    return {
        "type": "file-history-snapshot",
        "messageId": msg_uuid,
        "snapshot": {"messageId": msg_uuid, "trackedFileBackups": backups, "timestamp": timestamp},
        "isSnapshotUpdate": False,
    }


def claude_side_record(kind: str, env: dict, *, uuid: str, timestamp: str, rng: random.Random) -> dict:
    """Records readers must skip: attachment, progress, queue-operation, custom-title, ...

    Also used for record types no build has written yet (`kind` unknown to every reader).
    """
    if kind == "custom-title":
        return {"type": kind, "customTitle": "refactor the tailer", "sessionId": env["sessionId"]}
    if kind == "last-prompt":
        return {"type": kind, "lastPrompt": "run the tests again", "sessionId": env["sessionId"]}
    if kind in ("mode", "permission-mode"):
        return {"type": kind, "permissionMode": rng.choice(["default", "acceptEdits", "plan"]), "sessionId": env["sessionId"]}
    if kind == "queue-operation":
        return {"type": kind, "operation": "enqueue", "timestamp": timestamp, "content": "also update the docs",
                "sessionId": env["sessionId"]}
    rec = dict(env)
    rec["type"] = kind
    if kind == "progress":
        rec["data"] = {"type": "hook_progress", "hookEvent": "PostToolUse", "hookName": "PostToolUse:Edit", "command": "ruff format"}
        rec["toolUseID"] = "toolu_01" + "0" * 22
        rec["parentToolUseID"] = rec["toolUseID"]
    elif kind == "attachment":
        rec["attachment"] = {"type": "todo_reminder", "content": [], "itemCount": 0}
    else:
        rec["payload"] = {"schema": 3, "note": "record type from a newer build", "flags": [1, 2, 3]}
    rec["uuid"] = uuid
    rec["timestamp"] = timestamp
    return rec
