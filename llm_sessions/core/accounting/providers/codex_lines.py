"""Codex rollout lines as they are decoded: the typed shape of a line and its guards.

Only the fields the accounting reads are declared; every one is optional, and a count
outside core.accounting.sanity's bounds makes msgspec reject the whole line (counted as
malformed by the caller). The reader checks `sanity.too_deep` before decoding: msgspec refuses
a deeply nested line with RecursionError on Python 3.11 only, and on 3.12+ it decodes one
nested 1000 deep (skipping an unknown field does not recurse), so the depth limit is
applied on the bytes, the same on every Python.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from llm_sessions.core.accounting.sanity import TotalTokens


class _Tok(msgspec.Struct):
    input_tokens: TotalTokens | None = 0
    cached_input_tokens: TotalTokens | None = 0
    cache_write_input_tokens: TotalTokens | None = 0
    output_tokens: TotalTokens | None = 0
    reasoning_output_tokens: TotalTokens | None = 0
    total_tokens: TotalTokens | None = 0


class _Info(msgspec.Struct):
    total_token_usage: _Tok | None = None
    last_token_usage: _Tok | None = None
    model_context_window: TotalTokens | None = None


class _Rate(msgspec.Struct):
    used_percent: float | None = None
    resets_at: int | float | str | None = None
    window_minutes: int | float | None = None
    resets_in_seconds: int | float | None = None  # older builds: relative to the line


class Rates(msgspec.Struct):
    primary: _Rate | None = None
    secondary: _Rate | None = None
    # Any: a field of an unexpected type must not turn the whole token_count into a
    # malformed line; limits.py reads them defensively.
    limit_id: Any = None
    plan_type: Any = None
    credits: Any = None


class _Git(msgspec.Struct):
    branch: str | None = None


class _Base(msgspec.Struct):
    thread_id: str | None = None
    end_ordinal_exclusive: int | None = None


class _Settings(msgspec.Struct):
    service_tier: str | None = "\0"  # "\0": the key is absent (the tier stays as it was)


class Payload(msgspec.Struct):
    type: str | None = None
    id: str | None = None
    timestamp: str | None = None
    cwd: str | None = None
    model: str | None = None
    forked_from_id: str | None = None
    git: _Git | None = None
    info: _Info | None = None
    rate_limits: Rates | None = None
    cli_version: str | None = None
    history_base: _Base | None = None
    source: str | dict | None = None
    thread_settings: _Settings | None = None
    trigger_turn: bool | None = None
    response_id: str | None = None
    compaction_response_id: str | None = None
    usage: _Tok | None = None
    thread_token_usage: _Tok | None = None


class _Line(msgspec.Struct):
    timestamp: str | None = None
    type: str | None = None
    payload: Payload | None = None
    ordinal: int | None = None



decode_line = msgspec.json.Decoder(_Line).decode
# A function_call_output's `output` is itself JSON in a string, so its exit code appears
# with escaped quotes; matching the bytes avoids decoding a tool's whole output.
EXIT_CODE = re.compile(rb'\\"exit_code\\":\s*(-?\d+)')
ZERO = (0, 0, 0, 0, 0)
decode_any = msgspec.json.Decoder().decode
TIERS = {"priority": "priority", "fast": "priority", "flex": "flex"}  # service_tier -> price tier
KNOWN_TYPES = frozenset({"session_meta", "turn_context", "response_item", "event_msg", "compacted",
                          "token_usage_record", "inter_agent_communication", "inter_agent_communication_metadata"})
TOKEN_FIELDS = frozenset({"input_tokens", "cached_input_tokens", "cache_write_input_tokens", "output_tokens",
                           "reasoning_output_tokens", "total_tokens"})
CHILD_STARTS = ("inter_agent_communication", "inter_agent_communication_metadata")


def usage_vector(t: _Tok) -> tuple[int, int, int, int, int]:
    """(input incl. cache, cached, cache writes, output, reasoning) of one usage object."""
    return (t.input_tokens or 0, t.cached_input_tokens or 0, t.cache_write_input_tokens or 0, t.output_tokens or 0,
            t.reasoning_output_tokens or 0)


def delta(new: tuple, old: tuple) -> tuple:
    """What a cumulative counter added; a counter that went down restarted from zero."""
    if any(n < o for n, o in zip(new, old, strict=False)):
        return new
    return tuple(n - o for n, o in zip(new, old, strict=False))
