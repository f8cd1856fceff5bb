"""Nothing on disk can stop, hang or poison a scan (issue 11, the file cases).

Each test is one of the issue's reproductions: a hostile line, an odd file or name, a
damaged cache, a full disk. The rule they check is the same everywhere: the bad thing costs
itself (a line, a file) and is reported; everything else is counted exactly as before.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from llm_sessions.config import load_settings
from llm_sessions.core.accounting import scancache, tailer
from llm_sessions.core.accounting.providers.claude import ClaudeProvider
from llm_sessions.core.accounting.providers.codex import CodexProvider
from llm_sessions.core.accounting.providers.copilot import CopilotProvider
from llm_sessions.core.accounting.providers.gemini import GeminiProvider
from llm_sessions.core.live.monitor import Monitor
from llm_sessions.core.problems import Problem, summary_lines
from llm_sessions.core.safeio import NotARegularFile, printable, read_regular
from tests.unit.claude_lines import assistant, user, write

T = "2026-11-20T10:00:{:02d}.000Z"
DEEP = '{"type":"user","x":' + "[" * 1000 + "]" * 1000 + "}"


def run(args, env, timeout=60):
    return subprocess.run([sys.executable, "-m", "llm_sessions", *args], env=env, capture_output=True,
                          text=True, timeout=timeout, cwd=env.get("HOME"))


def claude_env(home: Path) -> dict:
    return {"HOME": str(home), "CLAUDE_CONFIG_DIR": str(home / ".claude"), "CODEX_HOME": str(home / ".codex")}


def proj(home: Path) -> Path:
    return home / ".claude" / "projects" / "-w"


def monitor(home: Path, cache: Path | None = None) -> Monitor:
    return Monitor(load_settings(home / "none.toml", {}), claude_env(home), cache_dir=cache)


def by_id(snap):
    return {s.id: s for s in snap.sessions}


# ------------------------------------------------------------------ 1 and 4: hostile lines


HOSTILE_CLAUDE = [
    DEEP,
    assistant("bad1", "r", T.format(2), inp=2**63, sid="s1"),
    assistant("bad2", "r", T.format(3), inp=-5_000_001, sid="s1"),
    assistant("bad3", "r", T.format(4), out=10**9, sid="s1"),  # above the per-call ceiling
    '{"type":"assistant","message":{"usage":{"input_tokens":true}}}',
]


def test_claude_hostile_lines_cost_one_line_each_and_the_cursor_waits_for_nothing(fake_home):
    path = write(proj(fake_home) / "s1.jsonl", [
        assistant("m1", "r1", T.format(1), inp=100, out=20, sid="s1"),
        *HOSTILE_CLAUDE,
        assistant("m2", "r2", T.format(5), inp=7, out=3, sid="s1"),
    ])
    write(proj(fake_home) / "other.jsonl", [assistant("o1", "r", T.format(1), inp=5, out=5, sid="other")])
    prov = ClaudeProvider(claude_env(fake_home))
    res = prov.scan()
    s = {x.id: x for x in res.sessions}
    assert s["s1"].usage.total == 130 and s["s1"].malformed_lines == len(HOSTILE_CLAUDE)
    assert s["other"].usage.total == 10
    f = prov.files[str(path)]
    assert f.cursor.offset == path.stat().st_size  # every line was folded in (or counted)
    # one more good line: read from the cursor, counted once
    write(path, [assistant("m3", "r3", T.format(6), inp=1, out=1, sid="s1")], mode="a")
    again = {x.id: x for x in prov.scan().sessions}
    assert again["s1"].usage.total == 132 and again["s1"].malformed_lines == len(HOSTILE_CLAUDE)


def test_codex_hostile_lines_are_skipped(fake_home):
    def line(ts, kind, payload):
        return json.dumps({"timestamp": ts, "type": kind, "payload": payload})

    def tok(ts, i, o):
        u = {"input_tokens": i, "cached_input_tokens": 0, "output_tokens": o, "reasoning_output_tokens": 0,
             "total_tokens": i + o}
        return line(ts, "event_msg", {"type": "token_count", "info": {"total_token_usage": u, "last_token_usage": u,
                                                                     "model_context_window": 272000}})

    p = fake_home / ".codex" / "sessions" / "2026" / "11" / "20" / "rollout-2026-11-20T10-00-00-c1.jsonl"
    p.parent.mkdir(parents=True)
    p.write_text("\n".join([
        line(T.format(0), "session_meta", {"id": "c1", "cwd": "/r"}),
        tok(T.format(1), 100, 10),
        DEEP,
        tok(T.format(2), 2**63, 10),
        tok(T.format(3), -5, 10),
        tok(T.format(4), 300, 30),
    ]) + "\n")
    s = {x.id: x for x in CodexProvider(claude_env(fake_home)).scan().sessions}["c1"]
    assert s.usage.total == 330 and s.malformed_lines == 3


def test_gemini_and_copilot_hostile_records_are_skipped(fake_home):
    env = {"HOME": str(fake_home), "GEMINI_DIR": str(fake_home / ".gemini"), "COPILOT_HOME": str(fake_home / ".copilot")}
    chats = fake_home / ".gemini" / "tmp" / "p" / "chats"
    chats.mkdir(parents=True)

    def gem(i, **tokens):
        t = {"input": 100, "output": 10, "cached": 0, "thoughts": 0, "tool": 0} | tokens
        return json.dumps({"id": f"m{i}", "type": "gemini", "model": "gemini-2.5-pro", "timestamp": T.format(i), "tokens": t})

    (chats / "session-x.jsonl").write_text("\n".join([
        json.dumps({"sessionId": "g1", "startTime": T.format(0)}),
        gem(1), DEEP, gem(2, input=2**63), gem(3, output=-5), gem(4, input=10**9), '"\\ud800 lone surrogate"', gem(5),
    ]) + "\n")
    g = GeminiProvider(env).scan().sessions[0]
    assert g.usage.total == 220 and g.malformed_lines == 5
    events = fake_home / ".copilot" / "session-state" / "c" / "events.jsonl"
    events.parent.mkdir(parents=True)
    events.write_text("\n".join([
        json.dumps({"type": "session.start", "data": {"sessionId": "cp"}, "timestamp": T.format(0)}),
        DEEP,
        json.dumps({"type": "assistant.message", "data": {"content": "x", "outputTokens": 2**70}, "timestamp": T.format(1)}),
        json.dumps({"type": "assistant.message", "data": {"content": "y", "outputTokens": 40}, "timestamp": T.format(2)}),
    ]) + "\n")
    c = CopilotProvider(env).scan().sessions[0]
    assert c.usage.output == 40 and c.malformed_lines == 2


def test_list_shows_the_session_of_a_file_with_hostile_lines(fake_home):
    write(proj(fake_home) / "s1.jsonl", [assistant("m1", "r1", T.format(1), inp=100, out=20, sid="s1"), *HOSTILE_CLAUDE])
    res = run(["list", "--all", "--no-processes", "--json"], dict(os.environ))
    assert res.returncode == 0, res.stderr
    answer = json.loads(res.stdout)
    assert [s["tokens"]["total"] for s in answer["sessions"]] == [120]
    assert {"kind": "malformed_lines", "path": str(proj(fake_home) / "s1.jsonl"), "detail": None,
            "count": len(HOSTILE_CLAUDE)} in answer["problems"]
    human = run(["list", "--all", "--no-processes"], dict(os.environ))
    assert "s1" in human.stdout and f"{len(HOSTILE_CLAUDE)} malformed lines skipped in 1 transcript" in human.stderr


def test_export_of_a_session_with_hostile_lines(fake_home, tmp_path):
    write(proj(fake_home) / "s1.jsonl", [user(T.format(0), sid="s1"), assistant("m1", "r1", T.format(1), sid="s1"),
                                         *HOSTILE_CLAUDE])
    res = run(["export", "s1", "-o", f"{tmp_path}/", "--json"], dict(os.environ))
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["ok"] is True


def test_an_oversized_line_is_skipped_without_holding_it(tmp_path, monkeypatch):
    p = tmp_path / "t.jsonl"
    p.write_bytes(b'{"a":1}\n' + b"x" * 5000 + b'\n{"b":2}\n' + b"y" * 3000)
    monkeypatch.setattr(tailer, "CHUNK", 256)
    cur = tailer.Cursor()
    got = list(tailer.read_lines(str(p), cur, os.stat(p), max_line=1000))
    assert got == [b'{"a":1}', tailer.OVERSIZED, b'{"b":2}']
    assert cur.offset == 8 + 5001 + 8  # the unfinished long line waits at its start
    with p.open("ab") as fh:
        fh.write(b'\n{"c":3}\n')
    assert list(tailer.read_lines(str(p), cur, os.stat(p), max_line=1000)) == [tailer.OVERSIZED, b'{"c":3}']


def test_a_caller_that_stops_leaves_the_cursor_at_the_first_line_it_did_not_take(tmp_path):
    p = tmp_path / "t.jsonl"
    p.write_bytes(b'{"a":1}\n{"b":2}\n{"c":3}\n')
    cur = tailer.Cursor()

    def feed(line):
        if line == b'{"b":2}':
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        tailer.fold(str(p), cur, os.stat(p), feed)
    assert cur.offset == 8
    assert tailer.fold(str(p), cur, os.stat(p), lambda line: None) == 0 and cur.offset == 24


# ------------------------------------------------------------------ 2: names that are not UTF-8


def test_non_utf8_names_under_both_roots(fake_home, tmp_path):
    base = os.fsencode(proj(fake_home))
    os.makedirs(base)
    odd = base + b"/odd\xff\xfe.jsonl"
    with open(odd, "w") as fh:
        fh.write(json.dumps(assistant("m1", "r1", T.format(1), inp=40, out=2, sid="x")) + "\n")
    os.makedirs(os.fsencode(fake_home / ".codex" / "sessions") + b"/2026/\xff")
    os.makedirs(base + b"/\xfe-folder")
    env = dict(os.environ)
    listed = run(["list", "--all", "--no-processes", "--json"], env)
    assert listed.returncode == 0, listed.stderr
    (s,) = json.loads(listed.stdout)["sessions"]
    assert s["id"] == "odd\\xff\\xfe" and s["tokens"]["total"] == 42 and s["transcript"].endswith("odd\\xff\\xfe.jsonl")
    human = run(["list", "--all", "--no-processes"], env)
    assert human.returncode == 0 and "odd\\xff" in human.stdout
    assert run(["health", "odd", "--json"], env).returncode == 0
    hist = run(["history", "--json"], env)
    assert hist.returncode == 0 and [r["id"] for r in json.loads(hist.stdout)] == ["odd\\xff\\xfe"]
    exported = run(["export", "odd", "-o", f"{tmp_path}/", "--json"], env)
    assert exported.returncode == 0, exported.stderr
    again = run(["list", "--all", "--no-processes", "--json"], env)  # the cache left that file out; it is re-read
    assert json.loads(again.stdout)["sessions"][0]["tokens"]["total"] == 42


def test_printable_shows_bytes_like_ls():
    assert printable("a\udcffb") == "a\\xffb" and printable("plain é") == "plain é"
    assert printable("x\ud800") == "x\\ud800"


# ------------------------------------------------------------------ 3: FIFOs, devices, sizes


def test_fifo_and_device_symlinks_are_skipped_not_read(fake_home):
    p = proj(fake_home)
    write(p / "good.jsonl", [assistant("m1", "r1", T.format(1), inp=1, out=1, sid="good")])
    os.mkfifo(p / "fifo.jsonl")
    (p / "zero.jsonl").symlink_to("/dev/zero")
    (p / "random.jsonl").symlink_to("/dev/urandom")
    codex = fake_home / ".codex" / "sessions" / "2026" / "11" / "20"
    codex.mkdir(parents=True)
    os.mkfifo(codex / "rollout-fifo.jsonl")
    started = time.monotonic()
    res = run(["list", "--all", "--no-processes", "--json"], dict(os.environ), timeout=30)
    assert res.returncode == 0 and time.monotonic() - started < 30
    answer = json.loads(res.stdout)
    assert [s["id"] for s in answer["sessions"]] == ["good"]
    skipped = {Path(x["path"]).name: x["detail"] for x in answer["problems"] if x["kind"] == "not_a_file"}
    assert skipped == {"fifo.jsonl": "not a regular file (a FIFO)", "zero.jsonl": "not a regular file (a character device)",
                       "random.jsonl": "not a regular file (a character device)", "rollout-fifo.jsonl": "not a regular file (a FIFO)"}
    human = run(["list", "--all", "--no-processes"], dict(os.environ), timeout=30)
    assert "4 paths are not regular files" in human.stderr


def test_import_refuses_fifos_devices_and_huge_files(tmp_path, fake_home):
    fifo = tmp_path / "b.json"
    os.mkfifo(fifo)
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (6 * 1024 * 1024))
    for target, why in ((fifo, "a FIFO"), ("/dev/zero", "a character device"), (big, "bundles are at most")):
        res = run(["import", str(target), "--json"], dict(os.environ), timeout=20)
        assert res.returncode == 1 and why in json.loads(res.stdout)["error"], res.stdout


def test_read_regular_is_bounded(tmp_path):
    with pytest.raises(NotARegularFile):
        read_regular("/dev/zero", 10)
    (tmp_path / "f").write_bytes(b"12345")
    assert read_regular(tmp_path / "f", 5) == b"12345"
    with pytest.raises(OSError, match="too large"):
        read_regular(tmp_path / "f", 4)


# ------------------------------------------------------------------ 11: unreadable things are told


def test_an_unlistable_folder_is_a_problem_the_user_sees(fake_home, monkeypatch, capsys):
    from typer.testing import CliRunner

    from llm_sessions import cli

    write(proj(fake_home) / "good.jsonl", [assistant("m1", "r1", T.format(1), sid="good")])
    locked = fake_home / ".claude" / "projects" / "-locked"
    write(locked / "hidden.jsonl", [assistant("m2", "r2", T.format(1), sid="hidden")])
    real = os.scandir

    def scandir(path="."):
        if os.fspath(path).endswith("-locked"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    snap = monitor(fake_home).scan_files()
    assert [s.id for s in snap.sessions] == ["good"]
    assert Problem("unreadable_folder", str(locked), "Permission denied") in snap.problems
    assert summary_lines(snap.problems) == [f"1 folder could not be read (Permission denied): {locked}"]
    result = CliRunner().invoke(cli.app, ["list", "--all", "--no-processes", "--json"], env=dict(os.environ))
    assert json.loads(result.stdout)["problems"][0]["kind"] == "unreadable_folder"


def test_export_of_an_unreadable_transcript_fails_instead_of_writing_an_empty_brief(tmp_path):
    from llm_sessions.cli_export import ExportDeps, _Fail, do_export
    from llm_sessions.core.models import Session

    fifo = tmp_path / "s.jsonl"
    os.mkfifo(fifo)
    session = Session(id="s1", tool="claude", transcript=str(fifo))
    deps = ExportDeps(find_session=lambda prefix: session, exports_dir=tmp_path / "out", git_status=lambda cwd: None)
    with pytest.raises(_Fail) as err:
        do_export(deps, "s1")
    assert err.value.code == 1 and "cannot read the transcript" in str(err.value) and "FIFO" in str(err.value)
    assert not (tmp_path / "out").exists()


# ------------------------------------------------------------------ 12: rewrites and cache damage


def test_a_file_rewritten_in_place_with_a_larger_size_is_read_again(fake_home):
    path = write(proj(fake_home) / "s1.jsonl", [assistant("m1", "r1", T.format(1), inp=100, out=10, sid="s1")])
    prov = ClaudeProvider(claude_env(fake_home))
    assert prov.scan().sessions[0].usage.total == 110
    ino = path.stat().st_ino
    with open(path, "r+") as fh:  # same inode, new content, larger than before
        fh.write(json.dumps(assistant("m9", "r9", T.format(1), inp=5, out=5, sid="s1")) + "\n")
        fh.write(json.dumps(assistant("m8", "r8", T.format(2), inp=5, out=5, sid="s1")) + "\n")
        fh.truncate()
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    assert path.stat().st_ino == ino
    assert prov.scan().sessions[0].usage.total == 20  # not 110 + an "append"


def test_scan_cache_bit_flips_never_change_figures(fake_home, tmp_path):
    from llm_sessions.synth.corpus import build_corpus

    root = tmp_path / "c"
    build_corpus(root, seed=5)
    truth = json.loads((root / "truth.json").read_text())
    env = {k: ",".join(str(root / p) for p in v.split(",")) for k, v in truth["env"].items()}
    settings = load_settings(tmp_path / "none.toml", {})
    cache = tmp_path / "cache"

    def figures():
        snap = Monitor(settings, env, cache_dir=cache).scan_files()
        return {s.id: (s.usage.total, s.context.used if s.context else None) for s in snap.sessions}

    expected = figures()
    (cache_file,) = cache.glob("scan-*.msgpack")  # the base (beside it: its lock, its journal)
    good = cache_file.read_bytes()
    import random

    rng = random.Random(7)
    for _ in range(60):
        bad = bytearray(good)
        bit = rng.randrange(len(bad) * 8)
        bad[bit // 8] ^= 1 << (bit % 8)
        cache_file.write_bytes(bytes(bad))
        assert figures() == expected
        cache_file.write_bytes(good)


# ------------------------------------------------------------------ 13: list reads only what can run


class _Discovery:
    """Discovery that reports the given processes as running assistants, matched by id."""

    def __init__(self, procs, claims=None):
        self.procs, self.claims, self.calls = procs, claims or {}, 0

    def scan(self, sessions):
        from llm_sessions.core.live.discovery import DiscoveryResult

        self.calls += 1
        ids = {s.id for s in sessions}
        matches = {sid: p for sid, p in self.claims.items() if sid in ids}
        return DiscoveryResult(matches, tuple(p for p in self.procs if p not in matches.values()))


def test_list_reads_no_transcript_when_nothing_runs(fake_home, tmp_path):
    write(proj(fake_home) / "s1.jsonl", [assistant("m1", "r1", T.format(1), sid="s1")])
    mon = Monitor(load_settings(fake_home / "none.toml", {}), claude_env(fake_home), cache_dir=tmp_path / "cache",
                  discovery=_Discovery([]))
    snap = mon.poll(only_running=True)
    assert snap.sessions == () and mon.claude.files == {} and not (tmp_path / "cache").exists()
    assert str(proj(fake_home).parent) in snap.searched


def test_list_of_running_sessions_equals_the_full_scan_for_them(fake_home, tmp_path):
    from datetime import UTC, datetime

    from llm_sessions.core.models import ProcessInfo

    old = time.time() - 86400 * 30
    for i in range(30):  # a long history, none of it running
        f = write(fake_home / ".claude" / "projects" / f"-old-{i}" / f"old{i}.jsonl",
                  [assistant(f"o{i}", "r", T.format(1), inp=10, sid=f"old{i}")])
        os.utime(f, (old, old))
    live = fake_home / ".claude" / "projects" / "-live"
    first = write(live / "first.jsonl", [assistant("m1", "r1", T.format(1), inp=100, out=10, sid="first"),
                                         assistant("m2", "r2", T.format(2), inp=50, out=5, sid="first")])
    os.utime(first, (old, old))  # older file of the same folder: it owns the lines the resume copied
    write(live / "resumed.jsonl", [assistant("m2", "r2", T.format(2), inp=50, out=5, sid="resumed"),
                                   assistant("m3", "r3", T.format(3), inp=7, out=3, sid="resumed")])
    write(live / "resumed" / "subagents" / "agent-a.jsonl", [assistant("a1", "r", T.format(4), inp=1, out=1, sid="resumed")])
    proc = ProcessInfo(pid=4242, tool="claude", cwd="/live", started_at=datetime.now(UTC))
    settings = load_settings(fake_home / "none.toml", {})
    full = by_id(Monitor(settings, claude_env(fake_home)).scan_files())
    mon = Monitor(settings, claude_env(fake_home), discovery=_Discovery([proc], {"resumed": proc}))
    snap = mon.poll(only_running=True)
    assert snap.sessions[0].id == "resumed" and snap.sessions[0].process == proc
    assert snap.sessions[0].usage == full["resumed"].usage
    assert {f.rsplit("/", 2)[-2] for f in mon.claude.files} <= {"-live", "subagents"}  # the history was not read


def test_a_live_only_scan_leaves_the_rest_of_the_cache_undecoded(fake_home, tmp_path):
    """The cache of a long history is not decoded (nor held decoded) for `list`."""
    from datetime import UTC, datetime

    from llm_sessions.core.models import ProcessInfo

    old = time.time() - 86400 * 30  # older than the usage-limit windows
    for i in range(20):
        f = write(fake_home / ".claude" / "projects" / f"-old-{i}" / f"old{i}.jsonl", [assistant(f"o{i}", "r", T.format(1), sid=f"old{i}")])
        os.utime(f, (old, old))
    write(fake_home / ".claude" / "projects" / "-live" / "now.jsonl", [assistant("n", "r", T.format(1), inp=3, out=4, sid="now")])
    settings, cache = load_settings(fake_home / "none.toml", {}), tmp_path / "cache"
    Monitor(settings, claude_env(fake_home), cache_dir=cache).scan_files()  # writes the cache
    proc = ProcessInfo(pid=4242, tool="claude", cwd="/live", started_at=datetime.now(UTC))
    mon = Monitor(settings, claude_env(fake_home), cache_dir=cache, discovery=_Discovery([proc], {"now": proc}))
    snap = mon.poll(only_running=True)
    assert [(s.id, s.usage.total) for s in snap.sessions if s.process] == [("now", 7)]
    # the provider keeps each file's partial result encoded (`raw`) until it is needed (`files`)
    old_files = [p for p in mon.claude.raw if "-old-" in p]
    assert len(old_files) == 20 and not any(p in mon.claude.files for p in old_files)


def test_a_live_only_scan_still_gives_the_usage_limits_of_the_whole_week(fake_home):
    """Limits are account-wide: a session of yesterday in another folder still counts."""
    from datetime import UTC, datetime, timedelta

    from llm_sessions.core.models import ProcessInfo

    now = datetime.now(UTC).replace(microsecond=0)
    stamp = lambda d: (now - d).strftime("%Y-%m-%dT%H:%M:%S.000Z")  # noqa: E731
    f = write(fake_home / ".claude" / "projects" / "-other" / "yday.jsonl",
              [assistant("y", "r", stamp(timedelta(hours=30)), inp=5000, out=900, sid="yday")])
    day_ago = time.time() - 30 * 3600
    os.utime(f, (day_ago, day_ago))
    write(fake_home / ".claude" / "projects" / "-live" / "now.jsonl",
          [assistant("n", "r", stamp(timedelta(minutes=5)), inp=3000, out=400, sid="now")])
    proc = ProcessInfo(pid=4242, tool="claude", cwd="/live", started_at=now - timedelta(minutes=10))
    settings = load_settings(fake_home / "none.toml", {})

    def windows(only_running):
        mon = Monitor(settings, claude_env(fake_home), discovery=_Discovery([proc], {"now": proc}), clock=lambda: now)
        snap = mon.poll(only_running=only_running)
        return [(w.key if hasattr(w, "key") else repr(w)) for w in snap.limits], {s.id: s.limit_shares for s in snap.sessions}

    full_windows, full_shares = windows(False)
    live_windows, live_shares = windows(True)
    assert live_windows == full_windows and live_windows
    assert live_shares["now"] == full_shares["now"]


# ------------------------------------------------------------------ 14: full and read-only disks, debris


def test_a_cache_that_cannot_be_written_costs_nothing_but_the_cache(fake_home, tmp_path, monkeypatch):
    write(proj(fake_home) / "s1.jsonl", [assistant("m1", "r1", T.format(1), inp=3, out=3, sid="s1")])

    def full(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("tempfile.mkstemp", full)  # scancache imports tempfile when it saves
    snap = monitor(fake_home, tmp_path / "cache").scan_files()
    assert snap.sessions[0].usage.total == 6


def test_the_log_that_cannot_be_written_is_one_line(tmp_path, capsys):
    import logging

    from llm_sessions.cli import _LazyFileHandler

    (tmp_path / "ro").write_text("a file where the log folder should be")
    handler = _LazyFileHandler(tmp_path / "ro" / "log" / "x.log", delay=True)
    logger = logging.getLogger("test-hostile-log")
    logger.addHandler(handler)
    try:
        for _ in range(5):
            logger.warning("something")
    finally:
        logger.removeHandler(handler)
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "logging is off" in err


def test_read_only_data_folder_degrades_with_one_line(fake_home, tmp_path):
    """A real read-only mount where the machine allows it (root in CI); skipped elsewhere."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    import shutil

    if not shutil.which("mount") or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mnt)],
                                                   capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        write(proj(fake_home) / "s1.jsonl", [assistant("m1", "r1", T.format(1), sid="s1")])
        env = dict(os.environ, LLM_SESSION_HOME=str(mnt / "lsh"))
        assert run(["list", "--all", "--no-processes"], env).returncode == 0
        if subprocess.run(["mount", "-o", "remount,ro", str(mnt)], capture_output=True).returncode:
            pytest.skip("cannot remount read-only here")
        for args, code in ((["list", "--all", "--no-processes"], 0), (["export", "s1"], 1), (["config", "init"], 1), (["history"], 3)):
            res = run(args, env)
            assert res.returncode == code and "Traceback" not in res.stderr, (args, res.stderr)
        if subprocess.run(["mount", "-o", "remount,rw", str(mnt)], capture_output=True).returncode:
            pytest.skip("cannot remount read-write here")
        with open(mnt / "fill", "wb") as fh:  # now full
            try:
                fh.write(b"\0" * (2 * 1024 * 1024))
            except OSError:
                pass
        for args in (["list", "--all", "--no-processes"], ["export", "s1"], ["history"]):
            res = run(args, env)
            assert "Traceback" not in res.stderr and res.stderr.count("\n") <= 6, (args, res.stderr)
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def test_crash_debris_is_cleaned_and_a_write_in_progress_is_not(tmp_path):
    from llm_sessions.paths import clean_debris

    old = tmp_path / ".scan-abc"
    old.write_bytes(b"half a cache")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    fresh = tmp_path / ".scan-def"
    fresh.write_bytes(b"being written now")
    scancache.save(tmp_path / "scan-x.msgpack", scancache.CacheData(scancache.FORMAT, ["r"]))
    assert not old.exists() and fresh.exists()
    assert clean_debris(tmp_path, ".scan-", min_age_seconds=0) == 1


