"""What could not be read while building a snapshot, in a form the user is told about.

A folder that cannot be listed, a transcript that cannot be opened, a FIFO where a
transcript should be, lines skipped as malformed, a provider that failed: each is one
`Problem`. The CLI prints `summary_lines()` ("3 folders could not be read: ...") under its
answer and puts `as_dict()` of each into the `problems` array of `--json`; the dashboard
shows the same summary. Nothing that hides sessions may stay only in the log.

`str(problem)` is the one-line form the log and older callers use, so a Problem can stand
wherever a plain string problem did (discovery still reports plain strings).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

import msgspec

from llm_sessions.core.safeio import describe, printable

#: kind -> (what happened to one, to several), most serious first, for the summary lines
_KINDS = {
    "scan_failed": ("assistant could not be scanned", "assistants could not be scanned"),
    "unreadable_folder": ("folder could not be read", "folders could not be read"),
    "unreadable_file": ("file could not be read", "files could not be read"),
    "not_a_file": (
        "path is not a regular file (FIFO, device or socket) and was skipped",
        "paths are not regular files (FIFO, device or socket) and were skipped",
    ),
}
_SHOWN = 3


class Problem(msgspec.Struct, frozen=True):
    kind: str  # unreadable_folder, unreadable_file, not_a_file, malformed_lines, scan_failed, other
    path: str = ""  # printable: undecodable bytes of a file name shown as \xNN
    detail: str = ""
    count: int = 0  # malformed_lines: how many lines were skipped

    def __str__(self) -> str:
        if self.kind == "unreadable_folder":
            return f"cannot list {self.path}: {self.detail}"
        if self.kind == "unreadable_file":
            return f"cannot read {self.path}: {self.detail}"
        if self.kind == "not_a_file":
            return f"{self.path}: {self.detail}; skipped"
        if self.kind == "malformed_lines":
            return f"{self.path}: {self.count} malformed line(s) skipped"
        if self.kind == "scan_failed":
            return f"{self.path}: scan failed: {self.detail}"
        return self.detail or self.path

    def as_dict(self) -> dict:
        return {"kind": self.kind, "path": self.path or None, "detail": self.detail or None, "count": self.count or None}


def unreadable_folder(path: str | os.PathLike, exc: OSError) -> Problem:
    return Problem("unreadable_folder", printable(os.fspath(path)), describe(exc))


def unreadable_file(path: str | os.PathLike, exc: OSError) -> Problem:
    from llm_sessions.core.safeio import NotARegularFile

    kind = "not_a_file" if isinstance(exc, NotARegularFile) else "unreadable_file"
    return Problem(kind, printable(os.fspath(path)), describe(exc))


def not_a_file(path: str | os.PathLike, st: os.stat_result) -> Problem:
    from llm_sessions.core.safeio import NotARegularFile

    return unreadable_file(path, NotARegularFile(path, st.st_mode))


def cannot_parse(path: str | os.PathLike, exc: BaseException) -> Problem:
    """A file whose content made the parser fail outright (a bug to report, see the log)."""
    return Problem("unreadable_file", printable(os.fspath(path)), f"cannot parse it ({type(exc).__name__}); details in the log")


def malformed_lines(path: str | os.PathLike | None, count: int) -> Problem:
    return Problem("malformed_lines", printable(os.fspath(path or "")), count=count)


def scan_failed(tool: str, exc: BaseException) -> Problem:
    return Problem("scan_failed", tool, f"{type(exc).__name__}: {exc}")


def as_problem(p: Problem | str) -> Problem:
    return p if isinstance(p, Problem) else Problem("other", detail=printable(str(p)))


def problem_dicts(problems: Iterable[Problem | str]) -> list[dict]:
    """The `problems` array of `--json`: one object per distinct problem."""
    return [as_problem(p).as_dict() for p in dict.fromkeys(problems)]


def summary_lines(problems: Iterable[Problem | str], malformed: bool = True) -> list[str]:
    """A few lines a person reads: counts per kind with the first paths, most serious first.

    `malformed=False` leaves out the count of skipped lines, which grows with a live
    session and would make a summary shown on change show again and again.
    """
    by_kind: dict[str, list[Problem]] = {}
    for p in dict.fromkeys(problems):
        p = as_problem(p)
        by_kind.setdefault(p.kind, []).append(p)
    out = []
    for kind, (one, many) in _KINDS.items():
        items = by_kind.pop(kind, [])
        if not items:
            continue
        paths = sorted({p.path for p in items})
        shown = ", ".join(paths[:_SHOWN]) + (f" and {len(paths) - _SHOWN} more" if len(paths) > _SHOWN else "")
        # one shared reason ("Permission denied") is worth saying; a mix is in the details
        reason = f" ({items[0].detail})" if len({p.detail for p in items}) == 1 and items[0].detail else ""
        out.append(f"{len(paths)} {one if len(paths) == 1 else many}{reason}: {shown}")
    bad = by_kind.pop("malformed_lines", [])
    if bad and malformed:
        lines = sum(p.count for p in bad)
        out.append(f"{lines} malformed line{'s' if lines != 1 else ''} skipped in {len(bad)} transcript{'s' if len(bad) != 1 else ''}")
    rest = sum(len(v) for v in by_kind.values())
    if rest:
        out.append(f"{rest} other problem{'s' if rest != 1 else ''}")
    return out


__all__ = [
    "Problem",
    "as_problem",
    "cannot_parse",
    "malformed_lines",
    "not_a_file",
    "problem_dicts",
    "scan_failed",
    "summary_lines",
    "unreadable_file",
    "unreadable_folder",
]
