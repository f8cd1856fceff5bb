"""Restart plans run against a real private tmux server and real processes this test owns."""

from __future__ import annotations

import os
import shlex
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest

from llm_sessions.core.actions import restart as restart_mod
from llm_sessions.core.actions import targets as targets_mod
from llm_sessions.core.actions.launch import RestartError, continue_command
from llm_sessions.core.actions.restart import Tmux, execute, plan_restart, terminate
from llm_sessions.core.actions.targets import TargetError
from llm_sessions.core.export.build import build_bundle
from llm_sessions.core.export.transcript import read_digest
from llm_sessions.core.models import ProcessInfo
from tests.tmux_helpers import make_fakes, wait_for
from tests.transcript_factory import claude_session_file, codex_session_file
from tests.unit.test_export_bundle import make_session


def proc_info(p: psutil.Process, pane: str | None = None, pids: tuple[int, ...] = ()) -> ProcessInfo:
    return ProcessInfo(
        pid=p.pid, pids=pids or (p.pid,), name=p.name(), tool="claude", tmux_pane=pane,
        started_at=datetime.fromtimestamp(p.create_time(), tz=UTC),
    )


@pytest.fixture
def project(tmp_path) -> Path:
    # spaces and a quote in the folder name prove the commands are shell-quoted
    p = tmp_path / "my project's dir"
    p.mkdir()
    return p


def claude_bundle(tmp_path: Path, project: Path, **kw):
    path = claude_session_file(tmp_path / "home")
    session = make_session(path, cwd=str(project), **kw)
    return session, build_bundle(session, read_digest(path), sections={"goal", "todos", "answer"}, budget_tokens=8000, git_status=None)


def server(tmux_with_fakes) -> Tmux:
    return Tmux(tmux_with_fakes.socket_args, tmux_with_fakes.env)




def test_compact_is_typed_into_the_pane(tmp_path, tmux_with_fakes, project):
    typed = tmp_path / "typed.txt"
    pane = tmux_with_fakes.new_window(f"exec cat > {typed}", project)
    cat = psutil.Process(tmux_with_fakes.pane_pid(pane))
    session, bundle = claude_bundle(tmp_path, project, process=proc_info(cat, pane))
    plan = plan_restart(session, "compact", bundle, exports_dir=tmp_path / "exports", tmux=server(tmux_with_fakes))
    assert [s.key for s in plan.steps] == ["export", "compact"]
    assert plan.steps[1].destructive and "/compact" in plan.steps[1].description
    results = execute(plan)
    assert all(r.ok for r in results), results
    assert plan.brief_path.parent == tmp_path / "exports"  # a folder, created on demand
    assert plan.brief_path.exists() and plan.brief_path.with_suffix(".json").exists()
    wait_for(lambda: typed.exists() and "/compact" in typed.read_text(), "/compact typed into the pane")
    assert typed.read_text() == "/compact\n"


def test_fresh_in_tmux_stops_the_assistant_and_seeds_a_new_one(tmp_path, tmux_with_fakes, fakes, project):
    pane = tmux_with_fakes.new_window("sh", project)
    tmux_with_fakes.run("send-keys", "-t", pane, "-l", "sleep 301")
    tmux_with_fakes.run("send-keys", "-t", pane, "Enter")
    victim = tmux_with_fakes.child(pane, "sleep")
    session, bundle = claude_bundle(tmp_path, project, process=proc_info(victim, pane))
    plan = plan_restart(session, "fresh", bundle, exports_dir=tmp_path / "exports", tmux=server(tmux_with_fakes))
    assert [s.key for s in plan.steps] == ["export", "terminate", "launch"]
    assert f"pid {victim.pid}" in plan.steps[1].description
    results = execute(plan)
    assert all(r.ok for r in results), results
    assert not victim.is_running()
    cwd, args = wait_for(lambda: fakes.read("claude"), "the fresh claude to start")
    assert cwd == str(project)
    assert args == ["--", plan.brief_path.read_text().rstrip("\n")]
    assert "Add a CSV export to the reports page" in args[1]
    # the new claude runs in its own window; nothing was typed into the user's shell pane
    assert "claude" not in tmux_with_fakes.run("capture-pane", "-p", "-t", pane)


