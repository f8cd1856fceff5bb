"""`limits.auto_continue`: type `continue` into a session's pane when its usage limit resets.

Off by default. Two halves, kept apart like every action in this project:

- `AutoContinue.due(snapshot, now)` is pure: a live session whose own transcript recorded a
  refused turn, whose reset time has passed (plus a short grace), that has been waiting
  since (no activity after the reset: the user did not already pick it up) and that has a
  tmux pane. Each (session, reset) is offered once.
- `send_continue(target)` is the side effect, and it checks its target right before acting:
  the process is still the one discovery saw (same start time, not a reused pid), the pane
  still exists, is not in copy mode, and its `#{pane_pid}` is that process or one of its
  ancestors. Only then are the keys sent, as `send-keys -l` (literal text) and Enter.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

# actions' own tmux runner (tmux_args first, a timeout, no shell); until the actions rework
# lands with a public one, this module shares the private helper rather than copy it
from llm_sessions.core.actions import ActionResult, _tmux
from llm_sessions.core.models import Snapshot

TEXT = "continue"
GRACE = timedelta(seconds=30)  # the vendor's clock and ours differ; a turn sent too early is refused again
_START_TOLERANCE_S = 2.0


@dataclass(frozen=True, slots=True)
class Target:
    session_id: str
    label: str
    pane: str
    pid: int
    started_at: datetime | None
    resets_at: datetime


class AutoContinue:
    """Remembers what it already offered, so a reset is acted on at most once."""

    def __init__(self) -> None:
        self._done: set[tuple[str, datetime]] = set()

    def due(self, snapshot: Snapshot, now: datetime) -> list[Target]:
        out = []
        for s in snapshot.sessions:
            reset = s.limit_resets_at
            p = s.process
            if reset is None or p is None or not p.tmux_pane or s.state == "ended":
                continue
            if now < reset + GRACE or (s.id, reset) in self._done:
                continue
            if s.last_activity is not None and s.last_activity > reset:
                continue  # the session moved on after the reset: someone already continued it
            if not s.awaiting_user:
                continue
            self._done.add((s.id, reset))
            out.append(Target(s.id, f"{s.tool} {s.id[:8]}", p.tmux_pane, p.pid, p.started_at, reset))
        return out


def verify(target: Target, tmux_args: Sequence[str] = (), env: Mapping[str, str] | None = None) -> str | None:
    """Why the target is not safe to type into right now, or None when it is."""
    import psutil  # here: the UI imports this module and must stay psutil-free at import

    try:
        proc = psutil.Process(target.pid)
        created = proc.create_time()
        lineage = {target.pid, *(a.pid for a in proc.parents())}
    except psutil.NoSuchProcess:
        return f"pid {target.pid} is no longer running"
    except psutil.Error as exc:
        return f"cannot inspect pid {target.pid}: {exc}"
    if target.started_at is not None and abs(created - target.started_at.timestamp()) > _START_TOLERANCE_S:
        return f"pid {target.pid} was reused by another process"
    try:
        # list every pane rather than ask about one: asking about a pane that is gone can
        # succeed with empty output on some tmux builds
        done = _tmux(["list-panes", "-a", "-F", "#{pane_id} #{pane_pid} #{pane_in_mode}"], tmux_args, env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"tmux: {exc}"
    if done.returncode != 0:
        return f"tmux: {done.stderr.strip() or 'list-panes failed'}"
    row = next((line.split() for line in done.stdout.splitlines() if line.split()[:1] == [target.pane]), None)
    if row is None:
        return f"pane {target.pane} is gone"
    try:
        pane_pid, in_mode = int(row[1]), int(row[2])
    except (IndexError, ValueError):
        return f"pane {target.pane}: unexpected tmux answer {' '.join(row)!r}"
    if pane_pid not in lineage:
        return f"pane {target.pane} no longer holds pid {target.pid}"
    if in_mode:
        return f"pane {target.pane} is in copy mode"
    return None


def send_continue(target: Target, *, tmux_args: Sequence[str] = (), env: Mapping[str, str] | None = None) -> ActionResult:
    """Type `continue` and Enter into the target's pane, after checking it is still the one."""
    why = verify(target, tmux_args, env)
    if why is not None:
        return ActionResult(False, f"auto-continue of {target.label} skipped: {why}")
    for step in (["send-keys", "-t", target.pane, "-l", TEXT], ["send-keys", "-t", target.pane, "Enter"]):
        try:
            done = _tmux(step, tmux_args, env)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return ActionResult(False, f"auto-continue of {target.label} failed: {exc}")
        if done.returncode != 0:
            return ActionResult(False, f"auto-continue of {target.label} failed: {done.stderr.strip()}")
    return ActionResult(True, f"usage limit reset: typed '{TEXT}' into {target.label} (pane {target.pane})")


__all__ = ["AutoContinue", "GRACE", "TEXT", "Target", "send_continue", "verify"]
