"""limits.auto_continue: which sessions are due, and the checks made right before typing."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta

import psutil

from llm_sessions.core.actions.auto_continue import GRACE, AutoContinue, Target, send_continue, verify
from llm_sessions.core.models import ProcessInfo, Session, Snapshot
from tests.actions_support import wait_for

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
RESET = NOW - timedelta(minutes=2)


def session(sid="s1", *, reset=RESET, pane="%1", awaiting=True, last=RESET - timedelta(hours=1), state="waiting"):
    proc = ProcessInfo(pid=4242, started_at=NOW - timedelta(hours=3), tmux_pane=pane) if pane is not None else None
    return Session(id=sid, tool="claude", limit_resets_at=reset, process=proc, awaiting_user=awaiting, last_activity=last,
                   state=state)


def due(*sessions, now=NOW, auto=None):
    auto = auto or AutoContinue()
    return [t.session_id for t in auto.due(Snapshot(taken_at=now, sessions=sessions), now)]


def test_due_once_after_the_reset_and_its_grace():
    auto = AutoContinue()
    snap = Snapshot(taken_at=NOW, sessions=(session(),))
    assert [t.pane for t in auto.due(snap, NOW)] == ["%1"]
    assert auto.due(snap, NOW + timedelta(minutes=5)) == []  # never twice for the same reset
    assert due(session(reset=NOW - GRACE / 2)) == []  # inside the grace
    assert due(session(reset=NOW + timedelta(hours=1))) == []  # not reset yet


def test_not_due_when_someone_already_continued_or_there_is_no_pane():
    assert due(session(last=RESET + timedelta(minutes=1))) == []
    assert due(session(awaiting=False)) == []
    assert due(session(pane=None)) == []
    assert due(session(state="ended")) == []
    assert due(session(reset=None)) == []


def pane_target(run, cmd: str, *, child: bool = False, started_at=None) -> Target:
    """A pane running `cmd`; the target is the pane's process, or (child=True) the process
    it started, as an assistant under a shell would be."""
    pane = run("new-window", "-P", "-F", "#{pane_id}", cmd)
    pane_pid = int(run("display-message", "-p", "-t", pane, "#{pane_pid}"))
    kids = wait_for(lambda: psutil.Process(pane_pid).children()) if child else []
    pid = kids[0].pid if kids else pane_pid
    created = datetime.fromtimestamp(psutil.Process(pid).create_time(), UTC)
    return target_of(pane, pid, started_at or created)


def target_of(pane, pid, started_at) -> Target:
    return Target("s1", "claude s1", ProcessInfo(pid=pid, started_at=started_at, tmux_pane=pane, tool="claude"), RESET)


def test_types_continue_into_the_pane_that_holds_the_process(tmux_server, tmp_path):
    args, env, run = tmux_server
    out = tmp_path / "typed.txt"
    script = f"python3 -c \"import sys; open(\\\"{out}\\\", \\\"w\\\").write(sys.stdin.readline())\""
    target = pane_target(run, f"sh -c '{script}; sleep 30'", child=True)
    result = send_continue(target, tmux_args=args, env=env)
    assert result.ok, result.message
    assert wait_for(lambda: out.exists() and out.read_text() == "continue\n")


def test_refuses_a_pane_that_no_longer_holds_the_process(tmux_server):
    args, env, run = tmux_server
    target = pane_target(run, "sleep 30")
    other = subprocess.Popen(["sleep", "30"])
    try:
        moved = target_of(target.pane, other.pid, datetime.fromtimestamp(psutil.Process(other.pid).create_time(), UTC))
        assert "no longer runs" in str(verify(moved, args, env))
        assert not send_continue(moved, tmux_args=args, env=env).ok
    finally:
        other.kill()
        other.wait()


def test_refuses_a_reused_pid_a_gone_pane_and_copy_mode(tmux_server):
    args, env, run = tmux_server
    target = pane_target(run, "sleep 30")
    proc = target.process
    assert proc.started_at is not None
    reused = target_of(target.pane, proc.pid, proc.started_at - timedelta(hours=1))
    assert "pid reused" in str(verify(reused, args, env))
    gone = target_of("%999", proc.pid, proc.started_at)
    assert "%999 has no process" in str(verify(gone, args, env))
    run("copy-mode", "-t", target.pane)
    assert "copy mode" in str(verify(target, args, env))
    dead = target_of(target.pane, 2**22 + 7, proc.started_at)
    assert "no longer running" in str(verify(dead, args, env))
