"""The block parser: however lines are grouped into blocks, the file's result is the same.

A cold scan decodes a megabyte of lines in one call and falls back to line-by-line decoding
for a block holding a bad or blank line; an append decodes a few lines. Those paths must
agree to the token, so these tests feed the same lines in random groupings, with garbage
and blank lines mixed in, and compare every field of the partial result.
"""

from __future__ import annotations

import itertools

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from llm_sessions.core.accounting.providers.claude_parse import ClaudeFile, FileParser
from tests.unit.claude_lines import api_error, assistant, compact, dumps, user

T = "2026-11-20T10:{:02d}:{:02d}.000Z"


def _pool() -> list[bytes]:
    ts = [T.format(i // 60, i % 60) for i in range(60)]
    recs = [
        user(ts[0], "start"),
        assistant("m1", "r1", ts[1], inp=10, out=1, cr=900, tool_use=True),
        assistant("m1", "r1", ts[2], inp=10, out=30, cr=900, tool_use=True),
        user(ts[3], error=True, uuid="e1"),
        assistant("m2", "r2", ts[4], inp=5, out=7, cc=2000, stop="end_turn"),
        assistant("m3", "r3", ts[5], inp=5, out=9, cr=250_000, model="claude-opus-4-6"),
        assistant("m4", "r4", ts[6], side=True, inp=3, out=2),
        api_error(ts[7], uuid="a1"),
        user(ts[8], "Claude AI usage limit reached|1767225600"),
        user(ts[9], "meta", meta=True),
        compact(ts[10], 31_000),
        {"type": "progress", "timestamp": ts[11], "cwd": "/elsewhere", "gitBranch": "feature", "data": {"type": "hook_progress"}},
        {"type": "file-history-snapshot", "messageId": "x", "snapshot": {"timestamp": "1999-01-01T00:00:00.000Z"}},
        {"type": "summary", "summary": "a title", "leafUuid": "u"},
        {"type": "x-future-record", "timestamp": ts[12]},
        {"type": "user", "timestamp": ts[13], "message": {"role": "user", "content": [[1, 2], "text", {"type": 5}]}},
        {"timestamp": "0000-01-01T00:00:00.000Z", "type": "queue-operation"},
    ]
    lines = [dumps(r).encode() for r in recs]
    lines += [b"not json", b"[1,2,3]", b'{"type":"assistant","message":{"usage":{"input_tokens":"x"}}}', b"\xff\xfe binary", b"   "]
    return lines


POOL = _pool()


def _result(blocks: list[list[bytes]]) -> dict:
    parser = FileParser(ClaudeFile(path="/p/s.jsonl", session="s"))
    for lines in blocks:
        parser.feed_block(b"".join(line + b"\n" for line in lines), len(lines))
    return msgspec.to_builtins(parser.finish())


@settings(max_examples=150, deadline=None)
@given(picks=st.lists(st.integers(0, len(POOL) - 1), min_size=1, max_size=60), cuts=st.lists(st.integers(0, 60), max_size=8))
def test_any_grouping_into_blocks_gives_the_same_result(picks, cuts):
    lines = [POOL[i] for i in picks]
    one_block = _result([lines])
    per_line = _result([[line] for line in lines])
    bounds = sorted({0, len(lines), *(c % (len(lines) + 1) for c in cuts)})
    grouped = _result([lines[a:b] for a, b in itertools.pairwise(bounds)])
    assert one_block == per_line == grouped


def test_every_kind_of_line_is_counted():
    r = _result([POOL, [b"", b""]])
    assert r["lines"] == len(POOL)  # empty lines are not lines ...
    assert r["malformed"] == 5  # ... while whitespace, garbage and wrong types are malformed
    assert r["unknown"] == 1 and r["title"] == "a title" and r["limit_reset"] == 1767225600
    assert r["cwd"] == "/elsewhere" and r["branch"] == "feature"  # from the progress row
    assert r["first_ts"] == "0000-01-01T00:00:00.000Z"  # top-level only, never a nested one
    assert [tuple(e[1:]) for e in r["errors"]] == [(0, 1), (1, 0)]
