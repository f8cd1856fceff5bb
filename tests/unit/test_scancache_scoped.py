"""`list` (a scan limited to running sessions) keeps its own scan cache (issue 14).

At 100,000 transcripts the full cache is ~95 MB, and `list` used ~2,000 of its entries:
a scoped run now loads and saves a cache holding only what its scope read (Monitor.save_cache).
The rules checked here: every scoped answer equals a cold scoped run's (after appends, resumed
copies, a folder entering the scope, with and without a full cache, a scoped cache that is
stale or damaged), and a scoped run never writes the full cache with less than it knew.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from llm_sessions.config import load_settings
from llm_sessions.core.accounting import scancache
from llm_sessions.core.live.monitor import Monitor
from llm_sessions.core.models import ProcessInfo
from tests.unit.claude_lines import assistant, user, write
from tests.unit.test_hostile_files import _Discovery, claude_env

NOW = datetime.now(UTC).replace(microsecond=0)
OLD = time.time() - 30 * 86400  # outside the usage-limit windows too


def stamp(ago: timedelta) -> str:
    return (NOW - ago).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def history(home: Path) -> Path:
    """40 old sessions, a live folder with a resumed session (copied lines owned by the
    older file) and a subagent, an older folder that enters the scope later, and
    yesterday's session elsewhere (read only for the usage limits)."""
    projects = home / ".claude" / "projects"
    for i in range(40):
        f = write(projects / f"-old-{i}" / f"old{i}.jsonl", [assistant(f"o{i}", "r", stamp(timedelta(days=30)), inp=10 + i, sid=f"old{i}")])
        os.utime(f, (OLD, OLD))
    live = projects / "-live"
    first = write(live / "first.jsonl", [assistant("m1", "r1", stamp(timedelta(hours=3)), inp=100, out=10, sid="first"),
                                         assistant("m2", "r2", stamp(timedelta(hours=2)), inp=50, out=5, sid="first")])
    os.utime(first, (OLD, OLD))
    write(live / "resumed.jsonl", [assistant("m2", "r2", stamp(timedelta(hours=2)), inp=50, out=5, sid="resumed"),
                                   user(stamp(timedelta(minutes=9)), sid="resumed"),
                                   assistant("m3", "r3", stamp(timedelta(minutes=8)), inp=7, out=3, sid="resumed")])
    write(live / "resumed" / "subagents" / "agent-a.jsonl",
          [assistant("a1", "r", stamp(timedelta(minutes=7)), inp=1, out=1, sid="resumed", side=True)])
    later = projects / "-later"
    a = write(later / "base.jsonl", [assistant("k1", "q1", stamp(timedelta(days=29)), inp=400, out=40, sid="base")])
    b = write(later / "later2.jsonl", [assistant("k1", "q1", stamp(timedelta(days=29)), inp=400, out=60, sid="later2"),
                                       assistant("k2", "q2", stamp(timedelta(days=28)), inp=9, out=9, sid="later2")])
    for f in (a, b):
        os.utime(f, (OLD, OLD))
    y = write(projects / "-other" / "yday.jsonl", [assistant("y", "r", stamp(timedelta(hours=30)), inp=5000, out=900, sid="yday")])
    yday = time.time() - 30 * 3600
    os.utime(y, (yday, yday))
    return live


PROC = ProcessInfo(pid=4242, tool="claude", cwd="/live", started_at=NOW - timedelta(minutes=10))
LATER = ProcessInfo(pid=4343, tool="claude", cwd="/later", started_at=NOW - timedelta(minutes=10))


class Runs:
    def __init__(self, home: Path, cache: Path) -> None:
        self.home, self.cache = home, cache
        self.settings = load_settings(home / "none.toml", {})
        self.procs = [PROC]
        self.claims = {"resumed": PROC}

    def monitor(self, cache: Path | None) -> Monitor:
        mon = Monitor(self.settings, claude_env(self.home), cache_dir=cache,
                      discovery=_Discovery(list(self.procs), dict(self.claims)), clock=lambda: NOW)
        mon.learn_limits = False  # as `list` runs it (the learned limits live beside the cache)
        return mon

    def scoped(self, cache: Path | None):
        mon = self.monitor(cache)
        snap = mon.poll(only_running=True)
        return (snap.sessions, snap.limits), mon

    def check(self) -> Monitor:
        """A scoped run with the caches equals a cold scoped run; returns the warm monitor."""
        cold, _ = self.scoped(None)
        warm, mon = self.scoped(self.cache)
        assert warm == cold
        assert any(s.process for s in warm[0])
        return mon

    def full_equals_cold(self) -> None:
        def scan(cache):
            mon = Monitor(self.settings, claude_env(self.home), cache_dir=cache, clock=lambda: NOW)
            mon.learn_limits = False
            return mon.scan_files().sessions

        assert scan(self.cache) == scan(None)


