"""The shared depth check (core.accounting.sanity.too_deep) equals a real parser's depth.

msgspec refuses a deep line only past the interpreter's C recursion limit, which moved in
3.12; `too_deep` makes "deeper than MAX_DEPTH is malformed" hold on every version.
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from llm_sessions.core.accounting.sanity import MAX_DEPTH, may_nest_too_deep, too_deep


def depth(value) -> int:
    if isinstance(value, dict):
        return 1 + max(map(depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(depth, value), default=0)
    return 0


def nest(levels: list[str], leaf) -> object:
    for kind in reversed(levels):
        leaf = [1, leaf] if kind == "a" else {"k\"[{": "[[{", "v": leaf}
    return leaf


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from("ao"), min_size=0, max_size=MAX_DEPTH + 40), st.text(alphabet='[]{}"\\ab', max_size=30))
def test_too_deep_equals_the_depth_a_parser_sees(levels, leaf):
    value = {"type": "user", "x": nest(levels, leaf)}
    raw = json.dumps(value).encode()
    assert too_deep(raw, limit=8) == (depth(value) > 8)


def test_a_run_of_arrays_past_max_depth_is_caught_and_an_ordinary_line_is_not_scanned():
    deep = b'{"type":"user","x":' + b"[" * 1000 + b"]" * 1000 + b"}"
    assert may_nest_too_deep(deep) and too_deep(deep)
    edge = b'{"x":' + b"[" * (MAX_DEPTH - 1) + b"]" * (MAX_DEPTH - 1) + b"}"
    assert may_nest_too_deep(edge) and not too_deep(edge)  # exactly MAX_DEPTH deep: allowed
    text = json.dumps({"type": "user", "x": "[" * 500}).encode()  # brackets inside a string
    assert may_nest_too_deep(text) and not too_deep(text)
    ordinary = json.dumps({"type": "user", "message": {"content": [{"type": "text", "text": "hi"}]}}).encode()
    assert not may_nest_too_deep(ordinary)
