"""Usage-limit windows: how full each is, when it resets, how fast it fills, who fills it.

A pure function of what the sources said and what the sessions did (no files, no clock):

- vendor figures first: Claude Code's status-line feed (`rate_limits.five_hour`, ...) and
  Codex's `token_count.rate_limits`, whose windows are told apart by their length in
  minutes, never by the slot they arrive in (the weekly window sat in `primary` for weeks);
- a refused turn (an API-error limit line) pins its window at 100% until its reset;
- where no vendor figure is fresh, an estimate from activity: the current 5-hour block and
  the rolling 7-day sum, priced and compared with a preset or learned limit (blocks.py).

Every window then gets its burn rate over the last 30 minutes, the projected time to 100%
at that rate (none when it is not growing, or when it resets first), and the sessions that
used it since it began, with their share: by tokens for an account-wide window, by
price-weighted spend within the model family for an Opus- or Sonnet-only one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from llm_sessions.core.accounting.activity import Call
from llm_sessions.core.accounting.blocks import WEEK_MS, Learned, Prices
from llm_sessions.core.accounting.call_series import CallView, view_of
from llm_sessions.core.models import LimitWindow, WindowShare

BURN_MS = 30 * 60 * 1000
MINUTES = {"five_hour": 300, "seven_day": 10080, "seven_day_opus": 10080, "seven_day_sonnet": 10080}
SCOPE = {"seven_day_opus": "opus", "seven_day_sonnet": "sonnet"}
_RESET_JITTER_S = 120  # Codex re-states a window's reset time with a second or two of drift


def kind_for_minutes(minutes: int) -> str:
    """A window's name from its length: 300 -> five_hour, 10080 -> seven_day, 1440 -> daily."""
    if minutes <= 0:
        return "window"
    if abs(minutes - 300) <= 5:
        return "five_hour"
    if abs(minutes - 10080) <= 60:
        return "seven_day"
    if abs(minutes - 1440) <= 10:
        return "daily"
    if minutes % 1440 == 0:
        return f"{minutes // 1440}d"
    if minutes % 60 == 0:
        return f"{minutes // 60}h"
    return f"{minutes}m"


class Reading(msgspec.Struct, frozen=True):
    """One vendor reading of one window."""

    at_s: float
    pct: float
    resets_at_s: int | None


class Sources(msgspec.Struct, frozen=True):
    """Everything the windows are built from, gathered by the tracker."""

    claude: Sequence[Call] = ()
    codex: Sequence[Call] = ()
    statusline: Mapping[str, Any] | None = None  # state["windows"] of statusline_state
    codex_samples: Sequence[tuple[int, str, int, float, int]] = ()  # (epoch s, ...), sorted by time
    codex_plan: str | None = None
    codex_credits: str | None = None
    claude_hits: Sequence[tuple[int, int, str]] = ()
    learned: Mapping[str, Learned] | None = None  # "<assistant>/<kind>" -> limit in USD


def _dt(seconds: float | None) -> datetime | None:
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


def shares(key: str, kind: str, calls: Sequence[Call], since_ms: int, prices: Prices | None) -> tuple[WindowShare, ...]:
    """Each session's part of the window since `since_ms`, largest first."""
    by_session = view_of(calls).after(since_ms).by_session(prices, SCOPE.get(kind))
    if not by_session:
        return ()
    scoped = kind in SCOPE
    rows = [(sid, tokens, usd, (usd or 0.0) if scoped else float(tokens)) for sid, tokens, usd in by_session]
    total = sum(r[3] for r in rows)
    out = [WindowShare(key, sid, round(w / total, 4) if total else 0.0, tokens, round(usd, 6) if usd is not None else None)
           for sid, tokens, usd, w in rows]
    return tuple(sorted(out, key=lambda s: (-s.share, -s.tokens, s.session_id)))


def burn_from_readings(readings: Sequence[Reading], now_s: float) -> float | None:
    """Percentage points per hour over the last 30 minutes of readings of one window."""
    if len(readings) < 2:
        return None
    last = readings[-1]
    cutoff = now_s - BURN_MS / 1000
    i = max((k for k, r in enumerate(readings) if r.at_s <= cutoff), default=0)
    first = readings[i]
    if i + 1 < len(readings) and readings[i + 1].pct == first.pct and readings[i + 1].at_s > cutoff:
        first = Reading(cutoff, first.pct, first.resets_at_s)  # the run held that value at the cutoff
    span = last.at_s - first.at_s
    if span < 60:
        return None
    return max(0.0, (last.pct - first.pct) / (span / 3600))


def projected(used: float | None, burn: float | None, now: datetime, resets_at: datetime | None) -> datetime | None:
    """When the window reaches 100% at `burn`; None when it does not grow or resets first."""
    if used is None:
        return None
    if used >= 100:
        return now
    if not burn or burn <= 0:
        return None
    eta = now + timedelta(hours=(100 - used) / burn)
    return None if resets_at is not None and eta >= resets_at else eta