def paths(cache: Path, roots_of: Monitor) -> tuple[Path, Path]:
    return scancache.cache_file(cache, roots_of._roots), scancache.cache_file(cache, roots_of._roots, scoped=True)


def test_a_scoped_run_seeds_its_own_cache_from_the_full_one_and_leaves_that_unchanged(fake_home, tmp_path):
    history(fake_home)
    runs = Runs(fake_home, tmp_path / "cache")
    runs.full_equals_cold()  # `list --all` writes the full cache
    full, live = paths(runs.cache, runs.monitor(None))
    before = full.read_bytes()
    mon = runs.check()  # reads the full cache (no scoped one yet), writes the scoped one
    assert mon._full_state and live.exists() and full.read_bytes() == before
    assert not full.with_name(full.name + ".journal").exists()  # nothing changed: nothing appended
    kept = scancache.load(live, mon._roots)
    assert kept is not None and {Path(h.path).parent.name for h in kept.claude.heads} == {"-live", "subagents", "-other"}
    mon = runs.check()  # now from the scoped cache alone
    assert not mon._full_state and len(mon.claude.heads) == 4 and mon.parsed_bytes == 0
    runs.full_equals_cold()


def test_appends_and_resumed_copies_after_the_scoped_cache(fake_home, tmp_path):
    live = history(fake_home)
    runs = Runs(fake_home, tmp_path / "cache")
    runs.check()  # no cache at all: a cold scoped run writes only the scoped cache
    full, scoped = paths(runs.cache, runs.monitor(None))
    assert scoped.exists() and not full.exists()
    # the resumed file grows: a new line, and a copy of the original's line with more output
    write(live / "resumed.jsonl", [assistant("m4", "r4", stamp(timedelta(minutes=2)), inp=70, out=30, sid="resumed"),
                                   assistant("m1", "r1", stamp(timedelta(hours=3)), inp=100, out=99, sid="resumed")], mode="a")
    mon = runs.check()
    assert not mon._full_state and mon.parsed_bytes > 0
    assert scoped.with_name(scoped.name + ".journal").exists()  # the change went to its journal
    write(live / "resumed" / "subagents" / "agent-a.jsonl",
          [assistant("a2", "r", stamp(timedelta(minutes=1)), inp=5, out=5, sid="resumed", side=True)], mode="a")
    runs.check()
    assert not full.exists()  # a scoped run never writes the full cache from a partial state
    runs.full_equals_cold()


def test_a_folder_entering_the_scope_is_read(fake_home, tmp_path):
    history(fake_home)
    runs = Runs(fake_home, tmp_path / "cache")
    runs.full_equals_cold()
    runs.check()
    runs.check()  # the scoped cache holds nothing of -later
    runs.procs.append(LATER)
    runs.claims["later2"] = LATER
    mon = runs.check()
    got = {s.id: s for s in mon.poll(only_running=True).sessions}
    assert got["later2"].process == LATER and got["later2"].usage.output == 9  # the copy of k1 is base's
    runs.procs.remove(PROC)
    del runs.claims["resumed"]
    runs.check()
    runs.full_equals_cold()


def test_a_stale_or_damaged_scoped_cache_gives_way_to_the_full_one(fake_home, tmp_path):
    live = history(fake_home)
    runs = Runs(fake_home, tmp_path / "cache")
    runs.full_equals_cold()
    runs.check()
    full, scoped = paths(runs.cache, runs.monitor(None))
    write(live / "resumed.jsonl", [assistant("m5", "r5", stamp(timedelta(minutes=1)), inp=3, out=3, sid="resumed")], mode="a")
    runs.full_equals_cold()  # a full run saves the full cache: now newer than the scoped one
    assert runs.monitor(runs.cache)._cache.written_ns() > runs.monitor(runs.cache)._live_cache.written_ns()
    mon = runs.check()
    assert mon._full_state and mon.parsed_bytes == 0  # read from the newer full cache
    raw = bytearray(scoped.read_bytes())
    raw[-3] ^= 0xFF
    scoped.write_bytes(bytes(raw))
    mon = runs.check()
    assert mon._full_state
    runs.check()
    runs.full_equals_cold()
