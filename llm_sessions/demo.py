"""Demo mode: a few simulated assistant sessions running as real child processes.

`Demo` makes a temporary HOME, starts one `python -m llm_sessions.synth.live` per simulated
session writing transcripts under it, and hands back the environment the monitor should read
(HOME pointed at the temporary folder, every assistant-specific override removed so the
user's real ~/.claude or $CODEX_HOME is never read). It stops only its own children: on
`stop()`, on leaving the `with` block, and at interpreter exit (atexit) if the app crashed.
Nothing runs at import time.

The demo is sealed: `process_tree` is the only process source its discovery gets (its own
children and their descendants), and it runs without tmux, so no real assistant on the
machine is listed and no key pressed in the demo can reach one.
"""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

SYNTH_MODULE = "llm_sessions.synth.live"

# Variables that would point an assistant (or llm-session itself) at the user's real files.
_OVERRIDES = (
    "CLAUDE_CONFIG_DIR",
    "CODEX_HOME",
    "GEMINI_DIR",
    "COPILOT_HOME",
    "CURSOR_USER_DIR",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_CACHE_HOME",
    "XDG_STATE_HOME",
    "LLM_SESSION_CONFIG_DIR",
)
_STOP_WAIT_S = 5.0


@dataclass(frozen=True, slots=True)
class DemoSession:
    tool: str
    session_id: str
    project: str
    pace: float
    seed: int


DEFAULT_SESSIONS: tuple[DemoSession, ...] = (
    # ids differ in their first 8 characters, which is what the table shows
    DemoSession("claude", "7c1a2e90-4b1d-4e0a-9c3f-0d3e0000a001", "webshop", 1.5, 1),
    DemoSession("claude", "b84f03d2-9a6e-4c55-8e21-0d3e0000a002", "ml-pipeline", 0.8, 2),
    DemoSession("codex", "3e9d5c71-2f08-4b9a-a4d6-0d3e0000a003", "api-gateway", 2.0, 3),
    DemoSession("codex", "e26b8f4a-7c3d-4a1e-b5f9-0d3e0000a004", "notes", 4.0, 4),
)

Command = Callable[[DemoSession, Path, Path], Sequence[str]]


def synth_command(spec: DemoSession, home: Path, cwd: Path) -> list[str]:
    """The fixed command-line contract of llm_sessions.synth.live."""
    return [
        sys.executable, "-m", SYNTH_MODULE,
        "--tool", spec.tool,
        "--home", str(home),
        "--cwd", str(cwd),
        "--session-id", spec.session_id,
        "--pace", str(spec.pace),
        "--seed", str(spec.seed),
    ]


def demo_env(home: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """`base` (default os.environ) with HOME moved to `home` and every path override removed."""
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in _OVERRIDES}
    env["HOME"] = str(home)
    env["LLM_SESSION_HOME"] = str(home / ".llm-session")
    # The children run `python -m llm_sessions.synth.live` from a project folder: make sure
    # they import this very package, installed or not (a source checkout has no .pth entry).
    import llm_sessions

    here = str(Path(llm_sessions.__file__).resolve().parent.parent)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH", "")) if p)
    return env


class Demo:
    """Start simulated sessions; use as a context manager so they always stop."""

    def __init__(
        self,
        sessions: Sequence[DemoSession] = DEFAULT_SESSIONS,
        *,
        command: Command = synth_command,
        stop_wait: float = _STOP_WAIT_S,
    ) -> None:
        self.sessions = tuple(sessions)
        self.command = command
        self.stop_wait = stop_wait
        self.home: Path | None = None
        self.env: dict[str, str] = {}
        self.processes: list[subprocess.Popen] = []

    def start(self) -> dict[str, str]:
        """Create the temporary HOME, start every child, return the env for the monitor."""
        if self.home is not None:
            return self.env
        self.home = Path(tempfile.mkdtemp(prefix="llm-session-demo-"))
        self.env = demo_env(self.home)
        atexit.register(self.stop)
        logs = self.home / ".demo-logs"
        logs.mkdir()
        try:
            for spec in self.sessions:
                cwd = self.home / "projects" / spec.project
                cwd.mkdir(parents=True, exist_ok=True)
                with open(logs / f"{spec.session_id}.log", "wb") as log:
                    self.processes.append(
                        subprocess.Popen(
                            list(self.command(spec, self.home, cwd)),
                            cwd=cwd,
                            env=self.env,
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL,
                            stderr=log,
                        )
                    )
        except BaseException:
            self.stop()
            raise
        return self.env

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes]

    def process_tree(self) -> list[int]:
        """The demo's own children and their descendants: discovery's whole world in demo mode."""
        import psutil

        out: list[int] = []
        for child in self.processes:
            if child.poll() is not None:
                continue
            out.append(child.pid)
            try:
                out.extend(p.pid for p in psutil.Process(child.pid).children(recursive=True))
            except psutil.Error:
                continue
        return out

    def stop(self) -> None:
        """SIGTERM every child we started, wait, SIGKILL stragglers, remove the HOME. Idempotent."""
        for proc in self.processes:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.processes:
            try:
                proc.wait(timeout=self.stop_wait)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.processes = []
        if self.home is not None:
            shutil.rmtree(self.home, ignore_errors=True)
            self.home = None
        atexit.unregister(self.stop)

    def __enter__(self) -> Demo:
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


__all__ = ["DEFAULT_SESSIONS", "Demo", "DemoSession", "demo_env", "synth_command"]
