"""Session ids as people see and type them: short labels for tables, and lookup by prefix.

Transcript sessions are named by their UUID (or the tool's own id); a running assistant that
has not written a transcript yet has only its process, so the monitor names it
`<tool>-pid<pid>`. Tables show the shortest unique prefix of a UUID (at least 8 characters),
and `pid 17436` for a process-only session: cutting `claude-pid17436` to 8 characters would
read as another number (`claude-p`, or `claude-pid1`), so those labels are never cut.

The CLI and the dashboard both label rows with `display_ids`, so an id read in one can be
typed into the other; `find_session` (core.accounting.report) accepts every label this module makes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from llm_sessions.core.models import Session

MIN_PREFIX = 8
_PID_ID = re.compile(r"^(?P<tool>[a-z]+)-pid(?P<pid>\d+)$")
_PID_QUERY = re.compile(r"^pid[\s:-]*(?P<pid>\d+)$", re.IGNORECASE)


def pid_session_id(tool: str, pid: int) -> str:
    """The id of a running assistant that has no transcript yet."""
    return f"{tool}-pid{pid}"


def pid_of(session_id: str) -> int | None:
    """The pid a process-only id names, else None (`claude-pid17436` -> 17436)."""
    m = _PID_ID.match(session_id)
    return int(m.group("pid")) if m else None


def pid_query(text: str) -> int | None:
    """The pid in a typed `pid 17436` / `pid17436` / `pid:17436`, else None."""
    m = _PID_QUERY.match(text.strip())
    return int(m.group("pid")) if m else None


def unique_prefixes(ids: Sequence[str], width: int = MIN_PREFIX) -> dict[str, str]:
    """The shortest prefix of each id, at least `width` long, that no other id shares.

    Session ids are usually UUIDs whose first 8 characters differ, but two sessions forked
    from one, or ids made by another tool, can share a prefix; a table must never show two
    rows with the same id. Sorting makes this O(n log n): an id can only share a prefix with
    its neighbours in sorted order.
    """
    order = sorted(set(ids))
    out: dict[str, str] = {}
    for i, sid in enumerate(order):
        need = min(width, len(sid))
        for j in (i - 1, i + 1):
            if 0 <= j < len(order):
                other = order[j]
                common = 0
                for a, b in zip(sid, other, strict=False):  # the common prefix of two lengths
                    if a != b:
                        break
                    common += 1
                need = max(need, min(len(sid), common + 1))
        out[sid] = sid[:need]
    return out


def display_ids(sessions: Iterable[Session], width: int = MIN_PREFIX) -> dict[str, str]:
    """Session id -> the label a table shows: `pid N` for process-only rows, else a unique prefix."""
    sessions = list(sessions)
    prefixes = unique_prefixes([s.id for s in sessions if pid_of(s.id) is None], width)
    out: dict[str, str] = {}
    for s in sessions:
        pid = pid_of(s.id)
        out[s.id] = f"pid {pid}" if pid is not None else prefixes[s.id]
    return out


__all__ = ["MIN_PREFIX", "display_ids", "pid_of", "pid_query", "pid_session_id", "unique_prefixes"]
