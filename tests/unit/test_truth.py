"""Accuracy against the generator's ground truth: every trap of formats.md, to the token."""

from __future__ import annotations

import json
import shutil

import pytest

from llm_sessions.config import load_settings
from llm_sessions.core.live.monitor import Monitor
from llm_sessions.synth.corpus import build_corpus


def truth_env(root):
    t = json.loads((root / "truth.json").read_text())
    env = {}
    for k, v in t["env"].items():
        env[k] = ",".join(str(root / p) for p in v.split(","))
    return t, env


def truth_settings(tmp_path, truth: dict):
    """Settings as the corpus wants them (its Aider folders come through the environment)."""
    return load_settings(tmp_path / "none.toml", truth.get("settings_env", {}))


def compare(truth: dict, snap) -> list[str]:
    got = {s.id: s for s in snap.sessions}
    bad = []
    assert set(got) == set(truth["sessions"]), (
        f"sessions found differ from the truth: extra {sorted(set(got) - set(truth['sessions']))}, "
        f"missing {sorted(set(truth['sessions']) - set(got))}")
    for sid, ts in truth["sessions"].items():
        s = got[sid]
        mine = {"input": s.usage.input, "output": s.usage.output, "cache_creation": s.usage.cache_creation,
                "cache_read": s.usage.cache_read, "total": s.usage.total}
        ctx = {"used": s.context.used, "window": s.context.window} if s.context else None
        exact = ts.get("exact", True)
        checks = [("context", ctx, ts["context"]), ("turns", s.turns, ts["turns"]), ("api_errors", s.api_errors, ts["api_errors"]),
                  ("tool_errors", s.tool_errors, ts["tool_errors"]), ("model", s.model, ts["model"]), ("cwd", s.cwd, ts["cwd"]),
                  ("exact", s.usage.exact, exact)]
        if exact or s.tool == "aider":
            checks.append(("tokens", mine, ts["tokens"]))
        elif not all(mine[k] >= ts["tokens"][k] for k in mine):  # an estimated tail adds to the exact part
            bad.append(f"{sid} tokens: got {mine}, below the exact part {ts['tokens']}")
        for name, a, b in checks:
            if a != b:
                bad.append(f"{sid} {name}: got {a}, truth {b}")
        if "cost" in ts and (s.cost_usd is None) != (ts["cost"] is None) or (
                s.cost_usd is not None and abs(s.cost_usd - ts["cost"]) > 2e-6 + 1e-9 * ts["cost"]):
            bad.append(f"{sid} cost: got {s.cost_usd}, truth {ts['cost']} (unpriced: {s.unpriced})")
    return bad


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_every_session_matches_the_truth(tmp_path, seed):
    truth_obj = build_corpus(tmp_path / "c", seed=seed)
    truth, env = truth_env(tmp_path / "c")
    assert sum(truth["traps"].values()) > 0 and truth_obj is not None
    mon = Monitor(truth_settings(tmp_path, truth), env, cache_dir=tmp_path / "cache")
    assert compare(truth, mon.scan_files()) == []


def test_warm_run_from_the_cache_gives_the_same_answer(tmp_path):
    build_corpus(tmp_path / "c", seed=5)
    truth, env = truth_env(tmp_path / "c")
    settings = truth_settings(tmp_path, truth)
    cold = Monitor(settings, env, cache_dir=tmp_path / "cache")
    first = cold.scan_files()
    assert cold.parsed_bytes > 0
    warm = Monitor(settings, env, cache_dir=tmp_path / "cache")
    second = warm.scan_files()
    assert warm.parsed_bytes == 0  # nothing re-read
    assert compare(truth, second) == []
    assert [s.usage for s in first.sessions] == [s.usage for s in second.sessions]


def test_parallel_cold_scan_equals_serial(tmp_path, monkeypatch):
    from llm_sessions.core.accounting import pool

    build_corpus(tmp_path / "c", seed=6)
    truth, env = truth_env(tmp_path / "c")
    settings = truth_settings(tmp_path, truth)
    monkeypatch.setattr(pool, "MIN_BYTES", 0)
    snap = Monitor(settings, env).scan_files(workers=2)
    assert compare(truth, snap) == []


def test_moved_corpus_is_rescanned_not_double_counted(tmp_path):
    build_corpus(tmp_path / "c", seed=7)
    truth, env = truth_env(tmp_path / "c")
    settings = truth_settings(tmp_path, truth)
    Monitor(settings, env, cache_dir=tmp_path / "cache").scan_files()
    # Replace every file by a copy (new inodes): cached offsets must not be trusted.
    shutil.copytree(tmp_path / "c", tmp_path / "c2")
    shutil.rmtree(tmp_path / "c")
    (tmp_path / "c2").rename(tmp_path / "c")
    assert compare(truth, Monitor(settings, env, cache_dir=tmp_path / "cache").scan_files()) == []


def test_watch_paths_are_only_existing_assistant_folders(tmp_path):
    home = tmp_path / "home"
    (home / ".claude" / "projects").mkdir(parents=True)
    env = {"HOME": str(home)}
    paths = Monitor(load_settings(tmp_path / "none.toml", {}), env).watch_paths()
    assert paths == [home / ".claude"]  # not HOME, though ~/.codex etc. are missing
