"""Each live session's recent context fill, kept in memory and appended to per poll.

The compaction forecast fits the last hour of (time, context used). Reading that hour back
from the store on every poll made a poll's cost grow with uptime (12% of a core at start,
80% after five minutes with 50 sessions). Here the history is read once, when a session is
first seen, and every later poll appends its own point when the fill changed and drops
points older than the window, so a poll costs the same after a day as after a minute.
At most `max_points` are kept per session: the forecast fits the last 12 points after the
most recent drop, so the newest 13 already give the same answer as the whole hour, and a
session that changes every second costs no more than one that changes every minute.
Sessions that leave the snapshot or end are forgotten. Pure: no I/O besides `load`.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from llm_sessions.core.live.summary import context_series
from llm_sessions.core.models import Snapshot

Loader = Callable[[str, datetime], Sequence[Any]]  # (session id, since) -> samples with .at/.context_used


class RecentSeries:
    def __init__(self, load: Loader | None = None, window: timedelta = timedelta(hours=1), max_points: int = 64) -> None:
        self.load = load
        self.window = window
        self.max_points = max_points
        self.loads = 0  # how many times history was read (a test pins it to once per session)
        self._points: dict[str, deque[tuple[datetime, int]]] = {}

    def update(self, snapshot: Snapshot) -> None:
        now = snapshot.taken_at
        cutoff = now - self.window
        live = set()
        for s in snapshot.sessions:
            if s.state == "ended" or s.context is None:
                continue
            live.add(s.id)
            points = self._points.get(s.id)
            if points is None:
                points = deque(self._initial(s.id, cutoff), maxlen=self.max_points)
                self._points[s.id] = points
            used = s.context.used
            if not points or (points[-1][1] != used and points[-1][0] < now):
                points.append((now, used))
            while points and points[0][0] < cutoff:
                points.popleft()
        for gone in self._points.keys() - live:
            del self._points[gone]

    def _initial(self, session_id: str, since: datetime) -> list[tuple[datetime, int]]:
        if self.load is None:
            return []
        self.loads += 1
        return context_series(self.load(session_id, since))

    def points(self, session_id: str) -> list[tuple[datetime, int]]:
        return list(self._points.get(session_id, ()))


__all__ = ["RecentSeries"]
