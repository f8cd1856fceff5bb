"""The small file the status line writes and the limits read: `<data dir>/statusline.json`.

Claude Code hands its status-line command the account's rate limits on every update; that
is the only exact source for Claude's 5-hour and weekly windows, and it reaches us in a
process that lives for a few milliseconds. So each call folds what it learned into this
file: every window's latest used % and reset time with the instant it was seen (plus a few
recent readings, for the burn rate), and per session its pid, transcript and context.

Several sessions run their status lines at once, so a call takes an exclusive lock for its
read-modify-write, and writes a temporary file renamed into place: a reader never sees half
a file and a crash never leaves one. A lock that cannot be had within a moment is skipped
rather than waited for: losing one reading is better than a frozen status bar.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import msgspec

NAME = "statusline.json"
FORMAT = 1
SAMPLES_KEEP = 120
SAMPLE_HORIZON_S = 3 * 3600  # readings older than this say nothing about the last 30 min
SAMPLE_EVERY_S = 60  # an unchanged reading is kept at most once a minute
SESSION_TTL_S = 7 * 24 * 3600
SESSIONS_KEEP = 200
LOCK_WAIT_S = 0.2


def path_in(data_dir: Path) -> Path:
    return Path(data_dir) / NAME


def load(path: Path) -> dict[str, Any]:
    """The state, or an empty one for a missing, unreadable or foreign file (never raises)."""
    try:
        data = msgspec.json.decode(path.read_bytes())
    except (OSError, msgspec.DecodeError):
        return _empty()
    if not isinstance(data, dict) or data.get("v") != FORMAT:
        return _empty()
    for key in ("windows", "sessions"):
        if not isinstance(data.get(key), dict):
            data[key] = {}
    return data


def _empty() -> dict[str, Any]:
    return {"v": FORMAT, "windows": {}, "sessions": {}}


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on `<path>.lock`, given up after LOCK_WAIT_S (then unlocked)."""
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; the rename still keeps the file whole
        yield
        return
    fd = os.open(str(path) + ".lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        deadline = time.monotonic() + LOCK_WAIT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.005)
        yield
    finally:
        os.close(fd)  # closing drops the lock


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to a temporary file beside `path` and rename it into place.

    The temporary name is made from the pid rather than by `tempfile`, whose import alone
    costs the status line a few milliseconds; one process writes one file at a time.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def fold_window(old: Mapping[str, Any] | None, pct: float, resets_at: int | None, now: float) -> dict[str, Any]:
    """A window's entry after one reading: latest figure, plus the readings that show its
    trend (a new reset time starts a new window, so older readings are dropped)."""
    samples: list = list(old.get("samples", [])) if old and old.get("resets_at") == resets_at else []
    samples = [s for s in samples if isinstance(s, list) and len(s) == 2 and now - s[0] <= SAMPLE_HORIZON_S]
    if not samples or samples[-1][1] != pct or now - samples[-1][0] >= SAMPLE_EVERY_S:
        samples.append([round(now, 3), pct])
    else:
        samples[-1] = [samples[-1][0], pct]
    return {"pct": pct, "resets_at": resets_at, "seen": round(now, 3), "samples": samples[-SAMPLES_KEEP:]}


def record(
    path: Path,
    *,
    now: float,
    windows: Mapping[str, tuple[float, int | None]],
    session_id: str | None,
    session: Mapping[str, Any],
) -> dict[str, Any]:
    """Fold one status-line call into the file: `windows` maps a window kind to (used %,
    reset epoch s); `session` is what is known about the calling session. Returns the new
    state. Raises OSError only when the folder cannot be written (the caller shrugs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with _locked(path):
        data = load(path)
        for kind, (pct, resets_at) in windows.items():
            data["windows"][kind] = fold_window(data["windows"].get(kind), pct, resets_at, now)
        sessions = data["sessions"]
        if session_id:
            sessions[session_id] = {**session, "seen": round(now, 3)}
        stale = [k for k, v in sessions.items() if not isinstance(v, dict) or now - float(v.get("seen") or 0) > SESSION_TTL_S]
        for k in stale:
            del sessions[k]
        if len(sessions) > SESSIONS_KEEP:
            keep = sorted(sessions, key=lambda k: sessions[k].get("seen") or 0)[-SESSIONS_KEEP:]
            data["sessions"] = {k: sessions[k] for k in keep}
        write_atomic(path, msgspec.json.encode(data))
    return data


__all__ = ["FORMAT", "NAME", "fold_window", "load", "path_in", "record", "write_atomic"]
