"""Timestamps from transcripts: ISO 8601 strings or epoch numbers, always tz-aware UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_ts(value: str | int | float | None) -> datetime | None:
    """Parse what the assistants write; None for anything unparseable (never raises)."""
    if value is None or value == "":
        return None
    try:
        if isinstance(value, (int, float)):
            # Seconds or milliseconds since the epoch.
            return datetime.fromtimestamp(value / 1000 if value > 1e11 else value, UTC)
        dt = datetime.fromisoformat(value)
    except (ValueError, OverflowError, OSError, TypeError):
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def iso(dt: datetime | None) -> str | None:
    """UTC ISO 8601 with a Z, as the CLI's --json prints it."""
    if dt is None:
        return None
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")
