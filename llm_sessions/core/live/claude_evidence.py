"""What Claude Code's own files say about a running process, cached between polls.

Claude writes `<root>/sessions/<pid>.json` naming the session a process serves (the
strongest evidence discovery has), and files a cwd's transcripts under a project folder
named after the cwd. Both are read here, with the checks that keep a stale file left by a
crashed process (whose pid was reused) from naming the wrong session.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from llm_sessions.core.accounting.providers._common import parse_time
from llm_sessions.core.accounting.roots import claude_project_dirs
from llm_sessions.core.accounting.sanity import MAX_SIDE_FILE_BYTES, decode_record
from llm_sessions.core.live.proc_table import Proc
from llm_sessions.core.safeio import read_regular

#: A transcript or session file whose time is older than the process (minus clock slack)
#: cannot have been written by it.
START_SLACK_SECONDS = 5.0


class ClaudeEvidence:
    """Claude's per-pid session files and per-cwd project folders under `roots`."""

    def __init__(self, roots: Sequence[Path], *, linux: bool) -> None:
        """`linux`: whether process start keys are kernel start ticks (comparable with `procStart`)."""
        self.roots = tuple(roots)
        self.linux = linux
        self._session_dirs = tuple(os.path.join(root, "sessions") for root in self.roots)  # joined once, not per poll
        self._files: dict[str, tuple[tuple[int, int, float], str | None, str | None]] = {}
        self._cwd_dirs: dict[str, tuple[str, ...]] = {}

    def session_file(self, proc: Proc) -> tuple[str, str, str | None] | None:
        """(sessionId, file, status) from `<root>/sessions/<pid>.json`, re-read only when it changed.

        A file left behind by a crashed process whose pid was reused names the wrong
        session. Newer builds write `procStart` (on Linux field 22 of /proc/<pid>/stat, the
        process's start in clock ticks): the file is trusted only when it equals this
        process's. Files without it fall back to `startedAt`: one clearly before this process
        started is ignored. `status` (idle, busy, shell) comes from a trusted file only.
        """
        pid, created = proc.pid, proc.created
        for folder in self._session_dirs:
            path = os.path.join(folder, f"{pid}.json")
            try:
                st = os.stat(path)
            except OSError:
                self._files.pop(path, None)
                continue
            key = (st.st_mtime_ns, st.st_size, created)
            cached = self._files.get(path)
            if cached is None or cached[0] != key:
                sid = status = None
                try:
                    # a FIFO named <pid>.json must not hang discovery; see core.safeio
                    data = decode_record(read_regular(path, MAX_SIDE_FILE_BYTES))
                    if isinstance(data, dict) and isinstance(data.get("sessionId"), str) and data.get("pid") in (None, pid):
                        if self._same_process(data, proc):
                            sid = data["sessionId"]
                            status = data["status"] if data.get("status") in ("idle", "busy", "shell") else None
                except (OSError, ValueError):
                    sid = None
                cached = self._files[path] = (key, sid, status)
            if cached[1]:
                return cached[1], path, cached[2]
        return None

    def _same_process(self, data: Mapping, proc: Proc) -> bool:
        """Whether a session file was written by this very process (not an earlier holder of the pid)."""
        ps = data.get("procStart")
        if ps is not None and self.linux:
            try:
                return int(str(ps)) == int(proc.start)
            except ValueError:
                return False
        started = parse_time(data.get("startedAt") or None)  # epoch s/ms or ISO
        return started is None or started.timestamp() >= proc.created - START_SLACK_SECONDS

    def project_dirs(self, cwd: str) -> tuple[str, ...]:
        """Real paths of the Claude project folders of a cwd; only hits are cached, the
        folder appears when the first transcript is written."""
        hit = self._cwd_dirs.get(cwd)
        if hit:
            return hit
        dirs = tuple(os.path.realpath(d) for root in self.roots for d in claude_project_dirs(root, cwd))
        if dirs:
            self._cwd_dirs[cwd] = dirs
        return dirs
