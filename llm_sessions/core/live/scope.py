"""Which transcripts can belong to a running session, so `list` reads only those.

`llm-session list` shows running sessions. With a long history (100,000 transcripts) most
files cannot be the transcript of anything running, and building a session for each of them
only to throw it away was the whole cost of the command. So the monitor first asks
discovery which assistants run, and scans only the files that could be theirs:

- a file written since the oldest running assistant started (minus a slack): a live
  session writes its transcript, and discovery's weakest rule (newest transcript of the
  cwd) already requires this;
- a file whose name holds a session id that a running assistant names outright (on its
  command line, or in Claude's `sessions/<pid>.json`): a resumed session that has not
  written yet;
- for Claude, every file of a project folder that holds such a file or that is the folder
  of a running assistant's cwd: a session's totals need all of its files (subagents, and
  the older files a resume copied lines from, which own those lines), and they all live
  in that one folder.

Claude histories are the big ones and are scoped so. Codex threads span files across days
(pages, resumes, forks that subtract their parent's replay), so Codex rollouts are all read.

Usage limits are account-wide: their windows need every transcript active in the last week
(and five hours), so those are read too, but only to feed the limits, not as sessions.

No running assistant: nothing is read at all. The answer for the sessions in scope is
the same as a full scan's (the truth tests check it); only sessions that cannot be running
are left out, and `list --all` still reads everything.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from llm_sessions.core.accounting.roots import CLAUDE_DIR_MAX, encode_cwd

#: Clock skew and the time between a process starting and its first write.
SLACK_SECONDS = 60.0
#: The longest usage-limit window and the block before it (a week and five hours).
LIMITS_SECONDS = (7 * 24 + 5) * 3600.0


@dataclass(frozen=True, slots=True)
class LiveScope:
    since: float  # epoch seconds: files modified at or after this may be live
    names: frozenset[str] = frozenset()  # session ids named by running processes
    claude_dirs: frozenset[str] = frozenset()  # encoded project folder names (or prefixes)
    recent_since: float = 0.0  # epoch seconds: files modified since feed the usage-limit windows

    @classmethod
    def of(cls, procs, named: Iterable[str] = frozenset(), now: float | None = None) -> LiveScope:
        """The scope of the running assistants `procs` (ProcessInfo values)."""
        import time

        starts = [p.started_at.timestamp() for p in procs if isinstance(p.started_at, datetime)]
        since = (min(starts) if starts else 0.0) - SLACK_SECONDS
        dirs = {encode_cwd(p.cwd)[:CLAUDE_DIR_MAX] for p in procs if p.tool == "claude" and p.cwd}
        recent = (time.time() if now is None else now) - LIMITS_SECONDS - SLACK_SECONDS
        return cls(since, frozenset(n for n in named if n), frozenset(dirs), recent)

    def for_limits(self, st: os.stat_result) -> bool:
        return st.st_mtime >= self.recent_since

    def wants_file(self, name: str, st: os.stat_result) -> bool:
        """A file that may be written by, or named by, a running assistant."""
        return st.st_mtime >= self.since or any(n in name for n in self.names)

    def wants_claude_dir(self, name: str) -> bool:
        return name in self.claude_dirs or any(
            len(d) == CLAUDE_DIR_MAX and name.startswith(d) for d in self.claude_dirs
        )


__all__ = ["LIMITS_SECONDS", "LiveScope", "SLACK_SECONDS"]
