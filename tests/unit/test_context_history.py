"""Context per turn read back from transcripts: dedupe, compactions, incremental reads, samples."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from llm_sessions.core.accounting.context_history import ContextHistory, ContextPoint, ContextTrail, ContextTrails
from tests.unit.claude_lines import api_error, assistant, compact, user, write

T = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def ts(i: int) -> str:
    return (T + timedelta(minutes=i)).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_claude_one_point_per_response_main_chain_only_with_the_compaction(tmp_path):
    path = write(tmp_path / "s.jsonl", [
        user(ts(0)),
        assistant("m1", "r1", ts(1), inp=10, cc=1000, cr=20_000, out=5),
        assistant("m1", "r1", ts(1), inp=10, cc=1000, cr=20_000, out=90),  # the same response, streamed
        assistant("side", "rs", ts(2), cr=99_000, side=True),  # a subagent: not this context
        api_error(ts(3)),
        assistant("m2", "r2", ts(4), cr=150_000),
        compact(ts(5), 31_000),
        assistant("m3", "r3", ts(6), cr=40_000),
        "{not json",
    ])
    h = ContextTrail(str(path), "claude").update()
    assert [p.used for p in h.points] == [21_010, 150_010, 31_000, 40_010]
    assert h.compactions == (2,) and h.peak == 150_010
    assert h.points[0].at == T + timedelta(minutes=1)


def test_reads_only_what_was_appended_and_starts_over_when_the_file_is_replaced(tmp_path):
    path = write(tmp_path / "s.jsonl", [assistant("m1", "r1", ts(1), cr=1000)])
    trail = ContextTrail(str(path), "claude")
    assert len(trail.update().points) == 1
    offset = trail.cursor.offset
    write(path, [assistant("m2", "r2", ts(2), cr=2000)], mode="a", tail='{"type":"assist')  # half a line
    assert [p.used for p in trail.update().points] == [1010, 2010]
    assert trail.cursor.offset > offset
    write(path, [assistant("m9", "r9", ts(9), cr=5)])  # rewritten shorter: a new file
    assert [p.used for p in trail.update().points] == [15]


def test_codex_counts_a_turn_when_the_total_moves_and_marks_compacted(tmp_path):
    def tokens(total, last):
        usage = {"input_tokens": total, "cached_input_tokens": 0, "output_tokens": 1, "reasoning_output_tokens": 0, "total_tokens": total}
        info = {"total_token_usage": usage, "last_token_usage": dict(usage, total_tokens=last), "model_context_window": 272000}
        return {"timestamp": ts(total % 50), "type": "event_msg", "payload": {"type": "token_count", "info": info}}

    lines = [tokens(10, 10_000), tokens(10, 10_000), tokens(30, 60_000), {"timestamp": ts(40), "type": "compacted", "payload": {}},
             tokens(45, 20_000), {"timestamp": ts(41), "type": "event_msg", "payload": {"type": "token_count", "info": None}}]
    path = tmp_path / "rollout.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    h = ContextTrail(str(path), "codex").update()
    assert [p.used for p in h.points] == [10_000, 60_000, 20_000]
    assert h.compactions == (2,)


def test_live_samples_extend_the_transcript_only_past_its_last_turn():
    h = ContextHistory((ContextPoint(T, 10), ContextPoint(T + timedelta(minutes=1), 20)), (1,))
    out = h.with_samples([(T, 999), (T + timedelta(minutes=2), 30), (T + timedelta(minutes=3), None)])
    assert [p.used for p in out.points] == [10, 20, 30] and out.sampled == 1 and out.compactions == (1,)
    assert ContextHistory().with_samples([(T, 5)]).sampled == 1


def test_trails_keep_their_offsets_and_ignore_tools_without_per_turn_figures(tmp_path):
    path = write(tmp_path / "s.jsonl", [assistant("m1", "r1", ts(1), cr=1000)])
    trails = ContextTrails(keep=1)
    assert len(trails.read(str(path), "claude").points) == 1
    assert trails.read(str(path), "gemini") == ContextHistory() and trails.read(None, "claude") == ContextHistory()
    assert trails.read(str(tmp_path / "gone.jsonl"), "claude").points == ()
