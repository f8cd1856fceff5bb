"""An idle dashboard poll (nothing changed on disk, no process running) re-reads no line,
rebuilds no session and re-derives no state or score; a real change is still seen by the
very next poll, equal to a cold scan. Calls are counted, never timed (see benchmarks/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from llm_sessions.core.accounting.providers.claude_merge import Merge
from llm_sessions.core.accounting.providers.codex_file import CodexFile
from llm_sessions.core.live import monitor as monitor_mod
from llm_sessions.core.live import session_state as state_mod
from llm_sessions.core.live.discovery import Discovery
from llm_sessions.core.live.monitor import Monitor
from llm_sessions.synth.corpus import build_corpus
from tests.unit.test_truth import truth_env, truth_settings


@pytest.fixture
def corpus(tmp_path):
    root = tmp_path / "c"
    build_corpus(root, seed=11, claude_sessions=4, codex_sessions=3)
    truth, env = truth_env(root)
    return root, env, truth_settings(tmp_path, truth)


def _halve(path: Path) -> bytes:
    """Cut `path` to its first half of lines; return the rest, to be appended later."""
    lines = path.read_bytes().splitlines(keepends=True)
    keep = len(lines) // 2
    path.write_bytes(b"".join(lines[:keep]))
    return b"".join(lines[keep:])


def _count(monkeypatch, owner, name: str) -> list:
    calls: list = []
    real = getattr(owner, name)

    def counted(*a, **k):
        calls.append(a)
        return real(*a, **k)

    monkeypatch.setattr(owner, name, counted)
    return calls


def _figures(snap, tool: str) -> dict:
    return {s.id: (s.usage, s.cost_usd, s.last_activity, s.context) for s in snap.sessions if s.tool == tool}


def _dashboard(env, cfg) -> Monitor:
    return Monitor(cfg, env, discovery=Discovery(env, tmux=False, pids=lambda: []))


@pytest.mark.parametrize(("tool", "glob", "owner", "name"), [
    ("codex", "home/.codex/sessions/**/rollout-*.jsonl", CodexFile, "feed"),
    ("claude", "home/.claude/projects/*/*.jsonl", Merge, "_session"),
])
def test_an_idle_poll_reads_and_builds_nothing_and_a_growth_shows_at_once(corpus, monkeypatch, tool, glob, owner, name):
    root, env, cfg = corpus
    grown = sorted(root.glob(glob), key=lambda p: p.stat().st_size)[-1]
    rest = _halve(grown)
    mon = _dashboard(env, cfg)
    mon.poll()
    calls = _count(monkeypatch, owner, name)
    for _ in range(3):
        mon.poll()
    assert calls == [], f"an idle poll re-did {tool} work"
    with grown.open("ab") as fh:
        fh.write(rest)
    mon.note_changes([str(grown)])  # as the dashboard's file watcher does (else: within one rotation)
    polled = _figures(mon.poll(), tool)
    assert calls, "the appended lines were not read"
    assert polled == _figures(Monitor(cfg, env).scan_files(), tool)


def test_an_idle_poll_derives_no_state_or_score_and_a_change_is_scored_at_once(corpus, monkeypatch):
    root, env, cfg = corpus
    grown = sorted(root.glob("home/.claude/projects/*/*.jsonl"), key=lambda p: p.stat().st_size)[-1]
    rest = _halve(grown)
    mon = _dashboard(env, cfg)
    mon.poll()  # the first poll places finished Aider runs last: from the second on the order holds
    first = mon.poll()
    states = _count(monkeypatch, state_mod, "session_state")
    scores = _count(monkeypatch, monitor_mod, "health_report")
    second = mon.poll()
    assert states == [] and scores == []
    assert all(a is b for a, b in zip(first.sessions, second.sessions, strict=True))
    with grown.open("ab") as fh:
        fh.write(rest)
    mon.note_changes([str(grown)])
    third = mon.poll()
    assert states and scores, "a changed session was not re-derived"
    fresh = _dashboard(env, cfg).poll()
    assert {s.id: (s.state, s.health) for s in third.sessions} == {s.id: (s.state, s.health) for s in fresh.sessions}


class _OneLive:
    """Discovery stand-in: the session `sid` runs (a process matched) until `ended` is set."""

    def __init__(self, sid: str) -> None:
        self.sid = sid
        self.ended = False

    def scan(self, sessions):
        from types import MappingProxyType

        from llm_sessions.core.live.discovery import DiscoveryResult
        from llm_sessions.core.models import ProcessInfo

        if self.ended:
            return DiscoveryResult()
        proc = ProcessInfo(pid=4242, name="claude", cmdline=("claude",), cpu_percent=0.0, rss_bytes=1, tool="claude")
        return DiscoveryResult(MappingProxyType({self.sid: proc}))


def test_a_poll_with_a_live_session_derives_only_that_one_and_its_end_at_once(corpus, monkeypatch):
    """With a process running, a poll re-derives state and score for the live session only
    (not every session of the history), and the poll after it ends says so, equal to a
    fresh monitor's answer."""
    _root, env, cfg = corpus
    sids = [s.id for s in Monitor(cfg, env).scan_files().sessions if s.tool == "claude"]
    live = _OneLive(sids[0])
    mon = Monitor(cfg, env, discovery=live)
    mon.poll()
    mon.poll()
    states = _count(monkeypatch, state_mod, "session_state")
    scores = _count(monkeypatch, monitor_mod, "health_report")
    snap = mon.poll()
    assert [a[0].id for a in states] == [sids[0]] and [a[0].id for a in scores] == [sids[0]]
    assert {s.id: s.state for s in snap.sessions}[sids[0]] != "ended"
    live.ended = True
    ended = mon.poll()
    fresh = Monitor(cfg, env, discovery=_OneLive(sids[0]))
    fresh.discovery.ended = True
    assert {s.id: (s.state, s.health) for s in ended.sessions} == {s.id: (s.state, s.health) for s in fresh.poll().sessions}


def test_a_deleted_transcript_leaves_nothing_behind_in_the_per_session_memos(corpus):
    """A dashboard runs for days: what it remembers per session follows the sessions there are."""
    root, env, cfg = corpus
    mon = _dashboard(env, cfg)
    first = mon.poll()
    victim = next(s for s in first.sessions if s.tool == "claude" and s.transcript and not s.subagent_files)
    gone, gone_id = Path(victim.transcript or ""), victim.id
    assert gone_id in mon._attached and gone_id in mon._seen_activity
    gone.unlink()
    mon.note_changes([str(gone)])
    snap = mon.poll()
    ids = {s.id for s in snap.sessions}
    assert gone_id not in ids
    assert set(mon._attached) <= ids and set(mon._seen_activity) <= ids
