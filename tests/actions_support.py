"""Fixtures shared by the core and UI action tests: a private tmux server, a spawned sleep."""

from __future__ import annotations

import os
import subprocess
import time
import uuid

import pytest

from tests.tmux_helpers import kill_server


@pytest.fixture
def tmux_server(tmp_path):
    """A private tmux server (-L unique) with two windows; yields (tmux_args, env, run)."""
    sock = f"llmtest-{uuid.uuid4().hex[:10]}"
    args = ("-L", sock)
    env = {k: v for k, v in os.environ.items() if k != "TMUX"}
    env["HOME"] = str(tmp_path)

    def run(*cmd: str) -> str:
        return subprocess.run(["tmux", *args, *cmd], env=env, capture_output=True, text=True, check=True).stdout.strip()

    run("-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", "80", "-y", "24")
    try:
        yield args, env, run
    finally:
        kill_server(list(args), env)


def wait_for(predicate, limit=10.0):
    """Poll until predicate() is truthy; returns its last value (the test asserts it)."""
    end = time.monotonic() + limit
    value = predicate()
    while not value and time.monotonic() < end:
        time.sleep(0.05)
        value = predicate()
    return value


@pytest.fixture
def sleeper():
    """A `sleep 60` this test owns: the only process a terminate test may signal."""
    proc = subprocess.Popen(["sleep", "60"])
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
