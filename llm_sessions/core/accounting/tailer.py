"""Incremental reading of append-only JSONL transcripts.

A poll must cost what was appended since the last one, not the size of the history, so each
file has a cursor: (device, inode, size, mtime, offset, content check). A read returns only
complete lines after the offset; a half-written last line stays in the file for the next
read. When the file shrinks, is replaced (another inode) or was rewritten in place (its
first bytes, or the bytes just before the offset, are no longer what we read), the cursor
says so and the caller throws away what it derived from the old contents and starts over.

The cursor never passes a line that was not folded in: it advances line by line as the
caller takes lines, so a caller that stops (an exception, an interrupt) leaves it at the
first line it did not take. Only regular files are read (see safeio), and a line longer
than `sanity.MAX_LINE_BYTES` is never held in memory: it is skipped, and `OVERSIZED`
stands in for it, so every consumer counts it as it counts any line it cannot decode.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from hashlib import blake2b
from typing import Protocol, TypeVar

import msgspec

from llm_sessions.core.accounting.sanity import MAX_LINE_BYTES
from llm_sessions.core.problems import not_a_file, unreadable_file
from llm_sessions.core.safeio import is_regular, open_binary, open_regular

CHUNK = 4 * 1024 * 1024
#: How many bytes at the head of a file, and just before the cursor, the content check hashes.
CHECK_BYTES = 4096
#: Yielded in place of a line over the size limit: not JSON, so every decoder rejects it.
OVERSIZED = b"\0line over the size limit skipped\0"


class Cursor(msgspec.Struct, kw_only=True):
    """Where reading of one file stopped. Persisted in the scan cache between runs."""

    dev: int = 0
    ino: int = 0
    size: int = 0
    mtime_ns: int = 0
    offset: int = 0
    # A hash of the file's first bytes and of the bytes just before `offset`, as they were
    # when read: a file rewritten in place (same inode, larger size) fails it.
    check: int = 0


def _content_check(fd: int, offset: int) -> int:
    """Hash of bytes [0, CHECK_BYTES) and [offset - CHECK_BYTES, offset), clipped to offset."""
    if offset <= 0:
        return 0
    h = blake2b(digest_size=8)
    h.update(os.pread(fd, min(CHECK_BYTES, offset), 0))
    if offset > CHECK_BYTES:
        start = max(CHECK_BYTES, offset - CHECK_BYTES)
        h.update(os.pread(fd, offset - start, start))
    return int.from_bytes(h.digest(), "little") >> 1  # fits a signed 64-bit msgpack int


def content_moved(cursor: Cursor, path: str | os.PathLike) -> bool:
    """True when the bytes we already read are no longer the file's (a rewrite in place).

    Costs two small reads; called only for files whose size or mtime moved.
    """
    if cursor.offset <= 0 or not cursor.check:
        return False
    try:
        fd, _st = open_regular(path)
    except OSError:
        return False  # the read that follows reports it
    try:
        return _content_check(fd, cursor.offset) != cursor.check
    finally:
        os.close(fd)


def needs_reset(cursor: Cursor, st: os.stat_result, path: str | os.PathLike | None = None) -> bool:
    """True when the file was replaced (other inode), truncated below what we read, or (with
    `path`) rewritten in place under the same inode."""
    if cursor.ino != st.st_ino or cursor.dev != st.st_dev or st.st_size < cursor.offset:
        return True
    return path is not None and content_moved(cursor, path)


def unchanged(cursor: Cursor | None, st: os.stat_result) -> bool:
    return (
        cursor is not None
        and cursor.ino == st.st_ino
        and cursor.dev == st.st_dev
        and cursor.size == st.st_size
        and cursor.mtime_ns == st.st_mtime_ns
    )


def read_lines(path: str, cursor: Cursor, st: os.stat_result, max_line: int = MAX_LINE_BYTES) -> Iterator[bytes]:
    """Yield complete lines after `cursor.offset`, advancing the cursor past each line only
    once the caller asks for the next one (or the read ends).

    Empty lines are skipped. The trailing partial line, if any, is left for the next read.
    A line longer than `max_line` is yielded as `OVERSIZED` without being kept in memory;
    if it has no end yet, the cursor stays at its start. Raises OSError (NotARegularFile for
    a FIFO, device or socket) when the file cannot be opened.
    """
    fh = open_binary(path, st)  # the open file is checked again with fstat: never a FIFO
    cursor.dev, cursor.ino = st.st_dev, st.st_ino
    cursor.size, cursor.mtime_ns = st.st_size, st.st_mtime_ns
    offset = cursor.offset  # start of the first line the caller has not taken
    try:
        fh.seek(offset)
        carry = b""
        skipping = 0  # > 0: bytes of an oversized line seen so far, not kept
        while True:
            block = fh.read(CHUNK)
            if not block:
                break
            if skipping:
                nl = block.find(b"\n")
                if nl < 0:
                    skipping += len(block)
                    continue
                yield OVERSIZED
                offset += skipping + nl + 1
                skipping = 0
                block = block[nl + 1 :]
            if carry:
                block = carry + block
            end = block.rfind(b"\n")
            if end < 0:
                carry = block
            else:
                carry = block[end + 1 :]
                for line in block[:end].split(b"\n"):
                    if line:
                        yield line if len(line) <= max_line else OVERSIZED
                    offset += len(line) + 1
            if len(carry) > max_line:
                skipping, carry = len(carry), b""
        # A file that grew while we read it: keep the real size so the next stat re-reads.
        cursor.size = max(cursor.size, offset)
    finally:
        cursor.offset = offset
        try:
            cursor.check = _content_check(fh.fileno(), offset)
        except OSError:
            cursor.check = 0
        fh.close()


def fold(path: str, cursor: Cursor, st: os.stat_result, feed: Callable[[bytes], object]) -> int:
    """Feed every new line of `path` to `feed`; return how many lines `feed` raised on.

    A line the parser chokes on (a shape nobody foresaw) costs that line, counted by the
    caller as malformed, never the rest of the file. OSError from the file itself is
    raised, as from `read_lines`.
    """
    failed = 0
    for line in read_lines(path, cursor, st):
        try:
            feed(line)
        except Exception:  # per-line isolation is the point
            failed += 1
    return failed


#: A block and the records decoded from it stay within the core's L2 cache (2 MiB here):
#: single-process parse of r1g 2.65 -> 2.48 s CPU against 1 MiB blocks (128 KiB: 2.57 s,
#: more blocks' fixed costs; 512 KiB: 2.61 s).
BLOCK = 256 * 1024
#: Block buffers of finished reads, for the next read to reuse: a cold scan reads ~2,000 files,
#: and a fresh block buffer per file is zero-filled and page-faulted in before a byte is read.
#: list.pop and list.append are atomic, so two threads reading at once never share one.
_spare: list[bytearray] = []


def _newlines(buf: bytearray, end: int) -> int:
    """Newlines in buf[:end]. A find per line (memchr) beats bytes.count, which compares
    byte by byte: four times faster on transcripts, whose lines run to kilobytes."""
    n = 0
    find = buf.find
    pos = find(b"\n", 0, end)
    while pos >= 0:
        n += 1
        pos = find(b"\n", pos + 1, end)
    return n


def read_blocks(
    path: str, cursor: Cursor, st: os.stat_result, size: int = BLOCK, max_line: int = MAX_LINE_BYTES
) -> Iterator[tuple[memoryview, int]]:
    """Yield (block, lines) for the complete lines after `cursor.offset`, a block at a time.

    The hot path of a cold scan: the caller decodes a whole block of lines in one call
    (`msgspec`'s `decode_lines`) instead of splitting it into line objects. `block` is a
    view of one reused buffer ending just after a newline, valid only until the next
    iteration; `lines` is how many newlines it holds (empty lines included). The cursor
    moves past a block when the caller asks for the next one, so a caller that stops early
    leaves it at the first block it did not finish. A half-written last line stays for the
    next read; a line longer than `size` grows the buffer, up to `max_line`: a longer line
    is skipped without being held and yielded as the one line `OVERSIZED` (if it has no end
    yet, the cursor stays at its start). Only a regular file is read (see `read_lines`).
    """
    fh = open_binary(path, st)  # the open file is checked again with fstat: never a FIFO
    cursor.dev, cursor.ino = st.st_dev, st.st_ino
    cursor.size, cursor.mtime_ns = st.st_size, st.st_mtime_ns
    try:
        buf = _spare.pop()
    except IndexError:
        buf = bytearray(size)
    first = buf if len(buf) == size else None  # the buffer handed back when the read ends
    if first is None:
        buf = bytearray(size)
    view = memoryview(buf)
    have = 0  # bytes of a line carried over from the previous read, at the front of buf
    skipping = 0  # > 0: bytes of an oversized line seen so far, not kept
    try:
        fh.seek(cursor.offset)
        while True:
            if have == len(buf):
                if have >= max_line:  # the line is too long to hold: skip to its end
                    skipping += have
                    have = 0
                else:  # one line fills the buffer: make room for the rest of it (a new
                    # buffer: the caller may still hold a view of the old one)
                    grown = bytearray(len(buf) + min(len(buf), max_line + 1 - len(buf)))
                    grown[:have] = buf
                    buf, view = grown, memoryview(grown)
            got = fh.readinto(view[have:])
            if not got:
                break
            filled = have + got
            search = have
            if skipping:
                nl = buf.find(b"\n", 0, filled)
                if nl < 0:
                    skipping += filled
                    have = 0
                    continue
                yield memoryview(OVERSIZED + b"\n"), 1
                cursor.offset += skipping + nl + 1
                skipping = 0
                filled -= nl + 1
                buf[:filled] = view[nl + 1 : nl + 1 + filled]
                search = 0
            end = buf.rfind(b"\n", search, filled) + 1
            if end == 0:
                have = filled
                continue
            yield view[:end], _newlines(buf, end)
            cursor.offset += end
            have = filled - end
            buf[:have] = view[end:filled]
        # A file that grew while we read it: keep the real size so the next stat re-reads.
        cursor.size = max(cursor.size, cursor.offset)
    finally:
        try:
            cursor.check = _content_check(fh.fileno(), cursor.offset)
        except OSError:
            cursor.check = 0
        fh.close()
        if first is not None and not _spare:
            _spare.append(first)


class Tailed(Protocol):
    """A per-file parse state: its cursor, and a way to forget what the old bytes gave."""

    cursor: Cursor

    def reset(self) -> None: ...


S = TypeVar("S", bound=Tailed)


def plan_reads(
    listing: Iterable[tuple[str, tuple]],
    states: dict[str, S],
    make: Callable[[str, tuple], S],
    problems: list,
    prune: bool = True,
) -> tuple[list[tuple[S, os.stat_result]], set[str]]:
    """Which files of `listing` have bytes to read, given the states kept from earlier scans.

    Drops the states of files that disappeared (with `prune`; a partial listing keeps the
    others), creates states for new files with `make(path, extra)`, resets states whose file
    was truncated, replaced or rewritten, skips files whose (inode, size, mtime) are
    unchanged, and never reads anything but a regular file. Returns the (state, stat) pairs
    to read and the paths that disappeared.
    """
    listing = list(listing)
    gone = set(states) - {path for path, _ in listing} if prune else set()
    for path in gone:
        del states[path]
    todo = []
    for path, extra in listing:
        state = states.get(path)
        try:
            st = os.stat(path)
        except OSError as exc:
            problems.append(unreadable_file(path, exc))
            continue
        if unchanged(state.cursor if state else None, st):
            continue
        if not is_regular(st):
            # A FIFO or a symlink to /dev/zero would hang the read or never end.
            problems.append(not_a_file(path, st))
            if state is not None:
                del states[path]
            continue
        if state is None:
            state = states[path] = make(path, extra)
        if needs_reset(state.cursor, st, path):
            state.reset()
        todo.append((state, st))
    return todo, gone
