"""5-hour blocks and 7-day sums: the usage windows estimated from activity alone.

When no vendor figure is fresh, a window is estimated the way the peers do it (ccusage's
`blocks`, claude-monitor): a block starts at the first call after the previous block ended,
rounded down to the hour (UTC), and lasts 5 hours; a call more than 5 hours after the
block's start, or after the previous call, begins the next block. The boundaries are
strict (a call exactly 5 hours after the start stays in the block), as in ccusage.

A window's "spend" is its calls priced at API rates. Cache reads dominate raw token counts
(often 90%), so tokens alone would make a block of cheap cache hits look like the limit;
priced calls weigh each kind and model the way the vendors' limits are reported to. The
limit a block is compared with comes from a plan preset, from the config, or is learned
from history: the largest spend a block reached when a limit was hit, else the 90th
percentile of past blocks (as claude-monitor does). All of it is an estimate and is
labelled as one wherever it is shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from math import fsum
from typing import Protocol

import msgspec

from llm_sessions.core.accounting.activity import Call
from llm_sessions.core.models import Usage

HOUR_MS = 3_600_000
FIVE_HOURS_MS = 5 * HOUR_MS
WEEK_MS = 7 * 24 * HOUR_MS

# USD per 5-hour block at API prices, from claude-monitor's plan table (`cost_limit`).
PLAN_FIVE_HOUR_USD = {"pro": 18.0, "max5": 35.0, "max20": 140.0}

class Prices(Protocol):
    """What pricing is needed for: core.accounting.pricing.PriceTable's `charge`."""

    def charge(self, model: str | None, usage: Usage, *, bucket: int = 0, cache_1h: int = 0, speed: str = "",
               day: str | None = None) -> float | None: ...


class Block(msgspec.Struct, frozen=True):
    """One 5-hour block: its nominal span, its first and last call, and what it used."""

    start_ms: int
    end_ms: int
    first_ms: int
    last_ms: int
    calls: tuple[Call, ...]

    @property
    def tokens(self) -> tuple[int, int, int, int]:
        return (
            sum(c.input for c in self.calls),
            sum(c.output for c in self.calls),
            sum(c.cache_creation for c in self.calls),
            sum(c.cache_read for c in self.calls),
        )

    def active(self, now_ms: int) -> bool:
        """ccusage's rule: the block has not ended and its last call is under 5 hours old."""
        return now_ms < self.end_ms and now_ms - self.last_ms < FIVE_HOURS_MS


def floor_hour(ms: int) -> int:
    return ms - ms % HOUR_MS


def five_hour_blocks(calls: Sequence[Call], length_ms: int = FIVE_HOURS_MS) -> list[Block]:
    """Group time-ordered calls into blocks (gaps between blocks are not blocks)."""
    blocks: list[Block] = []
    start = -1
    current: list[Call] = []
    for c in calls:
        if start >= 0 and (c.ms - start > length_ms or c.ms - current[-1].ms > length_ms):
            blocks.append(Block(start, start + length_ms, current[0].ms, current[-1].ms, tuple(current)))
            start = -1
        if start < 0:
            start = floor_hour(c.ms)
            current = []
        current.append(c)
    if start >= 0:
        blocks.append(Block(start, start + length_ms, current[0].ms, current[-1].ms, tuple(current)))
    return blocks


def spend(calls: Sequence[Call], prices: Prices | None) -> float:
    """USD of the calls at API prices, each group at its own rate (1-hour cache writes,
    prompt-size bucket, speed, day); calls of a model without a price count 0."""
    if prices is None:
        return 0.0
    sums: dict[tuple[str, int, str, str], list[int]] = {}
    for c in calls:
        s = sums.get((c.model, c.bucket, c.speed, c.day))
        if s is None:
            s = sums[(c.model, c.bucket, c.speed, c.day)] = [0, 0, 0, 0, 0]
        s[0] += c.input
        s[1] += c.output
        s[2] += c.cache_creation
        s[3] += c.cache_read
        s[4] += c.cache_1h
    return group_spend(sums, prices)


