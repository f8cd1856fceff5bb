"""Messages between the poll worker and the UI, and the gate that keeps polls from piling up.

The worker builds one frozen Snapshot (plus compaction predictions and alerts, computed off
the UI thread) and posts one `SnapshotReady`; the UI only assigns it. Watch events and timer
ticks both go through `PollGate`, so a burst of file changes while a poll is running costs
exactly one more poll, never a queue of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path

from textual.message import Message

from llm_sessions.core.live.alerts import Alert
from llm_sessions.core.models import Snapshot


class SnapshotReady(Message):
    """A finished poll: the snapshot, predicted time to auto-compaction per session, alerts,
    and the folders worth watching now (assistant folders can appear while we run)."""

    def __init__(
        self,
        snapshot: Snapshot,
        etas: Mapping[str, timedelta | None],
        alerts: tuple[Alert, ...],
        elapsed_ms: float,
        watch: tuple[Path, ...] = (),
    ) -> None:
        super().__init__()
        self.snapshot = snapshot
        self.etas = dict(etas)
        self.alerts = alerts
        self.elapsed_ms = elapsed_ms
        self.watch = watch


class PollFailed(Message):
    """The poll raised; the UI shows it once and keeps the last good snapshot on screen."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class PollGate:
    """At most one poll in flight, at most one owed; requests in between coalesce.

    `request()` says whether to start a poll now; `finished()` says whether a request
    arrived while it ran, in which case exactly one more poll starts.
    """

    __slots__ = ("running", "owed")

    def __init__(self) -> None:
        self.running = False
        self.owed = False

    def request(self) -> bool:
        if self.running:
            self.owed = True
            return False
        self.running = True
        return True

    def finished(self) -> bool:
        self.running = False
        if self.owed:
            self.owed = False
            self.running = True
            return True
        return False


class Throttle:
    """Spacing for polls triggered by file changes: at least `min_gap` seconds apart.

    The gate stops polls overlapping, but an assistant that writes a line every 100 ms would
    still chain them back to back; a short gap bounds the cost while keeping the table at
    most `min_gap` behind the transcripts. Times are plain numbers (monotonic seconds) so the
    rule is testable without a clock.
    """

    __slots__ = ("min_gap", "last_start")

    def __init__(self, min_gap: float) -> None:
        self.min_gap = min_gap
        self.last_start: float | None = None

    def started(self, now: float) -> None:
        self.last_start = now

    def delay(self, now: float) -> float:
        """Seconds to wait before a change-triggered poll may start (0: start now)."""
        if self.last_start is None:
            return 0.0
        return max(0.0, self.last_start + self.min_gap - now)


__all__ = ["PollFailed", "PollGate", "SnapshotReady", "Throttle"]
