"""A private tmux server and a fake assistant binary for restart and launch tests.

Each test gets its own server on a unique `-L` socket and kills only that server. The fake
`claude`/`codex` scripts record their working folder and argv to a file, which is how a test
sees exactly what a restart or `import --launch` started.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

FAKE = """#!/bin/sh
out="$FAKE_ASSISTANT_OUT/$(basename "$0").out"
{ pwd; printf '%s\\n' "$#"; for a in "$@"; do printf '%s\\0' "$a"; done; } > "$out.tmp"
mv "$out.tmp" "$out"
exec sleep 300
"""


def wait_for(predicate, what: str, limit: float = 20.0):
    """Poll until `predicate()` is truthy; fail naming `what` (a bound, not a timing check)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    pytest.fail(f"gave up waiting for {what}")


@dataclass
class FakeAssistants:
    bin_dir: Path
    out_dir: Path

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PATH"] = f"{self.bin_dir}{os.pathsep}{env.get('PATH', '')}"
        env["FAKE_ASSISTANT_OUT"] = str(self.out_dir)
        env["SHELL"] = "/bin/sh"
        env.pop("TMUX", None)
        return env

    def read(self, tool: str) -> tuple[str, list[str]] | None:
        path = self.out_dir / f"{tool}.out"
        if not path.exists():
            return None
        cwd, count, rest = path.read_bytes().decode().split("\n", 2)
        args = rest.split("\0")[: int(count)]
        return cwd, args


def make_fakes(tmp_path: Path) -> FakeAssistants:
    bin_dir = tmp_path / "fakebin"
    out_dir = tmp_path / "fakeout"
    bin_dir.mkdir(parents=True)
    out_dir.mkdir(parents=True)
    for name in ("claude", "codex"):
        p = bin_dir / name
        p.write_text(FAKE)
        p.chmod(0o755)
    return FakeAssistants(bin_dir, out_dir)


@dataclass
class TmuxServer:
    name: str
    env: dict[str, str]

    @property
    def socket_args(self) -> tuple[str, ...]:
        return ("-L", self.name)

    def run(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.name, *args], capture_output=True, text=True, env=self.env, check=True)
        return done.stdout.strip()

    def new_window(self, command: str, cwd: Path) -> str:
        """Open a window running `command`; return its pane id (%N)."""
        return self.run("new-window", "-P", "-F", "#{pane_id}", "-c", str(cwd), command)

    def pane_pid(self, pane: str) -> int:
        return int(self.run("display-message", "-p", "-t", pane, "#{pane_pid}"))

    def child(self, pane: str, name: str) -> psutil.Process:
        """The process called `name` running under the pane's shell, once it has started."""
        def find():
            try:
                kids = psutil.Process(self.pane_pid(pane)).children(recursive=True)
            except (psutil.NoSuchProcess, subprocess.CalledProcessError):
                return None
            return next((k for k in kids if k.name() == name), None)

        return wait_for(find, f"{name} under pane {pane}")


@pytest.fixture
def fakes(tmp_path):
    return make_fakes(tmp_path)


def kill_server(args: list[str], env) -> None:
    """Stop a test's private tmux server and remove its socket file: tmux 3.3 leaves the
    socket behind after `kill-server`, so every run left ~20 dead sockets in /tmp/tmux-<uid>."""
    where = subprocess.run(["tmux", *args, "display-message", "-p", "#{socket_path}"], env=env,
                           capture_output=True, text=True, check=False).stdout.strip()
    subprocess.run(["tmux", *args, "kill-server"], env=env, capture_output=True, check=False)
    if where:
        Path(where).unlink(missing_ok=True)


@pytest.fixture
def tmux_with_fakes(fakes, tmp_path):
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed")
    server = TmuxServer(f"llmsess-test-{uuid.uuid4().hex[:10]}", fakes.env())
    subprocess.run(
        ["tmux", "-L", server.name, "-f", "/dev/null", "new-session", "-d", "-s", "main", "-x", "200", "-y", "50", "-c", str(tmp_path),
         "sleep 600"],
        env=server.env, check=True,
    )
    try:
        yield server
    finally:
        kill_server(["-L", server.name], server.env)
