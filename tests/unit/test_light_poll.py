"""A dashboard poll looks only where a change is likely (issue 14): the folder tree is
re-listed only where a folder's mtime moved, hot files are stat-ed every poll, the rest in
a rotating share. These tests hold the bookkeeping to what a full listing finds: every
change shows up (at once where it is likely, within one rotation otherwise), and an idle
poll hands the same objects on so that scoring, the store and the table do no work."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llm_sessions.core.accounting import dirtree
from llm_sessions.core.accounting.dirtree import DirTree
from llm_sessions.core.accounting.providers import claude as claude_mod
from llm_sessions.core.accounting.providers.claude import ClaudeProvider
from llm_sessions.core.live.monitor import Monitor
from llm_sessions.synth.corpus import build_corpus
from tests.transcript_factory import ClaudeWriter
from tests.unit.test_claude_incremental import OPS, _mutate, _sessions
from tests.unit.test_truth import truth_env, truth_settings


def _writer(sid: str, turns: int = 2) -> ClaudeWriter:
    w = ClaudeWriter(session_id=sid)
    for i in range(turns):
        w.user(f"q{i}").text(f"a{i}")
    return w


def _session_id(i: int) -> str:
    return f"5f1c2a9e-1111-4222-8333-{i:012d}"


def _jsonl(name: str) -> bool:
    return name.endswith(".jsonl")


def test_dirtree_refresh_reports_added_and_removed_files(tmp_path):
    top = tmp_path / "projects"
    (top / "p1").mkdir(parents=True)
    (top / "p1" / "a.jsonl").write_text("{}\n")
    (top / "p1" / "notes.txt").write_text("x")
    tree = DirTree(_jsonl)
    tree.full([str(top)], [])
    assert sorted(tree.files()) == [str(top / "p1" / "a.jsonl")]

    (top / "p1" / "b.jsonl").write_text("{}\n")
    (top / "p1" / "a.jsonl").unlink()
    (top / "p2" / "s" / "subagents").mkdir(parents=True)
    (top / "p2" / "s" / "subagents" / "agent-1.jsonl").write_text("{}\n")
    added, removed = tree.refresh([str(top), str(top / "p1")], [])
    assert added == {str(top / "p1" / "b.jsonl"), str(top / "p2" / "s" / "subagents" / "agent-1.jsonl")}
    assert removed == {str(top / "p1" / "a.jsonl")}

    shutil.rmtree(top / "p2")
    added, removed = tree.refresh([str(top)], [])
    assert added == set() and removed == {str(top / "p2" / "s" / "subagents" / "agent-1.jsonl")}
    assert sorted(tree.files()) == [str(top / "p1" / "b.jsonl")]


def test_dirtree_skips_a_folder_whose_mtime_did_not_move(tmp_path, monkeypatch):
    top = tmp_path / "projects"
    (top / "p1").mkdir(parents=True)
    (top / "p1" / "a.jsonl").write_text("{}\n")
    tree = DirTree(_jsonl)
    tree.full([str(top)], [])
    listed = []
    real = tree._entries
    monkeypatch.setattr(tree, "_entries", lambda folder: listed.append(folder) or real(folder))
    tree.refresh([str(top / "p1")], [])
    assert listed == [str(top / "p1")]  # listed within RACY_NS of its mtime: not trusted yet
    monkeypatch.setattr(dirtree, "RACY_NS", -(10**18))  # as if listed long after its last change
    listed.clear()
    assert tree.refresh([str(top / "p1")], []) == (set(), set())
    assert listed == []


def _home(tmp_path: Path, n: int) -> tuple[dict, Path]:
    projects = tmp_path / "home" / ".claude" / "projects"
    for i in range(n):
        _writer(_session_id(i)).write(projects / f"-proj-{i % 3}")
    return {"HOME": str(tmp_path / "home")}, projects


def _ids(result) -> dict:
    return {s.id: (s.usage, s.last_activity) for s in result.sessions}


def test_light_scan_sees_new_sessions_and_hinted_appends_at_once(tmp_path):
    env, projects = _home(tmp_path, 4)
    prov = ClaudeProvider(env)
    prov.scan(light=True)  # the first scan lists everything
    _writer(_session_id(100)).write(projects / "-proj-1")  # a new session in a known project
    _writer(_session_id(101)).write(projects / "-proj-new")  # and in a new project
    grown = projects / "-proj-0" / f"{_session_id(0)}.jsonl"
    grown.write_text(grown.read_text() + _writer(_session_id(0), 5).lines[-1] + "\n")
    prov.note_changes([str(grown)])
    light = prov.scan(light=True)
    full = ClaudeProvider(env).scan()
    assert _ids(light) == _ids(full)
    assert {_session_id(100), _session_id(101)} <= set(_ids(light))


def test_light_scan_rotates_through_cold_files_and_converges(tmp_path, monkeypatch):
    monkeypatch.setattr(claude_mod, "MIN_SHARE_FILES", 1)
    monkeypatch.setattr(claude_mod, "MIN_SHARE_DIRS", 1)
    env, projects = _home(tmp_path, 60)
    prov = ClaudeProvider(env)
    prov.scan(light=True)
    stated: list[int] = []
    real_plan = prov._plan
    monkeypatch.setattr(prov, "_plan", lambda listing, *a: stated.append(len(listing)) or real_plan(listing, *a))
    cold = projects / "-proj-2" / f"{_session_id(59)}.jsonl"
    cold.write_text(cold.read_text() + _writer(_session_id(59), 4).lines[-1] + "\n")
    (projects / "-proj-1" / f"{_session_id(58)}.jsonl").unlink()
    full = _ids(ClaudeProvider(env).scan())
    seen = None
    for _poll in range(claude_mod.COLD_SHARE + 2):
        seen = _ids(prov.scan(light=True))
        if seen == full:
            break
    assert seen == full, "a change to a cold file was not found within one rotation"
    assert min(stated) < 60  # a light poll stats a share of the files, not all of them


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(st.sampled_from(OPS), min_size=1, max_size=6), seed=st.integers(0, 2**32))
def test_polls_after_changes_equal_a_cold_scan(tmp_path_factory, ops, seed):
    work = tmp_path_factory.mktemp("light")
    root = work / "c"
    build_corpus(root, seed=7, claude_sessions=5, codex_sessions=0)
    truth, env = truth_env(root)
    cfg = truth_settings(work, truth)
    live = Monitor(cfg, env, cache_dir=work / "cache")
    live.poll()
    rng = random.Random(seed)
    for op in ops:
        _mutate(root, op, rng)
        # without a watcher's hint a changed cold file is found within one rotation
        rounds = -(-len(live.claude.heads) // claude_mod.MIN_SHARE_FILES) + 1
        for _ in range(rounds):
            polled = _sessions(live.poll())
        cold = _sessions(Monitor(cfg, env).scan_files())
        assert polled == cold, op


def test_an_idle_poll_hands_on_the_same_sessions(tmp_path):
    env, _ = _home(tmp_path, 5)
    from llm_sessions.config import load_settings

    mon = Monitor(load_settings(tmp_path / "none.toml", {}), env)
    first = mon.poll()
    second = mon.poll()
    assert [s.id for s in second.sessions] == [s.id for s in first.sessions]
    assert all(a is b for a, b in zip(first.sessions, second.sessions, strict=True))
    assert not mon.claude.changed and not mon.claude.rebuilt


def test_store_skips_sessions_it_already_holds_whole(tmp_path, monkeypatch):
    from datetime import timedelta

    from llm_sessions.core.store import repository
    from tests.unit.test_store import T0, open_store, sess, snap

    store = open_store(f"sqlite:///{tmp_path / 'db.sqlite'}", tmp_path)
    same, other = sess("a"), sess("b")
    assert store.record_snapshot(snap(T0, same, other)) == 2
    made = []
    real = repository.session_values
    monkeypatch.setattr(repository, "session_values", lambda s, **kw: made.append(s.id) or real(s, **kw))
    assert store.record_snapshot(snap(T0 + timedelta(seconds=2), same, sess("b", used=20_000))) == 1
    assert made == ["b"]  # the unchanged object is not compared again
    assert len(store.samples("a")) == 1 and len(store.samples("b")) == 2
    store.close()


def test_a_one_shot_poll_saves_the_cache_and_a_dashboard_throttles_it(tmp_path):
    from datetime import UTC, datetime, timedelta

    from llm_sessions.config import load_settings

    env, projects = _home(tmp_path, 3)
    now = [datetime(2026, 3, 1, tzinfo=UTC)]
    mon = Monitor(load_settings(tmp_path / "none.toml", {}), env, cache_dir=tmp_path / "cache", clock=lambda: now[0])
    mon.poll()
    cache = mon._cache_path
    assert cache.exists()  # `list` polls once: its cache must be written by that poll

    def written():  # a save rewrites the base or appends to its journal
        return [p.stat().st_mtime_ns for p in (cache, cache.with_name(cache.name + ".journal")) if p.exists()]

    first = written()
    _writer(_session_id(50)).write(projects / "-proj-0")
    mon.poll()
    assert written() == first  # a dashboard's next polls wait a minute
    now[0] += timedelta(seconds=61)
    mon.poll()
    assert written() != first


def test_block_reader_skips_an_oversized_line_and_checks_content(tmp_path):
    import os

    from llm_sessions.core.accounting import tailer

    p = tmp_path / "t.jsonl"
    p.write_bytes(b'{"a":1}\n' + b"x" * 5000 + b'\n{"b":2}\n')
    cur = tailer.Cursor()
    got = [(bytes(b), n) for b, n in tailer.read_blocks(str(p), cur, os.stat(p), size=64, max_line=1000)]
    lines = [line for b, _ in got for line in b.split(b"\n") if line]
    assert lines == [b'{"a":1}', tailer.OVERSIZED, b'{"b":2}']
    assert cur.offset == p.stat().st_size and cur.check != 0
    with p.open("ab") as fh:  # an oversized line with no end yet: the cursor waits at its start
        fh.write(b"y" * 3000)
    before = cur.offset
    assert list(tailer.read_blocks(str(p), cur, os.stat(p), size=64, max_line=1000)) == []
    assert cur.offset == before
