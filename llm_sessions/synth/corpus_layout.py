"""Where a corpus puts each assistant's files, and the sink that writes them.

Layout under `root` (every path in truth.json is relative to `root`):

    home/.claude/projects/<encoded cwd>/<sessionId>.jsonl        default Claude root
    home/.claude/projects/<encoded cwd>/<sessionId>/subagents/agent-<id>.jsonl
    home/.claude/projects/<encoded cwd>/agent-<id>.jsonl         legacy flat subagents
    home/.config/claude/projects/...                             second default root
    claude-extra/projects/...                                    only via CLAUDE_CONFIG_DIR
    home/.codex/sessions/YYYY/MM/DD/rollout-<ts>-<uuid>.jsonl
    home/.codex/archived_sessions/rollout-<ts>-<uuid>.jsonl
    home/.gemini/tmp/<project>/chats/session-*.jsonl (+ <parent id>/ subagents, a legacy .json)
    home/.copilot/session-state/<uuid>/events.jsonl
    work/<repo>/.aider.chat.history.md   (a repo a Claude session worked in)
    aider-repos/<repo>/.aider.chat.history.md   (found through LLM_SESSION_AIDER_PATHS)
    truth.json

To see every Claude session, set HOME=root/home and
CLAUDE_CONFIG_DIR=root/home/.claude,root/home/.config/claude,root/claude-extra (truth.json
"env" has these, relative to root). Without CLAUDE_CONFIG_DIR the extra root is invisible,
which is correct behaviour, not a miss. truth.json "settings_env" names the Aider folders
(absolute: Aider has no central folder, so its repositories are real paths of the corpus).
"""

from __future__ import annotations

import os
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from llm_sessions.core.accounting.roots import CLAUDE_DIR_MAX, encode_cwd

CLAUDE_HOME = "home/.claude"
CLAUDE_XDG = "home/.config/claude"
CLAUDE_EXTRA = "claude-extra"
CODEX_HOME = "home/.codex"
GEMINI_HOME = "home/.gemini"
COPILOT_HOME = "home/.copilot"
AIDER_REPOS = "aider-repos"
EPOCH = datetime(2026, 1, 5, 8, 0, 0, tzinfo=UTC)

def claude_project_dir(cwd: str) -> str:
    """Claude's folder name for a cwd, including the cut + hash suffix past 200 characters.

    The real suffix differs between builds; any stable hash exercises the same reader logic
    (match by the 200-character prefix, read `cwd` from the records).
    """
    name = encode_cwd(cwd)
    if len(name) <= CLAUDE_DIR_MAX:
        return name
    return name[:CLAUDE_DIR_MAX] + "-" + _base36(zlib.crc32(cwd.encode()))


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if not n:
            return out


class FileSink:
    """Appends lines to files under one tool root, keeping the session's files open.

    Counts bytes and lines so the builder can stop at a target size without stat calls.
    """

    def __init__(self, base: Path) -> None:
        self.base = base
        self.handles: dict[str, BinaryIO] = {}
        self.bytes = 0
        self.lines = 0

    def __call__(self, rel: str, line: bytes, complete: bool = True) -> None:
        f = self.handles.get(rel)
        if f is None:
            path = self.base / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            f = self.handles[rel] = open(path, "ab", buffering=1 << 20)
        data = line + b"\n" if complete else line
        f.write(data)
        self.bytes += len(data)
        self.lines += 1

    def close(self, mtime: datetime | None) -> list[str]:
        """Close this session's files, stamping their mtime with the session's last activity."""
        names = list(self.handles)
        for rel, f in self.handles.items():
            f.close()
            if mtime is not None:
                ts = mtime.timestamp()
                os.utime(self.base / rel, (ts, ts))
        self.handles.clear()
        return names
