"""Side effects on a session: jump to its tmux pane, send it /compact, terminate it.

These are the only places the dashboard touches other processes, so each one checks what it
is about to do and returns an `ActionResult` the UI shows as a toast instead of raising: a
failed jump is information for the user, not a crash. Nothing here imports Textual.

`tmux` is called with `tmux_args` in front of the subcommand so tests (and users with a
non-default server) can point it at a private socket with `("-L", name)`.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

COMPACT_COMMAND = "/compact"
_TMUX_TIMEOUT_S = 5.0
# A pid whose start time differs from the one discovery saw by more than this is a reused pid.
_START_TOLERANCE_S = 2.0


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What happened, in one line the UI can show; `ok` picks the toast severity."""

    ok: bool
    message: str


def _tmux(args: Sequence[str], tmux_args: Sequence[str], env: Mapping[str, str] | None) -> subprocess.CompletedProcess:
    exe = shutil.which("tmux")
    if exe is None:
        raise FileNotFoundError("tmux is not installed")
    return subprocess.run(
        [exe, *tmux_args, *args],
        capture_output=True,
        text=True,
        timeout=_TMUX_TIMEOUT_S,
        env=None if env is None else dict(env),
        check=False,
    )


def _run_all(steps: Sequence[Sequence[str]], tmux_args: Sequence[str], env: Mapping[str, str] | None) -> str | None:
    """Run tmux commands in order; return the first error text, or None when all succeeded."""
    for step in steps:
        try:
            done = _tmux(step, tmux_args, env)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return str(exc)
        if done.returncode != 0:
            return done.stderr.strip() or f"tmux {step[0]} exited {done.returncode}"
    return None


def jump_to_pane(
    pane: str | None,
    *,
    tmux_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> ActionResult:
    """Make `pane` the active pane of its window and its window the current one.

    When the dashboard itself runs inside tmux ($TMUX set) the client is switched to the
    pane's session too, so the jump also works across tmux sessions; outside tmux there is no
    client to switch, and the pane is only made current for the next attach.
    """
    if not pane:
        return ActionResult(False, "this session has no known tmux pane")
    steps: list[list[str]] = [["select-window", "-t", pane], ["select-pane", "-t", pane]]
    inside = (os.environ if env is None else env).get("TMUX")
    if inside:
        steps.insert(0, ["switch-client", "-t", pane])
    error = _run_all(steps, tmux_args, env)
    if error:
        return ActionResult(False, f"tmux jump to {pane} failed: {error}")
    where = "switched to" if inside else "selected (attach to tmux to see it):"
    return ActionResult(True, f"{where} pane {pane}")


def send_compact(
    pane: str | None,
    *,
    tmux_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> ActionResult:
    """Type `/compact` and Enter into the session's pane.

    The text goes with `send-keys -l` (literal) so tmux never reads it as key names; Enter is
    a separate key press, as a user would type it.
    """
    if not pane:
        return ActionResult(False, "/compact needs a tmux pane; this session has none")
    error = _run_all(
        [["send-keys", "-t", pane, "-l", COMPACT_COMMAND], ["send-keys", "-t", pane, "Enter"]],
        tmux_args,
        env,
    )
    if error:
        return ActionResult(False, f"sending /compact to {pane} failed: {error}")
    return ActionResult(True, f"sent /compact to pane {pane}")


def terminate(pid: int | None, *, started_at: datetime | None = None) -> ActionResult:
    """Send SIGTERM to `pid`, only if it belongs to this user and is the process we saw.

    SIGTERM lets the assistant save its transcript; we never escalate to SIGKILL. `started_at`
    (from discovery) guards against pid reuse: a process with the same pid but another start
    time is a different process, and is left alone.
    """
    if pid is None:
        return ActionResult(False, "this session has no live process")
    if pid <= 1 or pid == os.getpid():
        return ActionResult(False, f"refusing to terminate pid {pid}")
    import psutil  # here, not at the top: the UI imports this module and must stay psutil-free

    try:
        proc = psutil.Process(pid)
        uid = proc.uids().real
        created = proc.create_time()
    except psutil.NoSuchProcess:
        return ActionResult(False, f"pid {pid} is no longer running")
    except psutil.Error as exc:
        return ActionResult(False, f"cannot inspect pid {pid}: {exc}")
    if uid != os.getuid():
        return ActionResult(False, f"pid {pid} belongs to another user; not signalled")
    if started_at is not None and abs(created - started_at.timestamp()) > _START_TOLERANCE_S:
        return ActionResult(False, f"pid {pid} was reused by another process; not signalled")
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return ActionResult(False, f"pid {pid} exited before it could be signalled")
    except PermissionError as exc:
        return ActionResult(False, f"not allowed to signal pid {pid}: {exc}")
    return ActionResult(True, f"sent SIGTERM to pid {pid}")


__all__ = ["ActionResult", "COMPACT_COMMAND", "jump_to_pane", "send_compact", "terminate"]
