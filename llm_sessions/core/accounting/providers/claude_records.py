"""The msgspec structs a Claude Code line is decoded into, and the line-level helpers.

The structs name only the fields the fold reads: msgspec skips the rest (tool output,
thinking, file snapshots, progress payloads) without building Python objects for it.
Every field is optional and every token count is bounded (`sanity.CallTokens`), so a
hostile line fails to decode and is counted as malformed, never trusted.

The structs are untracked by the cyclic collector (`gc=False`): decoded JSON cannot form a
cycle, and a cold scan allocates and frees ~700,000 of them per gigabyte.

Also here: the record types, subtypes and usage fields we know (anything else is format
drift), the rare per-line access to a block's raw bytes (`Lines`), and the depth check of
lines msgspec would otherwise accept on Python 3.12+ (`deep_unstamped`).
"""

from __future__ import annotations

from operator import attrgetter
from typing import Any

import msgspec

from llm_sessions.core.accounting.sanity import DECODE_ERRORS, CallTokens, may_nest_too_deep, too_deep


class _Split(msgspec.Struct, gc=False):
    ephemeral_5m_input_tokens: CallTokens | None = 0
    ephemeral_1h_input_tokens: CallTokens | None = 0


class _Iteration(msgspec.Struct, gc=False):
    type: str | None = None
    model: str | None = None
    input_tokens: CallTokens | None = 0
    output_tokens: CallTokens | None = 0
    cache_creation_input_tokens: CallTokens | None = 0
    cache_read_input_tokens: CallTokens | None = 0
    cache_creation: _Split | None = None


class _Usage(msgspec.Struct, gc=False):
    input_tokens: CallTokens | None = 0
    output_tokens: CallTokens | None = 0
    cache_creation_input_tokens: CallTokens | None = 0
    cache_read_input_tokens: CallTokens | None = 0
    cache_creation: _Split | None = None
    speed: str | None = None
    inference_geo: str | None = None
    iterations: list[_Iteration] | None = None


class _Block(msgspec.Struct, gc=False):
    """A content block: only what says "tool call", "tool result", "failed" or "limit".

    Lenient types (Any): a block of an unexpected shape is ignored, never a malformed line.
    """

    type: Any = None
    is_error: Any = None
    text: Any = None


# Content as the API writes it (a string or a list of blocks), and any other JSON value.
_Content = str | list[_Block | str | int | float | bool | list | None] | dict | int | float | bool | None


class _Message(msgspec.Struct, gc=False):
    id: str | None = None
    model: str | None = None
    stop_reason: str | None = None
    usage: _Usage | None = None
    content: _Content = None


class _Compact(msgspec.Struct, gc=False):
    trigger: str | None = None
    preTokens: CallTokens | None = None
    postTokens: CallTokens | None = None


class _Line(msgspec.Struct, gc=False):
    type: str | None = None
    version: str | None = None
    uuid: str | None = None
    timestamp: str | None = None
    sessionId: str | None = None
    cwd: str | None = None
    gitBranch: str | None = None
    isSidechain: bool | None = None
    isMeta: bool | None = None
    isApiErrorMessage: bool | None = None
    requestId: str | None = None
    subtype: str | None = None
    summary: str | None = None
    compactMetadata: _Compact | None = None
    message: _Message | None = None


_decoder = msgspec.json.Decoder(_Line)
_decode = _decoder.decode
_decode_lines = _decoder.decode_lines
_decode_any = msgspec.json.Decoder().decode
_DECODE_ERRORS = DECODE_ERRORS  # not JSON, too deep, or a count outside core.accounting.sanity bounds
_LIMIT_TEXT = "usage limit reached|"  # the old marker: only a user line whose own text holds it can be a limit
_TURN_ENDS = frozenset({"end_turn", "stop_sequence", "max_tokens", "refusal"})
_TS = attrgetter("timestamp")
_CWD = attrgetter("cwd")
_BRANCH = attrgetter("gitBranch")
_SESSION = attrgetter("sessionId")
_VERSION = attrgetter("version")


def deep_unstamped(recs: list, stamps: list, block) -> bool:
    """True when a decoded line without a timestamp nests deeper than MAX_DEPTH.

    msgspec refuses a deep line only past the interpreter's C recursion limit, which 3.12
    raised, so a line 1,000 deep decodes there. Every conversation line Claude Code writes
    has a timestamp; the few without one (summaries, queue records, hand-made or hostile
    lines) are found with list.index at C speed and searched (a bytes.find each, an exact scan
    of a line holding a run of "["). File snapshots (no timestamp, 3% of lines, nothing
    read but their type) and stamped lines are left to msgspec's own limit: searching
    every line costs a quarter of a cold scan's CPU (measured: 0.76 s per GB for the find alone).
    """
    raws = Lines(block)
    i = -1
    while True:
        try:
            i = stamps.index(None, i + 1)
        except ValueError:
            return False
        if recs[i].type != "file-history-snapshot" and may_nest_too_deep(raw := raws[i]) and too_deep(raw):
            return True


class Lines:
    """Line `i` of a block (a block in the fast path holds no blank line) or of a list of
    lines, for the rare record whose bytes are needed: the line starts are found once per
    block, as far as asked, so a block full of such records is never read quadratically.
    A memoryview block must start at the start of its buffer, as `tailer.read_blocks` yields."""

    __slots__ = ("source", "starts")

    def __init__(self, source: bytes | bytearray | memoryview | list[bytes]) -> None:
        self.source = source
        self.starts: list[int] | None = None

    def __getitem__(self, i: int) -> bytes:
        source = self.source
        if isinstance(source, list):
            return source[i]
        end = len(source)
        buf: bytes | bytearray = source.obj if isinstance(source, memoryview) else source  # type: ignore[assignment]
        starts = self.starts
        if starts is None:
            starts = self.starts = [0]
        while len(starts) <= i:  # extended only as far as asked: usually a line near the top
            starts.append(buf.find(b"\n", starts[-1], end) + 1)
        start = starts[i]
        stop = buf.find(b"\n", start, end)
        return bytes(buf[start : stop if stop >= 0 else end])


_KNOWN = frozenset(
    {
        "file-history-snapshot",
        "attachment",
        "progress",
        "queue-operation",
        "custom-title",
        "mode",
        "permission-mode",
        "last-prompt",
        "tag",
        "agent-name",
        "ai-title",
        "summary",
    }
)
_SUBTYPES = frozenset(
    {
        "compact_boundary", "microcompact_boundary", "stop_hook_summary", "turn_duration", "local_command",
        "informational", "api_error", "away_summary", "scheduled_task_fire", "bridge_status",
    }
)
#: usage fields read (the money) or knowingly left aside (not billed per token here).
_USAGE_FIELDS = frozenset(
    {
        "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
        "cache_creation", "service_tier", "server_tool_use", "inference_geo", "speed", "iterations",
        "output_tokens_details", "fallback_credit",
    }
)
_SPLIT_FIELDS = frozenset({"ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens"})
# Iterations already included in the top-level usage ("message", "compaction") or, for
# fallback calls, whose usage Claude Code reports at the top level as well.
_ITERATIONS = frozenset({"message", "compaction", "fallback_message", "advisor_message"})


def _speed(u: _Usage) -> str:
    """The price modifiers one response ran with ("" standard, "fast", "us", "fast+us")."""
    fast = u.speed == "fast"
    us = u.inference_geo == "us"
    if not (fast or us):
        return ""
    return "fast+us" if fast and us else "fast" if fast else "us"
