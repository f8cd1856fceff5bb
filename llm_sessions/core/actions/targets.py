"""What an action aims at, checked right before it acts: a process, a tmux pane.

Discovery's view of the machine is up to a poll old. In that time a pid can be reused by
another program and tmux windows can move, so an action never trusts it blindly:

* a process is the one discovery saw only if its start time still matches (psutil's
  create time) and it belongs to this user; it is then signalled through the psutil.Process
  that was checked, which re-checks the start time itself before sending anything;
* a pane is named by tmux's stable `%id`, never by its position (`session:window.pane`
  changes when windows move), and it is ours to type into only while its `#{pane_pid}` is
  the session's process or one of its ancestors (the shell it was started from).

Every refusal is a `TargetError` with one sentence for the user. psutil is imported inside
the functions: the UI imports the action modules and must stay free of it.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from llm_sessions.core.inert import control_char, inert
from llm_sessions.core.models import ProcessInfo

PANE_ID = re.compile(r"^%[0-9]{1,9}$")
#: A start time further than this from the one discovery recorded means a reused pid.
START_SLACK_S = 2.0
_TMUX_TIMEOUT_S = 5.0


class TargetError(Exception):
    """The target is gone, moved or not ours; the message says which, in one sentence."""


class TargetGone(TargetError):
    """The process has exited: nothing to act on (which, for a stop, is not a failure)."""


def own_process(pid: int, started_at: datetime | None, *, what: str = "") -> Any:
    """The psutil.Process for `pid` if it is still the process discovery saw and ours.

    `started_at` is required: without a start time a reused pid cannot be told apart.
    """
    import psutil

    label = f"{what} pid {pid}".strip()
    if pid <= 1 or pid in (os.getpid(), os.getppid()):
        raise TargetError(f"refusing to act on pid {pid} (init, llm-session itself or its parent)")
    if started_at is None:
        raise TargetError(f"{label}: start time unknown, so a reused pid cannot be ruled out; not touched")
    try:
        proc = psutil.Process(pid)
        created = proc.create_time()
        uids = proc.uids()
    except psutil.NoSuchProcess:
        raise TargetGone(f"{label} is no longer running") from None
    except psutil.AccessDenied:
        raise TargetError(f"{label} belongs to another user; not touched") from None
    except psutil.Error as exc:
        raise TargetError(f"cannot inspect {label}: {exc}") from None
    if abs(created - started_at.timestamp()) > START_SLACK_S:
        raise TargetError(f"{label} is now a different process (pid reused); not touched")
    if uids.real != os.getuid():
        raise TargetError(f"{label} belongs to another user; not touched")
    return proc


def session_processes(info: ProcessInfo) -> tuple[Any, ...]:
    """The session's head process and those of its descendants discovery recorded, as
    psutil.Process objects fixed now (each remembers its own start time).

    A recorded pid that is no longer below the head is left out: it ended and the number
    may already belong to something else.
    """
    head = own_process(info.pid, info.started_at, what=info.tool)
    import psutil

    recorded = set(info.pids)
    out = [head]
    try:
        below = head.children(recursive=True)
    except psutil.Error:
        below = []
    for child in below:
        try:
            if child.pid in recorded and child.uids().real == os.getuid():
                out.append(child)
        except psutil.Error:
            continue
    return tuple(out)


def safe_id(value: str | None, what: str) -> str:
    """An id handed to an assistant's command line: letters, digits, `.`, `_`, `-`, `:`,
    not starting with `-` (it would read as an option)."""
    if not value or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,199}", value):
        raise TargetError(f"the {what} {inert(value or '')!r} is not a plain id; refusing to pass it to a command")
    return value


def safe_path(value: str | None, what: str) -> str | None:
    """A folder taken from a transcript or bundle, refused if it holds a control character.

    Quoting protects a shell, not a terminal: a Ctrl-U in a typed line erases what came
    before it. So such a path is never used, and the message shows it spelled out.
    """
    if value is None:
        return None
    bad = control_char(value)
    if bad is not None:
        raise TargetError(f"the {what} {inert(value)!r} contains a control character ({bad}); refusing to use it")
    return value


def tmux_literal(text: str) -> str:
    """`text` for a tmux option that is expanded as a format (`-c start-directory`): `#`
    doubled, so `#(command)` in a folder name stays a name and never runs."""
    return text.replace("#", "##")


@dataclass(frozen=True)
class Tmux:
    """A tmux server: the socket arguments (`-L name`, `-S path`) and the environment."""

    socket_args: tuple[str, ...] = ()
    env: Mapping[str, str] | None = field(default=None, compare=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Tmux:
        """The server named in $TMUX (`socket,pid,session`) when we run inside tmux, else the
        default one."""
        source = os.environ if env is None else env
        socket = (source.get("TMUX") or "").split(",", 1)[0]
        return cls(("-S", socket) if socket else (), env)

    @property
    def inside(self) -> bool:
        return bool((os.environ if self.env is None else self.env).get("TMUX"))

    def argv(self, *args: str) -> list[str]:
        exe = shutil.which("tmux", path=(self.env or os.environ).get("PATH")) or "tmux"
        return [exe, *self.socket_args, *args]

    def run(self, *args: str) -> str:
        try:
            done = subprocess.run(
                self.argv(*args), capture_output=True, text=True, timeout=_TMUX_TIMEOUT_S, check=False,
                env=None if self.env is None else dict(self.env),
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise TargetError(f"tmux {args[0]} failed: {exc}") from None
        if done.returncode != 0:
            raise TargetError(f"tmux {args[0]} failed: {done.stderr.strip() or done.returncode}")
        return done.stdout

    def pane_pid(self, pane: str) -> int:
        out = self.run("display-message", "-p", "-t", pane, "#{pane_pid}").strip()
        if not out.isdigit():
            raise TargetError(f"tmux pane {pane} has no process")
        return int(out)


def verify_pane(tmux: Tmux, process: ProcessInfo | None, *, doing: str) -> str:
    """The session's pane id, once tmux confirms it still runs the session's process.

    Called right before each action that touches a pane, never cached: a pane whose
    `#{pane_pid}` is neither the session's process nor one of its ancestors now shows
    something else, and typing into it would type into that.
    """
    if process is None or not process.tmux_pane:
        raise TargetError(f"{doing} needs the session's tmux pane; this session has none")
    pane = process.tmux_pane
    if not PANE_ID.match(pane):
        raise TargetError(f"{inert(pane)!r} is not a tmux pane id; not {doing}")
    proc = own_process(process.pid, process.started_at, what=process.tool)
    pane_pid = tmux.pane_pid(pane)
    import psutil

    try:
        chain = [proc.pid, *(p.pid for p in proc.parents())]
    except psutil.Error:
        chain = [proc.pid]
    if pane_pid not in chain:
        raise TargetError(
            f"tmux pane {pane} no longer runs {process.tool or 'the session'} (pid {process.pid}); not {doing}"
        )
    return pane


def argv_text(argv: Sequence[str]) -> str:
    """An argv as one readable, shell-quoted, inert line for a dialog or a log."""
    import shlex

    return inert(shlex.join(argv))


__all__ = [
    "PANE_ID",
    "TargetError",
    "TargetGone",
    "Tmux",
    "argv_text",
    "own_process",
    "safe_id",
    "safe_path",
    "session_processes",
    "tmux_literal",
    "verify_pane",
]
