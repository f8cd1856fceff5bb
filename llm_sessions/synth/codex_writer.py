"""The Codex CLI session model's recipe, truth, state, and how a rollout begins.

`CodexOptions` is what a scenario asks for; `CodexTruth` what the session really used (see
corpus_truth.py for the definitions). `CodexWriter` owns a rollout's generator, clock, sink
and cumulative counter, and writes the lines that open a rollout: a fresh `session_meta`, a
fork replaying its parent, a 0.154+ fork cut at `history_base`, a MultiAgent child, the next
page of a paginated thread. The turns themselves are codex_session.py's.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from llm_sessions.synth import codex_records as C
from llm_sessions.synth import records as R
from llm_sessions.synth.clock import SimClock, Sink, WallClock
from llm_sessions.synth.filler import blob

CODEX_WINDOW = 272_000
CODEX_MODELS = ("gpt-5-codex", "gpt-5.1-codex", "gpt-5")
#: (input incl. cache, cached, cache writes, output, reasoning), the order of a Codex counter.
Vec = tuple[int, int, int, int, int]
_ZERO5: Vec = (0, 0, 0, 0, 0)


def add_vec(a: Vec, b: Vec) -> Vec:
    """Two usage vectors summed field by field."""
    return (a[0] + b[0], a[1] + b[1], a[2] + b[2], a[3] + b[3], a[4] + b[4])


@dataclass(slots=True)
class CodexOptions:
    turns: int = 5
    models: tuple[str, ...] = ("gpt-5-codex",)
    reemit_rate: float = 0.15
    fail_rate: float = 0.06
    error_events: int = 0
    compact_at: int | None = 220_000
    garbage: int = 0
    keep_for_fork: bool = False
    cache_writes: bool = False  # token counts carry cache_write_input_tokens (part of input)
    compaction_records: str | None = None  # "remote" or "local": token_usage_record per compaction
    priority_turns: tuple[int, ...] = ()  # turns run with service_tier priority
    aborted_turns: tuple[int, ...] = ()  # turns interrupted before their token_count
    resume_before: tuple[int, ...] = ()  # a resume (another session_meta, same id) before these turns
    ordinals: bool = False  # paginated rollouts number every line (`ordinal` in the envelope)
    compact_turns: tuple[int, ...] = ()  # compact after these turns whatever the context


@dataclass(slots=True)
class CodexTruth:
    input: int = 0
    output: int = 0
    cache_creation: int = 0
    cache_read: int = 0
    turns: int = 0
    api_errors: int = 0
    tool_errors: int = 0
    first: datetime | None = None
    last: datetime | None = None
    context_used: int = 0
    window: int = CODEX_WINDOW
    model: str | None = None
    rate_limits: dict | None = None
    compactions: int = 0
    cost: float = 0.0


class CodexWriter:
    """Plays one Codex CLI rollout. Usage is cumulative in `total_token_usage`.

    A forked rollout (see `fork_from`) begins with two `session_meta` lines: its own, carrying
    `forked_from_id`, then the parent's, followed by a replay of the parent's records (turn
    contexts, messages, tool calls and token_count lines with the parent's cumulative
    totals), every replayed line re-stamped in one burst at the fork instant, 1 ms apart, as
    real Codex builds do. The fork's own responses then continue the
    cumulative count from the parent's last total, as a resumed Codex conversation restores
    its token info. So the fork's own usage is its last total minus the parent's last total;
    a reader that takes the fork's last total as-is counts the parent twice, and one that sums
    per-line deltas counts the replayed burst as new usage. The replay is the burst within one
    second of the fork's own session_meta; the fork's first own turn comes at least ten
    seconds later (a person typing), which is how a reader tells the two apart.

    The 2026 layouts (see `fork_at`, `child_of`, `next_page`): a fork that names its parent
    in `history_base` and replays nothing, its counter starting at the parent's counter at
    the cut; a MultiAgent subagent that replays its parent's history, then a trigger marker,
    then its own turn; a paginated thread whose next file repeats a prefix of the previous.
    Every step of the counter is priced as it happens (model, tier, day, prompt size), which
    is the truth's cost.
    """

    def __init__(self, rng: random.Random, *, session_id: str, cwd: str, path: str, clock: SimClock | WallClock, sink: Sink,
                 traps: Counter, opts: CodexOptions) -> None:
        self.rng = rng
        self.sid = session_id
        self.cwd = cwd
        self.path = path
        self.clock = clock
        self.sink = sink
        self.traps = traps
        self.opts = opts
        self.truth = CodexTruth()
        self.model = opts.models[0]
        self.tier = ""
        self.ctx = rng.randint(9_000, 14_000)
        self.cached = 0
        self.total = self._usage(_ZERO5)
        self.base = self._usage(_ZERO5)
        self.last: dict | None = None
        self.records: list[dict] = []
        self.ordinal = 0
        self.turn_marks: list[tuple[int, dict]] = []  # (lines written after a turn, counter then)
        self.remote: Vec = _ZERO5  # usage of remote compactions: recorded, never in the counter
        start = clock.now()
        self.primary_reset = int((start + timedelta(hours=rng.uniform(0.5, 5))).timestamp())
        self.secondary_reset = int((start + timedelta(days=rng.uniform(1, 7))).timestamp())
        self.primary_pct = round(rng.uniform(0, 40), 1)
        self.secondary_pct = round(rng.uniform(0, 30), 1)
        self.branch = rng.choice(["main", "feature/tailer", "fix-ctx"])
        self.commit = blob(rng, 15).encode().hex()[:40]

    def _usage(self, v: tuple[int, int, int, int, int]) -> dict:
        """(input, cached, cache writes, output, reasoning) as a Codex usage object."""
        return C.codex_usage(v[0], v[1], v[3], v[4], cache_write=v[2] if self.opts.cache_writes else None)

    @staticmethod
    def _vec(u: dict) -> tuple[int, int, int, int, int]:
        return (u["input_tokens"], u["cached_input_tokens"], u.get("cache_write_input_tokens", 0), u["output_tokens"],
                u["reasoning_output_tokens"])

    def _ts(self) -> str:
        return R.iso(self.clock.now())

    def _emit(self, rec: dict, *, owned: bool = True) -> None:
        if self.opts.ordinals:
            rec = dict(rec, ordinal=self.ordinal)
        self.ordinal += 1
        self.sink(self.path, R.dumps(rec), True)
        if self.opts.keep_for_fork:
            self.records.append(rec)
        if owned:
            now = self.clock.now()
            if self.truth.first is None:
                self.truth.first = now
            self.truth.last = now

    def _limits(self) -> dict:
        return C.codex_rate_limits(self.primary_pct, self.primary_reset, self.secondary_pct, self.secondary_reset)

    def start(self) -> None:
        self._emit(C.codex_session_meta(self._ts(), session_id=self.sid, cwd=self.cwd, branch=self.branch, commit=self.commit,
                                        paginated=self.opts.ordinals))
        self._emit(C.codex_token_count(self._ts(), total=None, last=None, window=CODEX_WINDOW, rate_limits=self._limits()))
        self.traps["codex_info_null"] += 1
        self.traps["codex_rate_limits"] += 1
        self.truth.rate_limits = self._limits()

    def _inherit(self, parent: CodexWriter, total: dict) -> None:
        self.total = dict(total)
        self.base = dict(total)
        self.ctx, self.cached, self.model = parent.ctx, parent.cached, parent.model
        self.truth.rate_limits = parent.truth.rate_limits

    def fork_from(self, parent: CodexWriter) -> None:
        """Write the fork's header and the parent's replay; see the class docstring."""
        self._emit(C.codex_session_meta(self._ts(), session_id=self.sid, cwd=self.cwd, branch=self.branch, commit=self.commit,
                                        forked_from_id=parent.sid))
        instant = self.clock.now()
        for k, rec in enumerate(parent.records, start=1):
            copy = dict(rec)
            copy["timestamp"] = R.iso(instant + timedelta(milliseconds=k))
            self.sink(self.path, R.dumps(copy), True)
            self.ordinal += 1
            self.traps["codex_replayed_lines"] += 1
        self._inherit(parent, parent.total)
        self.traps["codex_forked"] += 1

    def fork_at(self, parent: CodexWriter, turn: int) -> None:
        """A 0.154+ fork: `history_base` names the parent and the cut; nothing is replayed.

        The cut is the end of the parent's `turn`-th turn, so the parent's counter at the cut
        is not its final counter: a reader must look the cut up in the parent's file.
        """
        cut, total = parent.turn_marks[min(turn, len(parent.turn_marks) - 1)]
        base = {"thread_id": parent.sid, "end_ordinal_exclusive": cut, "end_byte_offset": 0}
        self._emit(C.codex_session_meta(self._ts(), session_id=self.sid, cwd=self.cwd, branch=self.branch, commit=self.commit,
                                        forked_from_id=parent.sid, history_base=base))
        self._inherit(parent, total)
        self.traps["codex_history_base_forks"] += 1

    def child_of(self, parent: CodexWriter) -> None:
        """A MultiAgent V2 subagent: its parent's history replayed, then the trigger marker."""
        source = {"subagent": {"thread_spawn": {"parent_thread_id": parent.sid, "depth": 1}}}
        self._emit(C.codex_session_meta(self._ts(), session_id=self.sid, cwd=self.cwd, branch=self.branch, commit=self.commit,
                                        source=source))
        for rec in parent.records:
            if rec.get("type") == "session_meta":
                continue
            self.sink(self.path, R.dumps(dict(rec, timestamp=self._ts())), True)
            self.ordinal += 1
            self.traps["codex_multiagent_replayed_lines"] += 1
        self.clock.advance(0.5)
        self._emit({"timestamp": self._ts(), "type": "inter_agent_communication_metadata",
                    "payload": {"trigger_turn": True, "sender_thread_id": parent.sid}})
        self._emit(C.codex_event(self._ts(), "task_started", model_context_window=CODEX_WINDOW))
        self._inherit(parent, parent.total)
        self.traps["codex_multiagent_children"] += 1

    def next_page(self, previous: CodexWriter, repeat: int) -> None:
        """Page 2 of a paginated thread: same id, `history_base` at the end of page 1, and a
        repeat of page 1's first `repeat` lines (their ordinals below the cut)."""
        base = {"thread_id": previous.sid, "end_ordinal_exclusive": previous.ordinal, "end_byte_offset": 0}
        self.ordinal = previous.ordinal
        self._emit(C.codex_session_meta(self._ts(), session_id=self.sid, cwd=self.cwd, branch=self.branch, commit=self.commit,
                                        history_base=base, paginated=True))
        for rec in previous.records[:repeat]:
            self.sink(self.path, R.dumps(rec), True)
            self.traps["codex_paginated_repeated_lines"] += 1
        self._inherit(previous, previous.total)
        self.tier = previous.tier
        self.traps["codex_paginated_pages"] += 1

