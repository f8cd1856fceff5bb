"""Small pieces the Gemini, Aider, Cursor and Copilot providers share.

`LineTail` is why a poll costs what was appended, not the size of the history: it keeps a
byte offset per file, hands back only complete new lines (a half-written last line waits
for the next poll) and starts over when the file shrank or was replaced.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

#: Looks up a model's context window; the monitor passes the pricing table's lookup.
WindowLookup = Callable[[str | None], int | None]

MAX_LINE_BYTES = 16 * 1024 * 1024


def stat_key(path: Path | str) -> tuple[int, int, int] | None:
    """(inode, size, mtime_ns): what must change for a file to need another look."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_ino, st.st_size, st.st_mtime_ns)


class LineTail:
    """Complete lines appended to one file since the last call."""

    __slots__ = ("path", "offset", "inode", "pending")

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.inode: int | None = None
        self.pending = b""

    def read(self, key: tuple[int, int, int]) -> tuple[list[bytes], bool]:
        """(new complete lines, restarted). `restarted` means the file was truncated or
        replaced and the caller must drop what it built from earlier lines."""
        inode, size, _ = key
        restarted = False
        if self.inode is not None and (inode != self.inode or size < self.offset):
            self.offset, self.pending, restarted = 0, b"", True
        self.inode = inode
        if size == self.offset:
            return [], restarted
        with open(self.path, "rb") as fh:
            fh.seek(self.offset)
            chunk = fh.read(size - self.offset)
        self.offset += len(chunk)
        data = self.pending + chunk
        lines = data.split(b"\n")
        self.pending = lines.pop()
        if len(self.pending) > MAX_LINE_BYTES:  # never buffer an unbounded "line"
            self.pending = b""
        return [line for line in lines if line.strip()], restarted


def refresh(path: Path, state: Any, read: Callable[[Path, Any, tuple[int, int, int]], None], problems: list[str]) -> bool:
    """Hand a file to `read` only when its (inode, size, mtime) moved since `state.key`.

    True when `state` was updated (the caller rebuilds its Session); a file that cannot be
    read is one line in `problems`, and is tried again next poll.
    """
    key = stat_key(path)
    if key is None or key == state.key:
        return False
    try:
        read(path, state, key)
    except OSError as exc:
        problems.append(f"{path}: cannot read: {exc}")
        return False
    state.key = key
    return True


def loads(line: bytes | str) -> Any:
    """json.loads that answers None instead of raising: callers count and skip."""
    try:
        return json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return None


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 (with `Z`) or epoch seconds/milliseconds -> aware UTC datetime."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = value / 1000 if value > 1e11 else value
        try:
            return datetime.fromtimestamp(seconds, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if isinstance(value, str) and value:
        text = value.strip().replace("Z", "+00:00")
        try:
            dt = datetime.fromisoformat(text)
        except ValueError:
            return None
        return dt if dt.tzinfo else dt.replace(tzinfo=UTC)
    return None


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
