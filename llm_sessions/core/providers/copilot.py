"""GitHub Copilot CLI sessions, from `<copilot home>/session-state/<uuid>/events.jsonl`.

Each line is an event `{type, data, id, timestamp, parentId}`: `session.start` carries the
session id, the cwd (`data.context.cwd`, older builds `data.cwd`) and the model
(`selectedModel`); `session.model_change` switches the model; `user.message` and
`assistant.message` carry `content`; `tool.execution_complete` says whether a tool failed;
`assistant.turn_end` closes a turn. Unknown event types are skipped and counted.

Copilot writes no token counts (short of its OpenTelemetry export), so usage is an
estimate (~4 characters per token over the messages and tool output, plus the base) and
always `exact=False`. Where an `assistant.message` does report `outputTokens`, that figure
replaces the estimate of that message's output.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from llm_sessions.core.estimate import BASE_TOKENS, text_tokens
from llm_sessions.core.models import ContextFill, Session, TurnMark, Usage
from llm_sessions.core.providers._common import LineTail, WindowLookup, as_int, collect, loads, mtime, parse_time
from llm_sessions.core.providers.base import ScanResult
from llm_sessions.core.roots import copilot_dir

RECENT = 50
_KNOWN = frozenset(
    {
        "session.start", "session.resume", "session.model_change", "session.info", "session.error",
        "session.shutdown", "user.message", "assistant.message", "assistant.turn_start",
        "assistant.turn_end", "assistant.reasoning", "assistant.usage", "tool.execution_start",
        "tool.execution_complete", "tool.user_requested", "abort", "session.truncation",
        "session.compaction_start", "session.compaction_complete", "hook.start", "hook.end",
    }
)


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False)


@dataclass(slots=True)
class _File:
    key: tuple[int, int, int] | None = None
    tail: LineTail | None = None
    sid: str | None = None
    cwd: str | None = None
    model: str | None = None
    started: datetime | None = None
    last: datetime | None = None
    input_tokens: int = BASE_TOKENS
    output_tokens: int = 0
    turns: int = 0
    api_errors: int = 0
    tool_errors: int = 0
    skipped: int = 0
    recent: list[TurnMark] = field(default_factory=list)
    waiting: bool = False
    session: Session | None = None


class CopilotProvider:
    tool = "copilot"

    def __init__(self, env: Mapping[str, str], settings=None, *, context_window: WindowLookup | None = None) -> None:
        self.env = dict(env)
        self.settings = settings
        self.context_window = context_window
        self.base = copilot_dir(self.env) / "session-state"
        self._files: dict[str, _File] = {}
        self.parses = 0

    def roots(self) -> list[Path]:
        return [self.base]

    def scan(self) -> ScanResult:
        result = ScanResult(searched=[str(self.base)])
        if not self.base.is_dir():
            return result
        collect(sorted(self.base.glob("*/events.jsonl")), self._files, _File, self._read, self._session, result)
        return result

    def _read(self, path: Path, state: _File, key: tuple[int, int, int]) -> None:
        self.parses += 1
        if state.tail is None:
            state.tail = LineTail(path)
        lines, restarted = state.tail.read(key)
        if restarted:  # truncated or replaced: everything counted so far is void
            fresh = _File(tail=state.tail)
            for f in fields(_File):
                setattr(state, f.name, getattr(fresh, f.name))
        for line in lines:
            self._event(state, loads(line))

    def _event(self, state: _File, event: Any) -> None:
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            state.skipped += 1
            return
        kind = event["type"]
        data = event.get("data") if isinstance(event.get("data"), dict) else {}
        at = parse_time(event.get("timestamp"))
        if at:
            state.last = at
        if kind not in _KNOWN:
            state.skipped += 1
            return
        if kind in ("session.start", "session.resume"):
            if isinstance(data.get("sessionId"), str):
                state.sid = data["sessionId"]
            context = data.get("context") if isinstance(data.get("context"), dict) else {}
            cwd = context.get("cwd") or data.get("cwd")
            if isinstance(cwd, str):
                state.cwd = cwd
            model = data.get("selectedModel") or data.get("model")
            if isinstance(model, str):
                state.model = model
            state.started = state.started or parse_time(data.get("startTime")) or at
        elif kind == "session.model_change":
            model = data.get("newModel") or data.get("model")
            if isinstance(model, str):
                state.model = model
        elif kind == "user.message":
            state.input_tokens += text_tokens(_text(data.get("content")))
            state.waiting = False
            if at:
                state.recent.append(TurnMark(at, "user"))
        elif kind == "assistant.message":
            reported = as_int(data.get("outputTokens"))
            state.output_tokens += reported or text_tokens(_text(data.get("content")))
            if isinstance(data.get("model"), str):
                state.model = data["model"]
        elif kind == "assistant.turn_start":
            state.waiting = False
        elif kind == "assistant.turn_end":
            state.turns += 1
            state.waiting = True
            if at:
                state.recent.append(TurnMark(at, "assistant"))
        elif kind == "tool.execution_complete":
            result = data.get("result")
            state.input_tokens += text_tokens(_text(result.get("content") if isinstance(result, dict) else result))
            failed = data.get("success") is False or bool(data.get("error"))
            state.tool_errors += failed
            if at:
                state.recent.append(TurnMark(at, "tool_result", tool_error=failed))
        elif kind == "session.error":
            state.api_errors += 1
            if at:
                state.recent.append(TurnMark(at, "assistant", api_error=True))

    def _session(self, path: Path, state: _File) -> Session:
        used = state.input_tokens + state.output_tokens
        window = self.context_window(state.model) if (self.context_window and state.model) else None
        return Session(
            id=state.sid or path.parent.name,
            tool="copilot",
            transcript=str(path),
            cwd=state.cwd,
            model=state.model,
            started_at=state.started,
            last_activity=state.last or mtime(path),
            turns=state.turns,
            usage=Usage(input=state.input_tokens, output=state.output_tokens, exact=False),
            context=ContextFill(used=used, window=window, exact=False, source="estimate") if window else None,
            api_errors=state.api_errors,
            tool_errors=state.tool_errors,
            recent=tuple(state.recent[-RECENT:]),
            malformed_lines=state.skipped,
            awaiting_user=state.waiting,
        )
