"""One Codex rollout file folded line by line into counts: the state the scan cache keeps.

Codex writes a cumulative counter (`total_token_usage`) in every `token_count` event, so a
session's totals are its last counter, never a sum of events: re-emitted events repeat the
counter unchanged and summing `last_token_usage` would count them twice.

Forked rollouts start with two `session_meta` lines (their own, with `forked_from_id`, then
the parent's) and replay the parent's history, token counts included, before their own
turns. The counter keeps running from the parent's value, so the fork's own usage is its
last counter minus the counter reached at the end of the replay. The replay is written in
one burst when the fork is created: its lines carry either their original timestamps
(earlier than the fork's own `session_meta`) or the fork's creation time, so a line of a
forked file stamped no later than REPLAY_WINDOW after the fork's `session_meta` is replay;
the fork's own first turn needs a human prompt and comes later.

Formats of 2026, each handled here (treat every field as optional):
- Resumes append another `session_meta` with the *same* id to the same file: not a fork.
- Newer forks (0.154+) and paginated histories carry `session_meta.history_base{thread_id,
  end_ordinal_exclusive}` instead of a replay: the file's first counter already includes
  the ancestor's usage up to that cut, so the ancestor's counter at the cut is subtracted
  when files are merged. Lines whose envelope `ordinal` falls before the cut repeat the
  ancestor's prefix and count nothing. Every page of one thread is one session.
- MultiAgent subagent rollouts (`session_meta.source.subagent`) replay the parent's history
  first; usage before the first `task_started` or `inter_agent_communication[_metadata]`
  with `trigger_turn: true` is inherited and not counted.
- `cache_write_input_tokens` is part of `input_tokens`, like `cached_input_tokens`.
- A top-level `token_usage_record` is the usage of an automatic compaction; it counts when
  its `response_id` matches a `compacted` item's `compaction_response_id` and no counter
  advance between the two already included it.
- An aborted turn writes no counter of its own; the next cumulative total includes it.
- `event_msg` `thread_settings_applied` sets the service tier (`priority`/`fast` bill the
  priority rates) for the usage that follows; without one, `service_tier` in
  `$CODEX_HOME/config.toml` is assumed, as Codex itself does.

Usage is kept as deltas of the cumulative counter per price group (model of the current
`turn_context`, prompt-size bucket, service tier, day), so a session that switched models
or tiers is priced per part and the totals still equal the last counter.
"""

from __future__ import annotations

from array import array
from datetime import timedelta
from typing import Literal

import msgspec

from llm_sessions.core.accounting import tailer
from llm_sessions.core.accounting.pricing import size_bucket
from llm_sessions.core.accounting.providers.codex_lines import (
    CHILD_STARTS,
    EXIT_CODE,
    KNOWN_TYPES,
    TIERS,
    TOKEN_FIELDS,
    ZERO,
    Payload,
    Rates,
    decode_any,
    decode_line,
    delta,
    usage_vector,
)
from llm_sessions.core.accounting.providers.codex_rates import add_samples, credits_of, plan_of, readings
from llm_sessions.core.accounting.sanity import DECODE_ERRORS, too_deep
from llm_sessions.core.timeparse import iso_ms, parse_ts

RECENT_KEEP = 50
MarkKind = Literal["assistant", "user", "tool_result"]  # TurnMark.kind
REPLAY_WINDOW = timedelta(seconds=1)


