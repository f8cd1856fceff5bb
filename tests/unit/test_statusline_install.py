"""`statusline --install/--uninstall` on Claude Code's settings.json, in a temporary home."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from llm_sessions.core.actions import statusline_install as si

PROGRAM = ["/opt/bin/llm-session"]


def settings(home: Path, data=None, raw: str | None = None) -> Path:
    path = home / ".claude" / "settings.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    if raw is not None:
        path.write_text(raw)
    elif data is not None:
        path.write_text(json.dumps(data, indent=2))
    return path


def test_settings_path_follows_claude_config_dir(tmp_path):
    assert si.settings_path({"HOME": str(tmp_path)}) == tmp_path / ".claude" / "settings.json"
    assert si.settings_path({"HOME": "/x", "CLAUDE_CONFIG_DIR": f"{tmp_path}/a, {tmp_path}/b"}) == tmp_path / "a" / "settings.json"


def test_install_into_a_missing_file_and_uninstall_removes_the_key(tmp_path):
    path = tmp_path / ".claude" / "settings.json"
    plan = si.plan_install(path, PROGRAM)
    assert plan.changes and plan.before is None
    assert si.apply(plan) is None  # nothing to back up
    data = json.loads(path.read_text())
    assert data == {"statusLine": {"type": "command", "command": "/opt/bin/llm-session statusline", "padding": 0}}
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert not si.plan_install(path, PROGRAM).changes  # already installed
    undo = si.plan_uninstall(path)
    si.apply(undo)
    assert json.loads(path.read_text()) == {}


def test_existing_status_line_is_chained_and_restored_exactly(tmp_path):
    old = {"type": "command", "command": "bash ~/.claude/my line.sh --x 'a b'", "padding": 2}
    path = settings(tmp_path, {"model": "opus", "statusLine": old, "hooks": {"Stop": []}})
    plan = si.plan_install(path, PROGRAM)
    assert "chain the existing status line" in plan.message
    backup = si.apply(plan)
    assert backup is not None and json.loads(backup.read_text())["statusLine"] == old
    data = json.loads(path.read_text())
    assert list(data) == ["model", "statusLine", "hooks"]  # order and other keys kept
    words = shlex.split(data["statusLine"]["command"])
    assert words == [*PROGRAM, "statusline", "--chain", old["command"]]
    assert data["statusLine"]["padding"] == 2
    si.apply(si.plan_uninstall(path))
    assert json.loads(path.read_text()) == {"model": "opus", "statusLine": old, "hooks": {"Stop": []}}


def test_uninstall_leaves_someone_elses_status_line_alone(tmp_path):
    path = settings(tmp_path, {"statusLine": {"type": "command", "command": "ccusage statusline"}})
    plan = si.plan_uninstall(path)
    assert not plan.changes and "nothing to undo" in plan.message


@pytest.mark.parametrize("raw", ["{not json", "[1, 2]", '{"statusLine": "a string"}'])
def test_a_file_we_cannot_read_safely_is_never_touched(tmp_path, raw):
    path = settings(tmp_path, raw=raw)
    with pytest.raises(si.InstallError):
        si.plan_install(path, PROGRAM)
    assert path.read_text() == raw


@pytest.mark.parametrize("command, want", [
    ("/usr/local/bin/llm-session statusline", True),
    ("llm-session statusline --chain 'echo hi'", True),
    ("/venv/bin/python -m llm_sessions statusline", True),
    ("ccusage statusline", False),
    ("llm-session list", False),
    ("echo 'unbalanced", False),
    (None, False),
])
def test_which_commands_are_ours(command, want):
    assert si.ours(command) is want


def test_describe_shows_before_and_after(tmp_path):
    path = settings(tmp_path, {"statusLine": {"type": "command", "command": "echo hi"}})
    text = si.describe(si.plan_install(path, PROGRAM))
    assert str(path) in text and '"command": "echo hi"' in text and "--chain" in text


# -- the CLI, as a user runs it ------------------------------------------------------------


def cli(args, home: Path, stdin: str | None = None):
    env = {k: v for k, v in os.environ.items() if k not in ("CLAUDE_CONFIG_DIR",)}
    env.update(HOME=str(home), LLM_SESSION_HOME=str(home / ".ls"))
    return subprocess.run([sys.executable, "-m", "llm_sessions", "statusline", *args], env=env, input=stdin,
                          capture_output=True, text=True, timeout=60)


def test_cli_install_asks_and_refuses_without_a_terminal(tmp_path):
    path = settings(tmp_path, {"statusLine": {"type": "command", "command": "echo mine"}})
    before = path.read_text()
    out = cli(["--install"], tmp_path, stdin="")
    assert out.returncode == 2 and "--yes" in out.stderr
    assert "statusLine after" in out.stdout and path.read_text() == before
    dry = cli(["--install", "--dry-run"], tmp_path)
    assert dry.returncode == 0 and path.read_text() == before


def test_cli_install_and_uninstall_with_yes(tmp_path):
    path = settings(tmp_path, {"statusLine": {"type": "command", "command": "echo mine"}})
    done = cli(["--install", "--yes", "--json"], tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["applied"] and Path(report["backup"]).exists()
    command = json.loads(path.read_text())["statusLine"]["command"]
    assert "statusline --chain" in command
    # the installed command really works: Claude Code runs it through a shell
    feed = '{"session_id": "x", "rate_limits": {"five_hour": {"used_percentage": 10}}}'
    shown = subprocess.run(command, shell=True,  # noqa: S602 - as Claude Code runs it
                           input=feed, capture_output=True, text=True,
                           env={**os.environ, "HOME": str(tmp_path), "LLM_SESSION_HOME": str(tmp_path / ".ls")})
    assert shown.returncode == 0 and shown.stdout == "mine | 5h 10%\n"
    undone = cli(["--uninstall", "--yes"], tmp_path)
    assert undone.returncode == 0 and json.loads(path.read_text())["statusLine"]["command"] == "echo mine"
    assert "backup" in undone.stdout
