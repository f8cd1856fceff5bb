"""Issue 8, findings 3, 6 and 8 through the real command line: outside strings reach the
terminal inert, everything llm-session writes is private, and the demo sees only itself.

Every run points HOME and LLM_SESSION_HOME at a temporary folder holding a hostile
transcript; processes are the test's own.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.transcript_factory import ClaudeWriter

RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
OSC_TITLE = "\x1b]0;PWNED\x07"
OSC_CLIP = "\x1b]52;c;cm0gLXJmIH4=\x07"
REPO = Path(__file__).resolve().parents[2]


def hostile_home(root: Path) -> dict[str, str]:
    """A HOME whose one Claude transcript carries escape sequences in its cwd, model,
    branch and title, as a repository or tool output could put them there."""
    w = ClaudeWriter(
        cwd=f"/home/dev/proj{OSC_TITLE}",
        model=f"claude-sonnet-4-5{OSC_CLIP}",
        branch=f"main\x1b[2J",
    )
    w.add({"type": "summary", "summary": f"Fix the [/api] handler{OSC_TITLE}", "leafUuid": "u-9"})
    w.user(f"hello {OSC_CLIP}")
    w.text("hi")
    w.raw("{not json")  # counted as a problem, which the CLI logs: the log file exists too
    w.write(root / ".claude" / "projects" / "-home-dev-proj")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE_", "CODEX_", "XDG_", "LLM_SESSION", "TMUX"))}
    env.update(HOME=str(root), LLM_SESSION_HOME=str(root / ".lsh"), PYTHONPATH=str(REPO))
    return env


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "llm_sessions", *args], capture_output=True, text=True, env=env,
                          timeout=120)


@pytest.mark.parametrize("args", [("list", "--all"), ("health", "--all"), ("history",), ("health", "5f1c2a9e")])
def test_cli_output_is_inert(tmp_path, args):
    env = hostile_home(tmp_path)
    done = run_cli(env, *args)
    assert done.returncode == 0, done.stderr
    out = done.stdout + done.stderr
    assert not RAW_CONTROL.search(out.replace("\n", "").replace("\t", "")), out
    assert "\\x1b]0;PWNED\\x07" in out or "\\x1b" in out  # shown, spelled out


def test_json_output_stays_exact_and_valid(tmp_path):
    import json

    env = hostile_home(tmp_path)
    done = run_cli(env, "list", "--all", "--no-processes", "--json")  # (this machine's processes aside)
    [row] = json.loads(done.stdout)["sessions"]
    assert row["cwd"] == f"/home/dev/proj{OSC_TITLE}"  # data is data: escaped by JSON, not altered
    assert "\x1b" not in done.stdout


def modes(root: Path) -> dict[str, int]:
    out = {}
    for dirpath, dirs, files in os.walk(root):
        for name in dirs + files:
            p = Path(dirpath) / name
            out[str(p.relative_to(root))] = stat.S_IMODE(p.lstat().st_mode)
    return out


def test_everything_written_is_private(tmp_path):
    """Finding 8: the store, the scan cache and the log were 0644 in 0755 folders."""
    env = hostile_home(tmp_path)
    lsh = tmp_path / ".lsh"
    assert run_cli(env, "list", "--all").returncode == 0
    assert run_cli(env, "history").returncode == 0
    assert run_cli(env, "export", "5f1c2a9e", "-f", "both").returncode == 0
    seen = modes(lsh)
    names = " ".join(seen)
    assert "llm-session.db" in names and "scan-" in names and ".md" in names and ".json" in names
    assert "llm-session.log" in names
    for rel, mode in seen.items():
        expected = 0o700 if (lsh / rel).is_dir() else 0o600
        assert mode == expected, f"{rel} is {oct(mode)}"


def test_an_older_install_left_open_is_tightened(tmp_path):
    env = hostile_home(tmp_path)
    lsh = tmp_path / ".lsh"
    for sub in ("data", "cache", "log", "data/exports"):
        (lsh / sub).mkdir(parents=True, exist_ok=True)
        (lsh / sub).chmod(0o755)
    for f in ("data/llm-session.db", "cache/scan-cache.msgpack", "log/llm-session.log", "data/exports/old.md"):
        (lsh / f).write_bytes(b"")
        (lsh / f).chmod(0o644)
    (lsh / "data" / "llm-session.db").unlink()  # let the store create a real one
    assert run_cli(env, "history").returncode == 0
    for rel, mode in modes(lsh).items():
        if rel.startswith(("data", "cache", "log")):
            assert mode == (0o700 if (lsh / rel).is_dir() else 0o600), f"{rel} is {oct(mode)}"


def test_the_demo_sees_only_its_own_children(tmp_path):
    """Finding 6: `--demo` listed the machine's real assistants and its keys acted on them."""
    from llm_sessions.config import load_settings
    from llm_sessions.dashboard import build_app
    from llm_sessions.demo import DEFAULT_SESSIONS, Demo
    from llm_sessions.paths import app_paths

    fake = tmp_path / "bin" / "claude"
    fake.parent.mkdir()
    fake.symlink_to(shutil.which("sleep"))
    outsider = subprocess.Popen([str(fake), "315"])  # an "assistant" outside the demo
    try:
        with Demo(DEFAULT_SESSIONS[:1]) as demo:
            env = demo.env
            paths = app_paths(env)
            app = build_app(paths, load_settings(paths.config_file, env), env, None, demo=demo)
            pids: set[int] = set()
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                snap = app.monitor.poll()
                pids = {p for s in snap.sessions if s.process for p in (s.process.pid, *s.process.pids)}
                if pids:
                    break
                time.sleep(0.3)
            assert pids and pids <= set(demo.process_tree())  # the demo's own session, live
            assert outsider.pid not in pids
            assert all(s.process is None or s.process.tmux_pane is None for s in snap.sessions)
    finally:
        outsider.kill()
        outsider.wait()
