"""Hand-made transcripts with chosen timestamps, for the usage-limit tests.

Every file goes under a test's temporary home; the clock is frozen at `NOW`, and turns are
placed relative to it, so blocks, burn rates and resets are exact numbers the tests assert.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.unit.claude_lines import assistant, user, write

NOW = datetime(2026, 11, 20, 15, 0, 0, tzinfo=UTC)


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def env_for(home: Path) -> dict[str, str]:
    return {"HOME": str(home), "CLAUDE_CONFIG_DIR": str(home / ".claude"), "CODEX_HOME": str(home / ".codex"),
            "XDG_CONFIG_HOME": str(home / ".config")}


def claude_turns(home: Path, sid: str, turns, *, cwd: str = "/w/app", model: str = "claude-sonnet-4-5-20250929",
                 extra=(), project: str = "-w-app") -> Path:
    """A transcript with one user line and one assistant response per (time, input, output)."""
    lines = []
    for i, turn in enumerate(turns):
        at, inp, out = turn[:3]
        mdl = turn[3] if len(turn) > 3 else model
        lines.append(user(iso(at - timedelta(seconds=5)), sid=sid, uuid=f"{sid}-u{i}"))
        lines.append(assistant(f"msg-{sid}-{i}", f"req-{sid}-{i}", iso(at), inp=inp, out=out, model=mdl, sid=sid, cwd=cwd,
                               stop="end_turn", uuid=f"{sid}-a{i}"))
    lines.extend(extra)
    lines.sort(key=lambda r: r["timestamp"] if isinstance(r, dict) else "")
    return write(home / ".claude" / "projects" / project / f"{sid}.jsonl", lines)


def api_limit_line(at: datetime, sid: str, text: str, *, status: int | None = 429, error: str | None = "rate_limit") -> dict:
    rec = {"type": "assistant", "uuid": f"lim-{iso(at)}", "sessionId": sid, "timestamp": iso(at), "isApiErrorMessage": True,
           "message": {"id": f"err-{iso(at)}", "model": "<synthetic>", "role": "assistant",
                       "content": [{"type": "text", "text": text}], "usage": {"input_tokens": 0, "output_tokens": 0}}}
    if status is not None:
        rec["apiErrorStatus"] = status
    if error is not None:
        rec["error"] = error
    return rec


def codex_line(ts: datetime, kind: str, payload: dict) -> str:
    return json.dumps({"timestamp": iso(ts), "type": kind, "payload": payload}, separators=(",", ":"))


def codex_rollout(home: Path, sid: str, turns, *, rates=None, model: str = "gpt-5-codex") -> Path:
    """Turns are (time, cumulative input, cumulative output[, rate_limits]); `rates` applies to
    turns that give none."""
    lines = [codex_line(turns[0][0] - timedelta(minutes=1), "session_meta", {"id": sid, "timestamp": iso(turns[0][0] - timedelta(minutes=1)), "cwd": "/w/api"}),
             codex_line(turns[0][0] - timedelta(seconds=50), "turn_context", {"cwd": "/w/api", "model": model})]
    for turn in turns:
        at, inp, out = turn[:3]
        r = turn[3] if len(turn) > 3 else rates
        u = {"input_tokens": inp, "cached_input_tokens": inp // 2, "output_tokens": out, "reasoning_output_tokens": 0,
             "total_tokens": inp + out}
        lines.append(codex_line(at, "event_msg", {"type": "token_count", "rate_limits": r,
                                                  "info": {"total_token_usage": u, "last_token_usage": u, "model_context_window": 272000}}))
    path = home / ".codex" / "sessions" / "2026" / "11" / "20" / f"rollout-2026-11-20T10-00-00-{sid}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def window(pct: float, minutes: int, resets_at: datetime | None, **extra) -> dict:
    out = {"used_percent": pct, "window_minutes": minutes, **extra}
    if resets_at is not None:
        out["resets_at"] = int(resets_at.timestamp())
    return out
