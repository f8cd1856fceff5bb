"""`limits.auto_continue`: type `continue` into a session's pane when its usage limit resets.

Off by default. Two halves, kept apart like every action in this project:

- `AutoContinue.due(snapshot, now)` is pure: a live session whose own transcript recorded a
  refused turn, whose reset time has passed (plus a short grace), that has been waiting
  since (no activity after the reset: the user did not already pick it up) and that has a
  tmux pane. Each (session, reset) is offered once.
- `send_continue(target)` is the side effect. It aims like every other action, through
  `core.actions.targets.verify_pane` right before typing (the process is still the one discovery saw
  and ours, the pane `%id` still runs it or one of its ancestors), and also refuses a pane in
  copy mode, where the keys would move the cursor instead of reaching the assistant. Only then
  are the keys sent, as `send-keys -l` (literal text) and Enter.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from llm_sessions.core.actions.pane import ActionResult
from llm_sessions.core.actions.targets import TargetError, Tmux, verify_pane
from llm_sessions.core.models import ProcessInfo, Snapshot

TEXT = "continue"
GRACE = timedelta(seconds=30)  # the vendor's clock and ours differ; a turn sent too early is refused again


@dataclass(frozen=True, slots=True)
class Target:
    session_id: str
    label: str
    process: ProcessInfo
    resets_at: datetime

    @property
    def pane(self) -> str | None:
        return self.process.tmux_pane


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
            out.append(Target(s.id, f"{s.tool} {s.id[:8]}", p, reset))
        return out


def _verified_pane(tmux: Tmux, target: Target) -> str:
    pane = verify_pane(tmux, target.process, doing="auto-continue")
    if tmux.run("display-message", "-p", "-t", pane, "#{pane_in_mode}").strip() not in ("", "0"):
        raise TargetError(f"tmux pane {pane} is in copy mode; not typing into it")
    return pane


def verify(target: Target, tmux_args: Sequence[str] = (), env: Mapping[str, str] | None = None) -> str | None:
    """Why the target is not safe to type into right now, or None when it is."""
    try:
        _verified_pane(Tmux(tuple(tmux_args), env), target)
    except TargetError as exc:
        return str(exc)
    return None


def send_continue(target: Target, *, tmux_args: Sequence[str] = (), env: Mapping[str, str] | None = None) -> ActionResult:
    """Type `continue` and Enter into the target's pane, after checking it is still the one."""
    tmux = Tmux(tuple(tmux_args), env)
    try:
        pane = _verified_pane(tmux, target)
    except TargetError as exc:
        return ActionResult(False, f"auto-continue of {target.label} skipped: {exc}")
    try:
        tmux.run("send-keys", "-t", pane, "-l", TEXT)
        tmux.run("send-keys", "-t", pane, "Enter")
    except TargetError as exc:
        return ActionResult(False, f"auto-continue of {target.label} failed: {exc}")
    return ActionResult(True, f"usage limit reset: typed '{TEXT}' into {target.label} (pane {pane})")


__all__ = ["AutoContinue", "GRACE", "TEXT", "Target", "send_continue", "verify"]
