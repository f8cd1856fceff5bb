"""Transcript lines that say a usage limit was hit, and when it resets.

Claude Code records a refused turn as an assistant line with `isApiErrorMessage: true`; a
quota refusal also carries `error: "rate_limit"` and/or `apiErrorStatus: 429`, and its text
names the reset in words ("You've hit your limit · resets 8:50pm (Europe/Berlin)"). Older
builds wrote `Claude AI usage limit reached|<epoch>` instead, as an API-error line or as a
plain user line. Both forms mark the limit, its kind when the text says (5-hour, weekly,
Opus/Sonnet weekly) and its reset time.

Called by the Claude parser only for API-error lines and for user lines holding the old
marker, so it may decode the whole line: those lines are rare. The structured fields decide
whether a line is a limit; the prose is read only for the reset time and the window kind, so
a session that merely talks about limits (grep output, a pasted error) never marks one.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, NamedTuple

import msgspec

from llm_sessions.core.timeparse import parse_ts

OLD_MARKER = b"usage limit reached|"
# Patterns are compiled on first use (re caches them): the parser imports this module on
# every run, the status line's included, and most runs never meet a limit line.
_EPOCH = r"usage limit reached\|(\d{9,13})"
_MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
_RESETS = (
    r"resets?\s+(?:at\s+|on\s+)?"
    r"(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+)?"
    r"(?:(?P<mon>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(?P<day>\d{1,2}),?\s+(?:at\s+)?)?"
    r"(?P<h>\d{1,2})(?::(?P<m>\d{2}))?\s*(?P<ampm>[ap]\.?m\.?)?"
    r"(?:\s*\((?P<tz>[A-Za-z_]+(?:/[A-Za-z_+\-0-9]+)*)\))?"
)
_AFTER = r"(?:try again|resets?)\s+in\s+(\d+)\s*(minute|min|hour|hr|h|m)"


def identifier(value: object, limit: int = 40) -> str | None:
    """A name read from a file (a Codex `limit_id` or `plan_type`, a status-line window key)
    reduced to letters, digits and `_.:-`, so it is inert wherever it is printed."""
    if not isinstance(value, str):
        return None
    out = re.sub(r"[^A-Za-z0-9_.:-]", "", value)[:limit]
    return out or None


class LimitHit(NamedTuple):
    """One refusal: when it happened, when the window resets (0 = unknown), which window."""

    at: int
    resets_at: int
    kind: str


def limit_kind(text: str) -> str:
    """The window a limit message names: five_hour, seven_day(_opus/_sonnet) or unknown."""
    low = text.lower()
    if re.search(r"weekly|7-day|seven.day|week", low):
        for family in ("opus", "sonnet"):
            if family in low:
                return f"seven_day_{family}"
        return "seven_day"
    if re.search(r"5-hour|five.hour|5h\b|session limit", low):
        return "five_hour"
    return "unknown"


def _zone(name: str | None) -> tzinfo | None:
    """The named zone, the local zone when the text names none (the transcript was written
    on this machine), None for a name zoneinfo does not know."""
    if not name:
        return datetime.now().astimezone().tzinfo
    if name.upper() in ("UTC", "GMT", "Z"):
        return UTC
    try:
        from zoneinfo import ZoneInfo

        return ZoneInfo(name)
    except (ValueError, KeyError, OSError, ImportError):
        return None


def reset_from_text(text: str, at: datetime) -> int:
    """The reset instant a limit message names (epoch seconds), 0 when it names none.

    A wall-clock time ("resets 3pm", "resets 8:50pm (Europe/Berlin)") means its next
    occurrence after the refusal; a date ("resets Jan 5, 3pm") pins the day.
    """
    m = re.search(_EPOCH, text)
    if m:
        value = int(m.group(1))
        return value // 1000 if value > 10**11 else value
    m = re.search(_AFTER, text, re.IGNORECASE)
    if m:
        n, unit = int(m.group(1)), m.group(2).lower()
        return int((at + (timedelta(hours=n) if unit.startswith("h") else timedelta(minutes=n))).timestamp())
    m = re.search(_RESETS, text, re.IGNORECASE)
    if not m:
        return 0
    hour, minute = int(m.group("h")), int(m.group("m") or 0)
    ampm = (m.group("ampm") or "").lower().replace(".", "")
    if ampm:
        if not 1 <= hour <= 12:
            return 0
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    elif m.group("m") is None and not m.group("mon"):
        return 0  # a bare number ("resets 3") is not a time
    if hour > 23 or minute > 59:
        return 0
    zone = _zone(m.group("tz"))
    if zone is None:
        return 0
    local = at.astimezone(zone)
    if m.group("mon"):
        month = _MONTHS.index(m.group("mon").lower()[:3]) + 1
        try:
            when = local.replace(month=month, day=int(m.group("day")), hour=hour, minute=minute, second=0, microsecond=0)
        except ValueError:
            return 0
        if when < local - timedelta(days=1):
            when = when.replace(year=when.year + 1)
        return int(when.timestamp())
    when = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if when <= local:
        when += timedelta(days=1)
    return int(when.timestamp())


def _text(content: Any) -> str:
    """The plain text of a message's content (a string or text blocks); tool results never."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            b["text"] for b in content if isinstance(b, dict) and b.get("type") == "text" and isinstance(b.get("text"), str)
        )
    return ""


def limit_hit(raw: bytes) -> LimitHit | None:
    """The limit an API-error or user line records, or None when it records none.

    An API-error line counts when it says `error: rate_limit`, status 429, or carries the old
    `usage limit reached|<epoch>` marker; a user line only when its own text (not a tool
    result) begins with that marker, as Claude Code wrote it.
    """
    try:
        rec = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None
    if not isinstance(rec, dict):
        return None
    ts = rec.get("timestamp")
    at = parse_ts(ts) if isinstance(ts, str) else None
    if at is None:
        return None
    msg = rec.get("message")
    text = _text(msg.get("content")) if isinstance(msg, dict) else ""
    if rec.get("type") == "assistant" and rec.get("isApiErrorMessage") is True:
        error = rec.get("error")
        status = rec.get("apiErrorStatus")
        limited = (
            (isinstance(error, str) and error.strip().lower() == "rate_limit")
            or (isinstance(status, int) and not isinstance(status, bool) and status == 429)
            or re.search(_EPOCH, text) is not None
        )
    elif rec.get("type") == "user":
        limited = re.match(_EPOCH, text.lstrip().removeprefix("Claude AI ")) is not None
    else:
        limited = False
    if not limited:
        return None
    return LimitHit(int(at.timestamp()), reset_from_text(text, at), limit_kind(text))


__all__ = ["LimitHit", "OLD_MARKER", "identifier", "limit_hit", "limit_kind", "reset_from_text"]
