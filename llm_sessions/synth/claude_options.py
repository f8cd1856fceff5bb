"""What a Claude Code session model is asked to write, and what it keeps track of.

`ClaudeOptions` is the recipe a corpus scenario fills in to place every trap; `Chain` is the
state of one conversation chain (main file, subagent file, inline sidechain); `ClaudeTruth`
is the ground truth the session accumulates from its own choices (definitions in
corpus_truth.py). Kept apart from the writers so a scenario or a shape can build options
without importing the whole session model.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

WINDOW = 200_000
WINDOW_1M = 1_000_000
ONE_M_SUFFIX = "[1m]"

CLAUDE_MODELS = ("claude-sonnet-4-5-20250929", "claude-opus-4-6", "claude-opus-4-5-20251101")
HAIKU = "claude-haiku-4-5-20251001"
SYNTHETIC = "<synthetic>"
ADVISOR = "claude-opus-4-6"


@dataclass(slots=True)
class ClaudeOptions:
    """What one Claude session contains; corpus scenarios set these to place every trap."""

    turns: int = 6
    models: tuple[str, ...] = ("claude-sonnet-4-5-20250929",)
    subagents: int = 0
    legacy_subagents: int = 0
    inline_sidechains: int = 0
    compact_at: int | None = 160_000  # auto-compact threshold; None never compacts
    compact_at_end: bool = False
    manual_compact_turn: int | None = None
    api_errors: int = 0
    tool_error_rate: float = 0.04
    usage_limit: str | None = None  # "user" (formats.md) or "api_error" (what ccusage reads)
    meta_lines: int = 1
    side_records: int = 2
    unknown_records: int = 0
    garbage: tuple[str, ...] = ()  # kinds: text, binary, non_object, truncated_mid
    truncated_tail: bool = False
    summary_line: bool = False
    start_context: int = 14_000
    big_reads: bool = False  # large Read results, to push context past 200k quickly
    keep_for_copy: bool = False  # remember main-chain lines so a resumed session can copy them
    tools: tuple[str, ...] = ()  # restrict the main chain's tools (e.g. only Read); empty = all
    min_context: int = 0  # keep adding turns until the main context passes this
    min_compactions: int = 0  # keep adding turns until this many compactions, then two more
    one_hour_rate: float = 0.2  # responses whose cache writes all use the 1-hour TTL
    mixed_ttl_rate: float = 0.1  # responses that write with both TTLs
    ttl_split: bool = True  # False: no cache_creation split (older builds; priced as 5-minute)
    fast_rate: float = 0.0  # responses run in fast mode (usage.speed = "fast")
    advisor_rate: float = 0.0  # responses that call the advisor (usage.iterations)


@dataclass(slots=True)
class Chain:
    """One conversation chain: the main file, a subagent file, or inline sidechain lines."""

    path: str
    env: dict
    sidechain: bool
    model: str
    ctx: int
    cached: int
    parent: str | None = None


@dataclass(slots=True)
class ClaudeTruth:
    """What the session really used, by the product's definitions (see corpus_truth.py)."""

    input: int = 0
    output: int = 0
    cache_creation: int = 0
    cache_read: int = 0
    turns: int = 0
    api_errors: int = 0
    tool_errors: int = 0
    subagent_files: int = 0
    first: datetime | None = None
    last: datetime | None = None
    context_used: int = 0
    over_200k: bool = False
    suffix_1m: bool = False
    model: str | None = None
    limit_resets_at: datetime | None = None
    compactions: int = 0
    cost: float = 0.0


TOOLS = ("Bash", "Read", "Edit", "Grep", "Write", "Glob", "TodoWrite")
TOOL_WEIGHTS = (30, 30, 18, 8, 5, 4, 5)
