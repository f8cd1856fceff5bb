"""Demo process management with real children; the synth run is skipped until it lands."""

from __future__ import annotations

import importlib.util
import signal
import sys
import time
from pathlib import Path

import pytest

from llm_sessions.demo import DEFAULT_SESSIONS, Demo, DemoSession, demo_env, synth_command

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]


def test_env_moves_home_and_drops_real_overrides(tmp_path):
    base = {"HOME": "/home/someone", "CLAUDE_CONFIG_DIR": "/home/someone/.claude", "CODEX_HOME": "/home/someone/.codex", "PATH": "/usr/bin"}
    env = demo_env(tmp_path, base)
    assert env["HOME"] == str(tmp_path)
    assert "CLAUDE_CONFIG_DIR" not in env and "CODEX_HOME" not in env
    assert env["PATH"] == "/usr/bin"
    assert env["LLM_SESSION_HOME"].startswith(str(tmp_path))


def test_synth_command_follows_the_contract(tmp_path):
    spec = DemoSession("codex", "sid", "proj", 0.5, 7)
    cmd = synth_command(spec, tmp_path, tmp_path / "proj")
    assert cmd[1:3] == ["-m", "llm_sessions.synth.live"]
    args = dict(zip(cmd[3::2], cmd[4::2], strict=True))
    assert args == {"--tool": "codex", "--home": str(tmp_path), "--cwd": str(tmp_path / "proj"),
                    "--session-id": "sid", "--pace": "0.5", "--seed": "7"}


def test_children_start_in_the_temp_home_and_stop_with_the_block():
    seen_cwds = []

    def command(spec, home, cwd):
        seen_cwds.append(cwd)
        return SLEEPER

    with Demo(DEFAULT_SESSIONS[:2], command=command) as demo:
        home = demo.home
        procs = list(demo.processes)
        assert len(procs) == 2 and all(p.poll() is None for p in procs)
        assert all(Path(c).is_dir() and str(c).startswith(str(home)) for c in seen_cwds)
    assert all(p.returncode is not None for p in procs)
    assert not home.exists()
    demo.stop()  # idempotent


def test_children_stop_when_the_block_raises():
    with pytest.raises(RuntimeError):
        with Demo(DEFAULT_SESSIONS[:1], command=lambda *a: SLEEPER) as demo:
            procs = list(demo.processes)
            raise RuntimeError("app crashed")
    assert all(p.returncode is not None for p in procs)


def test_a_child_that_ignores_sigterm_is_killed(tmp_path):
    ready = tmp_path / "ready"
    stubborn = [sys.executable, "-c",
                "import pathlib, signal, sys, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                "pathlib.Path(sys.argv[1]).touch(); time.sleep(60)", str(ready)]
    demo = Demo(DEFAULT_SESSIONS[:1], command=lambda *a: stubborn, stop_wait=0.5)
    demo.start()
    proc = demo.processes[0]
    deadline = time.monotonic() + 20
    while not ready.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert ready.exists()
    demo.stop()
    assert proc.returncode == -signal.SIGKILL


def synth_available() -> bool:
    try:
        return importlib.util.find_spec("llm_sessions.synth.live") is not None
    except ModuleNotFoundError:
        return False


@pytest.mark.skipif(not synth_available(), reason="llm_sessions.synth.live has not landed yet")
def test_synth_sessions_write_transcripts_under_the_temp_home():
    with Demo(DEFAULT_SESSIONS[:2]) as demo:
        home = demo.home
        deadline = time.monotonic() + 20
        files: list[Path] = []
        while time.monotonic() < deadline and not files:
            files = list(home.rglob("*.jsonl"))
            time.sleep(0.2)
        assert files, "the synth sessions wrote no transcript"
        assert all(p.poll() is None for p in demo.processes)