def _finish(w: LimitWindow, calls: Sequence[Call], now: datetime, prices: Prices | None, readings: Sequence[Reading] = ()) -> LimitWindow:
    """Burn rate, tokens per minute, projection and shares, the same for every source."""
    now_ms = int(now.timestamp() * 1000)
    calls = view_of(calls)
    recent, family = calls.after(now_ms - BURN_MS, inclusive=False), SCOPE.get(w.kind)
    tpm = recent.tokens(family) / 30 if calls else None
    if readings:
        burn = burn_from_readings(readings, now.timestamp())
    elif w.limit_usd:
        burn = recent.spend(prices, family) / 0.5 / w.limit_usd * 100
    else:
        burn = None
    if w.limit_hit:
        burn = burn or 0.0
    since = w.starts_at or now - timedelta(minutes=MINUTES.get(w.kind, 300))
    return replace(
        w,
        burn_per_hour=round(burn, 3) if burn is not None else None,
        tokens_per_minute=round(tpm, 1) if tpm is not None else None,
        eta=projected(w.used_percent, burn, now, w.resets_at),
        shares=shares(w.key, w.kind, calls, int(since.timestamp() * 1000), prices),
    )


def _vendor(assistant: str, kind: str, source: str, r: Reading, now: datetime, basis: str = "", minutes: int | None = None) -> LimitWindow:
    resets = _dt(r.resets_at_s)
    length = minutes or MINUTES.get(kind)
    return LimitWindow(
        assistant, kind, round(r.pct, 2), resets_at=resets,
        starts_at=resets - timedelta(minutes=length) if resets and length else None,
        source=source, observed_at=_dt(r.at_s), exact=True, limit_hit=r.pct >= 100, basis=basis,
    )


def _estimate(
    assistant: str, kind: str, calls: Sequence[Call], now: datetime, learned: Learned | None, prices: Prices | None, stale: str
) -> LimitWindow:
    """The current 5-hour block, or the rolling 7 days, priced against the known limit."""
    now_ms = int(now.timestamp() * 1000)
    calls = view_of(calls)
    if kind == "five_hour":
        last = calls.current_block(now_ms)
        block, window_calls = last if last is not None and last[0].active(now_ms) else (None, CallView(calls.series, calls.hi, calls.hi))
        starts = _dt(block.start_ms / 1000) if block else None
        resets = _dt(block.end_ms / 1000) if block else None
        what = "current 5-hour block" if block else "no 5-hour block active"
    else:
        window_calls = calls.after(now_ms - WEEK_MS, inclusive=False).upto(now_ms)
        starts, resets = now - timedelta(days=7), None
        what = "rolling 7 days"
    usd = window_calls.spend(prices) if prices is not None else None
    limit = learned.usd if learned else None
    why = learned.basis if learned else "no limit known"
    if learned and limit and usd is not None and usd > limit and learned.learned:
        # past a learned limit without being refused: the history under-estimated it
        why = f"spend passed the learned ${limit:.2f} ({learned.basis}) without a refusal"
        limit = None
    used = round(100 * usd / limit, 2) if usd is not None and limit else None
    basis = f"estimate: {what}; limit {f'${limit:.2f}' if limit else 'unknown'} ({why})"
    return LimitWindow(
        assistant, kind, used, resets_at=resets, starts_at=starts, source="estimate", observed_at=now, exact=False,
        spend_usd=round(usd, 4) if usd is not None else None, limit_usd=limit, basis=basis + (f"; {stale}" if stale else ""),
    )