def test_resume_respawns_when_the_assistant_is_the_pane_process(tmp_path, tmux_with_fakes, fakes, project, monkeypatch):
    # tmux gives a respawned pane the PATH of the client that asked for it (us)
    monkeypatch.setenv("PATH", fakes.env()["PATH"])
    pane = tmux_with_fakes.new_window("exec sleep 302", project)
    victim = psutil.Process(tmux_with_fakes.pane_pid(pane))
    wait_for(lambda: victim.name() == "sleep", "the pane process to become sleep")
    path = codex_session_file(tmp_path / "home")
    session = make_session(path, tool="codex", cwd=str(project), process=proc_info(victim, pane))
    bundle = build_bundle(session, read_digest(path), sections={"goal"}, budget_tokens=8000, git_status=None)
    plan = plan_restart(session, "resume", bundle, exports_dir=tmp_path / "exports", tmux=server(tmux_with_fakes))
    assert [s.key for s in plan.steps] == ["export", "respawn"]
    results = execute(plan)
    assert all(r.ok for r in results), results
    cwd, args = wait_for(lambda: fakes.read("codex"), "codex resume to start")
    assert cwd == str(project) and args == ["resume", session.id]
    wait_for(lambda: not victim.is_running(), "the old pane process to be gone")


def test_outside_tmux_terminates_and_returns_the_exact_command(tmp_path, project):
    fakes = make_fakes(tmp_path / "f")
    child = subprocess.Popen(["sleep", "303"])
    try:
        session, bundle = claude_bundle(tmp_path, project, process=proc_info(psutil.Process(child.pid)))
        plan = plan_restart(session, "fresh", bundle, exports_dir=tmp_path / "exports")
        assert plan.where == "terminal"
        assert [s.key for s in plan.steps] == ["export", "terminate", "command"]
        results = execute(plan)
        assert all(r.ok for r in results), results
        child.wait()  # psutil may already have reaped it (it waits on its own children)
        assert not psutil.pid_exists(child.pid)
        assert results[1].message == f"sent SIGTERM to pid {child.pid}; it exited"
        quoted = "'" + str(project).replace("'", "'\"'\"'") + "'"
        assert plan.continue_command == f'cd -- {quoted} && claude -- "$(cat -- {plan.brief_path})"'
        assert results[-1].message == plan.continue_command
        # the printed command really works in a shell, quotes and all
        fake_env = fakes.env()
        shell = subprocess.Popen(["sh", "-c", plan.continue_command], env=fake_env, start_new_session=True)
        try:
            cwd, args = wait_for(lambda: fakes.read("claude"), "the printed command to start claude")
            assert cwd == str(project) and args == ["--", plan.brief_path.read_text().rstrip("\n")]
        finally:
            os.killpg(shell.pid, 15)  # the group this test created: sh and the fake claude
            shell.wait()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_other_users_process_is_never_signalled(tmp_path, monkeypatch):
    child = subprocess.Popen(["sleep", "304"])
    try:
        someone_else = os.getuid() + 4242
        monkeypatch.setattr(targets_mod.os, "getuid", lambda: someone_else)
        with pytest.raises(TargetError, match="another user"):
            terminate(proc_info(psutil.Process(child.pid)))
        assert child.poll() is None
    finally:
        child.kill()
        child.wait()


def test_reused_pid_is_never_signalled(tmp_path):
    child = subprocess.Popen(["sleep", "305"])
    try:
        info = proc_info(psutil.Process(child.pid))
        stale = ProcessInfo(pid=info.pid, started_at=datetime(2020, 1, 1, tzinfo=UTC))
        with pytest.raises(TargetError, match="pid reused"):
            terminate(stale)
        assert child.poll() is None
    finally:
        child.kill()
        child.wait()