def test_default_export_names_never_collide(tmp_path):
    from llm_sessions.core.export.build import build_bundle
    from llm_sessions.core.export.bundle import write_bundle
    from llm_sessions.core.models import Session

    bundle = build_bundle(Session(id="abc", tool="claude"), None)
    first = write_bundle(bundle, tmp_path, "both", folder=True)
    second = write_bundle(bundle, tmp_path, "both", folder=True)  # same second, same session
    assert len({*first, *second}) == 4 and all(p.exists() for p in (*first, *second))


def test_sanity_bounds_floats_as_well_as_ints():
    """Found by the fuzzer: an integral float above the ceiling slipped past the check."""
    from llm_sessions.core.accounting.sanity import MAX_CALL_TOKENS, decode_record

    assert decode_record(b'{"tokens": {"output": 9999999998941.0}}') is None
    assert decode_record(b'{"outputTokens": 1e400}') is None
    assert decode_record(b'{"tokens": {"output": %d}}' % MAX_CALL_TOKENS) == {"tokens": {"output": MAX_CALL_TOKENS}}
    assert decode_record(b'{"exit_code": -1, "count": 3}') == {"exit_code": -1, "count": 3}


def test_the_log_is_moved_aside_past_its_size_and_one_earlier_log_kept(tmp_path, monkeypatch):
    """Every command logs its scan problems: the log is bounded (one earlier log kept)."""
    import logging

    from llm_sessions.cli import _LazyFileHandler

    monkeypatch.setattr(_LazyFileHandler, "max_bytes", 1000)
    log_file = tmp_path / "log" / "llm-session.log"
    logger = logging.getLogger("test-log-rotation")
    for run in range(4):  # four processes, each opening the log once
        handler = _LazyFileHandler(log_file, delay=True)
        logger.addHandler(handler)
        try:
            for i in range(40):
                logger.warning("run %d problem %d: a line of some length for the log", run, i)
        finally:
            logger.removeHandler(handler)
            handler.close()
    current, earlier = log_file.read_text(), (tmp_path / "log" / "llm-session.log.1").read_text()
    assert "run 3 problem 39" in current and "run 2" not in current
    assert "run 2 problem 0" in earlier and "run 1" not in earlier
    assert sorted(p.name for p in log_file.parent.iterdir()) == ["llm-session.log", "llm-session.log.1"]
