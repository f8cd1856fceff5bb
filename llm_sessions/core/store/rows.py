"""What a session becomes in the store, and back: the one place that decides what is shared.

Only metadata and numbers are stored: ids, tool, model, folder, branch, state, tokens,
context, cost, health (scores and the reasons our own code wrote), errors counted, limits.
Never transcript text: no title (it is the assistant's summary of the conversation), no
prompt, no transcript path (its folder name encodes the project path). With
`team.share_cwd = false` the folder is not stored either. What the store holds is what may
leave the machine, so the local store and a team's shared one follow the same rule.

Counts are clamped to the 64-bit range: a hostile transcript must not make a write fail for
every other session in the same transaction. No SQLAlchemy here (pure mapping).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from llm_sessions.core.models import ContextFill, HealthComponent, HealthReport, LimitWindow, RateLimit, Session, Usage

INT64_MAX = 2**63 - 1
SESSION_KEY = ("host", "os_user", "id")


def int64(value: Any) -> int | None:
    if value is None:
        return None
    try:
        n = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return max(-INT64_MAX, min(INT64_MAX, n))


def real(value: Any) -> float | None:
    if value is None:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return x if math.isfinite(x) else None


MAX_TEXT = 4096


def clean(value: Any) -> str | None:
    """A string a database accepts: no NUL (PostgreSQL refuses it), bounded length."""
    if value is None:
        return None
    text = str(value).replace("\x00", "")
    return text[:MAX_TEXT]


def _health_json(h: HealthReport | None) -> str | None:
    if h is None:
        return None
    return json.dumps([[c.name, c.score, real(c.weight), clean(c.reason)] for c in h.components], separators=(",", ":"))


def session_values(s: Session, *, share_cwd: bool = True) -> dict[str, Any]:
    """The stored columns of a session, without its key and timestamps."""
    ctx = s.context
    return {
        "tool": clean(s.tool) or "unknown",
        "cwd": clean(s.cwd) if share_cwd else None,
        "model": clean(s.model),
        "git_branch": clean(s.git_branch),
        "started_at": s.started_at,
        "last_activity": s.last_activity,
        "turns": int64(s.turns) or 0,
        "input_tokens": int64(s.usage.input) or 0,
        "output_tokens": int64(s.usage.output) or 0,
        "cache_creation_tokens": int64(s.usage.cache_creation) or 0,
        "cache_read_tokens": int64(s.usage.cache_read) or 0,
        "tokens_exact": bool(s.usage.exact),
        "context_used": int64(ctx.used) if ctx else None,
        "context_window": int64(ctx.window) if ctx else None,
        "compact_at": int64(ctx.compact_at) if ctx else None,
        "cost_usd": real(s.cost_usd),
        "health_score": s.health.score if s.health else None,
        "status": s.health.status if s.health else None,
        "health": _health_json(s.health),
        "api_errors": int64(s.api_errors) or 0,
        "tool_errors": int64(s.tool_errors) or 0,
        "compactions": int64(s.compactions) or 0,
        "limit_resets_at": s.limit_resets_at,
        "pid": s.process.pid if s.process else None,
        "state": clean(s.state) or "unknown",
    }


def sample_point(s: Session) -> tuple[int | None, int, float | None]:
    """(context used, tokens total, cost): the values a history sample keeps."""
    cost = real(s.cost_usd)
    return (
        int64(s.context.used) if s.context else None,
        int64(s.usage.total) or 0,
        round(cost, 9) if cost is not None else None,
    )


def limit_values(s: Session) -> list[dict[str, Any]]:
    """The usage-limit windows a session reported, one row per (tool, window name)."""
    return [
        {
            "tool": clean(s.tool) or "unknown",
            "name": clean(r.name) or "?",
            "used_percent": real(r.used_percent),
            "resets_at": r.resets_at,
            "window_minutes": int64(r.window_minutes),
            "source": "session",
            "exact": True,
            "burn_per_hour": None,
            "eta": None,
            "limit_hit": False,
        }
        for r in s.rate_limits
    ]


def window_values(w: LimitWindow) -> dict[str, Any]:
    """An account's usage-limit window (`Snapshot.limits`) as a limits row."""
    minutes = None
    if w.starts_at is not None and w.resets_at is not None:
        minutes = int64((w.resets_at - w.starts_at).total_seconds() // 60)
    return {
        "tool": clean(w.assistant) or "unknown",
        "name": clean(w.kind) or "?",
        "used_percent": real(w.used_percent),
        "resets_at": w.resets_at,
        "window_minutes": minutes,
        "source": clean(w.source),
        "exact": bool(w.exact),
        "burn_per_hour": real(w.burn_per_hour),
        "eta": w.eta,
        "limit_hit": bool(w.limit_hit),
    }


def _health(row: Mapping[str, Any]) -> HealthReport | None:
    if row.get("health_score") is None:
        return None
    components: tuple[HealthComponent, ...] = ()
    try:
        components = tuple(HealthComponent(n, int(sc), float(w), str(r)) for n, sc, w, r in json.loads(row.get("health") or "[]"))
    except (TypeError, ValueError):
        pass
    return HealthReport(int(row["health_score"]), row.get("status") or "warning", components)


def session_from_row(row: Mapping[str, Any], limits: tuple[RateLimit, ...] = ()) -> Session:
    """A stored session as the UI and `--json` know it (no process: it may be another machine's)."""
    used, window = row.get("context_used"), row.get("context_window")
    ctx = ContextFill(int(used), int(window), row.get("compact_at")) if used is not None and window else None
    return Session(
        id=row["id"],
        tool=row["tool"],
        cwd=row.get("cwd"),
        model=row.get("model"),
        git_branch=row.get("git_branch"),
        started_at=row.get("started_at"),
        last_activity=row.get("last_activity"),
        turns=row.get("turns") or 0,
        usage=Usage(
            row.get("input_tokens") or 0,
            row.get("output_tokens") or 0,
            row.get("cache_creation_tokens") or 0,
            row.get("cache_read_tokens") or 0,
            bool(row.get("tokens_exact", True)),
        ),
        context=ctx,
        cost_usd=row.get("cost_usd"),
        api_errors=row.get("api_errors") or 0,
        tool_errors=row.get("tool_errors") or 0,
        compactions=row.get("compactions") or 0,
        limit_resets_at=row.get("limit_resets_at"),
        rate_limits=limits,
        state=row.get("state") or "unknown",
        health=_health(row),
        host=row.get("host"),
        os_user=row.get("os_user"),
    )


__all__ = ["INT64_MAX", "SESSION_KEY", "clean", "int64", "limit_values", "real", "sample_point", "session_from_row", "session_values", "window_values"]
