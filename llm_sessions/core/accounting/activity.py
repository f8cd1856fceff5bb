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

import os
from array import array
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NamedTuple

from llm_sessions.core.accounting.providers.claude_file import NCOLS
from llm_sessions.core.timeparse import iso_ms


class Call(NamedTuple):
    """One model call: when, which session, which model, its token kinds and price group."""

    ms: int
    session: str
    model: str
    input: int
    output: int
    cache_creation: int
    cache_read: int
    cache_1h: int = 0  # the part of cache_creation written with the 1-hour TTL
    bucket: int = 0  # prompt-size price bucket (0: the base rate)
    speed: str = ""  # "fast", "us", a Codex service tier ...
    day: str = ""  # YYYY-MM-DD, for dated prices

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
        groups = f.groups
        for pos, ms in enumerate(stamps):
            if ms < since_ms or (until_ms is not None and ms > until_ms):
                continue
            key = keys[pos]
            b = pos * NCOLS
            vi, vo, vc, vh, vr = cols[b : b + NCOLS]
            model, bucket, speed, day = groups[meta[pos]][:4]
            at = where.get(key)
            if at is None:
                where[key] = len(out)
                out.append(Call(ms, sid, model, vi, vo, vc, vr, vh, bucket, speed, day))
            elif vi + vo + vc + vr > out[at].tokens:
                out[at] = Call(ms, out[at].session, model, vi, vo, vc, vr, vh, bucket, speed, day)
    out.sort(key=lambda c: c.ms)
    return out


def codex_calls(files: Iterable, since_ms: int = 0, until_ms: int | None = None) -> list[Call]:
    """Codex counter steps stamped in [since_ms, until_ms], oldest first. As the provider
    does: a rollout kept both live and archived counts once (the live copy), and every file
    of a thread (pages, resumes) counts for that thread's session."""
    copies: dict[str, Any] = {}  # the Codex provider's per-file state
    for f in files:
        name = os.path.basename(f.path)
        other = copies.get(name)
        if other is None or (other.archived, other.last_ts) > (f.archived, f.last_ts):
            copies[name] = f
    out: list[Call] = []
    for f in copies.values():
        if not f.activity or not active_since(f.last_ts, since_ms):
            continue
        sid = f.id or Path(f.path).stem
        act = array("q", f.activity)
        model = f.model or "unknown"
        for i in range(0, len(act) - 4, 5):
            ms = act[i]
            if ms < since_ms or (until_ms is not None and ms > until_ms):
                continue
            out.append(Call(ms, sid, model, act[i + 1], act[i + 4], act[i + 3], act[i + 2]))
    out.sort(key=lambda c: c.ms)
    return out


__all__ = ["Call", "active_since", "claude_calls", "codex_calls"]
