"""Health of a session: a pure function of the session, the settings and the clock.

Four components, each 0-100 with a one-line reason a person can act on, combined as a
weighted mean (weights from settings):

- tokens: context fill against the auto-compaction point, not the raw window, because
  compaction is what actually interrupts work (Claude compacts near 167k of 200k);
- duration: long sessions drift and get expensive, so age lowers the score after a grace;
- activity: long idle time, or a session that ended badly;
- errors: API errors and failed tool results among the recent turns.

Two rules sit on top of the weighted mean, because a mean can hide the one thing that is
about to interrupt the user (a fresh, error-free session at 95% of its compaction point
would otherwise still average out "healthy"):

- at or past 90% of the auto-compaction point a session is never healthy (its score is
  capped just below `health_healthy_min`);
- at or past the point itself it is critical (capped just below `health_warning_min`).

Both apply only while the tokens component has a weight; the tokens reason says when a cap
decided the status. The context bar uses the same fractions (`context_level`).

A session that is not running (ended, or of unknown state because processes were not
scanned) is judged as of its last activity: its duration is its own span, first to last
activity, and its activity is how its last turn ended, never "idle for 290 days".

Pure means no clock, file or settings lookups of its own: the caller passes `now`, so the
same inputs always give the same report and tests need no frozen time. Stdlib only: this
runs on the CLI's fast `health` path.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from operator import attrgetter
from typing import Any

from llm_sessions.core.models import HealthComponent, HealthReport, Session, Status

NEUTRAL = 50
"""Score for a component the session gives no data for: neither reassuring nor alarming."""

API_ERROR_PENALTY = 25
TOOL_ERROR_PENALTY = 12
SAFE_FILL = 0.5
"""Below half of the compaction point the tokens score is full; above it falls ever faster."""
IDLE_FLOOR = 20
ENDED_SCORES = {"clean": 100, "mid-turn": 60, "error": 25}
_AT = attrgetter("at")

WARN_FILL = 0.7
"""From this fraction of the compaction point the context bar turns to the warning colour."""
NEVER_HEALTHY_FILL = 0.9
"""From this fraction of the compaction point a session is never healthy (and the bar is red)."""
CRITICAL_FILL = 1.0
"""At the compaction point a session is critical."""
LIVE_STATES = frozenset({"working", "waiting", "idle"})
"""States of a session whose process runs; `ended` and `unknown` are judged as of last activity."""


def compaction_point(window: int, reserved_output: int, buffer: int) -> int:
    """Token count at which the assistant auto-compacts: window - reserved output - buffer.

    With the defaults (20k reserved, 13k buffer) a 200k window compacts near 167k, which
    matches what third-party analyses of Claude Code report.
    """
    return max(0, window - reserved_output - buffer)


def compaction_point_for(window: int, settings: Any) -> int:
    """`compaction_point` with the reserve and buffer from settings (defaults without any)."""
    if settings is None:
        return compaction_point(window, 20_000, 13_000)
    return compaction_point(window, settings.health_reserved_output_tokens, settings.health_compact_buffer_tokens)


def _k(tokens: int) -> str:
    if tokens >= 1_000_000:
        return f"{tokens / 1_000_000:.2f}M".replace(".00M", "M")
    if tokens >= 1000:
        return f"{round(tokens / 1000)}k"
    return str(tokens)


def _span(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return "under a minute"
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h {minutes:02d}m"
    return f"{hours // 24}d {hours % 24}h"


def _hours(value: float) -> str:
    return f"{value:g}h"


def as_utc(dt: datetime) -> datetime:
    """Naive datetimes are taken as UTC, so mixed inputs never raise on subtraction."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt


def _clamp(value: float) -> int:
    return int(max(0, min(100, round(value))))


def is_live(session: Session) -> bool:
    return session.state in LIVE_STATES


def depends_on_now(session: Session) -> bool:
    """Whether the session's health changes with the clock alone: only while it runs (or
    when it has no last activity to be judged at). A dashboard re-scores the others only
    when they change."""
    return is_live(session) or session.last_activity is None


def as_of(session: Session, now: datetime) -> datetime:
    """The moment a session is judged at: now while it runs, else its last activity."""
    if is_live(session):
        return as_utc(now)
    last = as_utc(session.last_activity) if session.last_activity is not None else _last_activity(session)
    return last if last is not None else as_utc(now)


def span(session: Session, now: datetime) -> timedelta | None:
    """How long the session has run (live) or ran (first to last activity); None if unknown.

    The one duration every view shows: table, drilldown, `health` and the score itself.
    """
    if session.started_at is None:
        return None
    return max(timedelta(0), as_of(session, now) - as_utc(session.started_at))


