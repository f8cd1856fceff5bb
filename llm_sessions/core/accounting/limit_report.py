"""Usage-limit windows as plain dicts (the `--json` contract) and as text for `limits`.

Keys are public interface, spelled out once here; datetimes are ISO 8601 UTC, unknown
values null. Shares are fractions (0..1) in JSON and percentages in text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from llm_sessions.core.models import LimitWindow, Session, WindowShare
from llm_sessions.core.timeparse import iso

LABELS = {
    "five_hour": "5-hour",
    "seven_day": "weekly",
    "seven_day_opus": "weekly Opus",
    "seven_day_sonnet": "weekly Sonnet",
    "daily": "daily",
}


def label(kind: str) -> str:
    base, _, limit_id = kind.partition(":")
    return LABELS.get(base, base) + (f" ({limit_id})" if limit_id else "")


def share_dict(s: WindowShare) -> dict:
    return {"window": s.window, "session": s.session_id, "share": s.share, "tokens": s.tokens, "cost_usd": s.cost_usd}


def window_dict(w: LimitWindow, now: datetime) -> dict:
    age = (now - w.observed_at).total_seconds() if w.observed_at else None
    return {
        "assistant": w.assistant,
        "window": w.kind,
        "label": label(w.kind),
        "used_percent": w.used_percent,
        "resets_at": iso(w.resets_at),
        "starts_at": iso(w.starts_at),
        "source": w.source,
        "exact": w.exact,
        "observed_at": iso(w.observed_at),
        "age_seconds": round(age, 1) if age is not None else None,
        "burn_percent_per_hour": w.burn_per_hour,
        "tokens_per_minute": w.tokens_per_minute,
        "projected_full_at": iso(w.eta),
        "limit_hit": w.limit_hit,
        "spend_usd": w.spend_usd,
        "limit_usd": w.limit_usd,
        "basis": w.basis,
        "sessions": [share_dict(s) for s in w.shares],
    }


def session_shares(s: Session) -> list[dict]:
    return [share_dict(x) for x in s.limit_shares]


def _span(seconds: float) -> str:
    seconds = max(0, int(seconds))
    d, rest = divmod(seconds, 86400)
    h, rest = divmod(rest, 3600)
    m = rest // 60
    return f"{d}d {h}h" if d else f"{h}h {m:02d}m" if h else f"{m}m"


def when(dt: datetime | None, now: datetime) -> str:
    """`14:00 (in 2h 10m)`, local time; a date when it is not today."""
    if dt is None:
        return "-"
    local = dt.astimezone()
    clock = local.strftime("%H:%M") if abs(dt - now) < timedelta(hours=20) else local.strftime("%a %d %b %H:%M")
    delta = (dt - now).total_seconds()
    return f"{clock} (in {_span(delta)})" if delta >= 0 else f"{clock} ({_span(-delta)} ago)"


def used_text(w: LimitWindow) -> str:
    if w.limit_hit:
        return "LIMIT"
    if w.used_percent is None:
        return "?" if w.spend_usd is None else f"${w.spend_usd:,.2f}"
    return f"{'~' if not w.exact else ''}{w.used_percent:.0f}%"


def eta_text(w: LimitWindow, now: datetime) -> str:
    if w.limit_hit:
        return "reached"
    if w.eta is not None:
        return f"in {_span((w.eta - now).total_seconds())}"
    if w.burn_per_hour and w.resets_at is not None:
        return "resets first"
    return "-"


SHORT = {"five_hour": "5h", "seven_day": "7d", "seven_day_opus": "7d opus", "seven_day_sonnet": "7d sonnet", "daily": "1d"}


def short_label(kind: str) -> str:
    base, _, limit_id = kind.partition(":")
    return SHORT.get(base, base) + (f" {limit_id}" if limit_id else "")


def urgency(w: LimitWindow, now: datetime, limit_minutes: float) -> str:
    """How worried to look: `bad` (hit, or projected full within `limit_minutes`, or 95%+),
    `warn` (projected full within twice that, or 80%+), `ok`, or `unknown` (no figure)."""
    if w.limit_hit:
        return "bad"
    minutes = (w.eta - now).total_seconds() / 60 if w.eta is not None else None
    used = w.used_percent
    if (minutes is not None and minutes <= limit_minutes) or (used is not None and used >= 95):
        return "bad"
    if (minutes is not None and minutes <= 2 * limit_minutes) or (used is not None and used >= 80):
        return "warn"
    return "unknown" if used is None else "ok"


def text_report(windows: Sequence[LimitWindow], now: datetime, short_ids: dict[str, str] | None = None) -> str:
    """The `limits` table: one row per window, then the sessions that used it."""
    if not windows:
        return "No usage-limit window known yet: no activity in the last 7 days, and no status line or Codex reading."
    short_ids = short_ids or {}
    head = f"{'ASSISTANT':<9} {'WINDOW':<14} {'USED':>6}  {'RESETS':<28} {'SOURCE':<22} {'BURN/H':>7}  FULL"
    rows = [head]
    for w in windows:
        age = f" ({_span((now - w.observed_at).total_seconds())} old)" if w.observed_at and w.source != "estimate" else ""
        burn = f"{w.burn_per_hour:+.1f}%" if w.burn_per_hour is not None else "-"
        rows.append(
            f"{w.assistant:<9} {label(w.kind):<14} {used_text(w):>6}  {when(w.resets_at, now):<28} "
            f"{(w.source + age):<22} {burn:>7}  {eta_text(w, now)}"
        )
        if w.basis:
            rows.append(f"{'':<9} {w.basis}")
        if w.shares:
            top = " · ".join(f"{short_ids.get(s.session_id, s.session_id[:8])} {100 * s.share:.0f}%" for s in w.shares[:6])
            more = f" · +{len(w.shares) - 6} more" if len(w.shares) > 6 else ""
            rows.append(f"{'':<9} sessions since it began: {top}{more}")
    return "\n".join(rows)


__all__ = [
    "LABELS", "SHORT", "label", "short_label", "urgency", "session_shares", "share_dict", "text_report", "used_text", "when", "window_dict",
]
