"""Context fill turn by turn, read back from a transcript, for the drilldown's chart.

The transcript already holds every turn's prompt size, so the chart of any session, live
or long ended, is drawn from it rather than from whatever samples the store happened to
take while a dashboard was open; live samples only extend it past the transcript's last
turn (`with_samples`).

- Claude Code: each main-chain assistant response's `input + cache_creation + cache_read`
  (one point per `message.id`: a response is streamed as several lines repeating it), and
  a `compact_boundary` marks a compaction (its `postTokens` is the next point when known).
- Codex CLI: `last_token_usage.total_tokens` of each `token_count` event whose cumulative
  total moved (re-emitted events repeat it), and a `compacted` line marks a compaction.

Reading is incremental (`ContextTrail.update` continues from its byte offset, through
core.accounting.tailer), so a drilldown left open on a live session costs only the appended bytes.
Pure core: no Textual.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from datetime import datetime

import msgspec

from llm_sessions.core.accounting.tailer import Cursor, needs_reset, read_lines, unchanged
from llm_sessions.core.timeparse import parse_ts

MAX_POINTS = 20_000
"""Points kept per trail: a very long session keeps its most recent turns."""


@dataclass(frozen=True, slots=True)
class ContextPoint:
    at: datetime | None
    used: int


@dataclass(frozen=True, slots=True)
class ContextHistory:
    """Context used per turn, oldest first; `compactions` are indexes into `points`: the
    first point after each compaction (== len(points) when none followed yet)."""

    points: tuple[ContextPoint, ...] = ()
    compactions: tuple[int, ...] = ()
    sampled: int = 0
    """How many of the points (the last ones) are live samples rather than transcript turns."""

    @property
    def peak(self) -> int:
        return max((p.used for p in self.points), default=0)

    def with_samples(self, samples: list[tuple[datetime, int | None]]) -> ContextHistory:
        """Live samples (from the store) newer than the last dated point extend the series."""
        last = next((p.at for p in reversed(self.points) if p.at is not None), None)
        extra = tuple(
            ContextPoint(at, used)
            for at, used in sorted((a, u) for a, u in samples if u is not None)
            if last is None or at > last
        )
        if not extra:
            return self
        return ContextHistory(self.points + extra, self.compactions, self.sampled + len(extra))


class _Usage(msgspec.Struct):
    input_tokens: int | None = 0
    cache_creation_input_tokens: int | None = 0
    cache_read_input_tokens: int | None = 0


class _Message(msgspec.Struct):
    id: str | None = None
    model: str | None = None
    usage: _Usage | None = None


class _Compact(msgspec.Struct):
    postTokens: int | None = None


class _ClaudeLine(msgspec.Struct):
    type: str | None = None
    timestamp: str | None = None
    isSidechain: bool | None = None
    isApiErrorMessage: bool | None = None
    subtype: str | None = None
    compactMetadata: _Compact | None = None
    message: _Message | None = None


class _CodexUsage(msgspec.Struct):
    total_tokens: int | None = None


class _CodexTotal(msgspec.Struct):
    input_tokens: int | None = None
    cached_input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_output_tokens: int | None = None


class _CodexInfo(msgspec.Struct):
    total_token_usage: _CodexTotal | None = None
    last_token_usage: _CodexUsage | None = None


class _CodexPayload(msgspec.Struct):
    type: str | None = None
    info: _CodexInfo | None = None


class _CodexLine(msgspec.Struct):
    timestamp: str | None = None
    type: str | None = None
    payload: _CodexPayload | None = None


_claude = msgspec.json.Decoder(_ClaudeLine).decode
_codex = msgspec.json.Decoder(_CodexLine).decode


@dataclass
class ContextTrail:
    """The per-turn context of one transcript, kept up to date by reading only new bytes."""

    path: str
    tool: str
    cursor: Cursor = field(default_factory=Cursor)
    points: list[ContextPoint] = field(default_factory=list)
    compactions: list[int] = field(default_factory=list)
    _last_id: str | None = None
    _last_total: tuple | None = None

    def reset(self) -> None:
        self.cursor = Cursor()
        self.points, self.compactions = [], []
        self._last_id, self._last_total = None, None

    def update(self) -> ContextHistory:
        """Read what was appended since the last call (all of it the first time)."""
        try:
            st = os.stat(self.path)
        except OSError:
            return self.history()
        if unchanged(self.cursor, st):
            return self.history()
        if needs_reset(self.cursor, st):
            self.reset()
        feed = self._feed_claude if self.tool == "claude" else self._feed_codex
        try:
            for raw in read_lines(self.path, self.cursor, st):
                try:
                    feed(raw)
                except (msgspec.DecodeError, msgspec.ValidationError):
                    continue  # a malformed line carries no context figure
        except OSError:
            pass
        if len(self.points) > MAX_POINTS:
            cut = len(self.points) - MAX_POINTS
            del self.points[:cut]
            self.compactions = [i - cut for i in self.compactions if i >= cut]
        return self.history()

    def history(self) -> ContextHistory:
        return ContextHistory(tuple(self.points), tuple(self.compactions))

    def _add(self, at: str | None, used: int) -> None:
        self.points.append(ContextPoint(parse_ts(at) if at else None, used))

    def _feed_claude(self, raw: bytes) -> None:
        line = _claude(raw)
        if line.isSidechain:
            return
        if line.type == "assistant":
            msg = line.message
            if line.isApiErrorMessage or msg is None or msg.usage is None or msg.model == "<synthetic>":
                return
            u = msg.usage
            used = (u.input_tokens or 0) + (u.cache_creation_input_tokens or 0) + (u.cache_read_input_tokens or 0)
            if msg.id is not None and msg.id == self._last_id and self.points:
                self.points[-1] = ContextPoint(self.points[-1].at, max(used, self.points[-1].used))
                return
            self._last_id = msg.id
            self._add(line.timestamp, used)
        elif line.type == "system" and line.subtype == "compact_boundary":
            self.compactions.append(len(self.points))
            post = line.compactMetadata.postTokens if line.compactMetadata else None
            if post is not None:
                self._add(line.timestamp, post)
            self._last_id = None

    def _feed_codex(self, raw: bytes) -> None:
        line = _codex(raw)
        if line.type == "compacted":
            self.compactions.append(len(self.points))
            return
        p = line.payload
        if line.type != "event_msg" or p is None or p.type != "token_count" or p.info is None:
            return
        info = p.info
        if info.last_token_usage is None or info.last_token_usage.total_tokens is None:
            return
        t = info.total_token_usage
        total = (t.input_tokens, t.cached_input_tokens, t.output_tokens, t.reasoning_output_tokens) if t else None
        if total is not None and total == self._last_total:
            return  # the same event re-emitted
        self._last_total = total
        self._add(line.timestamp, info.last_token_usage.total_tokens)


class ContextTrails:
    """One trail per transcript, so reopening a drilldown reads nothing twice."""

    def __init__(self, keep: int = 16) -> None:
        self.keep = keep
        self._trails: dict[str, ContextTrail] = {}
        self._lock = threading.Lock()  # read from worker threads

    def read(self, path: str | None, tool: str) -> ContextHistory:
        if not path or tool not in ("claude", "codex"):
            return ContextHistory()
        with self._lock:
            trail = self._trails.pop(path, None) or ContextTrail(path, tool)
            self._trails[path] = trail  # most recently used last
            while len(self._trails) > self.keep:
                self._trails.pop(next(iter(self._trails)))
            return trail.update()


__all__ = ["ContextHistory", "ContextPoint", "ContextTrail", "ContextTrails"]