class CodexFile(msgspec.Struct, kw_only=True):
    """Partial result of one rollout file; persisted in the scan cache."""

    path: str
    cursor: tailer.Cursor = msgspec.field(default_factory=tailer.Cursor)
    id: str = ""
    metas: int = 0
    own_since: str = ""
    forked_from: str | None = None
    replaying: bool = False  # a second session_meta with another id: a fork's in-file replay
    base: tuple[str, int] | None = None  # history_base (thread id, end ordinal exclusive)
    child: bool = False  # a MultiAgent subagent rollout, still in its inherited prefix
    cwd: str | None = None
    branch: str | None = None
    model: str | None = None
    tier: str = ""
    aborted: tuple[str, str] | None = None  # (model, tier) of a turn aborted before its counter
    first_ts: str = ""
    last_ts: str = ""
    # Cumulative counter: input (incl. cache), cached, cache writes, output, reasoning.
    total: tuple[int, int, int, int, int] = ZERO
    # Usage deltas per price group "model\x1fbucket\x1ftier\x1fday": the five fields above.
    sums: dict[str, list[int]] = msgspec.field(default_factory=dict)
    # A first counter with nothing before it in this file: (group, counter). With a
    # history_base it includes the ancestor's usage, which the merge subtracts.
    head: tuple[str, tuple[int, int, int, int, int]] | None = None
    # (ordinal after the line, counter) for every counter: what a descendant's cut needs.
    checkpoints: list[tuple[int, tuple[int, int, int, int, int]]] = msgspec.field(default_factory=list)
    ordinal: int = 0
    # token_usage_record by response id: (group, usage, paired with a compacted item,
    # accounted for by a counter advance, the thread counter it reports or None)
    records: dict[str, tuple[str, tuple[int, int, int, int, int], bool, bool, tuple | None]] = msgspec.field(
        default_factory=dict)
    compactions: list[str] = msgspec.field(default_factory=list)  # compaction_response_ids seen
    versions: dict[str, int] = msgspec.field(default_factory=dict)
    drift: dict[str, int] = msgspec.field(default_factory=dict)
    usage_drift: int = 0
    checked: list[str] = msgspec.field(default_factory=list)
    last_total: int = -1
    window: int = 0
    turns: int = 0
    rates: list[tuple[str, float, str, int]] = msgspec.field(default_factory=list)
    # Rate-limit readings, newest last: (epoch s, limit id, window minutes, used %, reset
    # epoch s or 0); of a run of equal readings only the first and the newest are kept.
    # Classified by window length in limits.py, never by slot.
    rate_samples: list[tuple[int, str, int, float, int]] = msgspec.field(default_factory=list)
    plan: str | None = None
    credits: str | None = None
    # array('q') of (epoch ms, input, cached input, cache writes, output) per counter step,
    # input without its cached and written parts as in Usage: the activity the 5-hour and
    # weekly estimates and the per-session window shares are built from. Raw bytes, so the
    # scan cache loads it without building an int object per value.
    activity: bytearray = msgspec.field(default_factory=bytearray)
    recent: list[tuple[str, MarkKind, bool, bool]] = msgspec.field(default_factory=list)
    awaiting: bool = False
    errors: int = 0
    tool_errors: int = 0
    malformed: int = 0
    archived: bool = False

    def reset(self) -> None:
        fresh = CodexFile(path=self.path, archived=self.archived)
        for name in self.__struct_fields__:
            setattr(self, name, getattr(fresh, name))

    def _drift(self, what: str, usage: bool = False) -> None:
        self.drift[what] = self.drift.get(what, 0) + 1
        self.usage_drift += usage

    def feed(self, raw: bytes, default_tier: str = "") -> None:
        self.ordinal += 1
        if too_deep(raw):
            self.malformed += 1
            return
        try:
            line = decode_line(raw)
        except DECODE_ERRORS:  # not JSON, or a count outside core.accounting.sanity's bounds
            self.malformed += 1
            return
        p = line.payload
        ts = line.timestamp or ""
        kind = line.type
        if p is None:
            if kind not in KNOWN_TYPES:
                self._drift(f"record:{kind}", usage=b'_tokens"' in raw)
            return
        if line.ordinal is not None:
            self.ordinal = line.ordinal + 1
        if self.versions:
            v = next(reversed(self.versions))
            self.versions[v] += 1
        if ts:
            if not self.first_ts or ts < self.first_ts:
                self.first_ts = ts
            if ts > self.last_ts:
                self.last_ts = ts
        if kind == "session_meta":
            self._meta(p, ts, default_tier)
            return
        if kind == "turn_context":
            self.model = p.model or self.model
            self.cwd = p.cwd or self.cwd
            return
        # Lines before a history_base cut repeat the ancestor's prefix.
        prefix = self.base is not None and line.ordinal is not None and line.ordinal < self.base[1]
        replay = prefix or (self.replaying and self._in_replay(ts))
        if kind in CHILD_STARTS and p.trigger_turn is True:
            self._child_starts()
            return
        if kind == "token_usage_record":
            if p.usage is not None and p.response_id and not replay:
                group = self._group(usage_vector(p.usage), ts)
                paired = p.response_id in self.compactions
                thread = usage_vector(p.thread_token_usage) if p.thread_token_usage is not None else None
                self.records[p.response_id] = (group, usage_vector(p.usage), paired, thread is not None and thread == self.total, thread)
            return
        if kind == "compacted":
            cid = p.compaction_response_id
            if cid:
                self.compactions.append(cid)
                if cid in self.records:
                    g, u, _, acc, thread = self.records[cid]
                    self.records[cid] = (g, u, True, acc, thread)
            return
        if kind not in KNOWN_TYPES:
            self._drift(f"record:{kind}", usage=b'_tokens"' in raw)
            return
        if kind == "response_item":
            if not replay and p.type == "function_call_output":
                m = EXIT_CODE.search(raw)
                if m and m.group(1) != b"0":
                    self.tool_errors += 1
                    self._mark(ts, "tool_result", tool_error=True)
            return
        if kind != "event_msg":
            return
        ptype = p.type
        if ptype == "token_count":
            self._tokens(p, ts, replay, raw)
        elif ptype == "thread_settings_applied":
            if p.thread_settings is not None and p.thread_settings.service_tier != "\0":
                self.tier = TIERS.get(p.thread_settings.service_tier or "", "")
        elif ptype == "task_started" and self.child:
            self._child_starts()
        elif ptype == "turn_aborted" and not replay:
            self.aborted = (self.model or "", self.tier)
        elif replay:
            return
        elif ptype == "user_message":
            self.awaiting = False
            self._mark(ts, "user")
        elif ptype in ("task_complete", "agent_message"):
            self.awaiting = True
        elif ptype in ("error", "stream_error"):
            self.errors += 1
            self.awaiting = True
            self._mark(ts, "assistant", api_error=True)

    def _meta(self, p: Payload, ts: str, default_tier: str) -> None:
        self.metas += 1
        if self.metas == 1:
            self.id = p.id or self.id
            self.own_since = p.timestamp or ts
            self.forked_from = p.forked_from_id
            self.cwd = p.cwd or self.cwd
            self.tier = default_tier
            if p.git and p.git.branch:
                self.branch = p.git.branch
            if p.history_base is not None and p.history_base.thread_id and p.history_base.end_ordinal_exclusive:
                self.base = (p.history_base.thread_id, p.history_base.end_ordinal_exclusive)
            self.child = isinstance(p.source, dict) and "subagent" in p.source
        elif p.id and p.id != self.id:
            # The parent's meta inside a fork: its replay follows. A repeated meta with our
            # own id is a resume appended to the same file.
            self.replaying = True
        v = p.cli_version or "unknown"
        self.versions[v] = self.versions.get(v, 0) + 1

    def _child_starts(self) -> None:
        """End of a MultiAgent subagent's inherited prefix: forget what the prefix added."""
        if not self.child:
            return
        self.child = False
        self.sums, self.head, self.records = {}, None, {}
        self.turns = self.errors = self.tool_errors = 0
        self.recent = []

    def _group(self, last: tuple, ts: str, model: str | None = None, tier: str | None = None) -> str:
        bucket = size_bucket(last[0]) if last else 0
        model = self.model or "" if model is None else model
        tier = self.tier if tier is None else tier
        return f"{model}\x1f{bucket}\x1f{tier}\x1f{(ts or self.last_ts)[:10]}"

    def _in_replay(self, ts: str) -> bool:
        start = parse_ts(self.own_since)
        at = parse_ts(ts)
        return start is not None and at is not None and at <= start + REPLAY_WINDOW

    def _check_usage(self, raw: bytes) -> None:
        """Sample one counter per (file, version) for usage fields we do not understand."""
        try:
            info = decode_any(raw)["payload"]["info"]
        except (msgspec.DecodeError, KeyError, TypeError):
            return
        names: set[str] = set()
        for part in ("total_token_usage", "last_token_usage"):
            usage = info.get(part) if isinstance(info, dict) else None
            names.update(usage if isinstance(usage, dict) else ())
        for name in sorted(names - TOKEN_FIELDS):
            self._drift(f"usage:{name}", usage=True)

    def _tokens(self, p: Payload, ts: str, replay: bool, raw: bytes) -> None:
        if p.rate_limits is not None and not replay:
            self._rate_samples(p.rate_limits, ts)
            self.rates = readings(p.rate_limits)
        info = p.info
        if info is None or info.total_token_usage is None:
            return
        version = next(reversed(self.versions), "unknown")
        if version not in self.checked:
            self.checked.append(version)
            self._check_usage(raw)
        total = usage_vector(info.total_token_usage)
        self.checkpoints.append((self.ordinal, total))
        if replay or self.child:
            self.total = total
            return
        if info.model_context_window:
            self.window = info.model_context_window
        last = usage_vector(info.last_token_usage) if info.last_token_usage is not None else None
        if info.last_token_usage is not None:
            self.last_total = info.last_token_usage.total_tokens or 0
        if total == self.total:
            return
        group = self._group(last or delta(total, self.total), ts)
        if self.base is not None and self.head is None:
            # The first counter after a history_base cut: it includes the ancestor's usage
            # up to the cut (whatever prefix this file repeated), which the merge subtracts.
            self.head = (group, total)
        else:
            step = delta(total, self.total)
            self._add(group, step, last, ts)
            self._account(step, total)
            if ts and (step[0] > 0 or step[3] > 0):
                self.activity += array("q", (iso_ms(ts), max(0, step[0] - step[1] - step[2]), step[1], step[2], step[3])).tobytes()
        self.turns += 1
        self._mark(ts, "assistant")
        self.total = total

    def _rate_samples(self, rates: Rates, ts: str) -> None:
        add_samples(self.rate_samples, rates, ts)
        if plan_of(rates):
            self.plan = plan_of(rates)
        if isinstance(rates.credits, dict):
            self.credits = credits_of(rates.credits)

    def _add(self, group: str, step: tuple, last: tuple | None, ts: str) -> None:
        """Add one counter step. A step larger than its own request holds the usage of a
        turn aborted before its counter was written: that part is priced as that turn ran."""
        if self.aborted is not None and last is not None and step != last and all(a >= b for a, b in zip(step, last, strict=False)):
            excess = tuple(a - b for a, b in zip(step, last, strict=False))
            model, tier = self.aborted
            # Its requests' prompt sizes are unknown: the current request's is the nearest.
            self._bump(self._group(last, ts, model, tier), excess)
            step = last
        self.aborted = None
        self._bump(group, step)

    def _bump(self, group: str, vals: tuple) -> None:
        s = self.sums.setdefault(group, [0, 0, 0, 0, 0])
        for i, v in enumerate(vals):
            s[i] += v

    def _account(self, step: tuple, total: tuple) -> None:
        """A counter advance that already includes a pending compaction record settles it:
        the advance equals the record's usage, or the counter reaches the record's total."""
        for rid, (g, u, paired, accounted, thread) in self.records.items():
            if not accounted and ((step[0], step[3]) == (u[0], u[3]) or thread == total):
                self.records[rid] = (g, u, paired, True, thread)

    def _mark(self, ts: str, kind: MarkKind, api_error: bool = False, tool_error: bool = False) -> None:
        self.recent.append((ts or self.last_ts, kind, api_error, tool_error))
        if len(self.recent) > 2 * RECENT_KEEP:
            del self.recent[:-RECENT_KEEP]

