"""The Codex decode path's nesting guard: the same answer on every Python version."""

from __future__ import annotations

import json

from llm_sessions.core.accounting.sanity import MAX_DEPTH, too_deep


def nested(depth: int) -> bytes:
    return b'{"type":"event_msg","x":' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"


def test_depth_up_to_the_limit_passes_and_one_more_fails():
    assert not too_deep(nested(MAX_DEPTH))
    assert too_deep(nested(MAX_DEPTH + 1))
    assert too_deep(nested(1000))


def test_brackets_inside_strings_do_not_count():
    code = "def f(x): return [[[{x}]]]\n" * 200  # a tool output full of brackets
    line = json.dumps({"type": "response_item", "payload": {"type": "function_call_output", "output": code}}).encode()
    assert line.count(b"[") > MAX_DEPTH and not too_deep(line)
    # an escaped quote does not end the string early
    tricky = json.dumps({"a": 'say \\"' + "[" * 500 + '"', "b": [[1]]}).encode()
    assert not too_deep(tricky)


def test_many_shallow_containers_are_not_deep():
    line = json.dumps({"items": [[i] for i in range(1000)]}).encode()
    assert not too_deep(line)
