"""Opening files found on disk without letting them hang, flood or fool us.

Everything llm-session reads was put there by someone else: a transcript folder can hold a
FIFO (opening it blocks until a writer comes), a `*.jsonl` symlink to `/dev/zero` or
`/dev/urandom` (reading never ends), a socket or a device. So a file is read only when it
is a regular file, checked twice: with `stat` before opening (devices are never opened, as
opening some has side effects), and with `fstat` on the open descriptor (the name may have
been swapped in between). The open is non-blocking, so even a FIFO slipped in at the last
moment returns at once instead of waiting for a writer.

Whole-file reads (bundles, config, price tables, Gemini's one-object sessions) are bounded
too: a file over its limit is refused with a clear error rather than read into memory.

Every refusal is an `OSError` subclass with a readable `strerror`, so the callers' existing
`except OSError` paths report it as "cannot read <path>: <reason>" and go on.
"""

from __future__ import annotations

import errno
import os
import stat

_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class NotARegularFile(OSError):
    """The path names a FIFO, device, socket or folder (possibly behind a symlink)."""

    def __init__(self, path: str | os.PathLike, mode: int) -> None:
        kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
        super().__init__(errno.EINVAL, f"not a regular file ({kind})", os.fspath(path))


class FileTooLarge(OSError):
    """A whole-file read would exceed its limit."""

    def __init__(self, path: str | os.PathLike, size: int, limit: int) -> None:
        super().__init__(errno.EFBIG, f"too large ({size:,} bytes; the limit is {limit:,})", os.fspath(path))
        self.size, self.limit = size, limit


def is_regular(st: os.stat_result) -> bool:
    return stat.S_ISREG(st.st_mode)


def check_regular(path: str | os.PathLike, st: os.stat_result) -> os.stat_result:
    """`st` if it describes a regular file; NotARegularFile otherwise."""
    if not stat.S_ISREG(st.st_mode):
        raise NotARegularFile(path, st.st_mode)
    return st


def open_regular(path: str | os.PathLike, st: os.stat_result | None = None) -> tuple[int, os.stat_result]:
    """(fd, fstat) of a regular file opened read-only; the caller closes the fd.

    Raises FileNotFoundError, PermissionError ... as `open` does, and NotARegularFile for
    anything else than a regular file, also behind symlinks. Never blocks. `st`: a stat the
    caller just took (and checked), which saves the stat before opening.
    """
    check_regular(path, os.stat(path) if st is None else st)
    fd = os.open(path, _FLAGS)
    try:
        st = check_regular(path, os.fstat(fd))
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def open_binary(path: str | os.PathLike, st: os.stat_result | None = None):
    """A binary file object over `open_regular` (a drop-in for `open(path, "rb")`)."""
    fd, _ = open_regular(path, st)
    return os.fdopen(fd, "rb")


def read_regular(path: str | os.PathLike, max_bytes: int) -> bytes:
    """The whole content of a regular file of at most `max_bytes` bytes.

    The limit is checked on the size before reading and again on what was read (the file
    may grow meanwhile), so memory use is bounded whatever the file does.
    """
    return read_regular_stat(path, max_bytes)[0]


def read_regular_stat(path: str | os.PathLike, max_bytes: int) -> tuple[bytes, os.stat_result]:
    """`read_regular`, with the fstat of the file read (which file a path named then)."""
    fd, st = open_regular(path)
    with os.fdopen(fd, "rb") as fh:
        if st.st_size > max_bytes:
            raise FileTooLarge(path, st.st_size, max_bytes)
        data = fh.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise FileTooLarge(path, len(data), max_bytes)
    return data, st


def describe(exc: OSError) -> str:
    """The reason part of an OSError, as a user reads it ("Permission denied")."""
    return exc.strerror or str(exc)


def printable(text: str) -> str:
    """`text` with the bytes a non-UTF-8 file name carried shown as `\\xNN`, as `ls -b` does.

    Python hands such names over with each undecodable byte as a lone surrogate
    (surrogateescape); they open fine, but cannot be printed, encoded as JSON or UTF-8, or
    stored. This is for showing and storing names; open files by the original string.
    """
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a lone surrogate that did not come from a byte
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return raw.decode("utf-8", "backslashreplace")


def printable_tree(value):
    """`value` (JSON-like: dicts, lists, strings) with every string made `printable`."""
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, dict):
        return {printable_tree(k): printable_tree(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [printable_tree(v) for v in value]
    return value


__all__ = [
    "FileTooLarge",
    "NotARegularFile",
    "check_regular",
    "describe",
    "is_regular",
    "open_binary",
    "open_regular",
    "printable",
    "printable_tree",
    "read_regular",
]
