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
    out: list[Call] = []
    where: dict[int, int] = {}
    for f in sorted((f for f in files if f.keys and active_since(f.last_ts, since_ms)), key=_file_order):
        arrays = _arrays(f)
        if arrays is not None:
            _merge(out, where, _file_calls(f, arrays, 0, since_ms, until_ms))
    out.sort(key=lambda c: c.ms)
    return out


def _file_order(f) -> tuple[str, str, str]:
    return (f.first_ts or "~", f.last_ts, f.path)


def _arrays(f) -> tuple[array, array, array, array] | None:
    """A file's (keys, stamps, cols, meta) arrays; None for a state written before stamps
    existed (the next cold scan fills it)."""
    keys, stamps = array("Q", f.keys), array("q", f.stamps)
    if len(stamps) != len(keys):
        return None
    return keys, stamps, array("q", f.cols), array("I", f.meta)


def _file_calls(f, arrays: tuple[array, array, array, array], start: int, since_ms: int, until_ms: int | None):
    """(key, Call) of a file's positions from `start` stamped in [since_ms, until_ms]."""
    keys, stamps, cols, meta = arrays
    sid = f.session or Path(f.path).stem
    groups = f.groups
    for pos in range(start, len(stamps)):
        ms = stamps[pos]
        if ms < since_ms or (until_ms is not None and ms > until_ms):
            continue
        b = pos * NCOLS
        vi, vo, vc, vh, vr = cols[b : b + NCOLS]
        model, bucket, speed, day = groups[meta[pos]][:4]
        yield keys[pos], Call(ms, sid, model, vi, vo, vc, vr, vh, bucket, speed, day)


def _merge(out: list[Call], where: dict[int, int], calls: Iterable[tuple[int, Call]], shared: set[int] | None = None) -> None:
    """Add a file's calls (files in ownership order): a key seen before keeps its owner's
    session and its time, at the largest usage. `shared` collects keys seen twice."""
    for key, c in calls:
        at = where.get(key)
        if at is None:
            where[key] = len(out)
            out.append(c)
            continue
        if shared is not None:
            shared.add(key)
        if c.tokens > out[at].tokens:
            out[at] = c._replace(ms=c.ms, session=out[at].session)


class _Seen(NamedTuple):
    """What ClaudeCalls took from one file: its offset and first line, and its arrays then."""

    offset: int
    first_ts: str
    max_ms: int
    arrays: tuple[array, array, array, array] | None
    groups: list


class ClaudeCalls:
    """`claude_calls(files, since_ms)` kept current across polls, as a CallSeries.

    A dashboard's live sessions append a few calls per poll to a week of history. When
    every changed file only grew (its earlier calls as they were, or a streamed message's
    usage grown), its new calls are keys no other file holds, and it holds no key another
    file holds too (whose owner its growth could change: files are ordered by their first
    and last line), the series is patched; anything else (a rewritten file, a resumed
    session's copies, a file gone) rebuilds it with claude_calls. Files that merely aged out of the window are dropped
    from the bookkeeping: all their calls are older than any window asks for.
    """

    def __init__(self) -> None:
        self.series: Any = None
        self._seen: dict[str, _Seen] = {}
        self._where: dict[int, Call] = {}  # key -> its call in the series
        self._shared: set[int] = set()  # keys more than one file holds
        self._sharing: set[str] = set()  # the files that hold one
        self.rebuilds = 0

    def update(self, files: list, since_ms: int) -> Any:
        """The series of the calls of `files` (those active since `since_ms`) from `since_ms` on."""
        from llm_sessions.core.accounting.call_series import CallSeries

        if self.series is None or not self._extend(files, since_ms):
            self.rebuilds += 1
            out: list[Call] = []
            where: dict[int, int] = {}
            self._shared = set()
            self._seen = {}
            for f in sorted(files, key=_file_order):
                arrays = _arrays(f) if f.keys else None
                if arrays is not None:
                    _merge(out, where, _file_calls(f, arrays, 0, since_ms, None), self._shared)
                self._seen[f.path] = _Seen(f.cursor.offset, f.first_ts, max(arrays[1], default=0) if arrays else 0,
                                           arrays, list(f.groups) if arrays else [])
            self._where = {key: out[at] for key, at in where.items()}
            self._sharing = {p for p, seen in self._seen.items()
                             if self._shared and seen.arrays is not None and not self._shared.isdisjoint(seen.arrays[0])}
            self.series = CallSeries(out)
        return self.series

    def _extend(self, files: list, since_ms: int) -> bool:
        seen = self._seen
        paths = {f.path for f in files}
        if any(p not in paths and old.max_ms >= since_ms for p, old in seen.items()):
            return False  # a file with calls in the window left (aged out is fine)
        if self.series.view(since_ms).lo * 2 > max(len(self.series), 1000):
            return False  # the series is mostly calls older than the window: start it again
        grown = [f for f in files if (old := seen.get(f.path)) is None or old.offset != f.cursor.offset]
        new: list[Call] = []
        removed: list[Call] = []
        keys: dict[int, Call | None] = {}
        updates: dict[str, _Seen] = {}
        for f in grown:
            old = seen.get(f.path)
            if f.path in self._sharing:
                return False  # its growth moves it in the order that decides who owns a copied key
            arrays = _arrays(f) if f.keys else None
            if arrays is None:
                if f.keys or (old is not None and old.arrays is not None):
                    return False
                updates[f.path] = _Seen(f.cursor.offset, f.first_ts, 0, None, [])
                continue
            n = 0
            if old is not None and old.arrays is not None:
                if f.groups[: len(old.groups)] != old.groups or len(arrays[0]) < len(old.arrays[0]):
                    return False
                n = _same_prefix(arrays, old.arrays)
                if arrays[0][n : len(old.arrays[0])] != old.arrays[0][n:]:
                    return False  # keys moved: the file was rewritten
                # positions from n on changed (a streamed message's usage grew): their old calls go
                for key in old.arrays[0][n:]:
                    if key in self._where:
                        removed.append(self._where[key])
                        keys[key] = None
            for key, c in _file_calls(f, arrays, n, since_ms, None):
                if keys.get(key, 0) is not None and (key in self._where or key in keys):
                    return False  # a key another file holds: ownership is settled by a rebuild
                keys[key] = c
                new.append(c)
            updates[f.path] = _Seen(f.cursor.offset, f.first_ts, max(arrays[1], default=0), arrays, list(f.groups))
        for key, c in keys.items():
            if c is None:
                del self._where[key]
            else:
                self._where[key] = c
        self._seen = {p: old for p, old in seen.items() if p in paths} | updates
        self.series.update(removed, new)
        return True


def _same_prefix(arrays: tuple[array, ...], old: tuple[array, ...]) -> int:
    """How many leading positions of a file's arrays are as they were (C-speed compares)."""
    lo, hi = 0, len(old[0])
    keys, stamps, cols, meta = old

    def same(k: int) -> bool:
        return (arrays[0][:k] == keys[:k] and arrays[1][:k] == stamps[:k] and arrays[3][:k] == meta[:k]
                and arrays[2][: k * NCOLS] == cols[: k * NCOLS])

    if same(hi):
        return hi
    while lo < hi:  # the largest k with the first k positions unchanged
        mid = (lo + hi + 1) // 2
        if same(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


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


__all__ = ["Call", "ClaudeCalls", "active_since", "claude_calls", "codex_calls"]
