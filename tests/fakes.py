"""Deterministic fake data for UI and alert tests: sessions, snapshots, a fake Monitor.

The fake Monitor implements the same three methods as core.live.monitor.Monitor (poll,
watch_paths, history) over a list of snapshots the test controls, so the UI is exercised
exactly as the CLI wires it, with no real assistant folders read.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from llm_sessions.core.models import (
    ContextFill,
    HealthComponent,
    HealthReport,
    LimitWindow,
    ProcessInfo,
    Session,
    Snapshot,
    State,
    Status,
    Tool,
    Usage,
    WindowShare,
)
from llm_sessions.core.store import Sample

NOW = datetime(2026, 3, 14, 15, 9, 26, tzinfo=UTC)


def frozen_clock() -> datetime:
    return NOW


def health(score: int, status: Status | Literal[""] = "", tokens=90, duration=80, activity=70, errors=100) -> HealthReport:
    status = status or ("healthy" if score >= 70 else "warning" if score >= 40 else "critical")
    return HealthReport(
        score=score,
        status=status,
        components=(
            HealthComponent("tokens", tokens, 40.0, f"context {100 - tokens}% used"),
            HealthComponent("duration", duration, 20.0, "running 1h 20m"),
            HealthComponent("activity", activity, 20.0, "last turn 3 min ago"),
            HealthComponent("errors", errors, 20.0, "no errors in the last 20 turns"),
        ),
    )


def session(
    sid: str,
    *,
    tool: Tool = "claude",
    state: State = "working",
    score: int = 85,
    used: int = 50_000,
    window: int = 200_000,
    cost: float | None = 1.25,
    minutes: int = 80,
    cwd: str = "/home/dev/projects/webshop",
    branch: str | None = "main",
    model: str | None = "claude-sonnet-4-5",
    pid: int | None = 4242,
    pane: str | None = "%3",
    status: Status | Literal[""] = "",
) -> Session:
    started = NOW - timedelta(minutes=minutes)
    return Session(
        id=sid,
        tool=tool,
        transcript=f"/home/dev/.claude/projects/-home-dev-projects-webshop/{sid}.jsonl",
        cwd=cwd,
        model=model,
        git_branch=branch,
        started_at=started,
        last_activity=NOW - timedelta(minutes=3),
        turns=42,
        usage=Usage(input=12_000, output=34_000, cache_creation=5_000, cache_read=used),
        context=ContextFill(used=used, window=window, compact_at=window - 33_000) if window else None,
        cost_usd=cost,
        process=ProcessInfo(pid=pid, pids=(pid, pid + 1), name=tool, started_at=started, tmux_pane=pane) if pid else None,
        state=state,
        health=health(score, status),
    )


def fleet() -> tuple[Session, ...]:
    """Five sessions covering every state, status and assistant the table colours."""
    return (
        session("a1b2c3d4-0000-4000-8000-000000000001", score=88, used=42_000, cost=0.84),
        session(
            "b2c3d4e5-0000-4000-8000-000000000002", tool="codex", state="waiting", score=62, used=180_000,
            window=272_000, cost=3.10, cwd="/home/dev/src/api-gateway", branch="feat/rate-limits",
            model="gpt-5-codex", pid=5151, pane="%7",
        ),
        session(
            "c3d4e5f6-0000-4000-8000-000000000003", score=31, used=160_000, cost=7.95, minutes=400,
            cwd="/home/dev/projects/ml-pipeline", branch="fix/oom", model="claude-opus-4-1", pid=6161, pane=None,
        ),
        session(
            "d4e5f6a7-0000-4000-8000-000000000004", tool="gemini", state="idle", score=75, used=20_000,
            window=1_000_000, cost=None, cwd="/home/dev/notes", branch=None, model="gemini-2.5-pro", pid=7171, pane="%9",
        ),
        session(
            "e5f6a7b8-0000-4000-8000-000000000005", state="ended", score=90, used=12_000, cost=0.12,
            cwd="/home/dev/projects/webshop", pid=None, pane=None,
        ),
    )


def limits() -> tuple[LimitWindow, ...]:
    """Usage-limit windows over the fleet: one per colour the header uses."""
    a, b, c = (s.id for s in fleet()[:3])

    def shares(key, *parts):
        return tuple(WindowShare(key, sid, share, tokens) for sid, share, tokens in parts)

    return (
        LimitWindow("claude", "five_hour", 64.0, resets_at=NOW + timedelta(hours=2, minutes=51), source="statusline",
                    observed_at=NOW - timedelta(minutes=1), exact=True, burn_per_hour=48.0, eta=NOW + timedelta(minutes=45),
                    shares=shares("claude/five_hour", (c, 0.72, 1_800_000), (a, 0.28, 700_000))),
        LimitWindow("claude", "seven_day", 41.0, resets_at=NOW + timedelta(days=3), source="statusline",
                    observed_at=NOW - timedelta(minutes=1), exact=True, burn_per_hour=0.6,
                    shares=shares("claude/seven_day", (c, 0.6, 9_000_000), (a, 0.4, 6_000_000))),
        LimitWindow("codex", "five_hour", 12.0, resets_at=NOW + timedelta(hours=4), source="codex",
                    observed_at=NOW - timedelta(minutes=3), exact=True, burn_per_hour=2.0,
                    shares=shares("codex/five_hour", (b, 1.0, 400_000))),
        LimitWindow("codex", "seven_day", 83.0, resets_at=NOW + timedelta(days=1, hours=2), source="codex",
                    observed_at=NOW - timedelta(minutes=3), exact=True, burn_per_hour=0.4,
                    shares=shares("codex/seven_day", (b, 1.0, 3_100_000))),
    )


def snapshot(sessions=None, *, at: datetime = NOW, searched=("/home/dev/.claude/projects", "/home/dev/.codex/sessions")) -> Snapshot:
    windows = limits() if sessions is None else ()
    mine: dict[str, list[WindowShare]] = {}
    for w in windows:
        for share in w.shares:
            mine.setdefault(share.session_id, []).append(share)
    chosen = tuple(s.with_(limit_shares=tuple(mine.get(s.id, ()))) for s in (fleet() if sessions is None else sessions))
    return Snapshot(taken_at=at, sessions=chosen, searched=tuple(searched), limits=windows)


class FakeMonitor:
    """Serves the snapshots a test queues; repeats the last one when the queue runs dry."""

    def __init__(self, snapshots: list[Snapshot] | None = None, history: dict[str, list[Sample]] | None = None,
                 watch: list[Path] | None = None) -> None:
        self._queue = list(snapshots or [snapshot()])
        self._last = self._queue[0]
        self._history = history or {}
        self._watch = watch or []
        self.polls = 0
        self._lock = threading.Lock()

    def push(self, snap: Snapshot) -> None:
        with self._lock:
            self._queue.append(snap)

    def poll(self) -> Snapshot:
        with self._lock:
            self.polls += 1
            if self._queue:
                self._last = self._queue.pop(0)
            return self._last

    def watch_paths(self) -> list[Path]:
        return list(self._watch)

    def history(self, session_id: str, since=None) -> list[Sample]:
        return [x for x in self._history.get(session_id, []) if since is None or x.at >= since]


def ramp(used_now: int, *, per_minute: int = 2_000, points: int = 20) -> list[Sample]:
    """A steady context climb ending at `used_now`, one sample a minute, oldest first."""
    return [
        Sample(NOW - timedelta(minutes=points - 1 - i), used_now - per_minute * (points - 1 - i), 100_000 + 3_000 * i, 0.1 * i)
        for i in range(points)
    ]


def linear_predictor(samples, compact_at, now):
    """Test-only stand-in for core.accounting.health.predict_compaction: straight line through the ends."""
    if len(samples) < 2:
        return None
    (t0, u0), (t1, u1) = samples[0], samples[-1]
    rate = (u1 - u0) / max((t1 - t0).total_seconds(), 1e-9)
    if rate <= 0:
        return None
    return timedelta(seconds=max(0.0, (compact_at - u1) / rate))
