"""core.actions.pane against a real tmux server on a private socket and real processes started here.

Only processes and tmux servers these tests start are ever signalled or killed. Each action
aims at the session's process, and at its pane by `%id` only while the pane still runs it.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest

from llm_sessions.core.actions.pane import jump_to_pane, send_compact, terminate
from llm_sessions.core.live.discovery import Discovery
from llm_sessions.core.models import ProcessInfo
from tests.actions_support import wait_for

needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")


def started(pid: int) -> datetime:
    return datetime.fromtimestamp(psutil.Process(pid).create_time(), UTC)


def pane_info(run, pane: str) -> ProcessInfo:
    pid = int(run("display", "-p", "-t", pane, "#{pane_pid}"))
    return ProcessInfo(pid=pid, pids=(pid,), started_at=started(pid), tmux_pane=pane, tool="claude")


@needs_tmux
def test_jump_selects_the_window_and_pane(tmux_server):
    args, env, run = tmux_server
    target = run("new-window", "-P", "-F", "#{pane_id}", "-t", "t:")
    run("split-window", "-t", target)  # the new split becomes active, not target
    run("select-window", "-t", "t:0")
    assert run("display", "-p", "-t", target, "#{window_active}#{pane_active}") == "00"

    result = jump_to_pane(pane_info(run, target), tmux_args=args, env=env)

    assert result.ok, result.message
    assert run("display", "-p", "-t", target, "#{window_active}#{pane_active}") == "11"


@needs_tmux
def test_jump_reports_a_missing_pane(tmux_server, sleeper):
    args, env, _ = tmux_server
    info = ProcessInfo(pid=sleeper.pid, started_at=started(sleeper.pid), tmux_pane="%999")
    result = jump_to_pane(info, tmux_args=args, env=env)
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

    result = send_compact(pane_info(run, pane), tmux_args=args, env=env)

    assert result.ok, result.message
    typed = wait_for(lambda: out.exists() and out.read_text())
    assert typed == "/compact\n"


@needs_tmux
def test_actions_follow_the_pane_id_and_refuse_a_pane_that_runs_something_else(tmux_server, tmp_path):
    """Finding 4: discovery names a pane; then windows move, then the pane is reused.

    The assistant is a `cat` run through a symlink called `claude` (so discovery recognises
    it), typing into a file. Before the fix, discovery reported `t:1.0`, which after the
    windows swapped was the other program's pane; now it reports `%N`, and the action checks
    that the pane's process is still the session's before it types.
    """
    args, env, run = tmux_server
    fake = tmp_path / "bin" / "claude"
    fake.parent.mkdir()
    fake.symlink_to(shutil.which("cat"))
    mine, other, later = tmp_path / "mine.txt", tmp_path / "other.txt", tmp_path / "later.txt"
    pane = run("new-window", "-P", "-F", "#{pane_id}", "-t", "t:1", f"exec {fake} > {mine}")
    run("new-window", "-P", "-F", "#{pane_id}", "-t", "t:2", f"exec cat > {other}")
    pane_pid = int(run("display", "-p", "-t", pane, "#{pane_pid}"))
    wait_for(lambda: psutil.Process(pane_pid).name() == "claude")

    socket = run("display", "-p", "#{socket_path}")
    ours = {pane_pid}
    disco = Discovery({**env, "TMUX": f"{socket},0,0"}, pids=lambda: ours)
    [info] = disco.scan([]).unmatched
    assert info.tool == "claude" and info.pid == pane_pid and info.tmux_pane == pane

    run("swap-window", "-s", "t:1", "-t", "t:2")  # the session's window moves
    result = send_compact(info, tmux_args=args, env=env)
    assert result.ok, result.message
    assert wait_for(lambda: mine.exists() and mine.read_text()) == "/compact\n"
    assert other.read_text() == ""

    # the session ends and its pane now runs another program: nothing may be typed there
    run("respawn-pane", "-k", "-t", pane, f"exec cat > {later}")
    wait_for(lambda: later.exists())
    for action in (send_compact, jump_to_pane):
        result = action(info, tmux_args=args, env=env)
        assert not result.ok and "no longer" in result.message, result.message
    assert later.read_text() == "" and other.read_text() == ""


def test_terminate_sends_sigterm_to_own_process(sleeper):
    result = terminate(ProcessInfo(pid=sleeper.pid, started_at=started(sleeper.pid)))
    assert result.ok, result.message
    assert sleeper.wait(timeout=10) == -signal.SIGTERM


def test_terminate_refuses_a_reused_pid(sleeper):
    result = terminate(ProcessInfo(pid=sleeper.pid, started_at=datetime.now(UTC) - timedelta(days=1)))
    assert not result.ok and "reused" in result.message
    assert sleeper.poll() is None


def test_terminate_refuses_without_a_start_time(sleeper):
    result = terminate(ProcessInfo(pid=sleeper.pid))
    assert not result.ok and "start time unknown" in result.message
    assert sleeper.poll() is None


def test_terminate_refuses_init_self_and_nothing():
    now = datetime.now(UTC)
    assert not terminate(ProcessInfo(pid=1, started_at=now)).ok
    assert not terminate(ProcessInfo(pid=os.getpid(), started_at=now)).ok
    assert not terminate(None).ok


def test_terminate_reports_a_process_that_is_gone():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    result = terminate(ProcessInfo(pid=proc.pid, started_at=datetime.now(UTC)))
    assert not result.ok
    assert str(proc.pid) in result.message


@pytest.mark.skipif(os.getuid() != 0, reason="starting a process as another user needs root")
def test_terminate_refuses_another_users_process():
    other = subprocess.Popen(["sleep", "60"], user=65534, group=65534)
    try:
        result = terminate(ProcessInfo(pid=other.pid, started_at=started(other.pid)))
        assert not result.ok and "another user" in result.message
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()


def test_actions_import_without_psutil_loaded():
    code = "import sys, llm_sessions.core.actions.pane, llm_sessions.core.actions.restart; print('psutil' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.stdout.strip() == "False"
