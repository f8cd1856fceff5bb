"""Feeds limits.py on every poll: recent calls, vendor readings, refusals, learned limits.

The Monitor owns one tracker. A poll hands it the providers' per-file states; the tracker
reads only files active in the last 7 days (plus one block), the status-line state file,
and the Codex rate-limit readings, and returns the windows plus each session's shares.

Learning a limit from history looks at 8 weeks of calls, which is more than a poll should
pay for, so the learned limits are kept in `<cache dir>/limits-learned.json` and relearned
at most once an hour, by whichever process (dashboard or CLI) gets there first.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

import msgspec

from llm_sessions.core.accounting import statusline_state
from llm_sessions.core.accounting.activity import Call, ClaudeCalls, active_since, claude_calls, codex_calls
from llm_sessions.core.accounting.blocks import (
    FIVE_HOURS_MS,
    PLAN_FIVE_HOUR_USD,
    WEEK_MS,
    Learned,
    Prices,
    five_hour_blocks,
    learn_five_hour,
    learn_weekly,
)
from llm_sessions.core.accounting.call_series import CallSeries, CallView
from llm_sessions.core.accounting.limits import Sources, build_windows
from llm_sessions.core.models import LimitWindow, WindowShare

log = logging.getLogger(__name__)

LEARN_DAYS = 56
RELEARN_S = 3600
REUSE_S = 15
LEARNED_FILE = "limits-learned.json"


def _mtime(path: Path | None) -> int:
    try:
        return os.stat(path).st_mtime_ns if path is not None else 0
    except OSError:
        return 0


def configured(settings, assistant: str, kind: str) -> Learned | None:
    """A limit the user set (or chose by plan), which wins over anything learned."""
    if assistant != "claude":
        return None
    explicit = float(getattr(settings, f"limits_claude_{'five_hour' if kind == 'five_hour' else 'weekly'}_usd", 0) or 0)
    if explicit > 0:
        return Learned(explicit, f"limits.claude_{'five_hour' if kind == 'five_hour' else 'weekly'}_usd in the config", False)
    plan = str(getattr(settings, "limits_plan", "") or "").lower()
    if kind == "five_hour" and plan in PLAN_FIVE_HOUR_USD:
        return Learned(PLAN_FIVE_HOUR_USD[plan], f"plan preset '{plan}'", False)
    return None


def learn(calls: dict[str, list[Call]], hits: dict[str, list[int]], now_ms: int, prices: Prices | None) -> dict[str, Learned]:
    """Learned limits per "<assistant>/<kind>" from each assistant's calls and limit hits (ms)."""
    out: dict[str, Learned] = {}
    for tool, mine in calls.items():
        floor = min(PLAN_FIVE_HOUR_USD.values()) if tool == "claude" else 0.0
        out[f"{tool}/five_hour"] = learn_five_hour(five_hour_blocks(mine), hits.get(f"{tool}/five_hour", []), now_ms, prices, floor)
        out[f"{tool}/seven_day"] = learn_weekly(mine, hits.get(f"{tool}/seven_day", []), now_ms, prices)
    return out


