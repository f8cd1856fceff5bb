"""Side effects on a session: jump to its tmux pane, send it /compact, terminate it.

These are the only places the dashboard touches other processes, so each one aims through
`core.actions.targets` right before it acts (the pane by its `%id` and only while it still runs the
session's process; the process by pid *and* start time, only if it is ours) and returns an
`ActionResult` the UI shows as a toast instead of raising: a refused or failed action is
information for the user, not a crash. Nothing here imports Textual or, at import, psutil.

`tmux_args` goes in front of every tmux subcommand so tests (and users with a non-default
server) can point it at a private socket with `("-L", name)`.
"""

from __future__ import annotations

import signal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from llm_sessions.core.actions.targets import TargetError, Tmux, own_process, verify_pane
from llm_sessions.core.models import ProcessInfo

COMPACT_COMMAND = "/compact"


@dataclass(frozen=True, slots=True)
class ActionResult:
    """What happened, in one line the UI can show; `ok` picks the toast severity."""

    ok: bool
    message: str


def _server(tmux_args: Sequence[str], env: Mapping[str, str] | None) -> Tmux:
    return Tmux(tuple(tmux_args), env)


def jump_to_pane(
    process: ProcessInfo | None,
    *,
    tmux_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> ActionResult:
    """Make the session's pane the active pane of its window and its window the current one.

    When the dashboard itself runs inside tmux ($TMUX set) the client is switched to the
    pane's session too, so the jump also works across tmux sessions; outside tmux there is no
    client to switch, and the pane is only made current for the next attach.
    """
    tmux = _server(tmux_args, env)
    switched = False
    try:
        pane = verify_pane(tmux, process, doing="jumping")
        if tmux.inside:
            try:
                tmux.run("switch-client", "-t", pane)
                switched = True
            except TargetError:
                pass  # no client attached (a detached server): selecting still works
        tmux.run("select-window", "-t", pane)
        tmux.run("select-pane", "-t", pane)
    except TargetError as exc:
        return ActionResult(False, str(exc))
    where = "switched to" if switched else "selected (attach to tmux to see it):"
    return ActionResult(True, f"{where} pane {pane}")


def type_compact(tmux: Tmux, process: ProcessInfo | None) -> str:
    """Type `/compact` and Enter into the session's pane, once it is verified; raises
    TargetError. Shared by the `c` key and the restart dialog's compact mode.

    The text goes with `send-keys -l` (literal) so tmux never reads it as key names; Enter is
    a separate key press, as a user would type it.
    """
    pane = verify_pane(tmux, process, doing="sending /compact")
    tmux.run("send-keys", "-t", pane, "-l", COMPACT_COMMAND)
    tmux.run("send-keys", "-t", pane, "Enter")
    return f"sent /compact to pane {pane}"


def send_compact(
    process: ProcessInfo | None,
    *,
    tmux_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> ActionResult:
    """The `c` key: /compact into the session's pane, or why not."""
    try:
        return ActionResult(True, type_compact(_server(tmux_args, env), process))
    except TargetError as exc:
        return ActionResult(False, str(exc))


def terminate(process: ProcessInfo | None) -> ActionResult:
    """SIGTERM the session's process, the one pid the confirmation showed.

    SIGTERM lets the assistant save its transcript; we never escalate to SIGKILL. The
    process must still have the start time discovery saw (else the pid was reused) and
    belong to this user; the signal goes through the psutil.Process that was checked, which
    checks the start time again as it sends.
    """
    if process is None:
        return ActionResult(False, "this session has no live process")
    import psutil

    try:
        proc = own_process(process.pid, process.started_at, what=process.tool)
        proc.send_signal(signal.SIGTERM)
    except TargetError as exc:
        return ActionResult(False, str(exc))
    except psutil.NoSuchProcess:
        return ActionResult(False, f"pid {process.pid} exited (or was reused) before it could be signalled")
    except psutil.Error as exc:
        return ActionResult(False, f"not allowed to signal pid {process.pid}: {exc}")
    return ActionResult(True, f"sent SIGTERM to pid {process.pid}")


__all__ = ["ActionResult", "COMPACT_COMMAND", "jump_to_pane", "send_compact", "terminate", "type_compact"]
