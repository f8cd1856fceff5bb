"""Which tmux pane a process runs in: one `tmux list-panes -a` per change of assistants.

Actions aim at a pane by its stable `%id`; a `session:window.pane` position changes when
windows move, so it is never read. Kept apart from discovery because it is the one part of a
poll that forks a subprocess, and its cost rules (no server socket, no call; a listing reused
while the assistants stay the same) are worth reading on their own.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Mapping

#: Seconds a tmux pane listing is reused while the set of assistants stays the same.
TMUX_MAX_AGE = 10.0
# The stable `%id` is what actions aim at; a `session:window.pane` position changes when
# windows move, so it is never used as a target.
TMUX_FORMAT = "#{pane_id} #{pane_pid}"


class TmuxPanes:
    """pane pid -> pane id for the tmux server a plain `tmux` command would reach."""

    def __init__(self, env: Mapping[str, str], tmux_bin: str | None) -> None:
        self.env = env
        self.tmux_bin = tmux_bin
        self._cache: tuple[frozenset[int], float, dict[int, str]] | None = None

    def socket(self) -> str | None:
        """The server socket a plain `tmux` command would talk to: the one named in $TMUX
        (inside tmux), else `$TMUX_TMPDIR/tmux-<uid>/default`."""
        inside = self.env.get("TMUX", "")
        if inside:
            return inside.split(",", 1)[0]
        getuid = getattr(os, "getuid", None)
        if getuid is None:
            return None
        base = self.env.get("TMUX_TMPDIR") or "/tmp"
        return f"{base.rstrip('/')}/tmux-{getuid()}/default"

    def panes(self, heads: frozenset[int], problems: list[str]) -> dict[int, str]:
        """pane pid -> pane id (`%3`), from one `tmux list-panes -a` call.

        No tmux binary, or no server socket, is the normal case outside tmux: empty map, no
        problem and no subprocess. With a server, the answer is reused while the set of
        assistants (`heads`) is unchanged and younger than TMUX_MAX_AGE, because a fork+exec
        of tmux is most of a steady poll's CPU.
        """
        if not self.tmux_bin:
            return {}
        socket = self.socket()
        if socket is not None and not os.path.exists(socket):
            self._cache = None
            return {}
        now = time.monotonic()
        if self._cache and self._cache[0] == heads and now - self._cache[1] < TMUX_MAX_AGE:
            return self._cache[2]
        try:
            done = subprocess.run(
                [self.tmux_bin, "list-panes", "-a", "-F", TMUX_FORMAT],
                env=dict(self.env),
                capture_output=True,
                text=True,
                timeout=2,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            problems.append(f"tmux list-panes failed: {exc}")
            return {}
        panes: dict[int, str] = {}
        if done.returncode != 0:
            err = done.stderr.strip()
            if err and "no server running" not in err and "error connecting" not in err:
                problems.append(f"tmux list-panes: {err}")
        else:
            for line in done.stdout.splitlines():
                parts = line.split(" ")
                if len(parts) == 2 and parts[1].isdigit() and parts[0].startswith("%"):
                    panes[int(parts[1])] = parts[0]
        self._cache = (heads, now, panes)
        return panes


def pane_of(pid: int, panes: Mapping[int, str], parent: Callable[[int], int | None]) -> str | None:
    """The pane of `pid` or of its nearest ancestor that is a pane's process; `parent`
    gives a pid's parent (None when unknown). At most 64 steps, so a cycle cannot hang."""
    for _ in range(64):
        if pid in panes:
            return panes[pid]
        ppid = parent(pid)
        if ppid is None or ppid in (0, pid):
            return None
        pid = ppid
    return None
