"""A dashboard in a private tmux server, driven by keys and read back from the screen.

Every test gets its own server (`tmux -L <unique>`, killed at the end, never another), a
temporary HOME with every assistant's folder inside it, generated transcripts written with
timestamps around *now*, and fake assistants (the Python interpreter under the name
`claude` or `codex`, from tests.unit.conftest.Spawner) whose pids are the only ones the
dashboard's discovery may look at (tests.terminal.launch).

Nothing here sleeps a fixed time to let the app catch up: `wait_for` re-reads the screen
until what the test expects is there (or a generous limit passes, for a loaded 2-core
machine), and a failure prints the screen it last saw.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from llm_sessions.core.accounting.roots import encode_cwd
from tests.tmux_helpers import kill_server
from tests.unit.claude_lines import assistant, compact, user, write
from tests.unit.conftest import Spawner

ROOT = Path(__file__).resolve().parents[2]
_SGR = re.compile(r"\x1b\[([0-9;]*)m")
LIMIT = 45.0  # seconds: a bound for a loaded machine, never a timing assertion
SIZES = [(40, 20), (80, 24), (120, 36)]


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


@dataclass
class Live:
    """A generated session: its id, folder, transcript and (when running) fake process."""

    id: str
    tool: str
    cwd: Path
    transcript: Path | None
    proc: subprocess.Popen | None = None

    @property
    def short(self) -> str:
        return self.id[:8]

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid


@dataclass
class World:
    """A temporary HOME with assistants' files and the fake processes the dashboard may see."""

    root: Path
    spawner: Spawner
    sessions: list[Live] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.home = self.root / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.pids_file = self.root / "pids"
        self.pids_file.write_text("")
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("LLM_SESSION_", "TMUX", "XDG_"))}
        self.env.update(
            HOME=str(self.home),
            CLAUDE_CONFIG_DIR=str(self.home / ".claude"),
            CODEX_HOME=str(self.home / ".codex"),
            XDG_CONFIG_HOME=str(self.home / ".config"),
            XDG_DATA_HOME=str(self.home / ".local" / "share"),
            XDG_CACHE_HOME=str(self.home / ".cache"),
            XDG_STATE_HOME=str(self.home / ".local" / "state"),
            LLM_SESSION_HOME=str(self.home / ".llm-session"),
            LLM_SESSION_GENERAL_REFRESH_SECONDS="1",
            PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
            # the private server's socket lives in the test's folder, so nothing is left behind
            TMUX_TMPDIR=str(self.root),
            TERM="xterm-256color",
            COLORTERM="truecolor",
        )
        for var in ("GEMINI_DIR", "COPILOT_HOME", "CURSOR_USER_DIR"):
            self.env.pop(var, None)

    @property
    def exports(self) -> Path:
        from llm_sessions.paths import app_paths

        return app_paths(self.env).exports_dir

    def project(self, name: str) -> Path:
        path = self.root / "projects" / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def publish(self) -> None:
        """Tell the dashboard which pids are ours (read on every poll)."""
        pids = [s.proc.pid for s in self.sessions if s.proc is not None and s.proc.poll() is None]
        tmp = self.pids_file.with_suffix(".tmp")
        tmp.write_text(" ".join(map(str, pids)))
        tmp.replace(self.pids_file)

    # -- Claude Code ---------------------------------------------------------------------
    def claude_path(self, cwd: Path, sid: str) -> Path:
        return self.home / ".claude" / "projects" / encode_cwd(os.path.realpath(cwd)) / f"{sid}.jsonl"

    def claude(self, name: str, *, contexts: list[int], running: bool = True, ago: timedelta = timedelta(0),
               compaction_after: int | None = None, prompt: str = "make the export button work") -> Live:
        """A Claude session whose turns had `contexts` tokens of context; the last turn `ago` ago."""
        cwd = self.project(name)
        sid = str(uuid.uuid4())
        proc = None
        if running:
            proc = self.spawner.spawn("claude", cwd=cwd)
            pid_file = self.home / ".claude" / "sessions" / f"{proc.pid}.json"
            pid_file.parent.mkdir(parents=True, exist_ok=True)
            pid_file.write_text(json.dumps({"pid": proc.pid, "sessionId": sid, "cwd": os.path.realpath(cwd)}))
        end = datetime.now(UTC) - ago
        start = end - timedelta(minutes=2 * len(contexts))
        records = []
        for i, ctx in enumerate(contexts):
            at = start + timedelta(minutes=2 * i)
            records.append(user(iso(at), prompt if i == 0 else f"next step {i}", sid=sid, uuid=f"{sid}-u{i}"))
            records.append(assistant(f"{sid}-m{i}", f"r{i}", iso(at + timedelta(seconds=30)), inp=50, out=400, cr=ctx,
                                     sid=sid, cwd=str(cwd), stop="end_turn", uuid=f"{sid}-a{i}"))
            if compaction_after is not None and i == compaction_after:
                records.append(compact(iso(at + timedelta(seconds=40)), 30_000, sid=sid))
        path = write(self.claude_path(cwd, sid), records)
        live = Live(sid, "claude", cwd, path, proc)
        self.sessions.append(live)
        self.publish()
        return live

    def claude_turn(self, live: Live, context: int) -> None:
        """Append one finished turn with `context` tokens of context, stamped now."""
        assert live.transcript is not None
        n = sum(1 for _ in live.transcript.open())
        now = datetime.now(UTC)
        write(live.transcript, [
            user(iso(now - timedelta(seconds=2)), "and now the tests", sid=live.id, uuid=f"{live.id}-x{n}"),
            assistant(f"{live.id}-mx{n}", f"rx{n}", iso(now), inp=50, out=400, cr=context, sid=live.id,
                      cwd=str(live.cwd), stop="end_turn", uuid=f"{live.id}-ax{n}"),
        ], mode="a")

    def bare(self, tool: str, name: str) -> Live:
        """A running assistant with no transcript yet: a `pid N` row."""
        cwd = self.project(name)
        proc = self.spawner.spawn(tool, cwd=cwd)
        live = Live(f"{tool}-pid{proc.pid}", tool, cwd, None, proc)
        self.sessions.append(live)
        self.publish()
        return live

    # -- Codex CLI -----------------------------------------------------------------------
    def codex(self, name: str, *, contexts: list[int]) -> Live:
        """A running Codex session: a rollout its fake process holds open."""
        cwd = self.project(name)
        sid = str(uuid.uuid4())
        now = datetime.now(UTC)
        start = now - timedelta(minutes=2 * len(contexts))
        path = self.home / ".codex" / "sessions" / f"{start:%Y/%m/%d}" / f"rollout-{start:%Y-%m-%dT%H-%M-%S}-{sid}.jsonl"
        lines = [
            {"timestamp": iso(start), "type": "session_meta", "payload": {"id": sid, "timestamp": iso(start), "cwd": str(cwd),
                                                                           "cli_version": "0.46.0", "originator": "codex_cli_rs"}},
            {"timestamp": iso(start), "type": "turn_context", "payload": {"cwd": str(cwd), "model": "gpt-5-codex"}},
        ]
        total = 0
        for i, ctx in enumerate(contexts):
            at = iso(start + timedelta(minutes=2 * i + 1))
            total += ctx
            usage = {"input_tokens": ctx - 200, "cached_input_tokens": 0, "output_tokens": 200, "reasoning_output_tokens": 0,
                     "total_tokens": ctx}
            cum = dict(usage, input_tokens=total, total_tokens=total + 200 * (i + 1))
            lines.append({"timestamp": at, "type": "event_msg", "payload": {"type": "user_message", "message": f"step {i}"}})
            lines.append({"timestamp": at, "type": "event_msg", "payload": {
                "type": "token_count", "info": {"total_token_usage": cum, "last_token_usage": usage, "model_context_window": 272000}}})
            lines.append({"timestamp": at, "type": "event_msg", "payload": {"type": "task_complete"}})
        write(path, lines)
        proc = self.spawner.spawn("codex", str(path), cwd=cwd)
        live = Live(sid, "codex", cwd, path, proc)
        self.sessions.append(live)
        self.publish()
        return live


