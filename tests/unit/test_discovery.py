"""Discovery against real processes this test starts: fake assistants are the Python
interpreter behind a symlink named like the assistant, in a tmp cwd, with generated
transcripts under a fake HOME. Assertions only ever look at pids spawned here."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest

from llm_sessions.core.accounting.roots import encode_cwd
from llm_sessions.core.live import tmux_panes
from llm_sessions.core.live.discovery import AUDIT_PER_TICK, Discovery
from llm_sessions.core.live.proc_table import ProcTable
from llm_sessions.core.live.recognise import Rule
from llm_sessions.core.live.session_state import session_state
from llm_sessions.core.models import ProcessInfo, Session
from tests.unit.conftest import FAKE

CLAUDE_CLI = "/opt/npm/lib/node_modules/@anthropic-ai/claude-code/cli.js"


def _now() -> datetime:
    return datetime.now(UTC)


def _claude_transcript(env: dict[str, str], cwd: Path, sid: str | None = None) -> Session:
    sid = sid or str(uuid.uuid4())
    folder = Path(env["CLAUDE_CONFIG_DIR"]) / "projects" / encode_cwd(os.path.realpath(cwd))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{sid}.jsonl"
    path.write_text(f'{{"type":"user","sessionId":"{sid}"}}\n')
    return Session(id=sid, tool="claude", transcript=str(path), cwd=str(cwd), last_activity=_now())


def _mine(result, pids) -> list[ProcessInfo]:
    """Every ProcessInfo in a result that stands for one of our pids."""
    pids = set(pids)
    infos = list(result.matches.values()) + list(result.unmatched)
    return [i for i in infos if i.pid in pids or pids & set(i.pids)]


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    path = tmp_path / "project.x"
    path.mkdir()
    return path


def test_claude_by_name_matches_newest_transcript_of_its_cwd(fake_env, spawner, cwd):
    proc = spawner.spawn("claude", cwd=cwd)
    old = _claude_transcript(fake_env, cwd).with_(last_activity=_now() - timedelta(minutes=5))
    new = _claude_transcript(fake_env, cwd)
    result = Discovery(fake_env, tmux=False, pids=spawner.pids).scan([old, new])
    info = result.matches[new.id]
    assert info.pid == proc.pid
    assert info.tool == "claude"
    assert info.match.startswith("cwd ")
    assert not info.ambiguous
    assert info.cwd == os.path.realpath(cwd)
    assert info.started_at is not None and abs((info.started_at - _now()).total_seconds()) < 600
    assert info.rss_bytes > 0
    assert old.id not in result.matches


def test_only_the_injected_process_source_is_seen(fake_env, spawner, cwd):
    """A process outside the source (here: one of ours left out; in real life the user's own
    claude) is never read, so tests cannot depend on what else runs on the machine."""
    seen = spawner.spawn("claude", cwd=cwd)
    hidden = spawner.spawn("claude", cwd=cwd)
    result = Discovery(fake_env, tmux=False, pids=lambda: [seen.pid]).scan([])
    infos = list(result.matches.values()) + list(result.unmatched)
    assert [i.pid for i in infos] == [seen.pid] and hidden.pid not in {p for i in infos for p in i.pids}


def test_transcript_older_than_the_process_is_not_claimed(fake_env, spawner, cwd):
    stale = _claude_transcript(fake_env, cwd).with_(last_activity=_now() - timedelta(hours=3))
    proc = spawner.spawn("claude", cwd=cwd)
    result = Discovery(fake_env, tmux=False, pids=spawner.pids).scan([stale])
    assert stale.id not in result.matches
    [info] = _mine(result, [proc.pid])
    assert info in result.unmatched and info.tool == "claude" and info.match == "no transcript yet"


def test_npm_build_node_process_is_claude(fake_env, spawner, cwd):
    proc = spawner.spawn("node", CLAUDE_CLI, cwd=cwd)
    s = _claude_transcript(fake_env, cwd)
    info = Discovery(fake_env, tmux=False, pids=spawner.pids).scan([s]).matches[s.id]
    assert info.pid == proc.pid and info.name == "node" and info.tool == "claude"


def test_bare_interpreters_are_never_assistants(fake_env, spawner, cwd):
    procs = [
        spawner.spawn("node", "/srv/app/server.js", cwd=cwd),
        spawner.spawn("node", "/usr/lib/npm/bin/npm-cli.js", "install", "@google/gemini-cli", cwd=cwd),
        spawner.spawn("python3", "my_aider_notes.py", cwd=cwd),
        spawner.spawn("cursor", "--type=renderer", cwd=cwd),
    ]
    result = Discovery(fake_env, tmux=False, pids=spawner.pids).scan([_claude_transcript(fake_env, cwd)])
    assert _mine(result, [p.pid for p in procs]) == []


def test_session_file_beats_cwd_and_resolves_two_processes_in_one_cwd(fake_env, spawner, cwd):
    a, b = spawner.spawn("claude", cwd=cwd), spawner.spawn("claude", cwd=cwd)
    sa, sb = _claude_transcript(fake_env, cwd), _claude_transcript(fake_env, cwd)
    sessions_dir = Path(fake_env["CLAUDE_CONFIG_DIR"]) / "sessions"
    sessions_dir.mkdir()
    # b is the newer process and sb the newer transcript: cwd alone would pair them the
    # other way round from what the session files say.
    (sessions_dir / f"{a.pid}.json").write_text(f'{{"pid": {a.pid}, "sessionId": "{sb.id}", "cwd": "{cwd}", "startedAt": 0}}')
    (sessions_dir / f"{b.pid}.json").write_text(f'{{"pid": {b.pid}, "sessionId": "{sa.id}", "cwd": "{cwd}", "startedAt": 0}}')
    result = Discovery(fake_env, tmux=False, pids=spawner.pids).scan([sa, sb])
    assert result.matches[sb.id].pid == a.pid
    assert result.matches[sa.id].pid == b.pid
    assert all(result.matches[s].match.startswith("session file") for s in (sa.id, sb.id))
    assert not any(result.matches[s].ambiguous for s in (sa.id, sb.id))


def test_two_processes_sharing_a_cwd_are_both_flagged_ambiguous(fake_env, spawner, cwd):
    procs = [spawner.spawn("claude", cwd=cwd), spawner.spawn("claude", cwd=cwd)]
    sessions = [_claude_transcript(fake_env, cwd), _claude_transcript(fake_env, cwd)]
    result = Discovery(fake_env, tmux=False, pids=spawner.pids).scan(sessions)
    mine = _mine(result, [p.pid for p in procs])
    assert len(mine) == 2
    assert all(i.ambiguous and i.match.startswith("ambiguous") for i in mine)
    assert {i.pid for i in mine} == {p.pid for p in procs}


def test_session_id_on_the_command_line(fake_env, spawner, cwd, tmp_path):
    other = tmp_path / "elsewhere"
    other.mkdir()
    s = _claude_transcript(fake_env, other)  # not in the process cwd: only the flag can tie it
    proc = spawner.spawn("claude", "--resume", s.id, cwd=cwd)
    info = Discovery(fake_env, tmux=False, pids=spawner.pids).scan([s]).matches[s.id]
    assert info.pid == proc.pid and info.match == f"command line names session {s.id}"


def test_codex_launcher_and_binary_are_one_session_found_by_open_rollout(fake_env, spawner, cwd):
    day = Path(fake_env["CODEX_HOME"]) / "sessions" / "2026" / "11" / "24"
    day.mkdir(parents=True)
    rid = str(uuid.uuid4())
    rollout = day / f"rollout-2026-11-24T10-00-00-{rid}.jsonl"
    rollout.write_text("{}\n")
    decoy = day / f"rollout-2026-11-24T11-00-00-{uuid.uuid4()}.jsonl"
    decoy.write_text("{}\n")
    launcher = spawner.spawn(
        "node", "/usr/lib/node_modules/@openai/codex/bin/codex.js", cwd=cwd, child=("codex", str(rollout))
    )
    sessions = [
        Session(id=rid, tool="codex", transcript=str(rollout), cwd=None, last_activity=_now() - timedelta(seconds=1)),
        Session(id="decoy", tool="codex", transcript=str(decoy), cwd=str(cwd), last_activity=_now()),
    ]
    result = Discovery(fake_env, tmux=False, pids=spawner.pids).scan(sessions)
    info = result.matches[rid]
    child = psutil.Process(launcher.pid).children()[0].pid
    assert info.pid == launcher.pid
    assert child in info.pids
    assert info.match == f"holds {rollout} open"
    assert "decoy" not in result.matches
    assert len(_mine(result, [launcher.pid, child])) == 1


def test_gemini_relaunch_is_one_unmatched_session(fake_env, spawner, cwd):
    entry = "/usr/lib/node_modules/@google/gemini-cli/dist/index.js"
    proc = spawner.spawn("node", entry, cwd=cwd, child=("node", entry))
    result = Discovery(fake_env, tmux=False, pids=spawner.pids).scan([])
    mine = _mine(result, [proc.pid])
    assert len(mine) == 1
    assert mine[0].tool == "gemini" and mine[0].pid == proc.pid and len(mine[0].pids) >= 2


def test_demo_writer_counts_as_the_tool_it_plays(fake_env, spawner, cwd):
    proc = spawner.spawn("python3", "-m", "llm_sessions.synth.live", "--tool", "gemini", cwd=cwd)
    s = Session(id="g1", tool="gemini", transcript=None, cwd=str(cwd), last_activity=_now())
    info = Discovery(fake_env, tmux=False, pids=spawner.pids).scan([s]).matches["g1"]
    assert info.pid == proc.pid and info.tool == "gemini"


def test_aider_matches_history_at_the_repository_root(fake_env, spawner, tmp_path):
    repo = tmp_path / "repo"
    sub = repo / "src"
    sub.mkdir(parents=True)
    proc = spawner.spawn("python3", "/home/u/.local/bin/aider", "--model", "x", cwd=sub)
    s = Session(id="a1", tool="aider", transcript=str(repo / ".aider.chat.history.md"), cwd=str(repo), last_activity=_now())
    info = Discovery(fake_env, tmux=False, pids=spawner.pids).scan([s]).matches["a1"]
    assert info.pid == proc.pid and info.tool == "aider"


def test_cursor_app_serves_composers_active_since_it_started(fake_env, spawner, cwd):
    app = spawner.spawn("cursor", cwd=cwd, child=("cursor", "--type=renderer"))
    live = Session(id="c-live", tool="cursor", last_activity=_now())
    old = Session(id="c-old", tool="cursor", last_activity=_now() - timedelta(days=2))
    result = Discovery(fake_env, tmux=False, pids=spawner.pids).scan([live, old])
    assert result.matches["c-live"].pid == app.pid
    assert "c-old" not in result.matches
    helper = psutil.Process(app.pid).children()[0].pid
    assert not any(i.pid == helper for i in result.unmatched)


def test_process_gone_means_no_match_and_state_ended(fake_env, spawner, cwd):
    proc = spawner.spawn("claude", cwd=cwd)
    s = _claude_transcript(fake_env, cwd)
    d = Discovery(fake_env, tmux=False, pids=spawner.pids)
    assert d.scan([s]).matches[s.id].pid == proc.pid
    proc.kill()
    proc.wait()
    after = d.scan([s])
    assert s.id not in after.matches
    assert session_state(s, after.matches.get(s.id), _now(), False) == "ended"


def test_zombie_assistant_is_not_reported(fake_env, spawner, cwd):
    proc = spawner.spawn("claude", cwd=cwd)
    proc.kill()
    while psutil.Process(proc.pid).status() != psutil.STATUS_ZOMBIE:
        os.sched_yield()
    result = Discovery(fake_env, tmux=False, pids=spawner.pids).scan([_claude_transcript(fake_env, cwd)])
    assert _mine(result, [proc.pid]) == []


def test_steady_state_inspects_only_new_pids(fake_env, spawner, cwd, monkeypatch):
    first = spawner.spawn("claude", cwd=cwd)
    d = Discovery(fake_env, tmux=False, pids=spawner.pids)
    d.scan([])
    seen: list[int] = []
    original = ProcTable.inspect
    monkeypatch.setattr(ProcTable, "inspect", lambda self, proc, rules: (seen.append(proc.pid), original(self, proc, rules)))
    second = spawner.spawn("codex", cwd=cwd)
    result = d.scan([])
    assert second.pid in seen
    assert first.pid not in seen
    assert {i.tool for i in _mine(result, [first.pid, second.pid])} == {"claude", "codex"}


def test_process_that_execs_into_an_assistant_is_noticed(fake_env, spawner, cwd, tmp_path):
    # A launcher named like nothing we know, which then execs a `copilot`.
    target = spawner.link("copilot")
    script = (
        "import os, sys; sys.stdout.write('ready\\n'); sys.stdout.flush(); sys.stdin.readline(); "
        f"os.execv({target!r}, [{target!r}, '-c', os.environ['FAKE_BODY']])"
    )
    launcher = subprocess.Popen(
        [spawner.link("launcher"), "-c", script],
        cwd=cwd,
        env={"FAKE_BODY": FAKE},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    spawner.procs.append(launcher)
    assert launcher.stdout.readline().strip() == b"ready"
    d = Discovery(fake_env, tmux=False, pids=spawner.pids)
    assert _mine(d.scan([]), [launcher.pid]) == []
    launcher.stdin.write(b"go\n")
    launcher.stdin.flush()
    assert launcher.stdout.readline().strip() == b"ready"
    # Young processes are re-read next poll, the rest within a full audit rotation.
    rounds = len(spawner.pids()) // AUDIT_PER_TICK + 2
    found = []
    for _ in range(rounds):
        found = _mine(d.scan([]), [launcher.pid])
        if found:
            break
    assert [i.tool for i in found] == ["copilot"]


def test_cpu_percent_is_primed_then_reported(fake_env, spawner, cwd):
    proc = spawner.spawn("gemini", cwd=cwd, spin=True)
    d = Discovery(fake_env, tmux=False, pids=spawner.pids)
    d.scan([])
    start = psutil.Process(proc.pid).cpu_times().user
    while psutil.Process(proc.pid).cpu_times().user - start < 0.2:
        os.sched_yield()
    [info] = _mine(d.scan([]), [proc.pid])
    assert info.cpu_percent > 0
    s = Session(id="g", tool="gemini", awaiting_user=False)
    assert session_state(s, info, _now(), False) == "working"


def test_tmux_pane_found_through_parents(fake_env, spawner, cwd, tmp_path, monkeypatch):
    sock = tmp_path / "tmux.sock"
    # Names only this test uses, and a rule table that knows only them, so the call counts
    # below cannot be moved by assistants running elsewhere on the machine.
    rules = (Rule(tool="claude", names=("lt-claude",)), Rule(tool="codex", names=("lt-codex",)))
    claude = spawner.link("lt-claude")
    body = tmp_path / "body.py"
    body.write_text(FAKE)
    subprocess.run(
        ["tmux", "-S", str(sock), "-f", "/dev/null", "new-session", "-d", "-s", "llmtest", "-c", str(cwd),
         f"sh -c '{claude} {body}; sleep 600'"],
        env={**fake_env, "TMUX": ""},
        check=True,
    )
    try:
        server = int(subprocess.run(["tmux", "-S", str(sock), "display", "-p", "#{pane_pid}"], capture_output=True,
                                    text=True, check=True, env=fake_env).stdout)
        pid = None
        while pid is None:
            kids = [p for p in psutil.Process(server).children(recursive=True) if p.name() == "lt-claude"]
            pid = kids[0].pid if kids else None
            os.sched_yield()
        pane_id = subprocess.run(["tmux", "-S", str(sock), "display", "-p", "#{pane_id}"], capture_output=True,
                                 text=True, check=True, env=fake_env).stdout.strip()
        spawner.adopt(server)  # the pane's shell and the lt-claude under it are ours
        env = {**fake_env, "TMUX": f"{sock},0,0"}
        calls: list[list[str]] = []
        real_run = subprocess.run
        monkeypatch.setattr(tmux_panes.subprocess, "run", lambda argv, **kw: (calls.append(argv), real_run(argv, **kw))[1])
        d = Discovery(env, rules=rules, pids=spawner.pids)
        [info] = _mine(d.scan([]), [pid])
        assert info.tmux_pane == pane_id and pane_id.startswith("%")  # the stable id, never a position
        assert info.tool == "claude"
        assert len(calls) == 1 and calls[0][1:3] == ["list-panes", "-a"]
        d.scan([])
        assert len(calls) == 1  # same assistants, fresh listing: reused
        spawner.spawn("lt-codex", cwd=cwd)
        d.scan([])
        assert len(calls) == 2  # a new assistant: listed again
    finally:
        subprocess.run(["tmux", "-S", str(sock), "kill-server"], env=fake_env, check=False)


def test_no_tmux_binary_means_no_pane_and_no_problem(fake_env, spawner, cwd, tmp_path):
    empty = tmp_path / "nobin"
    empty.mkdir()
    proc = spawner.spawn("claude", cwd=cwd)
    result = Discovery({**fake_env, "PATH": str(empty)}, pids=spawner.pids).scan([])
    [info] = _mine(result, [proc.pid])
    assert info.tmux_pane is None
    assert not any("tmux" in p for p in result.problems)


@pytest.mark.parametrize(
    ("awaiting", "cpu", "grew", "age", "want"),
    [
        (True, 0.0, False, 60, "waiting"),
        (True, 0.0, True, 1, "waiting"),  # the last turn was just written: now it waits
        (True, 50.0, False, 60, "working"),
        (False, 0.0, True, 60, "working"),
        (False, 0.0, False, 1, "working"),
        (False, 50.0, False, 600, "working"),
        (False, 0.0, False, 600, "idle"),
    ],
)
def test_session_state(awaiting, cpu, grew, age, want):
    now = _now()
    s = Session(id="s", tool="claude", awaiting_user=awaiting, last_activity=now - timedelta(seconds=age))
    assert session_state(s, ProcessInfo(pid=1, cpu_percent=cpu), now, grew) == want


def test_stale_session_file_from_a_dead_process_is_ignored(fake_env, spawner, cwd):
    proc = spawner.spawn("claude", cwd=cwd)
    s = _claude_transcript(fake_env, cwd)
    other = _claude_transcript(fake_env, cwd).with_(last_activity=_now() - timedelta(seconds=1))
    sessions_dir = Path(fake_env["CLAUDE_CONFIG_DIR"]) / "sessions"
    sessions_dir.mkdir()
    long_ago_ms = int((_now() - timedelta(days=1)).timestamp() * 1000)
    (sessions_dir / f"{proc.pid}.json").write_text(
        json.dumps({"pid": proc.pid, "sessionId": other.id, "cwd": str(cwd), "startedAt": long_ago_ms})
    )
    result = Discovery(fake_env, tmux=False, pids=spawner.pids).scan([s, other])
    assert result.matches[s.id].pid == proc.pid
    assert result.matches[s.id].match.startswith("cwd ")
    assert other.id not in result.matches


def test_unreadable_cwd_is_a_problem_and_the_process_still_shows(fake_env, spawner, cwd, monkeypatch):
    proc = spawner.spawn("codex", cwd=cwd)
    real_cwd = psutil.Process.cwd

    def cwd_denied(self):
        if self.pid == proc.pid:
            raise psutil.AccessDenied(self.pid)
        return real_cwd(self)

    monkeypatch.setattr(psutil.Process, "cwd", cwd_denied)
    result = Discovery(fake_env, tmux=False, pids=spawner.pids).scan([Session(id="x", tool="codex", cwd=str(cwd), last_activity=_now())])
    [info] = _mine(result, [proc.pid])
    assert info in result.unmatched and info.cwd is None and info.tool == "codex"
    assert "cwd unreadable" in info.match
    assert any(str(proc.pid) in p and "cwd unreadable" in p for p in result.problems)


def test_portable_psutil_path_finds_the_same_processes(fake_env, spawner, cwd):
    """The non-Linux table (psutil for name, parent and start) gives the same answer."""
    proc = spawner.spawn("claude", cwd=cwd)
    s = _claude_transcript(fake_env, cwd)
    d = Discovery(fake_env, tmux=False, pids=spawner.pids)
    d._table.linux = False
    info = d.scan([s]).matches[s.id]
    assert info.pid == proc.pid and info.tool == "claude"
    assert abs(info.started_at.timestamp() - psutil.Process(proc.pid).create_time()) < 1


def test_open_files_are_read_again_when_a_new_transcript_appears(fake_env, spawner, cwd, monkeypatch):
    rollout = Path(fake_env["CODEX_HOME"]) / "sessions" / "2026" / "11" / "24" / "rollout-late.jsonl"
    rollout.parent.mkdir(parents=True)
    proc = spawner.spawn("codex", cwd=cwd, late_open=rollout)
    d = Discovery(fake_env, tmux=False, pids=spawner.pids)
    reads: list[int] = []
    original = ProcTable.read_open_files
    monkeypatch.setattr(ProcTable, "read_open_files", lambda self, p: (reads.append(p.pid), original(self, p)))
    [info] = _mine(d.scan([]), [proc.pid])
    assert info.match == "no transcript yet" and reads.count(proc.pid) == 1
    d.scan([])
    assert reads.count(proc.pid) == 1  # nothing new: the fds are not read again
    proc.stdin.write(b"go\n")
    proc.stdin.flush()
    assert proc.stdout.readline().strip() == b"opened"
    # The rollout is in another cwd's name space: only the open file can tie it.
    s = Session(id="late", tool="codex", transcript=str(rollout), cwd="/elsewhere", last_activity=_now())
    result = d.scan([s])
    assert reads.count(proc.pid) == 2
    assert result.matches["late"].pid == proc.pid and result.matches["late"].match == f"holds {rollout} open"


def test_a_busy_cursor_app_does_not_make_every_composer_working():
    now = _now()
    app = ProcessInfo(pid=1, cpu_percent=80.0, tool="cursor")
    quiet = Session(id="c", tool="cursor", last_activity=now - timedelta(minutes=10))
    assert session_state(quiet, app, now, False) == "idle"
    assert session_state(quiet, app, now, True) == "working"


def _start_ticks(pid: int) -> int:
    raw = Path(f"/proc/{pid}/stat").read_bytes()
    return int(raw[raw.rfind(b")") + 2:].split()[19])


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="procStart is Linux's /proc start time")
def test_session_file_is_trusted_only_when_proc_start_matches(fake_env, spawner, cwd):
    proc = spawner.spawn("claude", cwd=cwd)
    s = _claude_transcript(fake_env, cwd)
    named = _claude_transcript(fake_env, cwd).with_(last_activity=_now() - timedelta(seconds=1))
    sessions_dir = Path(fake_env["CLAUDE_CONFIG_DIR"]) / "sessions"
    sessions_dir.mkdir()
    path = sessions_dir / f"{proc.pid}.json"
    ticks = _start_ticks(proc.pid)
    # a file from an earlier process that had this pid: a newer startedAt, but procStart differs
    path.write_text(json.dumps({"pid": proc.pid, "sessionId": named.id, "procStart": str(ticks - 7),
                                "startedAt": int(_now().timestamp() * 1000), "status": "busy"}))
    d = Discovery(fake_env, tmux=False, pids=spawner.pids)
    result = d.scan([s, named])
    assert named.id not in result.matches and result.matches[s.id].status is None
    path.write_text(json.dumps({"pid": proc.pid, "sessionId": named.id, "procStart": str(ticks), "status": "busy",
                                "statusUpdatedAt": int(_now().timestamp() * 1000), "kind": "interactive"}))
    info = d.scan([s, named]).matches[named.id]
    assert info.pid == proc.pid and info.match.startswith("session file") and info.status == "busy"
    assert session_state(named, info, _now(), False) == "working"
    path.write_text(json.dumps({"pid": proc.pid, "sessionId": named.id, "procStart": ticks, "status": "idle"}))
    info = d.scan([s, named]).matches[named.id]
    assert info.status == "idle"
    assert session_state(named.with_(awaiting_user=True), info, _now(), True) == "waiting"
    assert session_state(named, info, _now(), True) == "idle"  # its own word beats transcript growth


@pytest.mark.skipif(not ProcTable().linux, reason="reads /proc")
def test_usage_from_proc_matches_psutil(tmp_path):
    """CPU share and RSS read from /proc/<pid>/stat and statm are what psutil reports
    (the figures the dashboard showed before), and a process that has gone reads False."""
    import sys
    import time

    from llm_sessions.core.live.proc_table import Proc

    child = subprocess.Popen([sys.executable, "-c", "x = bytearray(8 << 20)\nwhile True: pass"], cwd=tmp_path)
    try:
        table = ProcTable()
        proc = Proc(child.pid, os.getpid(), "python", 0.0, 0.0)
        handle = psutil.Process(child.pid)
        assert table.usage(proc) is True and proc.cpu == 0.0  # the first call primes, as cpu_percent(None)
        handle.cpu_percent(None)
        time.sleep(0.3)
        assert table.usage(proc) is True
        ours, theirs = proc.cpu, handle.cpu_percent(None)
        assert ours > 10 and abs(ours - theirs) < 15  # the same busy loop, read a few microseconds apart
        assert proc.rss == handle.memory_info().rss
    finally:
        child.kill()
        child.wait()
    assert table.usage(proc) is False
