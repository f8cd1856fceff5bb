"""Time and output for a session model: simulated or wall clock, and the sink lines go to.

The same session objects drive the corpus builder (a simulated clock, lines buffered to
files) and the live demo writer (the wall clock, one flushed append per line), so the demo
shows exactly the record shapes the tests check.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

# A sink receives (path relative to the tool's root, one line without newline, complete).
# `complete=False` means "write these bytes and no newline": a half-written last line.
Sink = Callable[[str, bytes, bool], None]


class SimClock:
    """Simulated time for corpora: `advance` moves it, so a 1 GB corpus takes no real hours."""

    def __init__(self, start: datetime) -> None:
        self.t = start

    def now(self) -> datetime:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)


class WallClock:
    """Real time for the live writer; the caller sleeps between steps instead of advancing."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def advance(self, seconds: float) -> None:
        return None