class Terminal:
    """One dashboard in one tmux pane of a private server."""

    def __init__(self, world: World, size: tuple[int, int]) -> None:
        self.world = world
        self.width, self.height = size
        self.server = f"llmsess-term-{uuid.uuid4().hex[:10]}"
        self.last = ""

    def tmux(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(["tmux", "-L", self.server, *args], capture_output=True, text=True, env=self.world.env, check=False)
        if check and done.returncode != 0:
            raise RuntimeError(f"tmux {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def start(self) -> Terminal:
        command = f"{sys.executable} -m tests.terminal.launch {self.world.pids_file}"
        self.tmux("-f", "/dev/null", "new-session", "-d", "-s", "t", "-x", str(self.width), "-y", str(self.height),
                  "-c", str(ROOT), command, ";", "set", "-g", "remain-on-exit", "on", ";", "set", "-g", "status", "off")
        return self

    def close(self) -> None:
        kill_server(["-L", self.server], self.world.env)

    def screen(self) -> str:
        self.last = self.tmux("capture-pane", "-p", "-t", "t", check=False)
        return self.last

    def dead(self) -> bool:
        return self.tmux("display", "-p", "-t", "t", "#{pane_dead}", check=False).strip() == "1"

    def press(self, *keys: str) -> None:
        """Keys by tmux name (Enter, Escape, Tab, Down, Space) or literal characters ("j", "?", "pid")."""
        for key in keys:
            if key in ("Enter", "Escape", "Tab", "BTab", "Down", "Up", "Space", "Home", "End", "PageDown", "PageUp"):
                self.tmux("send-keys", "-t", "t", key)
            else:
                self.tmux("send-keys", "-t", "t", "-l", key)

    def wait_for(self, expect: str | Callable[[str], object], what: str | None = None, limit: float = LIMIT) -> str:
        """Re-read the screen until `expect` (text on it, or a predicate of it) holds."""
        check = (lambda s: expect in s) if isinstance(expect, str) else expect
        deadline = time.monotonic() + limit
        while True:
            screen = self.screen()
            if check(screen):
                return screen
            if self.dead():
                pytest.fail(f"the dashboard exited while waiting for {what or expect!r}:\n{screen}")
            if time.monotonic() > deadline:
                pytest.fail(f"gave up waiting for {what or expect!r} at {self.width}x{self.height}; the screen:\n{screen}")
            time.sleep(0.1)

    def wait_exit(self, limit: float = LIMIT) -> None:
        """Wait for the dashboard to quit (its pane stays, dead, for the test to see)."""
        deadline = time.monotonic() + limit
        while not self.dead():
            if time.monotonic() > deadline:
                pytest.fail(f"the dashboard did not quit; the screen:\n{self.screen()}")
            time.sleep(0.1)

    def wait_gone(self, text: str, what: str | None = None) -> str:
        return self.wait_for(lambda s: text not in s, what or f"{text!r} to go")

    def styled_lines(self) -> list[list[tuple[str, str, str]]]:
        """The screen as (character, foreground, background) cells, from `capture-pane -e`."""
        raw = self.tmux("capture-pane", "-p", "-e", "-t", "t", check=False)
        fg = bg = ""
        out: list[list[tuple[str, str, str]]] = []
        for line in raw.split("\n"):
            cells: list[tuple[str, str, str]] = []
            pos = 0
            for m in _SGR.finditer(line + "\x1b[m"):
                cells.extend((ch, fg, bg) for ch in line[pos : m.start()])
                pos = m.end()
                codes = (m.group(1) or "0").split(";")
                i = 0
                while i < len(codes):
                    c = codes[i]
                    if c in ("", "0"):
                        fg = bg = ""
                    elif c in ("38", "48"):
                        span = 3 if codes[i + 1 : i + 2] == ["5"] else 5
                        value = ";".join(codes[i : i + span])
                        if c == "38":
                            fg = value
                        else:
                            bg = value
                        i += span - 1
                    elif c == "39":
                        fg = ""
                    elif c == "49":
                        bg = ""
                    i += 1
            out.append(cells)
        return out

    def cursor_row(self, shorts: list[str]) -> str | None:
        """The row the *focused* table's cursor is on, or None when the table has no focus.

        A focused DataTable paints its cursor row in one style (the cell colours give way to
        the cursor's), on a background no other row has; a blurred cursor keeps the cells'
        colours. So: the row whose visible cells share one (fg, bg), unlike every other row.
        """
        rows = {}
        for cells in self.styled_lines():
            text = "".join(ch for ch, _f, _b in cells)
            short = next((x for x in shorts if text.lstrip(" !").startswith(x)), None)
            if short is not None:
                rows[short] = {(f, b) for ch, f, b in cells if ch.strip()}
        uniform = [x for x, styles in rows.items() if len(styles) == 1]
        if len(uniform) != 1:
            return None
        (cursor_style,) = rows[uniform[0]]
        others = {b for x, styles in rows.items() if x != uniform[0] for _f, b in styles}
        return uniform[0] if cursor_style[1] not in others else None

    def lines(self) -> list[str]:
        return self.screen().split("\n")

    def row(self, text: str) -> str:
        """The screen line holding `text` (a table row, usually)."""
        return next((line for line in self.lines() if text in line), "")


def tmux_available() -> bool:
    return shutil.which("tmux") is not None