class LimitTracker:
    def __init__(self, settings, state_path: Path | None, prices: Prices | None, cache_dir: Path | None = None) -> None:
        self.settings = settings
        self.state_path = state_path
        self.prices = prices
        self.learned_path = Path(cache_dir) / LEARNED_FILE if cache_dir is not None else None
        self._learned: dict[str, Learned] = {}
        self._learned_at = 0.0
        self._calls: dict[str, tuple[tuple, CallSeries]] = {}  # per assistant: (files' offsets, calls)
        self._claude = ClaudeCalls()  # Claude's calls, extended as live files grow
        self._last: tuple[tuple, tuple] | None = None  # (inputs, the report made from them)

    def _recent(self, tool: str, files: list, since: int, now_ms: int) -> tuple[tuple, CallView]:
        """The calls of files active since `since` stamped up to `now_ms`, re-extracted only
        when one of them grew (Claude's: only what the grown files added, see ClaudeCalls)."""
        active = [f for f in files if active_since(f.last_ts, since)]
        key = tuple((f.path, f.cursor.offset) for f in active)
        cached = self._calls.get(tool)
        if cached is None or cached[0] != key:
            series = self._claude.update(active, since) if tool == "claude" else CallSeries(codex_calls(active, since, None))
            self._calls[tool] = cached = (key, series)
        return key, cached[1].view(since, now_ms)

    def report(
        self, claude_files: Iterable, codex_files: Iterable, now: datetime, *, learn_limits: bool = True
    ) -> tuple[tuple[LimitWindow, ...], dict[str, tuple[WindowShare, ...]]]:
        """Windows and per-session shares as of `now`. A dashboard polls every few seconds:
        when no file grew and the state file did not change, the previous answer is reused
        for up to REUSE_S (its projections move by minutes, not seconds)."""
        claude_files, codex_files = list(claude_files), list(codex_files)
        now_ms = int(now.timestamp() * 1000)
        since = now_ms - WEEK_MS - FIVE_HOURS_MS
        claude_key, claude = self._recent("claude", claude_files, since, now_ms)
        codex_key, codex = self._recent("codex", codex_files, since, now_ms)
        inputs = (claude_key, codex_key, _mtime(self.state_path), learn_limits, now_ms // (REUSE_S * 1000))
        if self._last is not None and self._last[0] == inputs:
            return self._last[1]
        learn_since = now_ms - LEARN_DAYS * 86_400_000
        hits = sorted({tuple(x) for f in claude_files if f.limit_hits and active_since(f.last_ts, learn_since) for x in f.limit_hits})
        # a reading in a file idle for longer than the longest window is from a window long gone
        samples = sorted(tuple(s) for f in codex_files if active_since(f.last_ts, since) for s in f.rate_samples)
        newest = max(codex_files, key=lambda f: f.last_ts, default=None)
        learned = self._learned_limits(claude_files, codex_files, hits, samples, now_ms) if learn_limits else {}
        for tool in ("claude", "codex"):
            for kind in ("five_hour", "seven_day"):
                fixed = configured(self.settings, tool, kind)
                if fixed is not None:
                    learned[f"{tool}/{kind}"] = fixed
        state = statusline_state.load(self.state_path) if self.state_path is not None else {"windows": {}}
        src = Sources(
            claude=claude, codex=codex, statusline=state["windows"], codex_samples=samples,
            codex_plan=newest.plan if newest else None, codex_credits=newest.credits if newest else None,
            claude_hits=hits, learned=learned,
        )
        windows = build_windows(src, now, self.prices, float(getattr(self.settings, "limits_fresh_minutes", 10.0)))
        per_session: dict[str, list[WindowShare]] = {}
        for w in windows:
            for share in w.shares:
                per_session.setdefault(share.session_id, []).append(share)
        result = (windows, {sid: tuple(v) for sid, v in per_session.items()})
        self._last = (inputs, result)
        return result

    # -- learned limits ------------------------------------------------------------------
    def _learned_limits(self, claude_files, codex_files, hits, samples, now_ms: int) -> dict[str, Learned]:
        if self._learned and time.time() - self._learned_at < RELEARN_S:
            return dict(self._learned)
        cached = self._load_learned()
        if cached is not None:
            return dict(self._learned)
        since = now_ms - LEARN_DAYS * 86_400_000
        calls = {"claude": claude_calls(claude_files, since, now_ms), "codex": codex_calls(codex_files, since, now_ms)}
        hit_ms: dict[str, list[int]] = {}
        for at_s, _reset, kind in hits:
            key = "claude/seven_day" if kind.startswith("seven_day") else "claude/five_hour"
            hit_ms.setdefault(key, []).append(at_s * 1000)
        for at_s, _limit_id, minutes, pct, _reset in samples:
            if pct >= 100:
                hit_ms.setdefault("codex/five_hour" if minutes <= 360 else "codex/seven_day", []).append(at_s * 1000)
        self._learned = learn(calls, hit_ms, now_ms, self.prices)
        self._learned_at = time.time()
        self._save_learned()
        return dict(self._learned)

    def _load_learned(self) -> dict[str, Learned] | None:
        if self.learned_path is None:
            return None
        try:
            data = msgspec.json.decode(self.learned_path.read_bytes(), type=dict[str, list])
            at = float(data.pop("_at")[0])
        except (OSError, msgspec.DecodeError, msgspec.ValidationError, KeyError, IndexError, TypeError, ValueError):
            return None
        if time.time() - at >= RELEARN_S:
            return None
        self._learned = {k: Learned(v[0], str(v[1])) for k, v in data.items() if len(v) == 2}  # learned ones only
        self._learned_at = at
        return self._learned

    def _save_learned(self) -> None:
        if self.learned_path is None:
            return
        data = {k: [v.usd, v.basis] for k, v in self._learned.items()} | {"_at": [self._learned_at]}
        try:
            self.learned_path.parent.mkdir(parents=True, exist_ok=True)
            statusline_state.write_atomic(self.learned_path, msgspec.json.encode(data))
        except OSError as exc:
            log.warning("cannot write %s: %s", self.learned_path, exc)


__all__ = ["LEARN_DAYS", "LimitTracker", "configured", "learn"]
