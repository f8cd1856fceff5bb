"""Shell completion and the one JSON error shape, run as the shell and scripts run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "llm_sessions", *args], env=env, capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def env(fake_home) -> dict[str, str]:
    return dict(os.environ)


def complete(env: dict[str, str], words: str) -> list[str]:
    """What bash's completion function gets back for the command line `words` (cursor at its end)."""
    parts = words.split(" ")
    asked = {**env, "_LLM_SESSION_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(len(parts) - 1)}
    proc = subprocess.run([sys.executable, "-m", "llm_sessions"], env=asked, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.split()


def test_completion_offers_every_command_export_and_import_included(env):
    assert complete(env, "llm-session h") == ["health", "history"]
    # export and import are registered lazily; completion must still see them
    assert complete(env, "llm-session e") == ["export"]
    assert complete(env, "llm-session i") == ["import"]
    assert set(complete(env, "llm-session list --")) == {"--all", "--no-processes", "--json", "--help"}
    assert set(complete(env, "llm-session config ")) == {"init", "show", "path"}


def test_install_completion_writes_only_under_home(env, fake_home):
    # Typer detects the shell from the parent process; its test switch lets the shell be named
    asked = {**env, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    script = run(["--show-completion", "zsh"], asked)
    assert script.returncode == 0, script.stderr
    assert script.stdout.startswith("#compdef llm-session") and "_LLM_SESSION_COMPLETE" in script.stdout
    proc = run(["--install-completion", "bash"], asked)
    assert proc.returncode == 0, proc.stderr
    assert "bash completion installed in" in proc.stdout
    written = sorted(p for p in fake_home.rglob("*") if p.is_file() and ".llm-session" not in p.parts)
    assert [p.relative_to(fake_home).as_posix() for p in written] == [".bash_completions/llm-session.sh", ".bashrc"]
    assert "_LLM_SESSION_COMPLETE=complete_bash" in written[0].read_text()
    assert str(written[0]) in written[1].read_text()


def test_every_json_error_has_one_shape_and_keeps_non_ascii(env):
    """cli_export's errors and the other commands' come from one function: same keys, same
    spelling of a name that is not ASCII (it is printed as is, not as \\u escapes)."""
    shapes = []
    for args in (["export", "zéro", "--json"], ["health", "zéro", "--all", "--no-processes", "--json"]):
        proc = run(args, env)
        assert proc.returncode == 2, proc.stderr
        line = proc.stdout.strip()
        answer = json.loads(line)
        assert answer["ok"] is False and answer["exit_code"] == 2 and "zéro" in answer["error"]
        assert "zéro" in line  # not "z\\u00e9ro"
        shapes.append(list(answer))
    assert shapes[0] == shapes[1] == ["ok", "error", "exit_code"]