def compact_limit(session: Session, settings: Any) -> int | None:
    """The token count where this session auto-compacts (or, failing that, its window)."""
    ctx = session.context
    if ctx is None or ctx.window <= 0:
        return None
    if ctx.compact_at:
        return ctx.compact_at
    point = compaction_point_for(ctx.window, settings)
    return point if point > 0 else ctx.window


def context_fraction(session: Session, settings: Any) -> float | None:
    """Context used as a fraction of the compaction point (None when unknown)."""
    limit = compact_limit(session, settings)
    if session.context is None or not limit:
        return None
    return session.context.used / limit


def context_level(used: int, limit: int | None) -> Status:
    """The colour of a context bar: healthy, warning from 70%, critical from 90% of `limit`."""
    if not limit:
        return "healthy"
    fill = used / limit
    return "critical" if fill >= NEVER_HEALTHY_FILL else "warning" if fill >= WARN_FILL else "healthy"


def tokens_component(session: Session, settings: Any) -> HealthComponent:
    """Full while comfortably below the compaction point, steeply lower near it, 0 past it."""
    weight = float(settings.health_weight_tokens)
    ctx = session.context
    limit = compact_limit(session, settings)
    if ctx is None or limit is None:
        return HealthComponent("tokens", NEUTRAL, weight, "context fill unknown for this session (neutral score)")
    fill = ctx.used / limit
    if fill <= SAFE_FILL:
        score = 100
    elif fill >= 1:
        score = 0
    else:
        # 1 - x^2 over the upper half: gentle at first, steep in the last stretch
        # (70% -> 84, 85% -> 51, 95% -> 19).
        x = (fill - SAFE_FILL) / (1 - SAFE_FILL)
        score = _clamp(100 * (1 - x * x))
        score = min(score, 99)  # anything above the safe band is below full marks
    what = "auto-compact point" if ctx.compact_at or limit != ctx.window else "window"
    est = " (estimated)" if not ctx.exact else ""
    reason = f"context {_k(ctx.used)} of {_k(limit)} {what} ({round(100 * fill)}%){est}"
    if fill >= CRITICAL_FILL:
        reason += ": compaction due now, so critical"
    elif fill >= NEVER_HEALTHY_FILL:
        reason += ": past 90%, so never healthy"
    return HealthComponent("tokens", score, weight, reason)


def duration_component(session: Session, settings: Any, now: datetime) -> HealthComponent:
    """Full until the grace period, then linear down to 0 at `duration_zero_hours`."""
    weight = float(settings.health_weight_duration)
    grace = float(settings.health_duration_grace_hours)
    zero = max(float(settings.health_duration_zero_hours), grace)
    age = span(session, now)
    if age is None:
        return HealthComponent("duration", NEUTRAL, weight, "start time unknown (neutral score)")
    hours = age.total_seconds() / 3600
    if hours <= grace:
        score = 100
    elif hours >= zero or zero == grace:
        score = 0
    else:
        score = _clamp(100 * (zero - hours) / (zero - grace))
    verb = "running for" if is_live(session) else "ran for"
    return HealthComponent(
        "duration", score, weight, f"{verb} {_span(age)} (full score until {_hours(grace)}, 0 at {_hours(zero)})"
    )


def _mark_time(m) -> datetime:
    return as_utc(m.at)


def sorted_marks(session: Session) -> list:
    """The session's recent marks, oldest first (one sort shared by the components: a poll
    scores every session, so this runs thousands of times)."""
    try:
        return sorted(session.recent, key=_AT)  # all aware, or all naive: same order
    except TypeError:
        return sorted(session.recent, key=_mark_time)  # a mix: naive ones are UTC


def _last_activity(session: Session, marks: Sequence | None = None) -> datetime | None:
    marks = sorted_marks(session) if marks is None else marks
    last = session.last_activity
    if not marks:
        return None if last is None else as_utc(last)
    newest = as_utc(marks[-1].at)
    return newest if last is None else max(newest, as_utc(last))


