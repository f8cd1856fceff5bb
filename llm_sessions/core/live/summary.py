"""The dashboard's header figures, computed from snapshots without a terminal.

Tokens per minute is measured over a sliding window of recent snapshots rather than between
two consecutive ticks: at a 2 s refresh a single tick is all-or-nothing noise (a turn lands
or it does not), while a few minutes of history gives a rate a user can read.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from llm_sessions.core.models import Snapshot

STATE_ORDER = ("working", "waiting", "idle", "unknown", "ended")


@dataclass(frozen=True, slots=True)
class Summary:
    by_state: tuple[tuple[str, int], ...]
    cost_today: float
    tokens_per_minute: float | None


def cost_today(snapshot: Snapshot, now: datetime) -> float:
    """Cost of the sessions active today (local date of `now`).

    A session's cost is its total; the core does not split it by day, so a session that
    started yesterday and is still active counts whole. The label in the UI says so.
    """
    today = now.astimezone().date()
    total = 0.0
    for s in snapshot.sessions:
        seen = s.last_activity or s.started_at
        if s.cost_usd is not None and seen is not None and seen.astimezone().date() == today:
            total += s.cost_usd
    return total


class TokenRate:
    """Tokens per minute across sessions over the last `window` of snapshots."""

    def __init__(self, window: timedelta = timedelta(minutes=5)) -> None:
        self._window = window
        self._points: deque[tuple[datetime, dict[str, int]]] = deque()

    def add(self, snapshot: Snapshot) -> float | None:
        """Record a snapshot; return the rate, or None until two snapshots span some time."""
        totals = {s.id: s.usage.total for s in snapshot.sessions}
        self._points.append((snapshot.taken_at, totals))
        while len(self._points) > 2 and snapshot.taken_at - self._points[0][0] > self._window:
            self._points.popleft()
        start_at, start = self._points[0]
        minutes = (snapshot.taken_at - start_at).total_seconds() / 60
        if minutes <= 0:
            return None
        # Only growth counts: a session that vanished or was compacted must not make the rate negative.
        grown = sum(max(0, total - start.get(sid, total)) for sid, total in totals.items())
        return grown / minutes


def context_series(history: Sequence[Any]) -> list[tuple[datetime, int]]:
    """(at, context_used) of the history samples that know their context fill.

    The store keeps `context_used=None` for points where the fill was unknown; a prediction
    or a sparkline must skip them rather than read them as zero.
    """
    return [(x.at, x.context_used) for x in history if x.context_used is not None]


def summarize(snapshot: Snapshot, now: datetime, rate: float | None) -> Summary:
    counts: Counter[str] = Counter(s.state for s in snapshot.sessions)
    by_state = tuple((state, counts[state]) for state in STATE_ORDER if counts[state])
    return Summary(by_state, cost_today(snapshot, now), rate)


__all__ = ["STATE_ORDER", "Summary", "TokenRate", "context_series", "cost_today", "summarize"]
