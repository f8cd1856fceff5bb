"""The `real` corpus shape: exact truth like the default corpus, and the byte mix it claims.

The shape exists so benchmarks see real disks' byte mix (tool results and progress rows most
of the bytes, assistant lines a sixth); if it drifted back to the default mix, a fast path
tuned on it would prove nothing. The shares checked here are the measured real ones
(docs/benchmarks.md) with generous bands, so a small corpus passes and a drift fails.
"""

from __future__ import annotations

import pytest

from llm_sessions.core.live.monitor import Monitor
from llm_sessions.synth.corpus import build_corpus
from llm_sessions.synth.measure import measure
from tests.unit.test_truth import compare, truth_env, truth_settings


@pytest.fixture(scope="module")
def real_corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("real")
    build_corpus(root, seed=11, claude_sessions=40, shape="real")
    return root


def test_real_shape_sessions_match_the_truth(real_corpus, tmp_path):
    truth, env = truth_env(real_corpus)
    snap = Monitor(truth_settings(tmp_path, truth), env, cache_dir=tmp_path / "cache").scan_files()
    assert compare(truth, snap) == []
    assert truth["traps"]["compaction_subagent_files"] >= 1


def test_real_shape_byte_mix_is_the_measured_one(real_corpus):
    stats = measure([real_corpus / "home" / ".claude" / "projects"])
    share = {k: v["share_bytes"] for k, v in stats.kinds.items()}
    progress = sum(v for k, v in share.items() if k.startswith("progress:"))
    # spotter@8cc42b0: tool results 46.6%, progress 35.6%, assistant 15.5% of the bytes.
    assert 0.35 <= share["user:tool_result"] <= 0.60
    assert 0.22 <= progress <= 0.45
    assert 0.10 <= share["assistant"] <= 0.24
    assert stats.kinds["progress:hook_progress"]["share_lines"] > 0.4  # most lines are progress rows
    assert stats.subagent_files > 0 and stats.ratios["agent_progress_per_subagent_line"] > 0


def test_real_shape_is_reproducible(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    build_corpus(a, seed=3, claude_sessions=3, shape="real", aider=False)
    build_corpus(b, seed=3, claude_sessions=3, shape="real", aider=False)
    files = sorted(p.relative_to(a) for p in a.rglob("*.jsonl"))
    assert files and all((a / f).read_bytes() == (b / f).read_bytes() for f in files)
