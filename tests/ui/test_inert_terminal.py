"""Issue 8, finding 3 in a real terminal: the dashboard, run in a private tmux server over a
transcript whose title, folder and model carry escape sequences, shows them spelled out and
never lets them act on the terminal (a pane title set, a clipboard written).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import uuid

import pytest

from tests.tmux_helpers import kill_server, wait_for
from tests.unit.test_safe_output import hostile_home

# The dashboard exactly as `llm-session` builds it (dashboard.build_app), except that its
# process source is empty: the test must not list, let alone touch, the machine's processes.
RUN = """
import os
from llm_sessions.config import load_settings
from llm_sessions.dashboard import build_app
from llm_sessions.paths import app_paths
paths = app_paths()
env = dict(os.environ)
build_app(paths, load_settings(paths.config_file, env), env, None, pids=lambda: ()).run()
"""


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")
@pytest.mark.parametrize("size", [(80, 24), (40, 20)])
def test_dashboard_shows_escape_sequences_inert(tmp_path, size):
    env = hostile_home(tmp_path)
    env["TERM"] = "xterm-256color"
    name = f"llmsess-inert-{uuid.uuid4().hex[:10]}"

    def tmux(*args: str) -> str:
        return subprocess.run(["tmux", "-L", name, *args], capture_output=True, text=True, env=env, check=True).stdout

    w, h = size
    tmux("-f", "/dev/null", "new-session", "-d", "-s", "main", "-x", str(w), "-y", str(h),
         sys.executable, "-c", RUN)
    try:
        tmux("set-option", "-g", "allow-passthrough", "off")
        before = tmux("display-message", "-p", "-t", "main", "#{pane_title}")
        wait_for(lambda: "ended" in tmux("capture-pane", "-p", "-t", "main"), "the dashboard to start")
        tmux("send-keys", "-t", "main", "a")  # the transcript's session has ended: show all
        wait_for(lambda: "5f1c" in tmux("capture-pane", "-p", "-t", "main"), "the session row")
        tmux("send-keys", "-t", "main", "Enter")
        screen = wait_for(lambda: (s := tmux("capture-pane", "-p", "-t", "main")) and "Fix the" in s and s,
                          "the drilldown of the session")
        flat = " ".join(screen.split())  # wrapped lines joined
        assert "Fix the [/api] handler" in flat  # markup shown as text
        assert "\\x1b]0;PWNED\\x07" in flat  # the escape spelled out, not run
        assert tmux("display-message", "-p", "-t", "main", "#{pane_title}") == before
        assert "PWNED" not in tmux("display-message", "-p", "-t", "main", "#{pane_title}")
        tmux("send-keys", "-t", "main", "q")
    finally:
        kill_server(["-L", name], env)
