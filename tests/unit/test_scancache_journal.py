"""The scan cache's journal (core/accounting/scanjournal.py): a save after an append writes
only what changed; a load replays it. Whatever happens to the files (a torn tail, bit
flips, a crash between any two steps, two writers at once, a base written by the previous
version), a load gives a state some save wrote, never a mix, and figures never change."""

from __future__ import annotations

import multiprocessing
import os
import random
import shutil
import zlib
from pathlib import Path

import msgspec
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from llm_sessions.core.accounting import scancache, scanjournal, tailer
from llm_sessions.core.accounting.providers.claude_state import ClaudeState, Head
from llm_sessions.core.live.monitor import Monitor
from llm_sessions.core.models import Session, Usage
from llm_sessions.synth.corpus import build_corpus
from tests.unit.test_claude_incremental import OPS, _mutate, _sessions
from tests.unit.test_truth import truth_env, truth_settings

ROOTS = ["/r"]


# -- CacheData built by hand ----------------------------------------------------------


def _head(path: str, fid: int, offset: int = 0) -> Head:
    return Head(path, fid, 0, path.rsplit("/", 1)[-1], False, "2026-01-01T00:00:00Z", "2026-01-01T00:00:00Z",
                0, 0, 0, 0, True, [], tailer.Cursor(offset=offset))


def _data(files: dict[str, int], sessions: dict[str, int], next_fid: int | None = None, **claude) -> scancache.CacheData:
    """A cache of `files` (path -> offset) and `sessions` (id -> input tokens)."""
    heads = [_head(p, i + 1, off) for i, (p, off) in enumerate(files.items())]
    state = ClaudeState(
        heads=heads,
        files=[msgspec.Raw(msgspec.msgpack.encode({"offset": h.cursor.offset})) for h in heads],
        sessions=[Session(sid, "claude", usage=Usage(n)) for sid, n in sessions.items()],
        next_fid=len(heads) + 1 if next_fid is None else next_fid,
        **claude,
    )
    return scancache.CacheData(scancache.FORMAT, ROOTS, state)


def _bytes(data: scancache.CacheData | None) -> bytes:
    """A cache's content, whatever token its base was given."""
    assert data is not None
    return msgspec.msgpack.encode(msgspec.structs.replace(data, token=0))


def _journal(path: Path) -> Path:
    return path.with_name(path.name + ".journal")


