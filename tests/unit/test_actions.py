"""core.actions against a real tmux server on a private socket and a real spawned `sleep`.

Only processes and tmux servers these tests start are ever signalled or killed.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from datetime import datetime, timedelta

import pytest

from llm_sessions.core.actions import jump_to_pane, send_compact, terminate
from tests.actions_support import wait_for

needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")


@needs_tmux
def test_jump_selects_the_window_and_pane(tmux_server):
    args, env, run = tmux_server
    target = run("new-window", "-P", "-F", "#{pane_id}", "-t", "t:")
    run("split-window", "-t", target)  # the new split becomes active, not target
    run("select-window", "-t", "t:0")
    assert run("display", "-p", "-t", target, "#{window_active}#{pane_active}") == "00"

    result = jump_to_pane(target, tmux_args=args, env=env)

    assert result.ok, result.message
    assert run("display", "-p", "-t", target, "#{window_active}#{pane_active}") == "11"


@needs_tmux
def test_jump_reports_a_missing_pane(tmux_server):
    args, env, _ = tmux_server
    result = jump_to_pane("%999", tmux_args=args, env=env)
    assert not result.ok
    assert "%999" in result.message


def test_jump_and_compact_without_a_pane_say_why():
    assert not jump_to_pane(None).ok
    result = send_compact(None)
    assert not result.ok and "tmux pane" in result.message


@needs_tmux
def test_send_compact_types_the_command_and_enter(tmux_server, tmp_path):
    args, env, run = tmux_server
    out = tmp_path / "typed.txt"
    pane = run("new-window", "-P", "-F", "#{pane_id}", "-t", "t:", f"cat > {out}")

    result = send_compact(pane, tmux_args=args, env=env)

    assert result.ok, result.message
    typed = wait_for(lambda: out.exists() and out.read_text())
    assert typed == "/compact\n"


def test_terminate_sends_sigterm_to_own_process(sleeper):
    import psutil

    started = datetime.fromtimestamp(psutil.Process(sleeper.pid).create_time())
    result = terminate(sleeper.pid, started_at=started)
    assert result.ok, result.message
    assert sleeper.wait(timeout=10) == -signal.SIGTERM


def test_terminate_refuses_a_reused_pid(sleeper):
    result = terminate(sleeper.pid, started_at=datetime.now() - timedelta(days=1))
    assert not result.ok and "reused" in result.message
    assert sleeper.poll() is None


def test_terminate_refuses_init_self_and_nothing():
    assert not terminate(1).ok
    assert not terminate(os.getpid()).ok
    assert not terminate(None).ok


def test_terminate_reports_a_process_that_is_gone():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    result = terminate(proc.pid)
    assert not result.ok
    assert str(proc.pid) in result.message


@pytest.mark.skipif(os.getuid() == 0, reason="root owns every process it could find")
def test_terminate_refuses_another_users_process():
    import psutil

    other = next(
        (p for p in psutil.process_iter(["uids"]) if p.info["uids"] and p.info["uids"].real != os.getuid() and p.pid > 1),
        None,
    )
    if other is None:
        pytest.skip("no process of another user is visible")
    result = terminate(other.pid)
    assert not result.ok and "another user" in result.message
