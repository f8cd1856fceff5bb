"""Timestamps from transcripts: ISO 8601 strings or epoch numbers, always tz-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_ts(value: str | int | float | None) -> datetime | None:
    """Parse what the assistants write; None for anything unparseable (never raises).

    Called for every recent turn of every session on each poll, so the common case, an ISO
    string ending in Z, takes the shortest path.
    """
    if isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value)
        except ValueError:
            try:
                dt = datetime.fromisoformat(value.strip())
            except ValueError:
                return None
        if dt.tzinfo is UTC:
            return dt
        return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        # Seconds or milliseconds since the epoch.
        return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, UTC)
    except (ValueError, OverflowError, OSError):
        return None


def iso(dt: datetime | None) -> str | None:
    """UTC ISO 8601 with a Z, as the CLI's --json prints it."""
    if dt is None:
        return None
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


def iso_ms(value: str) -> int:
    """Epoch milliseconds of an ISO 8601 string (0 when unparseable), for hot loops.

    Model calls are stamped one by one during a cold scan, so the usual form
    (`2026-01-05T09:49:20.497Z`) is cut up by hand, reusing the epoch of its date and hour
    from the previous call; anything else goes through `parse_ts`.
    """
    global _hour
    if len(value) == 24 and value[23] == "Z" and value[19] == ".":
        hour = _hour  # one tuple, swapped whole: safe if two threads parse at once
        if value[:13] != hour[0]:
            dt = parse_ts(value[:13] + ":00:00Z")
            if dt is None:
                return 0
            hour = _hour = (value[:13], int(dt.timestamp()) * 1000)
        try:
            return hour[1] + int(value[14:16]) * 60_000 + int(value[17:19]) * 1000 + int(value[20:23])
        except ValueError:
            pass
    dt = parse_ts(value)
    return int(dt.timestamp() * 1000) if dt is not None else 0


_hour: tuple[str, int] = ("", 0)