def _flipped(good: bytes, rng: random.Random) -> bytes:
    """`good` with one random bit flipped."""
    bad = bytearray(good)
    bit = rng.randrange(len(bad) * 8)
    bad[bit // 8] ^= 1 << (bit % 8)
    return bytes(bad)


@pytest.fixture
def path(tmp_path) -> Path:
    return tmp_path / "scan-x.msgpack"


def test_a_save_after_a_small_change_appends_and_a_load_replays_it(path):
    one = _data({"/r/a": 10, "/r/b": 20}, {"a": 1, "b": 2})
    cache = scancache.ScanCache(path, ROOTS)
    cache.save(one)
    base = path.read_bytes()
    two = _data({"/r/a": 15, "/r/b": 20, "/r/c": 5}, {"a": 3, "b": 2, "c": 4})
    cache.save(two)
    assert path.read_bytes() == base  # the base is not rewritten ...
    assert _journal(path).stat().st_size < len(base)  # ... the change is appended
    assert _bytes(scancache.ScanCache(path, ROOTS).load()) == _bytes(two)


def test_an_unchanged_save_writes_nothing(path):
    cache = scancache.ScanCache(path, ROOTS)
    cache.save(_data({"/r/a": 1}, {"a": 1}))
    stamp = path.stat().st_mtime_ns
    cache.save(_data({"/r/a": 1}, {"a": 1}))
    assert path.stat().st_mtime_ns == stamp and not _journal(path).exists()


def test_the_journal_is_compacted_into_a_new_base_past_its_share(path, monkeypatch):
    monkeypatch.setattr(scancache.ScanCache, "MIN_JOURNAL", 0)
    cache = scancache.ScanCache(path, ROOTS)
    files = {f"/r/{i}": i for i in range(40)}
    cache.save(_data(files, {"a": 1}))
    compactions = 0
    for n in range(1, 30):
        base = path.stat().st_ino
        files[f"/r/{n % 40}"] += 1000  # each save changes one file
        state = _data(files, {"a": n})
        cache.save(state)
        if path.stat().st_ino != base:
            compactions += 1
            assert not _journal(path).exists()  # the new base holds it all
        size = _journal(path).stat().st_size if _journal(path).exists() else 0
        assert size <= path.stat().st_size // scancache.ScanCache.COMPACT_SHARE
        assert _bytes(scancache.ScanCache(path, ROOTS).load()) == _bytes(state)
    assert compactions >= 2


@pytest.mark.parametrize("cut", ["mid-record", "mid-header", "garbage after"])
def test_a_torn_journal_tail_is_dropped_never_trusted(path, cut):
    cache = scancache.ScanCache(path, ROOTS)
    cache.save(_data({"/r/a": 1}, {"a": 1}))
    two = _data({"/r/a": 2}, {"a": 2})
    cache.save(two)
    whole = _journal(path).read_bytes()
    cache.save(_data({"/r/a": 3}, {"a": 3}))
    grown = _journal(path).read_bytes()
    torn = {"mid-record": grown[: len(whole) + (len(grown) - len(whole)) // 2],
            "mid-header": grown[: len(whole) + 3],
            "garbage after": whole + os.urandom(200)}[cut]
    _journal(path).write_bytes(torn)  # a crash during the third save's append
    again = scancache.ScanCache(path, ROOTS)
    assert _bytes(again.load()) == _bytes(two)  # the state before the torn record
    four = _data({"/r/a": 4, "/r/b": 1}, {"a": 4})
    again.save(four)  # the next save cuts the torn bytes and appends after the good ones
    assert _journal(path).read_bytes().startswith(whole)
    assert _bytes(scancache.ScanCache(path, ROOTS).load()) == _bytes(four)


def test_a_damaged_record_ends_the_replay_there(path):
    cache = scancache.ScanCache(path, ROOTS)
    cache.save(_data({"/r/a": 1}, {"a": 1}))
    states = []
    for n in range(2, 6):
        states.append(_data({"/r/a": n}, {"a": n}))
        cache.save(states[-1])
    good = _journal(path).read_bytes()
    rng = random.Random(3)
    seen = set()
    for _ in range(200):
        _journal(path).write_bytes(_flipped(good, rng))
        got = _bytes(scancache.ScanCache(path, ROOTS).load())
        prefixes = [_bytes(_data({"/r/a": 1}, {"a": 1}))] + [_bytes(s) for s in states]
        assert got in prefixes  # a state some save wrote: the records before the flip
        seen.add(prefixes.index(got))
    assert len(seen) > 2


def test_a_journal_of_another_base_is_ignored(path, monkeypatch):
    """A crash after a compaction renamed its new base in, before the old journal went."""
    cache = scancache.ScanCache(path, ROOTS)
    cache.save(_data({"/r/a": 1}, {"a": 1}))
    cache.save(_data({"/r/a": 2}, {"a": 2}))  # -> journal
    stale = _journal(path).read_bytes()
    new = _data({"/r/a": 3, "/r/b": 1}, {"b": 7})
    monkeypatch.setattr(scancache.ScanCache, "MIN_JOURNAL", 0)  # this save compacts ...
    monkeypatch.setattr(scancache.os, "unlink", lambda p: None)  # ... and "crashes" before the unlink
    cache.save(new)
    monkeypatch.undo()
    assert _journal(path).read_bytes() == stale  # the old journal is still there
    assert _bytes(scancache.ScanCache(path, ROOTS).load()) == _bytes(new)


def test_a_crash_while_writing_a_new_base_leaves_base_and_journal_as_they_were(path, monkeypatch):
    cache = scancache.ScanCache(path, ROOTS)
    cache.save(_data({"/r/a": 1}, {"a": 1}))
    two = _data({"/r/a": 2}, {"a": 2})
    cache.save(two)  # -> journal

    def crash(*_):
        raise KeyboardInterrupt  # the process dies between writing the temp file and the rename

    monkeypatch.setattr(scancache.ScanCache, "MIN_JOURNAL", 0)
    monkeypatch.setattr(scancache.os, "replace", crash)
    with pytest.raises(KeyboardInterrupt):
        cache.save(_data({"/r/a": 9}, {"a": 9}))
    monkeypatch.undo()
    assert _bytes(scancache.ScanCache(path, ROOTS).load()) == _bytes(two)
    assert [p.name for p in path.parent.iterdir() if p.name.startswith(".scan")] == []  # no temp file left


def test_a_crash_before_the_journal_append_leaves_the_previous_state(path, monkeypatch):
    cache = scancache.ScanCache(path, ROOTS)
    cache.save(_data({"/r/a": 1}, {"a": 1}))
    two = _data({"/r/a": 2}, {"a": 2})
    cache.save(two)
    monkeypatch.setattr(scancache, "_write_all", lambda fd, blob: os.write(fd, blob[: len(blob) // 3]) and None)
    cache.save(_data({"/r/a": 3}, {"a": 3}))  # a third of the record reaches the disk
    monkeypatch.undo()
    assert _bytes(scancache.ScanCache(path, ROOTS).load()) == _bytes(two)


def test_a_writer_that_missed_another_writes_a_whole_base(path):
    """Two processes loaded the same cache; each saves its own state: the second must not
    append a change computed against a state the journal no longer ends with."""
    scancache.ScanCache(path, ROOTS).save(_data({"/r/a": 1, "/r/b": 1}, {"a": 1, "b": 1}))
    dashboard, lister = scancache.ScanCache(path, ROOTS), scancache.ScanCache(path, ROOTS)
    dashboard.load()
    lister.load()
    lister.save(_data({"/r/a": 5, "/r/b": 1}, {"a": 5, "b": 1}, next_fid=9))
    mine = _data({"/r/a": 1, "/r/b": 7}, {"a": 1, "b": 7}, next_fid=4)
    dashboard.save(mine)
    assert _bytes(scancache.ScanCache(path, ROOTS).load()) == _bytes(mine)  # one writer's whole state


def _writer(path: str, wid: int, rounds: int) -> None:
    rng = random.Random(wid)
    for i in range(rounds):
        cache = scancache.ScanCache(Path(path), ROOTS)
        old = cache.load()
        n = len(old.claude.sessions) if old is not None else 0
        files = {f"/r/{wid}-{k}": k for k in range(rng.randint(1, 6))}
        sessions = {f"w{wid}-{i}-{k}": k for k in range(n % 5 + 1)}
        # the invariant a mix would break: next_fid = files + sessions + 1000 * writer
        cache.save(_data(files, sessions, next_fid=len(files) + len(sessions) + 1000 * wid))
        cache.save(_data({**files, "/r/x": i}, sessions, next_fid=len(files) + 1 + len(sessions) + 1000 * wid))


def test_two_processes_saving_at_once_never_leave_a_mix(path):
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_writer, args=(str(path), w, 40)) for w in (1, 2)]
    for p in procs:
        p.start()
    checks = 0
    while any(p.is_alive() for p in procs) or checks < 5:
        data = scancache.ScanCache(path, ROOTS).load()
        if data is not None:
            c = data.claude
            wid = {h.path.split("/")[2].split("-")[0] for h in c.heads if h.path != "/r/x"}
            assert len(wid) == 1, wid  # files of one writer only
            assert c.next_fid == len(c.heads) + len(c.sessions) + 1000 * int(wid.pop())
            assert {s.id.split("-")[0] for s in c.sessions} == {f"w{w}" for w in (1, 2) if c.next_fid // 1000 == w}
            checks += 1
    for p in procs:
        p.join()
        assert p.exitcode == 0
    assert checks >= 5


def test_a_base_written_by_the_previous_version_still_loads(path):
    """The previous version wrote the same frame and payload, without the token."""

    class PreviousCacheData(msgspec.Struct):
        format: int
        roots: list[str]
        claude: ClaudeState = msgspec.field(default_factory=ClaudeState)
        codex: dict[str, msgspec.Raw] = {}

    one = _data({"/r/a": 1}, {"a": 1})
    payload = msgspec.msgpack.encode(PreviousCacheData(one.format, one.roots, one.claude, one.codex))
    path.write_bytes(scancache.MAGIC + zlib.crc32(payload).to_bytes(4, "little") + payload)
    cache = scancache.ScanCache(path, ROOTS)
    assert _bytes(cache.load()) == _bytes(one)
    two = _data({"/r/a": 2}, {"a": 2})
    cache.save(two)  # a base without a token has no journal: this save writes a base with one
    assert not _journal(path).exists() and scancache.ScanCache(path, ROOTS).load().token
    three = _data({"/r/a": 3}, {"a": 3})
    cache.save(three)
    assert _journal(path).exists() and _bytes(scancache.ScanCache(path, ROOTS).load()) == _bytes(three)
    # ... and the previous version reads the new base (it ignores the token and the journal)
    old = msgspec.msgpack.decode(path.read_bytes()[len(scancache.MAGIC) + 4 :], type=PreviousCacheData)
    assert old.claude == two.claude


# -- Changes: an ordered mapping's difference, order included -------------------------

keys = st.lists(st.integers(0, 30), unique=True, max_size=20)


@settings(max_examples=300, deadline=None)
@given(old_keys=keys, new_keys=keys, values=st.dictionaries(st.integers(0, 30), st.integers(0, 2)))
def test_changes_applied_give_the_new_mapping_in_its_order(old_keys, new_keys, values):
    old = {k: 0 for k in old_keys}
    new = {k: values.get(k, 0) for k in new_keys}
    patch = scanjournal.changes(old, new, scanjournal._same)
    got = dict(old) if patch is None else patch.apply(dict(old))
    assert list(got.items()) == list(new.items())


def test_changes_of_a_value_in_place_do_not_move_the_rest():
    old = {k: 0 for k in range(100)}
    new = {**old, 50: 1}
    patch = scanjournal.changes(old, new, scanjournal._same)
    assert patch is not None and patch.updated == {50: 1} and not patch.appended and not patch.removed


# -- through the Monitor, on a generated corpus ----------------------------------------


@pytest.fixture(scope="module")
def base_corpus(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("journal") / "c"
    build_corpus(root, seed=6, claude_sessions=5, codex_sessions=3)
    return root


def _copy(base: Path, work: Path):
    """A copy of the corpus to change: (its root, its environment, its settings)."""
    root = work / "c"
    shutil.copytree(base, root)
    truth, env = truth_env(root)
    return root, env, truth_settings(work, truth)


GLOBS = {"claude": "home/.claude/projects/*/*.jsonl", "codex": "home/.codex/sessions/**/rollout-*.jsonl"}


def _grow(root: Path, rng: random.Random, tools=("claude", "codex")) -> None:
    """Append a few lines (with fresh ids) to one transcript of each of `tools`."""
    for pattern in (GLOBS[t] for t in tools):
        files = sorted(root.glob(pattern))
        f = rng.choice(files)
        lines = f.read_bytes().splitlines()
        tag = f"{rng.getrandbits(40):010x}".encode()
        new = [line.replace(b'"id":"msg_', b'"id":"msg_' + tag) for line in rng.sample(lines, min(6, len(lines)))]
        with f.open("ab") as fh:
            fh.write(b"\n".join(new) + b"\n")


@pytest.mark.parametrize("tools", [("claude", "codex"), ("claude",), ("codex",)])
def test_a_replayed_journal_equals_a_whole_save(base_corpus, tmp_path, tools):
    """Also when Codex states are taken as unchanged (only Claude grew) without encoding them."""
    root, env, cfg = _copy(base_corpus, tmp_path)
    mon = Monitor(cfg, env, cache_dir=tmp_path / "cache")
    mon.scan_files()
    rng = random.Random(2)
    for _ in range(3):
        _grow(root, rng, tools)
        snap = mon.scan_files()
        assert mon._cache_path is not None
        cache = scancache.ScanCache(mon._cache_path, mon._roots)
        replayed = cache.load()
        assert cache.journal_records >= 1  # the save went to the journal
        whole = scancache.CacheData(scancache.FORMAT, mon._roots, mon.claude.state(), scancache.as_entries(mon.codex.files))
        assert _bytes(replayed) == _bytes(whole)
        fresh = Monitor(cfg, env, cache_dir=tmp_path / "cache").scan_files()  # a new process, from base + journal
        assert fresh.sessions == snap.sessions
        assert {s.id: s for s in Monitor(cfg, env).scan_files().sessions} == {s.id: s for s in snap.sessions}


def test_journal_bit_flips_never_change_figures(base_corpus, tmp_path):
    root, env, cfg = _copy(base_corpus, tmp_path)
    cache = tmp_path / "cache"
    Monitor(cfg, env, cache_dir=cache).scan_files()
    _grow(root, random.Random(5))
    Monitor(cfg, env, cache_dir=cache).scan_files()  # -> journal

    def figures():
        snap = Monitor(cfg, env, cache_dir=cache).scan_files()
        return {s.id: (s.usage, s.cost_usd, s.context.used if s.context else None) for s in snap.sessions}

    (journal,) = cache.glob("scan-*.journal")
    good = journal.read_bytes()
    expected = figures()
    rng = random.Random(9)
    for _ in range(25):
        journal.write_bytes(_flipped(good, rng))
        assert figures() == expected
        journal.write_bytes(good)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(st.sampled_from(OPS), min_size=2, max_size=8), seed=st.integers(0, 2**32))
def test_any_sequence_of_changes_through_the_journal_equals_a_cold_scan(base_corpus, tmp_path_factory, ops, seed):
    """Appends, copies, truncations, deletions and clones, each saved by a `list` process
    of its own (base + journal read, the difference appended): equal to a cold scan."""
    work = tmp_path_factory.mktemp("jrun")
    root, env, cfg = _copy(base_corpus, work)
    cache = work / "cache"
    Monitor(cfg, env, cache_dir=cache).scan_files()
    rng = random.Random(seed)
    journaled = 0
    for op in ops:
        _mutate(root, op, rng)
        mon = Monitor(cfg, env, cache_dir=cache)
        got = _sessions(mon.scan_files())
        journaled += mon._cache.journal_records > 0
        assert got == _sessions(Monitor(cfg, env).scan_files()), op
        assert _sessions(Monitor(cfg, env, cache_dir=cache).scan_files()) == got, op  # base + journal as saved
    # A sequence may end with no journal record (a large copy compacts into a new base):
    # equality holds either way; test_a_replayed_journal_equals_a_whole_save pins the journal path.
    event(f"runs that left journal records: {journaled}")


@settings(max_examples=300, deadline=None)
@given(old_keys=keys, edits=st.lists(st.tuples(st.sampled_from(["keep", "change", "drop", "swap"]), st.integers(0, 30))))
def test_list_changes_applied_give_the_new_lists(old_keys, edits):
    """The identity fast path (same keys in place) and the general one agree with the lists."""
    old = [(k, object()) for k in old_keys]
    new = list(old)
    for op, k in edits:
        if op == "change" and new:
            i = k % len(new)
            new[i] = (new[i][0], object())
        elif op == "drop" and new:
            del new[k % len(new)]
        elif op == "swap" and len(new) > 1:
            i, j = k % len(new), (k + 1) % len(new)
            new[i], new[j] = new[j], new[i]
    firsts = ([x for x, _ in old], [v for _, v in old])
    patch = scanjournal._list_changes(firsts, ([x for x, _ in new], [v for _, v in new]), lambda x: x, scanjournal._same_file)
    got = {x: (x, v) for x, v in old}
    if patch is not None:
        patch.apply(got)
    assert list(got.values()) == new