def activity_component(session: Session, settings: Any, now: datetime, marks: Sequence | None = None) -> HealthComponent:
    """Idle time and recent turns for a live session; how it ended for an ended one."""
    weight = float(settings.health_weight_activity)
    marks = sorted_marks(session) if marks is None else marks
    if not is_live(session):
        # "ended" when discovery saw no process; "stopped" when processes were not scanned
        verb = "ended" if session.state == "ended" else "stopped"
        if not marks:
            return HealthComponent("activity", NEUTRAL, weight, f"{verb}; no recent turns recorded (neutral score)")
        final = marks[-1]
        if final.api_error or final.tool_error:
            what = "an API error" if final.api_error else "a failed tool call"
            return HealthComponent("activity", ENDED_SCORES["error"], weight, f"{verb} right after {what}")
        if final.kind != "assistant":
            return HealthComponent(
                "activity", ENDED_SCORES["mid-turn"], weight, f"{verb} mid-turn, before the assistant replied"
            )
        return HealthComponent(
            "activity", ENDED_SCORES["clean"], weight, f"{verb} normally after an assistant reply ({len(marks)} recent turns)"
        )
    # a live session only from here: an ended one (most of a history) needs neither
    idle_limit = timedelta(minutes=float(settings.health_idle_minutes))
    last = _last_activity(session, marks)
    if last is None:
        return HealthComponent("activity", NEUTRAL, weight, "no activity recorded yet (neutral score)")
    idle = max(timedelta(0), as_utc(now) - last)
    window_start = as_utc(now) - idle_limit
    recent = 0  # marks are oldest first: count the suffix inside the window
    for m in reversed(marks):
        if as_utc(m.at) < window_start:
            break
        recent += 1
    turns = f"{recent} turn{'s' if recent != 1 else ''} in the last {_span(idle_limit)}"
    if idle <= idle_limit:
        score = 100
        state = f"last activity {_span(idle)} ago"
    else:
        # linear from 100 at the idle limit to the floor at four times it
        over = (idle - idle_limit) / (3 * idle_limit) if idle_limit > timedelta(0) else 1.0
        score = _clamp(max(IDLE_FLOOR, 100 - (100 - IDLE_FLOOR) * over))
        state = f"idle for {_span(idle)}"
    if session.awaiting_user:
        state += ", waiting for your reply"
    return HealthComponent("activity", score, weight, f"{state}; {turns}")


def errors_component(session: Session, settings: Any, marks: Sequence | None = None) -> HealthComponent:
    """API errors and failed tool results among the last `health_recent_turns` marks."""
    weight = float(settings.health_weight_errors)
    n = max(1, int(settings.health_recent_turns))
    marks = (sorted_marks(session) if marks is None else marks)[-n:]
    if marks:
        api = tool = 0
        for m in marks:
            if m.api_error:
                api += 1
            elif m.tool_error:
                tool += 1
        scope = f"in the last {len(marks)} turns"
    else:
        # No per-turn marks from this provider: the session totals are all we have.
        api, tool = session.api_errors, session.tool_errors
        scope = "in the whole session"
    score = _clamp(100 - API_ERROR_PENALTY * api - TOOL_ERROR_PENALTY * tool)
    if api == 0 and tool == 0:
        reason = f"no API errors or failed tool calls {scope}"
    else:
        parts = []
        if api:
            parts.append(f"{api} API error{'s' if api != 1 else ''}")
        if tool:
            parts.append(f"{tool} failed tool call{'s' if tool != 1 else ''}")
        reason = f"{' and '.join(parts)} {scope}"
    return HealthComponent("errors", score, weight, reason)


def status_for(score: int, settings: Any) -> Status:
    """healthy at or above `healthy_min`, warning at or above `warning_min`, else critical."""
    if score >= settings.health_healthy_min:
        return "healthy"
    if score >= settings.health_warning_min:
        return "warning"
    return "critical"


def combine(components: Sequence[HealthComponent]) -> int:
    """Weighted mean of the component scores; equal weights if every weight is 0."""
    total = weighted = 0.0
    plain = 0
    for c in components:
        total += c.weight
        weighted += c.score * c.weight
        plain += c.score
    if total <= 0:
        return _clamp(plain / max(1, len(components)))
    return _clamp(weighted / total)


def health_report(session: Session, settings: Any, now: datetime) -> HealthReport:
    """The session's health as of `now`: score, status and the four reasons behind it."""
    marks = sorted_marks(session)
    components = (
        tokens_component(session, settings),
        duration_component(session, settings, now),
        activity_component(session, settings, now, marks),
        errors_component(session, settings, marks),
    )
    score = combine(components)
    fill = context_fraction(session, settings)
    if fill is not None and components[0].weight > 0:
        if fill >= CRITICAL_FILL:
            score = max(0, min(score, int(settings.health_warning_min) - 1))
        elif fill >= NEVER_HEALTHY_FILL:
            score = max(0, min(score, int(settings.health_healthy_min) - 1))
    return HealthReport(score=score, status=status_for(score, settings), components=components)


__all__ = [
    "CRITICAL_FILL",
    "NEVER_HEALTHY_FILL",
    "WARN_FILL",
    "as_of",
    "as_utc",
    "context_fraction",
    "context_level",
    "depends_on_now",
    "is_live",
    "span",
    "compaction_point",
    "compaction_point_for",
    "compact_limit",
    "health_report",
    "status_for",
    "combine",
]
