"""What one transcript line may contain before we believe it: the shared sanity checks.

Every provider decodes lines written by another program, and one hostile or corrupted line
must cost exactly that line: it is counted as malformed and skipped, and the rest of the
file, the session and the provider go on. A line is malformed when it
- is not JSON, or nests deeper than MAX_DEPTH (the decoders would recurse until Python's
  limit and raise RecursionError, which used to stop a whole provider),
- is longer than MAX_LINE_BYTES (the tailer skips it without holding it in memory),
- holds an integer outside the signed 64-bit range (it could not be stored or cached),
- holds a token count that is negative or above its ceiling:
  MAX_CALL_TOKENS for the usage of one model call (a Claude `message.usage`, a Gemini
  message's `tokens`): 100 million, 50 times the largest context window sold today, so
  no real call comes near it;
  MAX_TOTAL_TOKENS for counters that may be cumulative (Codex's token usage objects,
  Copilot's per-session metrics, any other key ending in "tokens"): a trillion, about
  ten thousand years of a busy session.
  A line saying `-5000001` or `2**63` tokens is damage, not usage; summing it would put
  "$28.5 trillion" on the screen.

The msgspec-decoded providers (Claude, Codex) express the checks as constrained field types
(`CallTokens`, `TotalTokens`), so the decoder itself rejects the line; the providers that
decode to plain dicts (Gemini, Copilot) call `decode_record`, which walks the record once.
Both draw the ceilings from here.
"""

from __future__ import annotations

import math
import re
from array import array
from itertools import accumulate
from typing import Annotated, Any

import msgspec

MAX_DEPTH = 128
MAX_LINE_BYTES = 64 * 1024 * 1024
#: A transcript kept as one JSON document (Gemini's legacy `.json`) is read whole, so bounded.
MAX_DOCUMENT_BYTES = 256 * 1024 * 1024
#: Small side files read whole (Gemini's projects.json, Cursor's workspace.json).
MAX_SIDE_FILE_BYTES = 4 * 1024 * 1024
MAX_CALL_TOKENS = 100_000_000
MAX_TOTAL_TOKENS = 1_000_000_000_000
INT64_MAX = 2**63 - 1

#: A token count of one model call; a line with a value outside [0, MAX_CALL_TOKENS] fails.
CallTokens = Annotated[int, msgspec.Meta(ge=0, le=MAX_CALL_TOKENS)]
#: A cumulative token counter; a line with a value outside [0, MAX_TOTAL_TOKENS] fails.
TotalTokens = Annotated[int, msgspec.Meta(ge=0, le=MAX_TOTAL_TOKENS)]
#: Any other integer we keep (a window size, minutes): must fit in 64 bits and be >= 0.
Count = Annotated[int, msgspec.Meta(ge=0, le=INT64_MAX)]

#: What a decoder may raise on a bad line, beyond its own error types.
DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, RecursionError, ValueError, UnicodeDecodeError)
#: What encoding a cached state may raise: a name that is not UTF-8 (lone surrogates), an
#: integer past 64 bits; such an entry is left out of the scan cache and read again next run.
ENCODE_ERRORS = (UnicodeEncodeError, OverflowError, TypeError, ValueError, msgspec.EncodeError)


def _count_ok(value: Any, ceiling: int) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return True  # not a number: the provider reads it as "no count"
    if isinstance(value, float) and not math.isfinite(value):
        return False
    return 0 <= value <= ceiling


def sane(record: Any) -> bool:
    """True when a decoded record passes the checks above (one pass, no recursion).

    Token counts are recognised by name: a number under a key ending in "tokens" (any case:
    `output_tokens`, `inputTokens`) is a cumulative counter, and every number in an object
    under the key "tokens" (Gemini's per-message `tokens{input, output, cached, ...}`) is the
    count of one call.
    """
    stack: list[tuple[Any, int, int]] = [(record, 0, 0)]
    while stack:
        value, depth, ceiling = stack.pop()
        if depth > MAX_DEPTH:
            return False
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(item, (dict, list)):
                stack.append((item, depth + 1, MAX_CALL_TOKENS if key == "tokens" else 0))
                continue
            if isinstance(item, int):
                if not -INT64_MAX <= item <= INT64_MAX:
                    return False
            elif isinstance(item, float):
                if not math.isfinite(item):
                    return False
            else:
                continue
            limit = ceiling or (MAX_TOTAL_TOKENS if isinstance(key, str) and key.lower().endswith("tokens") else 0)
            if limit and not _count_ok(item, limit):
                return False
    return True


#: What a line nested deeper than MAX_DEPTH almost always holds: a run of opening brackets.
#: Searched for in one line (bytes.find) before the exact scan; too slow for every block (0.76 s per GB).
_DEEP_RUN = b"[" * 16
#: A JSON string, escapes included: cut out before brackets are counted.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
#: Brackets to +1 (openers) and -1 (closers, 0xff as a signed byte); every other byte deleted.
_STEPS = bytes.maketrans(b"[{]}", b"\x01\x01\xff\xff")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def may_nest_too_deep(buf: bytes | bytearray, end: int | None = None) -> bool:
    """Cheaper gate for `too_deep` over a whole block: False when no line of `buf[:end]` (one line or a block of
    lines) holds a run of 16 "[", which every line nested deeper than MAX_DEPTH from arrays does.

    Why a gate at all: on Python 3.12+ msgspec counts its depth against the interpreter's
    C recursion limit (about 1,500 there, 1,000 on 3.11), so a line 1,000 deep decodes
    instead of failing; the gate keeps the exact check off the hot path. An object-only
    nesting (`{"a":{"a":...`) passes the gate: msgspec still refuses it past its own limit.
    """
    return buf.find(_DEEP_RUN, 0, len(buf) if end is None else end) >= 0


def too_deep(raw: bytes, limit: int = MAX_DEPTH) -> bool:
    """True when one line nests arrays/objects deeper than `limit` (brackets inside strings
    do not count).

    Cheap for nearly every line: one with at most `limit` opening brackets in all is
    answered by two `bytes.count` calls. Only a line with more (a tool output full of code,
    say) has its strings cut out and its bracket depth summed, in C (translate + accumulate).
    The Claude path calls it only on lines `may_nest_too_deep` flags; Codex on every line.
    """
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    steps = array("b")
    steps.frombytes(_STRING.sub(b"", raw).translate(_STEPS, _NOT_BRACKETS))
    return max(accumulate(steps), default=0) > limit


def decode_record(raw: bytes | str) -> Any:
    """One JSON value from a line, or None when it is not JSON or fails `sane`.

    msgspec rather than the json module: it refuses lone surrogates ("\\ud800"), which would
    otherwise reach the terminal, the store and our own JSON output as unencodable text.
    """
    try:
        value = msgspec.json.decode(raw)
    except DECODE_ERRORS:
        return None
    if isinstance(value, (dict, list)) and not sane(value):
        return None
    return value


__all__ = [
    "CallTokens",
    "Count",
    "DECODE_ERRORS",
    "MAX_CALL_TOKENS",
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "MAX_LINE_BYTES",
    "MAX_SIDE_FILE_BYTES",
    "MAX_TOTAL_TOKENS",
    "TotalTokens",
    "decode_record",
    "may_nest_too_deep",
    "sane",
    "too_deep",
]