def group_spend(sums: Mapping[tuple[str, int, str, str], Sequence[int]], prices: Prices | None) -> float:
    """USD of token sums per (model, bucket, speed, day) group: [input, output, cache
    creation, cache read, 1-hour cache writes]. Summed with fsum, so the figure does not
    depend on the order the groups come in (a walk and call_series' bisection agree)."""
    if prices is None:
        return 0.0
    return fsum(
        prices.charge(model, Usage(s[0], s[1], s[2], s[3]), bucket=bucket, cache_1h=s[4], speed=speed, day=day or None) or 0.0
        for (model, bucket, speed, day), s in sums.items()
    )


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..1) of a non-empty sequence."""
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


class Learned(msgspec.Struct, frozen=True):
    """A limit learned from history, with how it was learned (shown next to the figure)."""

    usd: float | None
    basis: str
    learned: bool = True  # False for a limit the user set or chose by plan


def learn_five_hour(
    blocks: Sequence[Block], hits_ms: Sequence[int], now_ms: int, prices: Prices | None, floor_usd: float = 0.0
) -> Learned:
    """The 5-hour limit in USD: the largest spend a block had reached when a limit was hit,
    else the 90th percentile of completed blocks, at least `floor_usd` (claude-monitor
    likewise never goes below its smallest plan), else unknown (fewer than 3 blocks)."""
    at_hit: list[float] = []
    for b in blocks:
        inside = [h for h in hits_ms if b.start_ms <= h <= b.end_ms]
        if inside:
            upto = max(inside)
            at_hit.append(spend([c for c in b.calls if c.ms <= upto], prices))
    if at_hit and max(at_hit) > 0:
        return Learned(max(at_hit), f"largest block that hit a limit (of {len(at_hit)})")
    done = [s for b in blocks if not b.active(now_ms) and (s := spend(b.calls, prices)) > 0]
    if len(done) >= 3:
        p90 = percentile(done, 0.9)
        if p90 < floor_usd:  # a history of small blocks says little about the ceiling
            return Learned(floor_usd, f"P90 of {len(done)} past blocks (${p90:.2f}) raised to the smallest plan's ${floor_usd:.0f}")
        return Learned(p90, f"P90 of {len(done)} past blocks")
    return Learned(None, "not enough history to learn a limit")


def learn_weekly(calls: Sequence[Call], hits_ms: Sequence[int], now_ms: int, prices: Prices | None) -> Learned:
    """The weekly limit in USD: the 7-day spend when a weekly limit was hit, else the 90th
    percentile of past whole weeks (counted back from now), else unknown (fewer than 2)."""
    if hits_ms:
        at_hit = [spend([c for c in calls if h - WEEK_MS < c.ms <= h], prices) for h in hits_ms]
        if max(at_hit) > 0:
            return Learned(max(at_hit), f"7-day spend when a weekly limit was hit (of {len(at_hit)})")
    weeks: list[float] = []
    if calls:
        end, first = now_ms - WEEK_MS, min(c.ms for c in calls)
        while end > first:
            s = spend([c for c in calls if end - WEEK_MS < c.ms <= end], prices)
            if s > 0:
                weeks.append(s)
            end -= WEEK_MS
    if len(weeks) >= 2:
        return Learned(percentile(weeks, 0.9), f"P90 of {len(weeks)} past weeks")
    return Learned(None, "not enough history to learn a limit")


__all__ = [
    "Block",
    "FIVE_HOURS_MS",
    "HOUR_MS",
    "Learned",
    "PLAN_FIVE_HOUR_USD",
    "Prices",
    "WEEK_MS",
    "five_hour_blocks",
    "floor_hour",
    "group_spend",
    "learn_five_hour",
    "learn_weekly",
    "percentile",
    "spend",
]
