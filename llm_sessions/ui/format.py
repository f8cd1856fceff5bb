"""Plain-text formatting shared by the table, the drilldown and the header.

Pure functions of values (no widgets, no theme), so column widths and rounding are tested
without a terminal and every screen shows a number the same way.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from llm_sessions.core.ids import unique_prefixes  # noqa: F401  (re-exported: one rule for CLI and UI)

BAR_FULL = "█"
BAR_EMPTY = "░"


def short_id(session_id: str, width: int = 8) -> str:
    return session_id[:width]


def short_folder(path: str | None, width: int = 24) -> str:
    """The folder's tail, e.g. `…/projects/webshop`: the last parts say which project it is."""
    if not path:
        return "-"
    path = path.rstrip("/") or "/"
    if len(path) <= width:
        return path
    parts = path.split("/")
    out = parts[-1]
    for part in reversed(parts[:-1]):
        candidate = f"{part}/{out}"
        if len(candidate) + 2 > width:
            break
        out = candidate
    out = "…/" + out
    return out if len(out) <= width else "…" + out[-(width - 1):]


def clip(text: str, width: int) -> str:
    """Cut to `width` with an ellipsis, so a long branch never pushes columns off screen."""
    return text if len(text) <= width else text[: width - 1] + "…"


def short_model(model: str | None, tool: str = "") -> str:
    """Drop the vendor prefix the Tool column already shows (`claude-sonnet-4-5` -> `sonnet-4-5`)."""
    if not model:
        return "-"
    prefix = f"{tool}-"
    return model[len(prefix):] if tool and model.startswith(prefix) and len(model) > len(prefix) else model


def human_tokens(n: int | None) -> str:
    if n is None:
        return "-"
    for limit, suffix in ((1_000_000_000, "G"), (1_000_000, "M"), (1_000, "k")):
        if abs(n) >= limit:
            value = n / limit
            return f"{value:.1f}{suffix}" if value < 100 else f"{value:.0f}{suffix}"
    return str(n)


def human_cost(usd: float | None) -> str:
    if usd is None:
        return "-"
    return f"${usd:,.2f}" if usd < 1000 else f"${usd:,.0f}"


def human_duration(delta: timedelta | None) -> str:
    """Two units at most (`3h 05m`, `2d 4h`, `45s`): enough to compare sessions at a glance."""
    if delta is None:
        return "-"
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


def uptime(started_at: datetime | None, now: datetime) -> timedelta | None:
    return None if started_at is None else now - started_at


def bar(fraction: float, width: int) -> str:
    """A fixed-width bar; any non-zero fraction shows at least one cell so it is never hidden."""
    fraction = min(1.0, max(0.0, fraction))
    filled = round(fraction * width)
    if fraction > 0 and filled == 0:
        filled = 1
    return BAR_FULL * filled + BAR_EMPTY * (width - filled)


__all__ = [
    "bar",
    "clip",
    "human_cost",
    "human_duration",
    "human_tokens",
    "short_folder",
    "short_id",
    "short_model",
    "unique_prefixes",
    "uptime",
]
