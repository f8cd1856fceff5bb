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
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec

from llm_sessions.core import tailer
from llm_sessions.core.health import compaction_point_for
from llm_sessions.core.limit_lines import identifier
from llm_sessions.core.models import ContextFill, RateLimit, Session, TurnMark, Usage
from llm_sessions.core.providers.base import ScanResult
from llm_sessions.core.roots import codex_home
from llm_sessions.core.timeparse import iso_ms, parse_ts

RECENT_KEEP = 50
RATE_SAMPLES_KEEP = 64
REPLAY_WINDOW = timedelta(seconds=1)


class _Tok(msgspec.Struct):
    input_tokens: int | None = 0
    cached_input_tokens: int | None = 0
    output_tokens: int | None = 0
    reasoning_output_tokens: int | None = 0
    total_tokens: int | None = 0


class _Info(msgspec.Struct):
    total_token_usage: _Tok | None = None
    last_token_usage: _Tok | None = None
    model_context_window: int | None = None


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


class _Line(msgspec.Struct):
    timestamp: str | None = None
    type: str | None = None
    payload: _Payload | None = None


_decode = msgspec.json.Decoder(_Line).decode
# A function_call_output's `output` is itself JSON in a string, so its exit code appears
# with escaped quotes; matching the bytes avoids decoding a tool's whole output.
_EXIT = re.compile(rb'\\"exit_code\\":\s*(-?\d+)')
_ZERO = (0, 0, 0, 0)


class CodexFile(msgspec.Struct, kw_only=True):
    """Partial result of one rollout file; persisted in the scan cache."""

    path: str
    cursor: tailer.Cursor = msgspec.field(default_factory=tailer.Cursor)
    id: str = ""
    metas: int = 0
    own_since: str = ""
    forked_from: str | None = None
    cwd: str | None = None
    branch: str | None = None
    model: str | None = None
    first_ts: str = ""
    last_ts: str = ""
    total: tuple[int, int, int, int] = _ZERO  # input, cached, output, reasoning (cumulative)
    baseline: tuple[int, int, int, int] = _ZERO  # counter at the end of a fork's replay
    last_total: int = -1
    window: int = 0
    turns: int = 0
    rates: list[tuple[str, float, str, int]] = msgspec.field(default_factory=list)
    # Every rate-limit reading, newest last: (line time, limit id, window minutes, used %,
    # reset epoch s or 0). Classified by window length in limits.py, never by slot.
    rate_samples: list[tuple[str, str, int, float, int]] = msgspec.field(default_factory=list)
    plan: str | None = None
    credits: str | None = None
    # Flattened (epoch ms, input, cached input, output) per turn whose cumulative counter
    # moved (input without its cached part, as in Usage): the activity
    # the 5-hour and weekly estimates and the per-session window shares are built from.
    activity: list[int] = msgspec.field(default_factory=list)
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

    def feed(self, raw: bytes) -> None:
        try:
            line = _decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError):
            self.malformed += 1
            return
        p = line.payload
        ts = line.timestamp or ""
        if p is None:
            return
        if ts:
            if not self.first_ts or ts < self.first_ts:
                self.first_ts = ts
            if ts > self.last_ts:
                self.last_ts = ts
        kind = line.type
        if kind == "session_meta":
            self.metas += 1
            if self.metas == 1:
                self.id = p.id or self.id
                self.own_since = p.timestamp or ts
                self.forked_from = p.forked_from_id
                self.cwd = p.cwd or self.cwd
                if p.git and p.git.branch:
                    self.branch = p.git.branch
            return
        if kind == "turn_context":
            self.model = p.model or self.model
            self.cwd = p.cwd or self.cwd
            return
        replay = self.metas > 1 and self._in_replay(ts)
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
            self._tokens(p, ts, replay)
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

    def _in_replay(self, ts: str) -> bool:
        start = parse_ts(self.own_since)
        at = parse_ts(ts)
        return start is not None and at is not None and at <= start + REPLAY_WINDOW

    def _tokens(self, p: _Payload, ts: str, replay: bool) -> None:
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
        t = info.total_token_usage
        total = (t.input_tokens or 0, t.cached_input_tokens or 0, t.output_tokens or 0, t.reasoning_output_tokens or 0)
        if replay:
            self.baseline = total
            self.total = total
            return
        if info.model_context_window:
            self.window = info.model_context_window
        if info.last_token_usage is not None:
            self.last_total = info.last_token_usage.total_tokens or 0
        if total != self.total:
            self.turns += 1
            self._mark(ts, "assistant")
            d_in, d_cached, d_out = total[0] - self.total[0], total[1] - self.total[1], total[2] - self.total[2]
            if ts and (d_in > 0 or d_out > 0):
                self.activity += (iso_ms(ts), max(0, d_in - d_cached), max(0, d_cached), max(0, d_out))
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
            self.rate_samples.append(
                (ts, limit_id, int(r.window_minutes or 0), float(r.used_percent), int(reset.timestamp()) if reset else 0)
            )
        del self.rate_samples[:-RATE_SAMPLES_KEEP]
        if identifier(rates.plan_type):
            self.plan = identifier(rates.plan_type)
        c = rates.credits
        if isinstance(c, dict):
            self.credits = "unlimited" if c.get("unlimited") is True else identifier(str(c["balance"])) if c.get("balance") is not None else None

    def _mark(self, ts: str, kind: str, api_error: bool = False, tool_error: bool = False) -> None:
        self.recent.append((ts or self.last_ts, kind, api_error, tool_error))
        if len(self.recent) > 2 * RECENT_KEEP:
            del self.recent[:-RECENT_KEEP]


