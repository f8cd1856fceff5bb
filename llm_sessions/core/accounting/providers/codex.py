"""OpenAI Codex CLI: rollout files under `$CODEX_HOME/sessions/YYYY/MM/DD/`, exact counts.

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

import os
import re
from array import array
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec

from llm_sessions.core.accounting import tailer
from llm_sessions.core.accounting.health import compaction_point_for
from llm_sessions.core.accounting.limit_lines import identifier
from llm_sessions.core.models import ContextFill, RateLimit, Session, TurnMark, Usage
from llm_sessions.core.accounting.pricing import Bill, size_bucket
from llm_sessions.core.accounting.providers.base import ScanResult
from llm_sessions.core.problems import unreadable_file, unreadable_folder
from llm_sessions.core.accounting.roots import codex_home, existing_dir
from llm_sessions.core.safeio import printable, read_regular
from llm_sessions.core.accounting.sanity import DECODE_ERRORS, MAX_SIDE_FILE_BYTES, TotalTokens
from llm_sessions.core.timeparse import iso_ms, parse_ts

RECENT_KEEP = 50
RATE_SAMPLES_KEEP = 48
REPLAY_WINDOW = timedelta(seconds=1)


class _Tok(msgspec.Struct):
    input_tokens: TotalTokens | None = 0
    cached_input_tokens: TotalTokens | None = 0
    cache_write_input_tokens: TotalTokens | None = 0
    output_tokens: TotalTokens | None = 0
    reasoning_output_tokens: TotalTokens | None = 0
    total_tokens: TotalTokens | None = 0


class _Info(msgspec.Struct):
    total_token_usage: _Tok | None = None
    last_token_usage: _Tok | None = None
    model_context_window: TotalTokens | None = None


class _Rate(msgspec.Struct):
    used_percent: float | None = None
    resets_at: int | float | str | None = None
    window_minutes: int | float | None = None
    resets_in_seconds: int | float | None = None  # older builds: relative to the line


class _Rates(msgspec.Struct):
    primary: _Rate | None = None
    secondary: _Rate | None = None
    # Any: a field of an unexpected type must not turn the whole token_count into a
    # malformed line; limits.py reads them defensively.
    limit_id: Any = None
    plan_type: Any = None
    credits: Any = None


class _Git(msgspec.Struct):
    branch: str | None = None


class _Base(msgspec.Struct):
    thread_id: str | None = None
    end_ordinal_exclusive: int | None = None


class _Settings(msgspec.Struct):
    service_tier: str | None = "\0"  # "\0": the key is absent (the tier stays as it was)


class _Payload(msgspec.Struct):
    type: str | None = None
    id: str | None = None
    timestamp: str | None = None
    cwd: str | None = None
    model: str | None = None
    forked_from_id: str | None = None
    git: _Git | None = None
    info: _Info | None = None
    rate_limits: _Rates | None = None
    cli_version: str | None = None
    history_base: _Base | None = None
    source: str | dict | None = None
    thread_settings: _Settings | None = None
    trigger_turn: bool | None = None
    response_id: str | None = None
    compaction_response_id: str | None = None
    usage: _Tok | None = None
    thread_token_usage: _Tok | None = None


class _Line(msgspec.Struct):
    timestamp: str | None = None
    type: str | None = None
    payload: _Payload | None = None
    ordinal: int | None = None


_decode = msgspec.json.Decoder(_Line).decode
# A function_call_output's `output` is itself JSON in a string, so its exit code appears
# with escaped quotes; matching the bytes avoids decoding a tool's whole output.
_EXIT = re.compile(rb'\\"exit_code\\":\s*(-?\d+)')
_ZERO = (0, 0, 0, 0, 0)
_decode_any = msgspec.json.Decoder().decode
_TIERS = {"priority": "priority", "fast": "priority", "flex": "flex"}  # service_tier -> price tier
_KNOWN_TYPES = frozenset({"session_meta", "turn_context", "response_item", "event_msg", "compacted",
                          "token_usage_record", "inter_agent_communication", "inter_agent_communication_metadata"})
_TOKEN_FIELDS = frozenset({"input_tokens", "cached_input_tokens", "cache_write_input_tokens", "output_tokens",
                           "reasoning_output_tokens", "total_tokens"})
_CHILD_STARTS = ("inter_agent_communication", "inter_agent_communication_metadata")


def _tok(t: _Tok) -> tuple[int, int, int, int, int]:
    """(input incl. cache, cached, cache writes, output, reasoning) of one usage object."""
    return (t.input_tokens or 0, t.cached_input_tokens or 0, t.cache_write_input_tokens or 0, t.output_tokens or 0,
            t.reasoning_output_tokens or 0)


def _delta(new: tuple, old: tuple) -> tuple:
    """What a cumulative counter added; a counter that went down restarted from zero."""
    if any(n < o for n, o in zip(new, old)):
        return new
    return tuple(n - o for n, o in zip(new, old))


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
    total: tuple[int, int, int, int, int] = _ZERO
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
    recent: list[tuple[str, str, bool, bool]] = msgspec.field(default_factory=list)
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
        try:
            line = _decode(raw)
        except DECODE_ERRORS:  # not JSON, too deep, or a count outside core.accounting.sanity's bounds
            self.malformed += 1
            return
        p = line.payload
        ts = line.timestamp or ""
        kind = line.type
        if p is None:
            if kind not in _KNOWN_TYPES:
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
        if kind in _CHILD_STARTS and p.trigger_turn is True:
            self._child_starts()
            return
        if kind == "token_usage_record":
            if p.usage is not None and p.response_id and not replay:
                group = self._group(_tok(p.usage), ts)
                paired = p.response_id in self.compactions
                thread = _tok(p.thread_token_usage) if p.thread_token_usage is not None else None
                self.records[p.response_id] = (group, _tok(p.usage), paired, thread is not None and thread == self.total, thread)
            return
        if kind == "compacted":
            cid = p.compaction_response_id
            if cid:
                self.compactions.append(cid)
                if cid in self.records:
                    g, u, _, acc, thread = self.records[cid]
                    self.records[cid] = (g, u, True, acc, thread)
            return
        if kind not in _KNOWN_TYPES:
            self._drift(f"record:{kind}", usage=b'_tokens"' in raw)
            return
        if kind == "response_item":
            if not replay and p.type == "function_call_output":
                m = _EXIT.search(raw)
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
                self.tier = _TIERS.get(p.thread_settings.service_tier or "", "")
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

    def _meta(self, p: _Payload, ts: str, default_tier: str) -> None:
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
            info = _decode_any(raw)["payload"]["info"]
        except (msgspec.DecodeError, KeyError, TypeError):
            return
        names: set[str] = set()
        for part in ("total_token_usage", "last_token_usage"):
            usage = info.get(part) if isinstance(info, dict) else None
            names.update(usage if isinstance(usage, dict) else ())
        for name in sorted(names - _TOKEN_FIELDS):
            self._drift(f"usage:{name}", usage=True)

    def _tokens(self, p: _Payload, ts: str, replay: bool, raw: bytes) -> None:
        if p.rate_limits is not None and not replay:
            self._rate_samples(p.rate_limits, ts)
            self.rates = [
                (name, r.used_percent or 0.0, str(r.resets_at or ""), int(r.window_minutes or 0))
                for name, r in (("primary", p.rate_limits.primary), ("secondary", p.rate_limits.secondary))
                if r is not None and r.used_percent is not None
            ]
        info = p.info
        if info is None or info.total_token_usage is None:
            return
        version = next(reversed(self.versions), "unknown")
        if version not in self.checked:
            self.checked.append(version)
            self._check_usage(raw)
        total = _tok(info.total_token_usage)
        self.checkpoints.append((self.ordinal, total))
        if replay or self.child:
            self.total = total
            return
        if info.model_context_window:
            self.window = info.model_context_window
        last = _tok(info.last_token_usage) if info.last_token_usage is not None else None
        if info.last_token_usage is not None:
            self.last_total = info.last_token_usage.total_tokens or 0
        if total == self.total:
            return
        group = self._group(last or _delta(total, self.total), ts)
        if self.base is not None and self.head is None:
            # The first counter after a history_base cut: it includes the ancestor's usage
            # up to the cut (whatever prefix this file repeated), which the merge subtracts.
            self.head = (group, total)
        else:
            step = _delta(total, self.total)
            self._add(group, step, last, ts)
            self._account(step, total)
            if ts and (step[0] > 0 or step[3] > 0):
                self.activity += array("q", (iso_ms(ts), max(0, step[0] - step[1] - step[2]), step[1], step[2], step[3])).tobytes()
        self.turns += 1
        self._mark(ts, "assistant")
        self.total = total

    def _rate_samples(self, rates: _Rates, ts: str) -> None:
        at = parse_ts(ts)
        limit_id = identifier(rates.limit_id) or ""
        for r in (rates.primary, rates.secondary):
            if r is None or r.used_percent is None:
                continue
            raw = r.resets_at
            reset = parse_ts(int(raw) if isinstance(raw, float) or (isinstance(raw, str) and raw.isdigit()) else raw)
            if reset is None and r.resets_in_seconds is not None and at is not None:
                reset = at + timedelta(seconds=r.resets_in_seconds)
            if at is None:
                continue
            sample = (int(at.timestamp()), limit_id, int(r.window_minutes or 0), float(r.used_percent),
                      int(reset.timestamp()) if reset else 0)
            rs = self.rate_samples
            same = [i for i in range(len(rs) - 1, -1, -1) if rs[i][1:3] == sample[1:3]][:2]
            if len(same) == 2 and rs[same[0]][3:] == sample[3:] == rs[same[1]][3:]:
                rs[same[0]] = sample  # a run of equal readings keeps its first and its newest
            else:
                rs.append(sample)
        del self.rate_samples[:-RATE_SAMPLES_KEEP]
        if identifier(rates.plan_type):
            self.plan = identifier(rates.plan_type)
        c = rates.credits
        if isinstance(c, dict):
            self.credits = "unlimited" if c.get("unlimited") is True else identifier(str(c["balance"])) if c.get("balance") is not None else None

    def _add(self, group: str, step: tuple, last: tuple | None, ts: str) -> None:
        """Add one counter step. A step larger than its own request holds the usage of a
        turn aborted before its counter was written: that part is priced as that turn ran."""
        if self.aborted is not None and last is not None and step != last and all(a >= b for a, b in zip(step, last)):
            excess = tuple(a - b for a, b in zip(step, last))
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

    def _mark(self, ts: str, kind: str, api_error: bool = False, tool_error: bool = False) -> None:
        self.recent.append((ts or self.last_ts, kind, api_error, tool_error))
        if len(self.recent) > 2 * RECENT_KEEP:
            del self.recent[:-RECENT_KEEP]


def list_rollouts(home: Path, problems: list[str]) -> list[tuple[str, bool]]:
    out = []
    for sub, archived in (("sessions", False), ("archived_sessions", True)):
        top = home / sub
        if not existing_dir(top, problems):
            continue
        for folder, dirs, names in os.walk(top, onerror=lambda e: problems.append(unreadable_folder(e.filename, e))):
            for n in names:
                if n.endswith(".jsonl"):
                    out.append((os.path.join(folder, n), archived))
    return out


class CodexProvider:
    tool = "codex"

    def __init__(self, env: Mapping[str, str], settings=None, prices=None) -> None:
        self.env = env
        self.settings = settings
        self.prices = prices
        self.files: dict[str, CodexFile] = {}
        self._built: tuple[list, list[str]] | None = None  # last scan's sessions and problems
        self.changed = False
        self.parsed_bytes = 0

    def roots(self) -> list[Path]:
        return [codex_home(self.env) / "sessions", codex_home(self.env) / "archived_sessions"]

    def state(self) -> list[CodexFile]:
        return list(self.files.values())

    def restore(self, files) -> None:
        """Per-file states from the scan cache: a path -> state mapping (decoded lazily, see
        scancache.LazyStates) or a list of states."""
        self.files = files if isinstance(files, dict) else {f.path: f for f in files}
        self._built = None

    def default_tier(self) -> str:
        """The service tier Codex applies when a rollout records none: config.toml's."""
        try:  # a regular file of sane size only: a FIFO there must not hang the scan
            tier = tomllib.loads(read_regular(codex_home(self.env) / "config.toml", MAX_SIDE_FILE_BYTES).decode()).get("service_tier")
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return ""
        return _TIERS.get(tier, "") if isinstance(tier, str) else ""

    def scan(self, pool=None, progress=None) -> ScanResult:
        home = codex_home(self.env)
        result = ScanResult(searched=[str(r) for r in self.roots()])
        todo, gone = tailer.plan_reads(
            list_rollouts(home, result.problems), self.files, lambda path, archived: CodexFile(path=path, archived=archived),
            result.problems,
        )
        self.changed = bool(todo or gone)
        self.parsed_bytes = sum(st.st_size - f.cursor.offset for f, st in todo)
        if not self.changed and self._built is not None:
            # Nothing grew: last scan's sessions stand (a dashboard polls every few seconds).
            result.sessions, problems = self._built
            result.problems.extend(problems)
            return result
        tier = self.default_tier() if todo else ""
        for f, st in todo:
            try:
                failed = tailer.fold(f.path, f.cursor, st, lambda raw, f=f: f.feed(raw, tier))  # feed counts what it rejects
                f.malformed += failed
            except OSError as exc:
                result.problems.append(unreadable_file(f.path, exc))
            if progress:
                progress(st.st_size)
            if len(f.recent) > RECENT_KEEP:
                del f.recent[:-RECENT_KEEP]
        # The same rollout can sit in sessions/ and archived_sessions/: one copy counts, the
        # live one. Files that differ but share an id are pages of one thread (or resumes
        # written to a new file): they make one session together.
        start = len(result.problems)
        copies: dict[str, CodexFile] = {}
        for f in self.files.values():
            name = os.path.basename(f.path)
            other = copies.get(name)
            if other is None or (other.archived, other.last_ts) > (f.archived, f.last_ts):
                copies[name] = f
        by_id: dict[str, list[CodexFile]] = {}
        for f in copies.values():
            by_id.setdefault(f.id or printable(Path(f.path).stem), []).append(f)
        result.sessions = [self._session(sid, sorted(fs, key=lambda f: (f.first_ts, f.path)), by_id, result.problems)
                           for sid, fs in by_id.items()]
        self._built = (list(result.sessions), result.problems[start:])
        return result

    def usage_drift(self) -> int:
        return sum(f.usage_drift for f in self.files.values())

    def drift(self):
        from llm_sessions.core.accounting.drift import Tally

        t = Tally(self.tool, [str(r) for r in self.roots()])
        for f in self.files.values():
            t.file(f.path, lines=f.ordinal, malformed=f.malformed, versions=f.versions, unknown=f.drift,
                   usage_unknown=f.usage_drift)
            if not f.id:
                t.skip(f.path, "no session_meta record")
        return t.done()

    @staticmethod
    def _cut(base: tuple[str, int], files: list[CodexFile], own: CodexFile) -> tuple | None:
        """The ancestor's counter just before `base`'s cut, or None if the ancestor is gone."""
        best: tuple[int, tuple] | None = None
        for f in files:
            if f is own:
                continue
            for ordinal, total in f.checkpoints:
                if ordinal <= base[1] and (best is None or ordinal >= best[0]):
                    best = (ordinal, total)
        return best[1] if best else (_ZERO if files and any(f is not own for f in files) else None)

    def _session(self, sid: str, files: list[CodexFile], by_id: dict[str, list[CodexFile]], problems: list[str]) -> Session:
        sums: dict[str, list[int]] = {}

        def add(group: str, vals) -> None:
            s = sums.setdefault(group, [0, 0, 0, 0, 0])
            for i, v in enumerate(vals):
                s[i] += v

        for f in files:
            for group, vals in f.sums.items():
                add(group, vals)
            if f.head is not None:
                group, head = f.head
                base = self._cut(f.base, by_id.get(f.base[0], []), f) if f.base else _ZERO
                if base is None:
                    problems.append(f"{f.path}: history base {f.base[0]} not found; its inherited usage may be counted")
                    base = _ZERO
                add(group, _delta(head, base))
            for group, usage, paired, accounted, _thread in f.records.values():
                if paired and not accounted:
                    add(group, usage)
        main = max(files, key=lambda f: (f.last_ts, f.path))
        usage = Usage()
        bill = Bill()
        models: dict[str, None] = {}
        for group, (inp, cached, written, out, _reasoning) in sums.items():
            model, bucket, tier, day = group.split("\x1f")
            part = Usage(input=max(0, inp - cached - written), output=out, cache_creation=written, cache_read=cached)
            usage = usage + part
            model = model or main.model or ""
            if part.total:
                models.setdefault(model)
                bill.add(self.prices, model or None, part, bucket=int(bucket), speed=tier, day=day or None)
        context = None
        if main.last_total >= 0 and main.window:
            context = ContextFill(main.last_total, main.window, compaction_point_for(main.window, self.settings))
        f = main
        return Session(
            id=sid,
            tool="codex",
            transcript=f.path,
            cwd=files[0].cwd or f.cwd,
            model=f.model,
            git_branch=f.branch,
            started_at=parse_ts(min((x.own_since or x.first_ts) for x in files)),
            last_activity=parse_ts(f.last_ts),
            turns=sum(x.turns for x in files),
            usage=usage,
            context=context,
            cost_usd=bill.rounded,
            models_used=tuple(models),
            unpriced=tuple(sorted(bill.unpriced)),
            api_errors=sum(x.errors for x in files),
            tool_errors=sum(x.tool_errors for x in files),
            rate_limits=tuple(
                RateLimit(name, pct, parse_ts(int(r) if r.isdigit() else r), wm or None)
                for name, pct, r, wm in f.rates
            ),
            recent=tuple(
                TurnMark(at, kind, api, tool) for ts, kind, api, tool in f.recent[-RECENT_KEEP:] if (at := parse_ts(ts))
            ),
            malformed_lines=sum(x.malformed for x in files),
            awaiting_user=f.awaiting,
        )
