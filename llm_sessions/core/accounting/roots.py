"""Where each assistant keeps its files, from the environment alone.

Every function takes the environment as a mapping so tests (and the demo) can point the
whole tool at a temporary home without touching the real one.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Mapping
from pathlib import Path

_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]")
CLAUDE_DIR_MAX = 200


def _home(env: Mapping[str, str]) -> Path:
    return Path(env.get("HOME") or os.path.expanduser("~"))


def claude_roots(env: Mapping[str, str]) -> list[Path]:
    """`$CLAUDE_CONFIG_DIR` (comma-separated, replaces the defaults) or both default roots."""
    configured = env.get("CLAUDE_CONFIG_DIR", "").strip()
    if configured:
        return [Path(p.strip()).expanduser() for p in configured.split(",") if p.strip()]
    xdg = env.get("XDG_CONFIG_HOME") or str(_home(env) / ".config")
    return [_home(env) / ".claude", Path(xdg) / "claude"]


def encode_cwd(cwd: str) -> str:
    """Claude's project folder name for a cwd: every non-alphanumeric character becomes '-'.

    Names past 200 characters are cut and get a build-specific hash suffix, so callers must
    match long names by the 200-character prefix (see `claude_project_dirs`).
    """
    return _NOT_ALNUM.sub("-", cwd)


def claude_project_dirs(root: Path, cwd: str) -> list[Path]:
    """The project folders under `root/projects` that may hold transcripts of `cwd`."""
    projects = root / "projects"
    name = encode_cwd(cwd)
    if len(name) <= CLAUDE_DIR_MAX:
        exact = projects / name
        return [exact] if exact.is_dir() else []
    prefix = name[:CLAUDE_DIR_MAX]
    try:
        return sorted(p for p in projects.iterdir() if p.name.startswith(prefix) and p.is_dir())
    except OSError:
        return []


def codex_home(env: Mapping[str, str]) -> Path:
    return Path(env.get("CODEX_HOME") or _home(env) / ".codex").expanduser()


def gemini_dir(env: Mapping[str, str]) -> Path:
    return Path(env.get("GEMINI_DIR") or _home(env) / ".gemini").expanduser()


def copilot_dir(env: Mapping[str, str]) -> Path:
    return Path(env.get("COPILOT_HOME") or _home(env) / ".copilot").expanduser()


def cursor_user_dir(env: Mapping[str, str]) -> Path:
    if env.get("CURSOR_USER_DIR"):
        return Path(env["CURSOR_USER_DIR"]).expanduser()
    if sys.platform == "darwin":
        return _home(env) / "Library" / "Application Support" / "Cursor" / "User"
    xdg = env.get("XDG_CONFIG_HOME") or str(_home(env) / ".config")
    return Path(xdg) / "Cursor" / "User"


def existing_dir(path: str | os.PathLike, problems: list) -> bool:
    """True for a folder to scan. A missing one is simply absent, but one that exists and
    cannot be looked at (permissions) is reported in `problems`, never silently skipped."""
    from llm_sessions.core.problems import unreadable_folder

    try:
        return stat.S_ISDIR(os.stat(path).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as exc:
        problems.append(unreadable_folder(path, exc))
        return False