def list_rollouts(home: Path, problems: list[str]) -> list[tuple[str, bool]]:
    out = []
    for sub, archived in (("sessions", False), ("archived_sessions", True)):
        top = home / sub
        if not top.is_dir():
            continue
        for folder, dirs, names in os.walk(top, onerror=lambda e: problems.append(f"cannot list {e.filename}: {e.strerror}")):
            for n in names:
                if n.endswith(".jsonl"):
                    out.append((os.path.join(folder, n), archived))
    return out


class CodexProvider:
    tool = "codex"

    def __init__(self, env: Mapping[str, str], settings=None, cost: Callable | None = None) -> None:
        self.env = env
        self.settings = settings
        self.cost = cost
        self.files: dict[str, CodexFile] = {}
        self.changed = False
        self.parsed_bytes = 0

    def roots(self) -> list[Path]:
        return [codex_home(self.env) / "sessions", codex_home(self.env) / "archived_sessions"]

    def state(self) -> list[CodexFile]:
        return list(self.files.values())

    def restore(self, files) -> None:
        self.files = {f.path: f for f in files}

    def scan(self, pool=None, progress=None) -> ScanResult:
        home = codex_home(self.env)
        result = ScanResult(searched=[str(r) for r in self.roots()])
        todo, gone = tailer.plan_reads(
            list_rollouts(home, result.problems), self.files, lambda path, archived: CodexFile(path=path, archived=archived),
            result.problems,
        )
        self.changed = bool(todo or gone)
        self.parsed_bytes = sum(st.st_size - f.cursor.offset for f, st in todo)
        for f, st in todo:
            path = f.path
            try:
                for raw in tailer.read_lines(path, f.cursor, st):
                    f.feed(raw)
            except OSError as exc:
                result.problems.append(f"cannot read {path}: {exc.strerror or exc}")
            if progress:
                progress(st.st_size)
            if len(f.recent) > RECENT_KEEP:
                del f.recent[:-RECENT_KEEP]
        by_id: dict[str, CodexFile] = {}
        for f in self.files.values():
            sid = f.id or Path(f.path).stem
            # The same session can be both live and archived: the newer file wins.
            if sid not in by_id or f.last_ts > by_id[sid].last_ts:
                by_id[sid] = f
            if f.malformed:
                result.problems.append(f"{f.path}: {f.malformed} malformed line(s) skipped")
        result.sessions = [self._session(sid, f) for sid, f in by_id.items()]
        return result

    def _session(self, sid: str, f: CodexFile) -> Session:
        inp, cached, out, _reasoning = (a - b for a, b in zip(f.total, f.baseline))
        usage = Usage(input=max(0, inp - cached), output=out, cache_creation=0, cache_read=cached)
        cost = self.cost(f.model, usage, False) if (self.cost and f.model) else None
        context = None
        if f.last_total >= 0 and f.window:
            context = ContextFill(f.last_total, f.window, compaction_point_for(f.window, self.settings))
        return Session(
            id=sid,
            tool="codex",
            transcript=f.path,
            cwd=f.cwd,
            model=f.model,
            git_branch=f.branch,
            started_at=parse_ts(f.own_since or f.first_ts),
            last_activity=parse_ts(f.last_ts),
            turns=f.turns,
            usage=usage,
            context=context,
            cost_usd=round(cost, 6) if cost is not None else None,
            api_errors=f.errors,
            tool_errors=f.tool_errors,
            rate_limits=tuple(
                RateLimit(name, pct, parse_ts(int(r) if r.isdigit() else r), wm or None)
                for name, pct, r, wm in f.rates
            ),
            recent=tuple(
                TurnMark(at, kind, api, tool) for ts, kind, api, tool in f.recent[-RECENT_KEEP:] if (at := parse_ts(ts))
            ),
            malformed_lines=f.malformed,
            awaiting_user=f.awaiting,
        )

