"""Shared fixtures: a fake home for every assistant, and real processes we own.

Nothing here touches the real ~/.claude, ~/.codex and friends: every test gets an env
mapping whose HOME and assistant roots point into its tmp_path, and discovery tests only
ever see processes they started themselves (`Discovery(pids=spawner.pids)`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

# The body every fake assistant runs: hold open any files named on its command line (as a
# live Codex holds its rollout), optionally start one child, say "ready", then sleep.
FAKE = r"""
import os, subprocess, sys, time
held = [open(a, "a") for a in sys.argv[1:] if a.endswith((".jsonl", ".json", ".md"))]
child = os.environ.get("FAKE_CHILD")
if child:
    os.environ.pop("FAKE_CHILD")
    argv = child.split("\x1f")
    kid = subprocess.Popen(argv[:1] + ["-c", os.environ["FAKE_BODY"]] + argv[1:], stdout=subprocess.PIPE)
    kid.stdout.readline()
if os.environ.get("FAKE_SPIN"):
    print("ready", flush=True)
    while True:
        pass
print("ready", flush=True)
late = os.environ.get("FAKE_LATE")
if late:  # open a file only when told to, as Codex opens its rollout at the first prompt
    sys.stdin.readline()
    held.append(open(late, "a"))
    print("opened", flush=True)
time.sleep(600)
"""


@pytest.fixture
def fake_env(tmp_path: Path) -> dict[str, str]:
    home = tmp_path / "home"
    home.mkdir()
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "CLAUDE_CONFIG_DIR": str(home / ".claude"),
        "CODEX_HOME": str(home / ".codex"),
        "GEMINI_DIR": str(home / ".gemini"),
        "COPILOT_HOME": str(home / ".copilot"),
        "CURSOR_USER_DIR": str(home / ".config" / "Cursor" / "User"),
        "TMUX_TMPDIR": str(tmp_path / "tmux"),
        "PATH": os.environ.get("PATH", os.defpath),
    }


class Spawner:
    """Starts fake assistants: the Python interpreter under a chosen name (a symlink), so
    the kernel reports that name, with a chosen command line and cwd. Each one gets its
    own process group, which teardown kills whole (children included)."""

    def __init__(self, root: Path) -> None:
        self.bin = root / "bin"
        self.bin.mkdir(parents=True, exist_ok=True)
        self.procs: list[subprocess.Popen] = []
        self.adopted: list[int] = []

    def adopt(self, pid: int) -> None:
        """Count a process the test started itself (not through spawn) as one of ours."""
        self.adopted.append(pid)

    def pids(self) -> list[int]:
        """The process source for Discovery: what we started and its descendants, nothing
        else on the machine (a real assistant running beside the tests stays unseen)."""
        import psutil

        out: list[int] = []
        for pid in [p.pid for p in self.procs] + self.adopted:
            try:
                out += [pid, *(c.pid for c in psutil.Process(pid).children(recursive=True))]
            except psutil.Error:
                pass  # gone: discovery must see it disappear
        return out

    def link(self, name: str) -> str:
        path = self.bin / name
        if not path.exists():
            path.symlink_to(os.path.realpath(sys.executable))
        return str(path)

    def spawn(
        self,
        name: str,
        *args: str,
        cwd: Path,
        child: tuple[str, ...] = (),
        spin: bool = False,
        late_open: Path | None = None,
    ) -> subprocess.Popen:
        env = {"PATH": os.environ.get("PATH", os.defpath), "FAKE_BODY": FAKE}
        if child:
            env["FAKE_CHILD"] = "\x1f".join((self.link(child[0]),) + tuple(child[1:]))
        if spin:
            env["FAKE_SPIN"] = "1"
        if late_open:
            env["FAKE_LATE"] = str(late_open)
        proc = subprocess.Popen(
            [self.link(name), "-c", FAKE, *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.PIPE if late_open else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            start_new_session=True,
        )
        self.procs.append(proc)
        assert proc.stdout.readline().strip() == b"ready"
        return proc

    def close(self) -> None:
        for proc in self.procs:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for proc in self.procs:
            proc.wait()
            proc.stdout.close()
            if proc.stdin:
                proc.stdin.close()


@pytest.fixture
def spawner(tmp_path: Path):
    s = Spawner(tmp_path)
    try:
        yield s
    finally:
        s.close()

