"""When a session's context will reach its compaction point, from recent context samples.

The dashboard's forecast ("compacts in ~12 min"): a least-squares burn rate over the samples
since the last drop in context. Kept apart from health scoring, which needs no history.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from llm_sessions.core.accounting.health import as_utc


def predict_compaction(
    samples: Sequence[tuple[datetime, int | None]], compact_at: int, now: datetime, last: int = 12
) -> timedelta | None:
    """Time until context reaches `compact_at` at the recent burn rate; None if not growing.

    The rate is the least-squares slope over the last `last` samples since the most recent
    drop in context (a compaction or /clear resets the trend, so older points would only
    flatten the slope). The projection starts from the newest sample, moved forward to
    `now`, so a dashboard that polls between turns does not keep promising the same time.
    Samples whose context was unknown (None) carry no information about the rate: skipped.
    """
    points = sorted((as_utc(t), int(v)) for t, v in samples if v is not None)
    if not points:
        return None
    start = 0
    for i in range(1, len(points)):
        if points[i][1] < points[i - 1][1]:
            start = i
    points = points[start:][-last:]
    latest_at, latest = points[-1]
    if latest >= compact_at:
        return timedelta(0)
    if len(points) < 2:
        return None
    t0 = points[0][0]
    xs = [(t - t0).total_seconds() for t, _ in points]
    ys = [float(v) for _, v in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx <= 0:
        return None
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx  # tokens per second
    if slope <= 0:
        return None
    seconds = (compact_at - latest) / slope - max(0.0, (as_utc(now) - latest_at).total_seconds())
    return timedelta(seconds=max(0.0, seconds))


__all__ = ["predict_compaction"]
