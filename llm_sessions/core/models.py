"""The immutable values that flow from the core to the CLI and the UI.

Everything here is a frozen, slotted dataclass: a Snapshot is built in a worker thread and
handed to the UI thread whole, so nothing in it may change after it is built. The core never
imports Textual; the UI never builds these by parsing files itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from operator import attrgetter
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from llm_sessions.core.problems import Problem

Tool = Literal["claude", "codex", "gemini", "cursor", "aider", "copilot"]
State = Literal["working", "waiting", "idle", "ended", "unknown"]
Status = Literal["healthy", "warning", "critical"]


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts by kind. `exact` is False when any part was estimated from text.

    The four kinds never overlap: for Codex the cached part is moved out of `input` into
    `cache_read` so that `total` means the same thing for every assistant.
    """

    input: int = 0
    output: int = 0
    cache_creation: int = 0
    cache_read: int = 0
    exact: bool = True

    @property
    def total(self) -> int:
        return self.input + self.output + self.cache_creation + self.cache_read

    def __add__(self, other: Usage) -> Usage:
        return Usage(
            self.input + other.input,
            self.output + other.output,
            self.cache_creation + other.cache_creation,
            self.cache_read + other.cache_read,
            self.exact and other.exact,
        )

    def as_dict(self) -> dict:
        return {
            "input": self.input,
            "output": self.output,
            "cache_creation": self.cache_creation,
            "cache_read": self.cache_read,
            "total": self.total,
            "exact": self.exact,
        }


