"""The block decode (one msgspec call per block) equals the line-by-line decode.

A cold scan decodes a megabyte of lines per call and falls back to one call per line when
a block holds a bad, blank or too-deep line. Both must fold to the same ClaudeFile, byte
for byte, on generated lines of every kind (hostile ones included) and on the public real
transcripts in the folder named by LLM_SESSION_REAL_TRANSCRIPTS when it is set (they are never committed;
docs/benchmarks.md says where they come from).
"""

from __future__ import annotations

import glob
import os

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from llm_sessions.core.accounting.providers.claude_parse import ClaudeFile, FileParser
from tests.unit.claude_lines import api_error, assistant, compact, dumps, user

REAL = os.environ.get("LLM_SESSION_REAL_TRANSCRIPTS", "")
_enc = msgspec.msgpack.Encoder()


def _ts(i: int) -> str:
    return f"2026-03-0{1 + i % 3}T10:{i % 60:02d}:{(i * 7) % 60:02d}.{i % 1000:03d}Z"


def _line(kind: str, i: int) -> bytes:
    ts = _ts(i)
    if kind == "assistant":
        rec = assistant(f"m{i // 3}", f"r{i // 3}", ts, inp=i % 50, out=i % 17 + i % 3, cc=i % 5, cr=i % 11,
                        side=i % 7 == 0, stop=("end_turn" if i % 4 == 0 else None), tool_use=i % 3 == 0)
    elif kind == "user":
        rec = user(ts, "usage limit reached|1767225600" if i % 9 == 0 else "go", error=i % 2 == 0, meta=i % 5 == 0)
    elif kind == "progress":
        rec = {"parentUuid": None, "cwd": f"/w{i % 2}", "sessionId": "s1", "version": f"2.1.{i % 3}", "gitBranch": "main",
               "type": "progress", "data": {"type": "hook_progress", "x": [[1]] * (i % 4)}, "uuid": f"p{i}", "timestamp": ts}
    elif kind == "snapshot":
        rec = {"type": "file-history-snapshot", "messageId": f"m{i}", "snapshot": {"timestamp": ts}, "isSnapshotUpdate": False}
    elif kind == "api_error":
        rec = api_error(ts)
    elif kind == "compact":
        rec = compact(ts, 1000 + i)
    elif kind == "odd":
        rec = {"type": "x-future", "uuid": f"x{i}", "message": {"usage": {"input_tokens": 1}}}
    elif kind == "deep":
        return b'{"type":"user","x":' + b"[" * 300 + b"]" * 300 + b"}"
    elif kind == "notime_deep":
        return b'{"type":"summary","summary":"t","x":' + b"[" * (i % 2 + 128) + b"]" * (i % 2 + 128) + b"}"
    else:  # garbage
        return [b"not json", b"[1,2]", b'{"type":"assistant","message":{"usage":{"input_tokens":-1}}}', b"{"][i % 4]
    return dumps(rec).encode()


def _fold(lines: list[bytes], how: str, subagent: bool = False) -> bytes:
    p = FileParser(ClaudeFile(path="/p/s1.jsonl", session="s1", subagent=subagent))
    if how == "block":
        p.feed_block(b"\n".join(lines) + b"\n", len(lines))
    elif how == "lines":
        for raw in lines:
            p.feed(raw)
    else:  # a trailing blank line sends the whole block down the line-by-line path
        p.feed_block(b"\n".join(lines) + b"\n\n", len(lines) + 1)
    return _enc.encode(p.finish())


KINDS = ["assistant", "user", "progress", "snapshot", "api_error", "compact", "odd", "deep", "notime_deep", "garbage"]


@settings(max_examples=120, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(KINDS), st.integers(0, 999)), min_size=1, max_size=40), st.booleans())
def test_block_line_and_fallback_decodes_fold_alike(spec, subagent):
    lines = [_line(kind, i) for kind, i in spec]
    block = _fold(lines, "block", subagent)
    assert block == _fold(lines, "lines", subagent)
    assert block == _fold(lines, "fallback", subagent)


@pytest.mark.skipif(not REAL or not os.path.isdir(REAL), reason="set LLM_SESSION_REAL_TRANSCRIPTS to a folder of real transcripts")
def test_block_and_line_decodes_fold_alike_on_real_transcripts():
    paths = sorted(glob.glob(f"{REAL}/**/.claude/**/*.jsonl", recursive=True))
    assert paths
    for path in paths:
        with open(path, "rb") as fh:
            lines = [raw for raw in fh.read().split(b"\n") if raw]
        if lines:
            assert _fold(lines, "block") == _fold(lines, "lines") == _fold(lines, "fallback"), path
