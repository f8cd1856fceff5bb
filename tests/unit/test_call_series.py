"""CallSeries/ClaudeCalls (the limits' running sums) answer exactly what a walk over the calls does."""

from __future__ import annotations

from array import array
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from llm_sessions.core.accounting.activity import Call, ClaudeCalls, claude_calls
from llm_sessions.core.accounting.blocks import FIVE_HOURS_MS, five_hour_blocks, spend
from llm_sessions.core.accounting.call_series import CallSeries
from llm_sessions.core.accounting.providers.claude_parse import NCOLS
from llm_sessions.core.models import Usage

HOUR = 3_600_000


class Prices:
    def charge(self, model, usage: Usage, *, bucket=0, cache_1h=0, speed="", day=None):
        rate = 3e-6 if "opus" in model else 1e-6
        return (usage.input + 5 * usage.output + 1.25 * usage.cache_creation + 0.1 * usage.cache_read + cache_1h) * rate * (1 + bucket)


calls_st = st.lists(
    st.builds(
        Call,
        ms=st.integers(0, 40 * HOUR),
        session=st.sampled_from(["a", "b", "c"]),
        model=st.sampled_from(["claude-opus-4", "claude-sonnet-4"]),
        input=st.integers(0, 1000), output=st.integers(0, 1000), cache_creation=st.integers(0, 1000),
        cache_read=st.integers(0, 1000), cache_1h=st.integers(0, 10), bucket=st.integers(0, 1),
    ),
    max_size=60,
)


def _current_run(calls):
    for i in range(len(calls) - 1, 0, -1):
        if calls[i].ms - calls[i - 1].ms > FIVE_HOURS_MS:
            return calls[i:]
    return calls


@settings(max_examples=150, deadline=None)
@given(calls_st, st.lists(st.integers(1, 10), max_size=8), st.integers(0, 40 * HOUR), st.integers(0, 40 * HOUR))
def test_sums_blocks_and_shares_equal_a_walk(calls, chunks, since, now):
    series = CallSeries()
    rest = list(calls)
    for n in chunks:  # added in pieces, out of order: tails are re-sorted
        series.add(rest[:n])
        rest = rest[n:]
    series.add(rest)
    walk = sorted(calls, key=lambda c: c.ms)
    assert [c.ms for c in series.calls] == [c.ms for c in walk]
    view = series.view(since, now)
    inside = [c for c in walk if since <= c.ms <= now]
    prices = Prices()
    assert view.spend(prices) == spend(inside, prices)
    assert view.tokens("opus") == sum(c.tokens for c in inside if "opus" in c.model)
    mine = {sid: (t, u) for sid, t, u in view.after(since + HOUR).by_session(prices, "sonnet")}
    later = [c for c in inside if c.ms >= since + HOUR and "sonnet" in c.model]
    assert mine == {s: (sum(c.tokens for c in later if c.session == s), spend([c for c in later if c.session == s], prices))
                    for s in {c.session for c in later}}
    got = view.current_block(now)
    blocks = five_hour_blocks(_current_run(inside))
    if not blocks:
        assert got is None
    else:
        assert got is not None
        block, block_calls = got
        want = blocks[-1]
        assert (block.start_ms, block.end_ms, block.first_ms, block.last_ms) == (want.start_ms, want.end_ms, want.first_ms, want.last_ms)
        assert sorted(block_calls, key=lambda c: (c.ms, c.tokens)) == sorted(want.calls, key=lambda c: (c.ms, c.tokens))


def _file(path, first_ts, rows, offset):
    """A ClaudeFile-like state: rows of (key, ms, tokens, group)."""
    cols = array("q")
    for _k, _ms, t, _g in rows:
        cols.extend([t, t, 0, 0, t][:NCOLS])
    return SimpleNamespace(
        path=path, session=path.split("/")[-1][:-6], first_ts=first_ts, last_ts="2026-11-30T00:00:00.000Z",
        keys=array("Q", [r[0] for r in rows]), stamps=array("q", [r[1] for r in rows]), cols=cols,
        meta=array("I", [r[3] for r in rows]), groups=[("claude-opus-4", 0, "", ""), ("claude-sonnet-4", 0, "", "")],
        cursor=SimpleNamespace(offset=offset),
    )


def test_claude_calls_follow_appends_and_fall_back_to_a_rebuild():
    """Appends extend the series; a grown earlier call replaces its old copy; a key another
    file holds rebuilds; every state equals claude_calls from scratch."""
    tracker = ClaudeCalls()
    a = [(1, 10, 5, 0), (2, 20, 6, 1)]
    b = [(11, 15, 7, 0)]

    def check(files):
        series = tracker.update(files, 0)
        assert sorted(series.calls) == sorted(claude_calls(files, 0))

    check([_file("/p/a.jsonl", "t1", a, 1), _file("/p/b.jsonl", "t2", b, 1)])
    a.append((3, 30, 9, 0))  # append
    check([_file("/p/a.jsonl", "t1", a, 2), _file("/p/b.jsonl", "t2", b, 1)])
    a[-1] = (3, 30, 19, 0)  # the streamed message's usage grew
    a.append((4, 12, 1, 1))  # and an older stamp arrives late
    check([_file("/p/a.jsonl", "t1", a, 3), _file("/p/b.jsonl", "t2", b, 1)])
    assert tracker.rebuilds == 1
    b.append((2, 20, 60, 1))  # a copy of a's key, larger: ownership settled by a rebuild
    check([_file("/p/a.jsonl", "t1", a, 3), _file("/p/b.jsonl", "t2", b, 2)])
    assert tracker.rebuilds == 2
    c = [(21, 40, 3, 0)]  # a new file starting at the same instant as a, sharing no key: patched
    check([_file("/p/a.jsonl", "t1", a, 3), _file("/p/b.jsonl", "t2", b, 2), _file("/p/c.jsonl", "t1", c, 1)])
    c.append((22, 41, 4, 1))
    check([_file("/p/a.jsonl", "t1", a, 3), _file("/p/b.jsonl", "t2", b, 2), _file("/p/c.jsonl", "t1", c, 2)])
    assert tracker.rebuilds == 2
    a.append((23, 42, 5, 0))  # a holds a key b holds too: its growth may move who owns it
    check([_file("/p/a.jsonl", "t1", a, 4), _file("/p/b.jsonl", "t2", b, 2), _file("/p/c.jsonl", "t1", c, 2)])
    assert tracker.rebuilds == 3
