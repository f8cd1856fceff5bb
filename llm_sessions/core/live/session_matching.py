"""The weaker clues that tie a process to a session, used once strong evidence is spent.

Discovery first takes what a process names outright (Claude's session file, an id on the
command line). What is left is decided here, in order of trust: a transcript the process
holds open, then the newest unclaimed transcript of its cwd that is not older than the
process, and for an app hosting many sessions (Cursor) every session active since it
started. Where the clue cannot tell processes apart, the match says `ambiguous` rather
than guessing silently. Pure functions over the per-pid records, so they read as rules.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from llm_sessions.core.live.claude_evidence import START_SLACK_SECONDS
from llm_sessions.core.live.proc_table import Proc
from llm_sessions.core.live.recognise import Rule
from llm_sessions.core.models import Session

#: session id -> (the process group serving it, why, whether it is a guess among equals)
Claims = dict[str, tuple[list[Proc], str, bool]]


def epoch(dt: datetime | None) -> float | None:
    return dt.timestamp() if dt is not None else None


def real_path(path: str | None, cache: dict[str, str]) -> str | None:
    """`os.path.realpath`, remembered in `cache` (the same few paths recur every poll).

    A path's folder is resolved once for all its siblings: `realpath` checks every component
    of every path (a dozen `lstat` calls in Python each, 40-50 us a transcript, all of a
    warm `list` with assistants running), while a file that is not itself a symlink needs
    one `lstat` and its folder's real path, the same answer.
    """
    if not path:
        return None
    hit = cache.get(path)
    if hit is None:
        folder, name = os.path.split(path)
        hit = None
        if folder and folder != path and name not in ("", ".", "..") and os.path.isabs(path):
            try:
                if not stat.S_ISLNK(os.lstat(path).st_mode):
                    hit = os.path.join(real_path(folder, cache) or folder, name)
            except OSError:
                pass  # gone or unreadable: realpath says what it can
        if hit is None:
            hit = os.path.realpath(path)
        cache[path] = hit
    return hit


class Transcripts:
    """Sessions by the real path of their transcript, resolved only as far as a lookup needs.

    A process's open files are real paths, and a transcript's listed path is real unless a
    folder on its way (or the file itself) is a symlink. So a lookup tries the listed path
    first; only an open file named like some transcript but not found under its listed path
    (a config folder reached through a symlink) makes every transcript resolved, once.
    Resolving all of them up front cost a `list` with one assistant running 100,000
    `lstat` calls over 100,000 transcripts.
    """

    def __init__(self, sessions: Sequence[Session], real: dict[str, str]) -> None:
        self._sessions = sessions
        self._real = real
        self._listed: dict[str, Session] | None = None
        self._names: set[str] | None = None
        self._resolved: dict[str, Session] | None = None

    def get(self, path: str) -> Session | None:
        if self._listed is None:
            self._listed = {s.transcript: s for s in self._sessions if s.transcript}
        hit = self._listed.get(path)
        if hit is not None and real_path(path, self._real) == path:
            return hit
        if self._resolved is None:
            if self._names is None:
                self._names = {os.path.basename(p) for p in self._listed}
            if os.path.basename(path) not in self._names:
                return None
            self._resolved = {}
            for s in self._sessions:
                real = real_path(s.transcript, self._real)
                if real:
                    self._resolved[real] = s
        return self._resolved.get(path)


def open_file_evidence(
    members: list[Proc], transcripts: Transcripts | Mapping[str, Session], claimed: Mapping
) -> tuple[str, str] | None:
    """The newest unclaimed transcript (by real path) any process of the group holds open."""
    held = [s for m in members for p in m.open_files if (s := transcripts.get(p)) is not None]
    held = [s for s in held if s.id not in claimed]
    if not held:
        return None
    best = max(held, key=lambda s: epoch(s.last_activity) or 0.0)
    return best.id, f"holds {best.transcript} open"


def cwd_related(
    rule: Rule | None,
    cwd: str,
    session: Session,
    transcript_dir: str | None,
    project_dirs: tuple[str, ...],
    real: dict[str, str],
) -> bool:
    """Whether a session belongs to a process's cwd: a Claude transcript listed in the cwd's
    project folder (`transcript_dir` and `project_dirs` are real paths of folders, so a
    poll resolves each folder once, not each transcript), the same cwd, or (for tools whose
    rule says so) an ancestor cwd."""
    if session.tool == "claude" and transcript_dir and project_dirs:
        if transcript_dir in project_dirs:
            return True
    scwd = real_path(session.cwd, real)
    if not scwd:
        return False
    if scwd == cwd:
        return True
    return bool(rule and rule.cwd_match == "ancestor" and cwd.startswith(scwd.rstrip("/") + "/"))


def match_by_cwd(
    pending: list[list[Proc]],
    sessions: Sequence[Session],
    claimed: Claims,
    rules_by_tool: Mapping[str, Rule],
    claude_dirs: Callable[[str], tuple[str, ...]],
    real: dict[str, str],
) -> dict[int, str]:
    """The weakest clue: the newest unclaimed transcript of the process's cwd that is
    not older than the process. Processes sharing a (tool, cwd) are all flagged.
    Adds to `claimed`; returns why each process left without a session got none."""
    notes: dict[int, str] = {}
    buckets: dict[tuple[str, str], list[list[Proc]]] = {}
    for members in pending:
        cwd = next((m.cwd for m in members if m.cwd), None)
        if cwd is None:
            notes[members[0].pid] = "cwd unreadable: no transcript can be tied to it"
            continue
        buckets.setdefault((members[0].tool, cwd), []).append(members)
    for (tool, cwd), procs in buckets.items():
        rule = rules_by_tool.get(tool)
        # Once per cwd, not per session: a cwd without a project folder is looked up again
        # on every call (three stats), and a history of 760 sessions times 20 running
        # assistants made that 46,000 stats, a second of a `list`.
        dirs = claude_dirs(cwd) if tool == "claude" else ()
        candidates = [
            s
            for s in sessions
            if s.tool == tool
            and s.id not in claimed
            and cwd_related(rule, cwd, s, real_path(os.path.dirname(s.transcript), real) if dirs and s.transcript else None, dirs, real)
        ]
        candidates.sort(key=lambda s: epoch(s.last_activity) or 0.0, reverse=True)
        procs.sort(key=lambda ms: ms[0].created, reverse=True)
        ambiguous = len(procs) > 1
        for members in procs:
            started = members[0].created - START_SLACK_SECONDS
            pick = next(
                (
                    s
                    for s in candidates
                    if s.id not in claimed and (s.last_activity is None or s.last_activity.timestamp() >= started)
                ),
                None,
            )
            if ambiguous:
                why = f"ambiguous: {len(procs)} {tool} processes share cwd {cwd}; guessed newest process -> newest transcript"
            else:
                why = f"cwd {cwd} -> newest transcript"
            if pick is None:
                notes[members[0].pid] = (
                    f"ambiguous: {len(procs)} {tool} processes share cwd {cwd}; no transcript yet"
                    if ambiguous
                    else "no transcript yet"
                )
                continue
            claimed[pick.id] = (members, why, ambiguous)
    return notes


def match_shared(shared: list[list[Proc]], sessions: Sequence[Session], claimed: Claims) -> None:
    """An app process hosting many sessions (Cursor) serves every session of its tool
    active since it started. Two app processes of one tool cannot be told apart."""
    by_tool: dict[str, list[list[Proc]]] = {}
    for members in shared:
        by_tool.setdefault(members[0].tool, []).append(members)
    for tool, apps in by_tool.items():
        apps.sort(key=lambda ms: ms[0].created)
        ambiguous = len(apps) > 1
        app = apps[-1]
        started = app[0].created - START_SLACK_SECONDS
        why = (
            f"ambiguous: {len(apps)} {tool} app processes; chose the newest"
            if ambiguous
            else f"{tool} app process; session active since it started"
        )
        for s in sessions:
            if s.tool == tool and s.id not in claimed and (s.last_activity is None or s.last_activity.timestamp() >= started):
                claimed[s.id] = (app, why, ambiguous)
