"""What every assistant provider offers the monitor.

A provider turns one assistant's files into `Session` values. It is an object, not a
function, because it keeps state between polls (byte offsets, mtimes) so a poll costs what
changed since the last one, not the size of the history.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

import msgspec

from llm_sessions.core.models import Session
from llm_sessions.core.problems import Problem


class ScanResult(msgspec.Struct):
    sessions: list[Session] = msgspec.field(default_factory=list)
    problems: list[str | Problem] = msgspec.field(default_factory=list)  # a Problem reads as its str()
    searched: list[str] = msgspec.field(default_factory=list)


class Provider(Protocol):
    tool: str

    def roots(self) -> list[Path]:
        """Folders to watch for changes (they may not exist yet)."""

    def scan(self) -> ScanResult:
        """Every session found in the files, updated incrementally since the last call."""


def env_paths(env: Mapping[str, str]) -> dict[str, str]:
    """The subset of the environment that decides where assistants keep files (for logs)."""
    keys = ("HOME", "CLAUDE_CONFIG_DIR", "XDG_CONFIG_HOME", "CODEX_HOME", "GEMINI_DIR", "COPILOT_HOME", "CURSOR_USER_DIR")
    return {k: env[k] for k in keys if k in env}
