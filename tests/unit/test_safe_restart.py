"""Issue 8, findings 2 and 5: restart never types transcript data into a pane, and stops only
the processes its plan names.

Real private tmux servers and real processes started by the tests; nothing else is touched.
"""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest

from llm_sessions.core.actions.restart import execute, plan_restart
from llm_sessions.core.actions.targets import TargetError, Tmux
from llm_sessions.core.export.build import build_bundle
from llm_sessions.core.export.transcript import read_digest
from llm_sessions.core.models import ProcessInfo
from tests.tmux_helpers import wait_for
from tests.transcript_factory import claude_session_file, codex_session_file
from tests.unit.test_export_bundle import make_session


def info(p: psutil.Process, pane: str | None = None, pids: tuple[int, ...] = (), tool: str = "claude") -> ProcessInfo:
    return ProcessInfo(
        pid=p.pid, pids=pids or (p.pid,), tool=tool, tmux_pane=pane,
        started_at=datetime.fromtimestamp(p.create_time(), tz=UTC),
    )


def bundle_for(session, path: Path):
    return build_bundle(session, read_digest(path), sections={"goal"}, budget_tokens=4000, git_status=None)


@pytest.mark.parametrize("char", ["\x15", "\x1b", "\n", "\x7f"])
def test_a_folder_with_a_control_character_is_refused_before_anything_runs(tmp_path, char):
    """Ctrl-U (\\x15) in a typed line erases the quoted `cd '` before it; the rest would run."""
    evil = f"/tmp/x{char}touch {tmp_path}/pwned; echo '"
    path = claude_session_file(tmp_path / "home")
    session = make_session(path, cwd=evil)
    for mode in ("fresh", "resume"):
        with pytest.raises(TargetError, match="control character") as caught:
            plan_restart(session, mode, bundle_for(session, path), exports_dir=tmp_path / "exports")
        assert char not in str(caught.value)  # the message shows it spelled out, inert
    assert not (tmp_path / "exports").exists() and not (tmp_path / "pwned").exists()


def test_an_id_that_is_not_plain_is_refused(tmp_path):
    path = claude_session_file(tmp_path / "home")
    session = make_session(path, cwd=str(tmp_path)).with_(id="--settings=/tmp/hooks.json")
    with pytest.raises(TargetError, match="not a plain id"):
        plan_restart(session, "resume", bundle_for(session, path), exports_dir=tmp_path / "exports")


def test_respawn_passes_the_folder_literally_and_types_nothing(tmp_path, tmux_with_fakes, fakes, monkeypatch):
    """tmux expands `-c` as a format, so `#(cmd)` in a folder name used to run cmd."""
    monkeypatch.setenv("PATH", fakes.env()["PATH"])  # tmux gives a respawned pane our PATH
    # $FAKE_ASSISTANT_OUT is in the tmux server's environment: a slash-free way to name a
    # marker file inside a folder name
    marker = Path(fakes.env()["FAKE_ASSISTANT_OUT"] + ".pwned")
    project = tmp_path / "repo #(touch $FAKE_ASSISTANT_OUT.pwned) $(touch $FAKE_ASSISTANT_OUT.pwned2) 'q"
    project.mkdir()
    pane = tmux_with_fakes.new_window("exec sleep 309", tmp_path)
    victim = psutil.Process(tmux_with_fakes.pane_pid(pane))
    wait_for(lambda: victim.name() == "sleep", "the pane process to become sleep")
    path = codex_session_file(tmp_path / "home")
    session = make_session(path, tool="codex", cwd=str(project), process=info(victim, pane, tool="codex"))
    plan = plan_restart(session, "resume", bundle_for(session, path), exports_dir=tmp_path / "exports",
                        tmux=Tmux(tmux_with_fakes.socket_args, tmux_with_fakes.env))
    assert [s.key for s in plan.steps] == ["export", "respawn"]
    results = execute(plan)
    assert all(r.ok for r in results), results
    cwd, args = wait_for(lambda: fakes.read("codex"), "codex resume to start")
    assert cwd == str(project) and args == ["resume", session.id]
    assert not marker.exists() and not Path(f"{marker}2").exists()


def test_seeded_brief_is_a_prompt_never_an_option(tmp_path, tmux_with_fakes, fakes):
    """A brief that begins like an option reaches the assistant after `--`, via a file."""
    pane = tmux_with_fakes.new_window("sh", tmp_path)
    tmux_with_fakes.run("send-keys", "-t", pane, "-l", "sleep 311")
    tmux_with_fakes.run("send-keys", "-t", pane, "Enter")
    victim = tmux_with_fakes.child(pane, "sleep")
    path = claude_session_file(tmp_path / "home")
    session = make_session(path, cwd=str(tmp_path), process=info(victim, pane))
    bundle = bundle_for(session, path)
    hostile = bundle.__class__(**{**bundle.__dict__, "markdown": "--settings=/tmp/hooks.json\n" + bundle.markdown})
    plan = plan_restart(session, "fresh", hostile, exports_dir=tmp_path / "exports",
                        tmux=Tmux(tmux_with_fakes.socket_args, tmux_with_fakes.env))
    results = execute(plan)
    assert all(r.ok for r in results), results
    _cwd, args = wait_for(lambda: fakes.read("claude"), "the fresh claude to start")
    assert args[0] == "--" and args[1].startswith("--settings=/tmp/hooks.json")


def test_stop_signals_only_the_processes_the_plan_names(tmp_path):
    """Finding 5: discovery's pid list may hold a pid that ended and was reused by something
    unrelated; only the head and its real descendants are named, checked and signalled."""
    head = subprocess.Popen(["sh", "-c", "sleep 312 & wait"])
    bystander = subprocess.Popen(["sleep", "313"])
    try:
        child = wait_for(lambda: next(iter(psutil.Process(head.pid).children()), None), "the head's child")
        path = claude_session_file(tmp_path / "home")
        recorded = (head.pid, child.pid, bystander.pid)
        session = make_session(path, cwd=str(tmp_path), process=info(psutil.Process(head.pid), pids=recorded))
        plan = plan_restart(session, "fresh", bundle_for(session, path), exports_dir=tmp_path / "exports")
        stop = next(s for s in plan.steps if s.key == "terminate")
        assert f"pid {head.pid} and its child process {child.pid}" in stop.description
        assert str(bystander.pid) not in stop.description
        results = execute(plan)
        assert all(r.ok for r in results), results
        assert head.wait(timeout=10) is not None
        assert not child.is_running()
        assert bystander.poll() is None  # listed by discovery, never shown, never signalled
    finally:
        for p in (head, bystander):
            if p.poll() is None:
                p.kill()
            p.wait()


def test_stop_refuses_a_process_of_another_user(tmp_path):
    import os

    if os.getuid() != 0:
        pytest.skip("starting a process as another user needs root")
    other = subprocess.Popen(["sleep", "314"], user=65534, group=65534)
    try:
        path = claude_session_file(tmp_path / "home")
        session = make_session(path, cwd=str(tmp_path), process=info(psutil.Process(other.pid)))
        with pytest.raises(TargetError, match="another user"):
            plan_restart(session, "fresh", bundle_for(session, path), exports_dir=tmp_path / "exports")
        assert other.poll() is None
    finally:
        other.kill()
        other.wait()
