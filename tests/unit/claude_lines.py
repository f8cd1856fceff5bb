"""Tiny builders of Claude Code transcript lines for hand-made test cases."""

from __future__ import annotations

import json
from pathlib import Path


def dumps(rec: dict) -> str:
    return json.dumps(rec, separators=(",", ":"))


def assistant(mid, rid, ts, *, inp=10, out=5, cc=0, cr=0, model="claude-sonnet-4-5-20250929", side=False,
              stop=None, tool_use=False, sid="s1", cwd="/w", uuid=None):
    content = [{"type": "tool_use", "id": "t", "name": "Bash", "input": {}}] if tool_use else [{"type": "text", "text": "hi"}]
    return {
        "type": "assistant", "uuid": uuid or f"u-{mid}-{out}", "sessionId": sid, "timestamp": ts, "cwd": cwd,
        "isSidechain": side, "requestId": rid,
        "message": {"id": mid, "model": model, "role": "assistant", "content": content, "stop_reason": stop,
                    "usage": {"input_tokens": inp, "output_tokens": out, "cache_creation_input_tokens": cc,
                              "cache_read_input_tokens": cr}},
    }


def user(ts, text="do it", *, sid="s1", error=False, uuid=None, side=False, meta=False):
    content = [{"type": "tool_result", "tool_use_id": "t", "content": "boom", "is_error": True}] if error else text
    rec = {"type": "user", "uuid": uuid or f"u-{ts}", "sessionId": sid, "timestamp": ts, "isSidechain": side,
           "message": {"role": "user", "content": content}}
    if meta:
        rec["isMeta"] = True
    return rec


def api_error(ts, *, sid="s1", uuid=None):
    return {"type": "assistant", "uuid": uuid or f"e-{ts}", "sessionId": sid, "timestamp": ts, "isApiErrorMessage": True,
            "message": {"id": f"err-{ts}", "model": "<synthetic>", "role": "assistant", "content": [],
                        "usage": {"input_tokens": 0, "output_tokens": 0}}}


def compact(ts, post, *, sid="s1"):
    return {"type": "system", "subtype": "compact_boundary", "sessionId": sid, "timestamp": ts, "uuid": f"c-{ts}",
            "compactMetadata": {"trigger": "auto", "preTokens": 170000, "postTokens": post}}


def write(path: Path, records, mode="w", tail: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open(mode) as fh:
        for r in records:
            fh.write((r if isinstance(r, str) else dumps(r)) + "\n")
        fh.write(tail)
    return path
