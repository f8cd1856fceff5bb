"""GitHub Copilot CLI sessions, from `<copilot home>/session-state/<uuid>/events.jsonl`.

Each line is an event `{type, data, id, timestamp, parentId}`: `session.start` carries the
session id, the cwd (`data.context.cwd`, older builds `data.cwd`) and the model
(`selectedModel`); `session.model_change` switches the model; `user.message` and
`assistant.message` carry `content`; `tool.execution_complete` says whether a tool failed;
`assistant.turn_end` closes a turn. Unknown event types are skipped and counted.

Exact usage (2026 builds): `session.shutdown` carries `modelMetrics{<model>: {usage:
{inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens, reasoningTokens}}}`.
`inputTokens` includes both cache buckets and reasoning is part of the output, so
input = inputTokens - cacheRead - cacheWrite. Current builds keep the figures cumulative
for the process and across resumes, so each shutdown adds its difference from the previous
one (per model). Older builds restarted the count in every resumed process; they also wrote
no `session.usage_checkpoint` events, which is how the two are told apart: without a
checkpoint before it, a shutdown after a resume counts whole, and so does any figure lower
than the previous shutdown's. Model ids use dots and `-1m` suffixes (`claude-sonnet-4.6`);
pricing normalises them.

What happened after the last shutdown (a running session, `/new`, a crash) has no exact
count: it is estimated (~4 characters per token over the messages and tool output, plus
the base prompt for a session that never shut down; an `assistant.message` that reports
`outputTokens` gives that message's output) and the session says `exact=False`. The cost
covers the exact part only.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec

from llm_sessions.core.accounting.estimate import BASE_TOKENS, text_tokens
from llm_sessions.core.accounting.pricing import Bill
from llm_sessions.core.accounting.providers._common import LineTail, WindowLookup, as_int, collect, loads, mtime, parse_time
from llm_sessions.core.accounting.providers.base import ScanResult
from llm_sessions.core.accounting.roots import copilot_dir
from llm_sessions.core.fields import dict_at
from llm_sessions.core.models import ContextFill, Session, TurnMark, Usage

RECENT = 50
_KNOWN = frozenset(
    {
        "session.start", "session.resume", "session.model_change", "session.info", "session.error",
        "session.shutdown", "user.message", "assistant.message", "assistant.turn_start",
        "assistant.turn_end", "assistant.reasoning", "assistant.usage", "tool.execution_start",
        "tool.execution_complete", "tool.user_requested", "abort", "session.truncation",
        "session.compaction_start", "session.compaction_complete", "hook.start", "hook.end",
        "session.usage_checkpoint", "assistant.message_delta", "tool.execution_partial_result",
        "session.context_changed", "session.plan_changed", "session.workspace_file_changed",
    }
)
_METRIC_FIELDS = frozenset({"inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens", "reasoningTokens"})


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, ensure_ascii=False)


class _File(msgspec.Struct):
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
    recent: list[TurnMark] = msgspec.field(default_factory=list)
    waiting: bool = False
    session: Session | None = None
    # Exact part: cumulative per model at the last shutdown, and the differences summed
    # per (model, day): input incl. cache, output, cache read, cache write.
    last_metrics: dict[str, tuple[int, ...]] = msgspec.field(default_factory=dict)  # input, output, cache read, cache write
    exact: dict[tuple[str, str], list[int]] = msgspec.field(default_factory=dict)
    shutdowns: int = 0
    checkpoints: bool = False  # a session.usage_checkpoint was seen: a build that keeps totals across resumes
    resumed: bool = False  # a session.resume since the last shutdown
    unsettled: bool = False  # activity after the last shutdown (estimated, not exact)
    version: str = "unknown"
    lines: int = 0
    drift: dict[str, int] = msgspec.field(default_factory=dict)
    usage_drift: int = 0


class CopilotProvider:
    tool = "copilot"

    def __init__(self, env: Mapping[str, str], settings=None, *, context_window: WindowLookup | None = None,
                 prices=None) -> None:
        self.env = dict(env)
        self.settings = settings
        self.context_window = context_window
        self.prices = prices
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

    def usage_drift(self) -> int:
        return sum(st.usage_drift for st in self._files.values())

    def drift(self):
        from llm_sessions.core.accounting.drift import Tally

        t = Tally(self.tool, [str(self.base)])
        for path, st in self._files.items():
            t.file(path, lines=st.lines, malformed=st.skipped - sum(n for k, n in st.drift.items() if k.startswith("event:")),
                   versions={st.version: st.lines}, unknown=st.drift, usage_unknown=st.usage_drift)
            if st.sid is None and st.lines:
                t.skip(path, "no session.start event")
        return t.done()

    def _read(self, path: Path, state: _File, key: tuple[int, int, int]) -> None:
        self.parses += 1
        if state.tail is None:
            state.tail = LineTail(path)
        lines, restarted = state.tail.read(key)
        if restarted:  # truncated or replaced: everything counted so far is void
            fresh = _File(tail=state.tail)
            for f in msgspec.structs.fields(_File):
                setattr(state, f.name, getattr(fresh, f.name))
        for line in lines:
            state.lines += 1
            self._event(state, loads(line))

    def _event(self, state: _File, event: Any) -> None:
        if not isinstance(event, dict) or not isinstance(event.get("type"), str):
            state.skipped += 1
            return
        kind = event["type"]
        data = dict_at(event, "data")
        at = parse_time(event.get("timestamp"))
        if at:
            state.last = at
        if kind not in _KNOWN:
            state.skipped += 1
            state.drift[f"event:{kind}"] = state.drift.get(f"event:{kind}", 0) + 1
            state.usage_drift += "Tokens" in json.dumps(data)
            return
        if kind in ("user.message", "assistant.message", "tool.execution_complete"):
            state.unsettled = True
        if kind == "session.shutdown":
            self._shutdown(state, data, event.get("timestamp"))
            return
        if kind == "session.usage_checkpoint":
            state.checkpoints = True
        elif kind == "session.resume":
            state.resumed = True
        if kind in ("session.start", "session.resume"):
            if isinstance(data.get("copilotVersion"), str):
                state.version = data["copilotVersion"]
            if isinstance(data.get("sessionId"), str):
                state.sid = data["sessionId"]
            context = dict_at(data, "context")
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

    def _shutdown(self, state: _File, data: dict, timestamp: Any) -> None:
        """Add what each model used since the previous shutdown; the tail estimate restarts."""
        metrics = data.get("modelMetrics")
        if not isinstance(metrics, dict):
            return
        day = timestamp[:10] if isinstance(timestamp, str) else ""
        for model, m in metrics.items():
            usage = m.get("usage") if isinstance(m, dict) else None
            if not isinstance(model, str) or not isinstance(usage, dict):
                continue
            if state.shutdowns == 0:
                for name in usage:
                    if name not in _METRIC_FIELDS:
                        state.drift[f"usage:{name}"] = state.drift.get(f"usage:{name}", 0) + 1
                        state.usage_drift += 1
            now = tuple(as_int(usage.get(k)) for k in ("inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens"))
            before = state.last_metrics.get(model, (0, 0, 0, 0))
            fresh = state.resumed and not state.checkpoints  # an older build's resumed process
            pairs = tuple(zip(now, before, strict=True))
            step = now if fresh or any(n < b for n, b in pairs) else tuple(n - b for n, b in pairs)
            state.last_metrics[model] = now
            acc = state.exact.setdefault((model, day), [0, 0, 0, 0])
            for i, v in enumerate(step):
                acc[i] += v
        if isinstance(data.get("currentModel"), str):
            state.model = data["currentModel"]
        state.shutdowns += 1
        state.unsettled = state.resumed = False
        state.input_tokens = state.output_tokens = 0

    def _session(self, path: Path, state: _File) -> Session:
        exact = Usage()
        bill = Bill()
        for (model, day), (inp, out, read, write) in state.exact.items():
            part = Usage(input=max(0, inp - read - write), output=out, cache_creation=write, cache_read=read)
            exact = exact + part
            bill.add(self.prices, model, part, day=day or None)
        estimated = state.unsettled or not state.shutdowns
        tail = Usage(input=state.input_tokens, output=state.output_tokens, exact=False) if estimated else Usage()
        usage = exact + tail
        used = state.input_tokens + state.output_tokens if not state.shutdowns else None
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
            usage=usage,
            context=ContextFill(used=used, window=window, exact=False, source="estimate") if window and used else None,
            cost_usd=bill.rounded if state.shutdowns else None,
            models_used=tuple(dict.fromkeys(m for m, _ in state.exact)),
            unpriced=tuple(sorted(bill.unpriced)),
            api_errors=state.api_errors,
            tool_errors=state.tool_errors,
            recent=tuple(state.recent[-RECENT:]),
            malformed_lines=state.skipped,
            awaiting_user=state.waiting,
        )
