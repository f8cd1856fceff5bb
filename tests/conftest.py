"""Shared fixtures: every test runs against a private, generated home.

The developer's own assistant may be running on this machine with its own files in the real
home; no test may see them. `fake_home` points HOME and every assistant's root variable at a
temporary folder, and LLM_SESSION_HOME keeps our own config, data and cache there too.
"""

from __future__ import annotations

import pytest

# Fixtures other modules define, registered for every test (a test names one as a parameter):
# the store's `db_url`, `pg_url`, `pg_server`; the action tests' private tmux server
# (`tmux_server`) and spawned `sleeper`; the launch tests' tmux server whose PATH holds fake
# assistants (`tmux_with_fakes`, `fakes`).
# tmux_helpers before actions_support, which imports it: a plugin imported first is not assert-rewritten.
pytest_plugins = ("tests.pg_fixture", "tests.tmux_helpers", "tests.actions_support")

ROOT_VARS = (
    "CLAUDE_CONFIG_DIR",
    "CODEX_HOME",
    "XDG_CONFIG_HOME",
    "GEMINI_DIR",
    "COPILOT_HOME",
    "CURSOR_USER_DIR",
    "LLM_SESSION_CONFIG_DIR",
)


@pytest.fixture(autouse=True)
def fake_home(tmp_path_factory, monkeypatch):
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    for var in ROOT_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("LLM_SESSION_HOME", str(home / ".llm-session"))
    for var in list(__import__("os").environ):
        if var.startswith("LLM_SESSION_") and var != "LLM_SESSION_HOME":
            monkeypatch.delenv(var, raising=False)
    return home