def _age(seconds: float) -> str:
    minutes = int(seconds // 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes // 60} h"


def claude_windows(src: Sources, now: datetime, prices: Prices | None, fresh_s: float) -> list[LimitWindow]:
    now_s = now.timestamp()
    claude = view_of(src.claude)  # built once here when the caller passed a plain list
    last_call_s = claude[-1].ms / 1000 if claude else 0.0
    out: dict[str, LimitWindow] = {}
    readings: dict[str, list[Reading]] = {}
    stale: dict[str, str] = {}
    for kind, entry in (src.statusline or {}).items():
        if not isinstance(entry, dict) or not isinstance(entry.get("pct"), (int, float)):
            continue
        reset = entry.get("resets_at") if isinstance(entry.get("resets_at"), int) else None
        seen = float(entry.get("seen") or 0)
        if reset is not None and reset <= now_s:
            stale[kind] = f"status line reading of {_age(now_s - seen)} ago is from a window that has reset"
            continue
        if now_s - seen > fresh_s and last_call_s > seen + 60:
            stale[kind] = f"status line said {entry['pct']:g}% {_age(now_s - seen)} ago"
            continue
        readings[kind] = [Reading(s[0], s[1], reset) for s in entry.get("samples", []) if isinstance(s, list) and len(s) == 2]
        out[kind] = _vendor("claude", kind, "statusline", Reading(seen, float(entry["pct"]), reset), now)
    for hit_s, reset_s, kind in sorted(src.claude_hits):
        kind = kind if kind in MINUTES else "five_hour"
        if reset_s and reset_s <= now_s:
            continue
        if not reset_s and now_s - hit_s > MINUTES[kind] * 60:
            continue
        old = out.get(kind)
        if old is None or old.observed_at is None or old.observed_at.timestamp() < hit_s:
            out[kind] = LimitWindow(
                "claude", kind, 100.0, resets_at=_dt(reset_s or None), source="api-error", observed_at=_dt(hit_s),
                exact=True, limit_hit=True, basis="a turn was refused: usage limit reached",
                starts_at=_dt(reset_s - MINUTES[kind] * 60) if reset_s else None,
            )
            readings.pop(kind, None)
    learned = src.learned or {}
    for kind in ("five_hour", "seven_day"):
        if kind not in out and claude:
            out[kind] = _estimate("claude", kind, claude, now, learned.get(f"claude/{kind}"), prices, stale.get(kind, ""))
    return [_finish(w, claude, now, prices, readings.get(k, ())) for k, w in out.items()]


def codex_windows(src: Sources, now: datetime, prices: Prices | None) -> list[LimitWindow]:
    now_s = now.timestamp()
    groups: dict[tuple[str, str], list[Reading]] = {}
    lengths: dict[tuple[str, str], int] = {}
    for at, limit_id, minutes, pct, reset in src.codex_samples:
        kind = kind_for_minutes(minutes)
        key = (limit_id, kind if minutes > 0 else f"window@{reset}")
        groups.setdefault(key, []).append(Reading(at, pct, reset or None))
        lengths[key] = minutes
    basis = ", ".join(x for x in (f"plan {src.codex_plan}" if src.codex_plan else "",
                                   f"credits {src.codex_credits}" if src.codex_credits else "") if x)
    out: dict[str, LimitWindow] = {}
    readings: dict[str, list[Reading]] = {}
    for (limit_id, kind), rs in groups.items():
        rs.sort(key=lambda r: r.at_s)
        last = rs[-1]
        if last.resets_at_s is not None and last.resets_at_s <= now_s:
            continue  # that window has reset; an estimate stands in below
        if last.resets_at_s is None and now_s - last.at_s > (lengths[(limit_id, kind)] or 300) * 60:
            continue
        name = "window" if kind.startswith("window@") else kind
        if limit_id and limit_id != "codex":
            name = f"{name}:{limit_id}"
        if name in out:  # two windows of unknown length: keep both, never merge by slot
            name = f"{name}-{len(out) + 1}"
        same = [r for r in rs if r.resets_at_s is None or last.resets_at_s is None
                or abs(r.resets_at_s - last.resets_at_s) <= _RESET_JITTER_S]
        out[name] = _vendor("codex", name, "codex", last, now, basis, lengths[(limit_id, kind)] or None)
        readings[name] = same
    learned = src.learned or {}
    codex = view_of(src.codex)
    for kind in ("five_hour", "seven_day"):
        if kind not in out and codex:
            out[kind] = _estimate("codex", kind, codex, now, learned.get(f"codex/{kind}"), prices, "")
    return [_finish(w, codex, now, prices, readings.get(k, ())) for k, w in out.items()]


_ORDER = {"five_hour": 0, "seven_day": 1, "seven_day_opus": 2, "seven_day_sonnet": 3}


def build_windows(src: Sources, now: datetime, prices: Prices | None, fresh_minutes: float = 10.0) -> tuple[LimitWindow, ...]:
    """Every window of every assistant with data, ordered by assistant then window."""
    windows = claude_windows(src, now, prices, fresh_minutes * 60) + codex_windows(src, now, prices)
    return tuple(sorted(windows, key=lambda w: (w.assistant, _ORDER.get(w.kind, 9), w.kind)))


def tightest(windows: Sequence[LimitWindow]) -> dict[str, LimitWindow]:
    """Per assistant, the window that runs out first: a hit limit, else the soonest
    projected exhaustion, else the fullest."""

    def rank(w: LimitWindow) -> tuple:
        eta = w.eta.timestamp() if w.eta else float("inf")
        return (not w.limit_hit, eta, -(w.used_percent if w.used_percent is not None else -1))

    out: dict[str, LimitWindow] = {}
    for w in windows:
        if w.assistant not in out or rank(w) < rank(out[w.assistant]):
            out[w.assistant] = w
    return out


__all__ = ["MINUTES", "Reading", "SCOPE", "Sources", "build_windows", "burn_from_readings", "kind_for_minutes",
           "projected", "shares", "tightest"]
