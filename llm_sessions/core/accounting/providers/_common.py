"""Small pieces the Gemini, Aider, Cursor and Copilot providers share.

`LineTail` is why a poll costs what was appended, not the size of the history: it keeps a
byte offset per file, hands back only complete new lines (a half-written last line waits
for the next poll) and starts over when the file shrank or was replaced.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from llm_sessions.core.accounting.sanity import decode_record
from llm_sessions.core.accounting.tailer import Cursor, needs_reset, read_lines
from llm_sessions.core.problems import Problem, cannot_parse, not_a_file, unreadable_file
from llm_sessions.core.safeio import is_regular
from llm_sessions.core.timeparse import parse_ts

log = logging.getLogger(__name__)

#: Looks up a model's context window; the monitor passes the pricing table's lookup.
WindowLookup = Callable[[str | None], int | None]

def stat_key(path: Path | str) -> tuple[int, int, int] | None:
    """(inode, size, mtime_ns): what must change for a file to need another look; None for
    a file that is missing or not a regular file (a FIFO would hang whoever opens it)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns) if is_regular(st) else None


class LineTail:
    """Complete lines appended to one file since the last call (a `tailer.Cursor` per file)."""

    __slots__ = ("path", "cursor")

    def __init__(self, path: Path) -> None:
        self.path = path
        self.cursor: Cursor | None = None

    def read(self, key: tuple[int, int, int]) -> tuple[list[bytes], bool]:
        """(new complete lines, restarted). `restarted` means the file was truncated or
        replaced and the caller must drop what it built from earlier lines."""
        st = os.stat(self.path)
        restarted = self.cursor is not None and needs_reset(self.cursor, st, self.path)
        if self.cursor is None or restarted:
            self.cursor = Cursor()
        return [line for line in read_lines(str(self.path), self.cursor, st) if line.strip()], restarted


def refresh(path: Path, state: Any, read: Callable[[Path, Any, tuple[int, int, int]], None], problems: list[str | Problem]) -> bool:
    """Hand a file to `read` only when its (inode, size, mtime) moved since `state.key`.

    True when `state` was updated (the caller rebuilds its Session); a file that cannot be
    read is one line in `problems`, and is tried again next poll.
    """
    try:
        st = os.stat(path)
    except OSError:
        return False  # gone since it was listed
    key = (st.st_ino, st.st_size, st.st_mtime_ns)
    if key == state.key:
        return False
    if not is_regular(st):
        problems.append(not_a_file(path, st))
        return False
    try:
        read(path, state, key)
    except OSError as exc:
        problems.append(unreadable_file(path, exc))
        return False
    state.key = key
    return True


def collect(paths, states: dict, make: Callable[[], Any], read, build, result) -> None:
    """One file = one session: refresh each path's state, rebuild its Session when the file
    changed, add it to `result`, and forget the states of files that are gone."""
    seen: set[str] = set()
    for path in paths:
        name = str(path)
        seen.add(name)
        state = states.setdefault(name, make())
        try:
            if refresh(path, state, read, result.problems):
                state.session = build(path, state)
        except Exception as exc:  # one file's surprise must not hide the others
            log.exception("cannot parse %s", name)
            result.problems.append(cannot_parse(path, exc))
            states[name] = make()
            continue
        if state.session is not None:
            result.sessions.append(state.session)
    for gone in states.keys() - seen:
        del states[gone]


def loads(line: bytes | str) -> Any:
    """A decoded record, or None for a line that is not JSON or fails the shared sanity
    checks (depth, integer range, token counts; see core.accounting.sanity): callers count and skip."""
    return decode_record(line)


parse_time = parse_ts


def mtime(path: Path | str) -> datetime | None:
    try:
        return datetime.fromtimestamp(os.stat(path).st_mtime, UTC)
    except OSError:
        return None


def as_int(value: Any) -> int:
    """A token count from JSON: ints and integral floats; anything else is 0."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(0, value)
    if isinstance(value, float) and value.is_integer():
        return max(0, int(value))
    return 0
