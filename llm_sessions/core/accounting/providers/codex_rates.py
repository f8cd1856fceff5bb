"""Codex rate-limit readings: what each token_count says about the plan's usage windows.

Every `token_count` can carry `rate_limits{primary, secondary, limit_id, plan_type,
credits}`. A file keeps the newest reading per slot for the session's rows (`readings`) and
a bounded history of samples for limits.py, which classifies windows by their length (5
hours, a week), never by slot. Reset times come as epoch seconds, ISO text, or, from older
builds, seconds relative to the line (`resets_in_seconds`).
"""

from __future__ import annotations

from datetime import timedelta

from llm_sessions.core.accounting.limit_lines import identifier
from llm_sessions.core.accounting.providers.codex_lines import Rates
from llm_sessions.core.models import RateLimit
from llm_sessions.core.timeparse import parse_ts

RATE_SAMPLES_KEEP = 48

#: (slot name, used percent, reset as written, window minutes): the newest reading per slot.
Reading = tuple[str, float, str, int]
#: (epoch s, limit id, window minutes, used %, reset epoch s or 0)
Sample = tuple[int, str, int, float, int]


def readings(rates: Rates) -> list[Reading]:
    """The slots of one `rate_limits` object that say how much is used."""
    return [
        (name, r.used_percent or 0.0, str(r.resets_at or ""), int(r.window_minutes or 0))
        for name, r in (("primary", rates.primary), ("secondary", rates.secondary))
        if r is not None and r.used_percent is not None
    ]


def add_samples(samples: list[Sample], rates: Rates, ts: str) -> None:
    """Append this line's readings, newest last; of a run of equal readings only the first
    and the newest are kept, and only the last RATE_SAMPLES_KEEP samples."""
    at = parse_ts(ts)
    limit_id = identifier(rates.limit_id) or ""
    for r in (rates.primary, rates.secondary):
        if r is None or r.used_percent is None:
            continue
        raw = r.resets_at
        reset = parse_ts(int(raw) if isinstance(raw, float) or (isinstance(raw, str) and raw.isdigit()) else raw)
        if reset is None and r.resets_in_seconds is not None and at is not None:
            reset = at + timedelta(seconds=r.resets_in_seconds)
        if at is None:
            continue
        sample = (int(at.timestamp()), limit_id, int(r.window_minutes or 0), float(r.used_percent),
                  int(reset.timestamp()) if reset else 0)
        same = [i for i in range(len(samples) - 1, -1, -1) if samples[i][1:3] == sample[1:3]][:2]
        if len(same) == 2 and samples[same[0]][3:] == sample[3:] == samples[same[1]][3:]:
            samples[same[0]] = sample  # a run of equal readings keeps its first and its newest
        else:
            samples.append(sample)
    del samples[:-RATE_SAMPLES_KEEP]


def plan_of(rates: Rates) -> str | None:
    """The plan a line names (`plan_type`), as a safe identifier, or None."""
    return identifier(rates.plan_type)


def credits_of(credits: dict) -> str | None:
    """`credits{unlimited, balance}` as one short text: "unlimited", the balance, or None."""
    if credits.get("unlimited") is True:
        return "unlimited"
    return identifier(str(credits["balance"])) if credits.get("balance") is not None else None


def rate_limits(latest: list[Reading]) -> tuple[RateLimit, ...]:
    """A session's rate-limit rows from its main file's newest readings."""
    return tuple(RateLimit(name, pct, parse_ts(int(r) if r.isdigit() else r), wm or None) for name, pct, r, wm in latest)