@dataclass(frozen=True, slots=True)
class ContextFill:
    """How full the context window is right now, from the latest main-chain turn.

    `compact_at` is the token count at which the assistant compacts on its own (None when it
    does not), so the UI can warn before it happens rather than at 100%.
    """

    used: int
    window: int
    compact_at: int | None = None
    exact: bool = True
    source: str = "last turn"

    @property
    def percent(self) -> float:
        return round(100.0 * self.used / self.window, 1) if self.window else 0.0

    def as_dict(self) -> dict:
        return {
            "used": self.used,
            "window": self.window,
            "percent": self.percent,
            "compact_at": self.compact_at,
            "exact": self.exact,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class TurnMark:
    """One assistant turn or tool result, kept only for the recent window health looks at."""

    at: datetime
    kind: Literal["assistant", "user", "tool_result"]
    api_error: bool = False
    tool_error: bool = False


@dataclass(frozen=True, slots=True)
class RateLimit:
    """A provider-reported rate-limit window (Codex primary/secondary)."""

    name: str
    used_percent: float
    resets_at: datetime | None = None
    window_minutes: int | None = None


@dataclass(frozen=True, slots=True)
class WindowShare:
    """One session's part of one usage-limit window since the window began.

    `share` is by tokens for an account-wide window, by price-weighted spend for a
    model-scoped one (Opus or Sonnet weekly), whose scope is the only usage counted.
    """

    window: str  # "<assistant>/<kind>", e.g. "claude/five_hour"
    session_id: str
    share: float
    tokens: int
    cost_usd: float | None = None


@dataclass(frozen=True, slots=True)
class LimitWindow:
    """A usage-limit window of one assistant (5-hour, weekly, per-model weekly ...).

    `source` says where the figure comes from: `statusline` (Claude Code's own feed),
    `codex` (the rollout's rate_limits), `api-error` (a refused turn) or `estimate`
    (activity priced against a preset or learned limit; `exact` is False). `burn_per_hour`
    is in percentage points per hour over the last 30 minutes; `eta` is when the window
    reaches 100% at that rate, None when it is not growing or resets first.
    """

    assistant: str
    kind: str
    used_percent: float | None
    resets_at: datetime | None = None
    starts_at: datetime | None = None
    source: str = "estimate"
    observed_at: datetime | None = None
    exact: bool = False
    burn_per_hour: float | None = None
    tokens_per_minute: float | None = None
    eta: datetime | None = None
    limit_hit: bool = False
    spend_usd: float | None = None
    limit_usd: float | None = None
    basis: str = ""
    shares: tuple[WindowShare, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.assistant}/{self.kind}"


@dataclass(frozen=True, slots=True)
class ProcessInfo:
    """The live process behind a session, filled in by discovery.

    `tool` names the assistant the process was recognised as, so a running assistant that
    has not written a transcript yet can still be shown under the right name.
    """

    pid: int
    pids: tuple[int, ...] = ()
    name: str = ""
    cmdline: tuple[str, ...] = ()
    cwd: str | None = None
    started_at: datetime | None = None
    cpu_percent: float = 0.0
    rss_bytes: int = 0
    terminal: str | None = None
    tmux_pane: str | None = None
    match: str = ""
    ambiguous: bool = False
    tool: str = ""
    # What the assistant itself says it is doing (Claude's sessions/<pid>.json `status`:
    # idle, busy, shell), when that file was trusted; None when nothing says so.
    status: str | None = None


@dataclass(frozen=True, slots=True)
class HealthComponent:
    name: Literal["tokens", "duration", "activity", "errors"]
    score: int
    weight: float
    reason: str


@dataclass(frozen=True, slots=True)
class HealthReport:
    score: int
    status: Status
    components: tuple[HealthComponent, ...]

    def component(self, name: str) -> HealthComponent:
        return next(c for c in self.components if c.name == name)

    def as_dict(self, reasons: bool = False) -> dict:
        out: dict = {"score": self.score, "status": self.status}
        for c in self.components:
            out[c.name] = (
                {"score": c.score, "weight": c.weight, "reason": c.reason} if reasons else c.score
            )
        return out


@dataclass(frozen=True, slots=True)
class Session:
    """Everything known about one assistant session, as of one poll."""

    id: str
    tool: Tool
    transcript: str | None = None
    cwd: str | None = None
    model: str | None = None
    git_branch: str | None = None
    title: str | None = None
    started_at: datetime | None = None
    last_activity: datetime | None = None
    turns: int = 0
    usage: Usage = field(default_factory=Usage)
    context: ContextFill | None = None
    cost_usd: float | None = None
    # Every model that used tokens, and what could not be priced when cost_usd is None.
    models_used: tuple[str, ...] = ()
    unpriced: tuple[str, ...] = ()
    api_errors: int = 0
    tool_errors: int = 0
    compactions: int = 0
    limit_resets_at: datetime | None = None
    rate_limits: tuple[RateLimit, ...] = ()
    recent: tuple[TurnMark, ...] = ()
    subagent_files: int = 0
    malformed_lines: int = 0
    awaiting_user: bool = False
    process: ProcessInfo | None = None
    state: State = "unknown"
    health: HealthReport | None = None
    limit_shares: tuple[WindowShare, ...] = ()
    # Where the session lives when it is another machine's (the team view reads it from the
    # shared store); None for this machine's own sessions, the only ones actions may touch.
    host: str | None = None
    os_user: str | None = None

    def with_(self, **changes) -> Session:
        """A copy with some fields changed. A poll does this for every session (health,
        state, process), so it copies the slots directly: `dataclasses.replace` re-runs
        __init__ through its signature and cost ten times as much."""
        if not changes.keys() <= _SESSION_FIELDS:
            return replace(self, **changes)  # raises the usual TypeError
        new = object.__new__(Session)
        for (name, put), value in zip(_SESSION_SLOTS, _session_values(self), strict=True):
            put(new, changes[name] if name in changes else value)
        return new

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None


_SESSION_FIELDS = frozenset(Session.__slots__)
_SESSION_SLOTS = tuple((name, getattr(Session, name).__set__) for name in Session.__slots__)
_session_values = attrgetter(*Session.__slots__)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One poll's answer: every session plus what could not be read while building it."""

    taken_at: datetime
    sessions: tuple[Session, ...] = ()
    problems: tuple[str | Problem, ...] = ()  # a Problem reads as its str() where text is expected
    searched: tuple[str, ...] = ()
    # Usage-bearing records (or usage fields) the readers met and did not understand: a
    # newer format, so costs may be low. `llm-session doctor` says which.
    format_drift: int = 0
    limits: tuple[LimitWindow, ...] = ()

    def by_id(self) -> dict[str, Session]:
        return {s.id: s for s in self.sessions}
