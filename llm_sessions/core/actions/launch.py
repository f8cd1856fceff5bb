"""Starting an assistant in a folder: the argv tmux runs and the line a user would type.

Shared by restart (a fresh or resumed session after an export) and `import --launch`. The
brief reaches the assistant through a file that a fixed script reads, after `--`, so it is
always a prompt and never an option, and no text from it is ever parsed as shell code.
Folders and ids with control characters are refused (core.actions.targets), never escaped.
"""

from __future__ import annotations

import shlex
from pathlib import Path

from llm_sessions.core.actions.targets import TargetError, safe_id, safe_path
from llm_sessions.core.inert import inert

LAUNCHERS = {"claude": "claude", "codex": "codex"}
# Hands a brief file to an assistant as its first prompt. The script is a constant; the
# executable and the file arrive as positional parameters, so no data is ever parsed as code.
SEED_SCRIPT = 'exec "$1" -- "$(cat -- "$2")"'
SEED_NAME = "llm-session-seed"


class RestartError(TargetError):
    """A restart or launch that cannot go ahead, in one sentence the user can act on."""


def launcher(tool: str) -> str:
    exe = LAUNCHERS.get(tool)
    if exe is None:
        raise RestartError(f"restarting {inert(tool)} sessions is not supported (only claude and codex)")
    return exe


def launch_argv(tool: str, *, brief_path: Path | str | None = None, resume_id: str | None = None) -> list[str]:
    """The argv that starts `tool`: resuming `resume_id`, seeded with the brief in
    `brief_path` (read by SEED_SCRIPT, after `--`), or bare."""
    exe = launcher(tool)
    if resume_id:
        resume_id = safe_id(resume_id, "session id")
        return [exe, "--resume", resume_id] if tool == "claude" else [exe, "resume", resume_id]
    if brief_path is not None:
        return ["sh", "-c", SEED_SCRIPT, SEED_NAME, exe, str(brief_path)]
    return [exe]


def continue_command(tool: str, cwd: str | None, *, brief_path: Path | None = None, resume_id: str | None = None) -> str:
    """The exact shell line to continue: `cd -- <cwd> && claude -- "$(cat -- <brief>)"`.

    The brief is read by the shell from the file rather than pasted into the line, so the
    line stays short and copyable; `--` keeps a brief that starts with a dash a prompt.
    Raises RestartError for a folder or id with control characters.
    """
    cwd = safe_path(cwd, "session's folder")
    line = start_line(tool, brief_path, resume_id)
    return f"cd -- {shlex.quote(cwd)} && {line}" if cwd else line


def start_line(tool: str, brief_path: Path | None, resume_id: str | None) -> str:
    """The shell form of `launch_argv`, as a user would type it."""
    exe = launcher(tool)
    if resume_id:
        return shlex.join(launch_argv(tool, resume_id=resume_id))
    if brief_path is not None:
        return f'{exe} -- "$(cat -- {shlex.quote(str(brief_path))})"'
    return exe


__all__ = ["LAUNCHERS", "SEED_NAME", "SEED_SCRIPT", "RestartError", "continue_command", "launch_argv", "launcher", "start_line"]
