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
