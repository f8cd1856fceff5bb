"""Model calls with their time, per assistant: what usage limits are measured from.

The providers keep, per transcript file, every counted model call with its usage and the
instant of the line that holds it (Claude: one entry per (message.id, requestId) key;
Codex: one per turn whose cumulative counter moved). This module turns those per-file
arrays into one time-ordered list per assistant, counting a call copied into several files
(resumed sessions) once, with its largest usage, for the session that wrote it first: the
same rule the Claude provider uses for session totals, so a window's shares add up to the
sessions' own figures.

Only what a window needs is read: files whose last line is older than `since_ms` are
skipped without decoding their arrays, so a poll's cost follows recent activity, not the
size of the history.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from llm_sessions.core.timeparse import iso_ms


class Call(NamedTuple):
    """One model call: when, which session, which model, and its four token kinds."""

    ms: int
    session: str
    model: str
    tier: int  # 1 when the request was above 200k input tokens (priced higher)
    input: int
    output: int
    cache_creation: int
    cache_read: int

    @property
    def tokens(self) -> int:
        return self.input + self.output + self.cache_creation + self.cache_read


def active_since(last_ts: str, since_ms: int) -> bool:
    """Whether a file's last line is at or after `since_ms` (unknown counts as active).

    Called for every file of the history on every poll, so the usual timestamp form is
    compared as a string against the cutoff in the same form, without parsing it.
    """
    if not since_ms or not last_ts:
        return True
    if len(last_ts) == 24 and last_ts[23] == "Z":
        return last_ts >= _cutoff(since_ms)
    return iso_ms(last_ts) >= since_ms


def _cutoff(since_ms: int) -> str:
    global _last_cutoff
    if _last_cutoff[0] != since_ms:
        at = datetime.fromtimestamp(since_ms / 1000, UTC)
        _last_cutoff = (since_ms, at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{since_ms % 1000:03d}Z")
    return _last_cutoff[1]


_last_cutoff: tuple[int, str] = (0, "")


def claude_calls(files: Iterable, since_ms: int = 0, until_ms: int | None = None) -> list[Call]:
    """Deduplicated Claude calls stamped in [since_ms, until_ms], oldest first.

    `files` are the provider's ClaudeFile states. Ownership follows ClaudeProvider._merge:
    files ordered by (first, last timestamp, path); the first file holding a key owns it,
    at the largest usage any copy shows.
    """
    ordered = sorted((f for f in files if f.keys and active_since(f.last_ts, since_ms)),
                     key=lambda f: (f.first_ts or "~", f.last_ts, f.path))
    out: list[Call] = []
    where: dict[int, int] = {}
    for f in ordered:
        keys = array("Q", f.keys)
        stamps = array("q", f.stamps)
        if len(stamps) != len(keys):
            continue  # a state written before stamps existed; the next cold scan fills it
        cols = array("q", f.cols)
        meta = array("I", f.meta)
        sid = f.session or Path(f.path).stem
        models = f.models
        for pos, ms in enumerate(stamps):
            if ms < since_ms or (until_ms is not None and ms > until_ms):
                continue
            key = keys[pos]
            b = pos * 4
            vals = cols[b : b + 4]
            m = meta[pos]
            at = where.get(key)
            if at is None:
                where[key] = len(out)
                out.append(Call(ms, sid, models[m >> 1], m & 1, vals[0], vals[1], vals[2], vals[3]))
            elif sum(vals) > out[at].tokens:
                owner = out[at]
                out[at] = Call(ms, owner.session, models[m >> 1], m & 1, vals[0], vals[1], vals[2], vals[3])
    out.sort(key=lambda c: c.ms)
    return out


def codex_calls(files: Iterable, since_ms: int = 0, until_ms: int | None = None) -> list[Call]:
    """Codex turns stamped in [since_ms, until_ms], oldest first; a session kept both live
    and archived counts once (its newer file, as the provider shows it)."""
    newest: dict[str, object] = {}
    for f in files:
        sid = f.id or Path(f.path).stem
        if sid not in newest or f.last_ts > newest[sid].last_ts:
            newest[sid] = f
    out: list[Call] = []
    for sid, f in newest.items():
        if not active_since(f.last_ts, since_ms):
            continue
        act = f.activity
        model = f.model or "unknown"
        for i in range(0, len(act) - 3, 4):
            ms = act[i]
            if ms < since_ms or (until_ms is not None and ms > until_ms):
                continue
            out.append(Call(ms, sid, model, 0, act[i + 1], act[i + 3], 0, act[i + 2]))
    out.sort(key=lambda c: c.ms)
    return out


__all__ = ["Call", "active_since", "claude_calls", "codex_calls"]