def test_unconfirmed_destructive_step_stops_the_plan(tmp_path, project):
    child = subprocess.Popen(["sleep", "306"])
    try:
        session, bundle = claude_bundle(tmp_path, project, process=proc_info(psutil.Process(child.pid)))
        plan = plan_restart(session, "fresh", bundle, exports_dir=tmp_path / "exports")
        asked = []
        results = execute(plan, confirm=lambda step: asked.append(step.key) or False)
        assert asked == ["terminate"]
        assert [r.ok for r in results] == [True, False] and results[-1].skipped
        assert child.poll() is None
        assert plan.brief_path.exists()  # the export ran; it is never destructive
    finally:
        child.kill()
        child.wait()


def test_refusals(tmp_path, project):
    session, bundle = claude_bundle(tmp_path, project)
    with pytest.raises(RestartError, match="tmux pane"):
        plan_restart(session, "compact", bundle, exports_dir=tmp_path)
    with pytest.raises(RestartError, match="not supported"):
        plan_restart(session.with_(tool="aider"), "fresh", bundle, exports_dir=tmp_path)
    with pytest.raises(RestartError, match="unknown restart mode"):
        plan_restart(session, "reboot", bundle, exports_dir=tmp_path)  # type: ignore[arg-type]
    with pytest.raises(TargetError, match="itself"):
        terminate(ProcessInfo(pid=os.getpid(), started_at=datetime.now(UTC)))


def test_continue_commands():
    assert continue_command("claude", "/w", resume_id="abc") == "cd -- /w && claude --resume abc"
    assert continue_command("codex", None, resume_id="abc") == "codex resume abc"
    assert continue_command("codex", "/a b", brief_path=Path("/x/b.md")) == "cd -- '/a b' && codex -- \"$(cat -- /x/b.md)\""


def test_restart_planner_builds_the_bundle_once_and_finds_the_pane(tmp_path, project, tmux_with_fakes):
    path = claude_session_file(tmp_path / "home")
    pane = tmux_with_fakes.new_window("sh", project)
    socket = tmux_with_fakes.run("display-message", "-p", "#{socket_path}")
    sleeper = subprocess.Popen(["sleep", "308"])
    session = make_session(path, cwd=str(project), process=proc_info(psutil.Process(sleeper.pid), pane))
    planner = restart_mod.restart_planner(
        session, exports_dir=tmp_path / "exports", budget_tokens=4000, env={"TMUX": f"{socket},1,0"},
    )
    compact = planner("compact")
    fresh = planner("fresh")
    assert compact.where == "tmux" and compact.brief_path == fresh.brief_path
    assert [s.key for s in fresh.steps] == ["export", "terminate", "launch"]
    assert compact.steps[0].run().startswith("wrote ")
    assert "Add a CSV export" in compact.brief_path.read_text()
    outside = restart_mod.restart_planner(session.with_(process=None), exports_dir=tmp_path / "x", budget_tokens=4000)
    assert outside("resume").continue_command == f"cd -- {shlex.quote(str(project))} && claude --resume {session.id}"
    sleeper.kill()
    sleeper.wait()


def test_export_step_keeps_a_brief_the_wizard_just_wrote(tmp_path, project):
    from llm_sessions.core.export.bundle import write_bundle

    session, bundle = claude_bundle(tmp_path, project)
    exports = tmp_path / "exports"
    [md] = write_bundle(bundle, exports, "md", folder=True)
    plan = plan_restart(session, "fresh", bundle, exports_dir=exports)
    assert plan.brief_path == md
    result = execute(plan)[0]
    assert result.ok, result
    assert result.message == f"wrote {md.with_suffix('.json')}; already exported {md}"
    md.write_text("edited by hand")
    again = execute(plan_restart(session, "fresh", bundle, exports_dir=exports))[0]
    assert not again.ok and "exists" in again.message and md.read_text() == "edited by hand"
