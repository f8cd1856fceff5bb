"""Incremental merging: after any sequence of appends, copies, truncations and deletions, a
scan that reuses its state (in memory, or through the scan cache in a new process) gives
exactly what a cold scan of the same files gives.

The provider re-reads only changed files, rebuilds only the sessions they touch and settles
cross-file duplicates through an index instead of a pass over every key; these tests are
what lets that bookkeeping be trusted: every field of every session is compared.
"""

from __future__ import annotations

import random
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llm_sessions.config import load_settings
from llm_sessions.core.live.monitor import Monitor
from llm_sessions.synth.corpus import build_corpus
from tests.unit.test_truth import truth_env, truth_settings

OPS = ("copy_lines", "fresh", "truncate", "delete", "clone", "garbage", "grow_copy")


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("inc") / "c"
    build_corpus(root, seed=4, claude_sessions=6, codex_sessions=0)
    return root


def _sessions(snap) -> dict:
    return {s.id: s.with_(health=None) for s in snap.sessions if s.tool == "claude"}


def _mutate(root: Path, op: str, rng: random.Random) -> None:
    files = sorted((root / "home" / ".claude" / "projects").rglob("*.jsonl"))
    a = rng.choice(files)
    lines = a.read_bytes().splitlines()
    if op == "copy_lines":  # a resumed session's copies: keys shared with another file
        b = rng.choice(files).read_bytes().splitlines()
        if b:
            k = rng.randrange(len(b))
            with a.open("ab") as fh:
                fh.write(b"\n".join(b[k : k + rng.randint(1, 30)]) + b"\n")
    elif op == "grow_copy":  # a copy whose usage is larger than the original's
        b = [line for line in rng.choice(files).read_bytes().splitlines() if b'"output_tokens":' in line]
        if b:
            line = re.sub(rb'"output_tokens":(\d+)', lambda m: b'"output_tokens":' + str(int(m.group(1)) + 999).encode(), rng.choice(b))
            with a.open("ab") as fh:
                fh.write(line + b"\n")
    elif op == "fresh" and lines:
        tag = f"{rng.getrandbits(40):010x}".encode()
        new = [re.sub(rb'"id":"msg_', b'"id":"msg_' + tag, line) for line in rng.sample(lines, min(8, len(lines)))]
        with a.open("ab") as fh:
            fh.write(b"\n".join(new) + b"\n")
    elif op == "truncate":
        data = a.read_bytes()
        a.write_bytes(data[: data.rfind(b"\n", 0, len(data) // 2) + 1])
    elif op == "delete":
        a.unlink()
    elif op == "clone" and lines:
        (a.parent / f"{rng.getrandbits(64):016x}.jsonl").write_bytes(b"\n".join(lines[: rng.randint(1, len(lines))]) + b"\n")
    elif op == "garbage":
        with a.open("ab") as fh:
            fh.write(b'{"type":"assistant","message":{"usage":\n')


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(st.sampled_from(OPS), min_size=1, max_size=8), seed=st.integers(0, 2**32))
def test_incremental_scans_equal_a_cold_scan(base, tmp_path_factory, ops, seed):
    work = tmp_path_factory.mktemp("run")
    root = work / "c"
    shutil.copytree(base, root)
    truth, env = truth_env(root)
    cfg = truth_settings(work, truth)
    cache = work / "cache"
    live = Monitor(cfg, env, cache_dir=cache)
    live.scan_files()
    rng = random.Random(seed)
    for op in ops:
        _mutate(root, op, rng)
        kept = _sessions(live.scan_files())  # the same process, state in memory
        reloaded = _sessions(Monitor(cfg, env, cache_dir=cache).scan_files())  # a new process, state from the cache
        cold = _sessions(Monitor(cfg, env).scan_files())
        assert kept == cold, op
        assert reloaded == cold, op


def test_changed_prices_rebuild_cached_sessions(base, tmp_path):
    root = tmp_path / "c"
    shutil.copytree(base, root)
    truth, env = truth_env(root)
    cfg = truth_settings(tmp_path, truth)
    cheap = {s.id: s.cost_usd for s in Monitor(cfg, env, cache_dir=tmp_path / "cache").scan_files().sessions}
    (tmp_path / "prices.toml").write_text('[pricing.models."claude-sonnet-4-5-20250929"]\ninput = 1.0\noutput = 1.0\n')
    dear = load_settings(tmp_path / "prices.toml", {})
    warm = Monitor(dear, env, cache_dir=tmp_path / "cache")
    got = {s.id: s.cost_usd for s in warm.scan_files().sessions}
    assert warm.parsed_bytes == 0  # nothing re-read ...
    assert got == {s.id: s.cost_usd for s in Monitor(dear, env).scan_files().sessions}  # ... yet priced anew
    assert got != cheap
