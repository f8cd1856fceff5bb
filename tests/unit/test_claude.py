"""The Claude Code provider on hand-made transcripts, one trap of formats.md per test."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from llm_sessions.core.accounting.providers.claude import ClaudeProvider
from tests.unit.claude_lines import api_error, assistant, compact, dumps, user, write

T = "2026-11-20T10:00:0{}.000Z"


def scan(home: Path, **env):
    env = {"HOME": str(home), **env}
    prov = ClaudeProvider(env)
    res = prov.scan()
    return {s.id: s for s in res.sessions}, res, prov


def proj(home: Path, cwd="-w") -> Path:
    return home / ".claude" / "projects" / cwd


def test_streaming_duplicates_count_once_with_largest_usage(tmp_path):
    write(proj(tmp_path) / "s1.jsonl", [
        user(T.format(0)),
        assistant("m1", "r1", T.format(1), inp=100, out=1, cr=1000, cc=50),
        assistant("m1", "r1", T.format(2), inp=100, out=40, cr=1000, cc=50),
        assistant("m1", "r1", T.format(3), inp=100, out=7, cr=1000, cc=50),  # a smaller copy
    ])
    s = scan(tmp_path)[0]["s1"]
    assert (s.usage.input, s.usage.output, s.usage.cache_read, s.usage.cache_creation) == (100, 40, 1000, 50)
    assert s.usage.total == 1190
    assert s.turns == 1
    assert s.context.used == 1150 and s.context.window == 200_000


def test_sidechain_and_subagents_count_toward_parent_not_context(tmp_path):
    p = proj(tmp_path)
    write(p / "s1.jsonl", [
        assistant("m1", "r1", T.format(1), inp=10, out=10, cr=5000),
        assistant("side", "rs", T.format(2), inp=1, out=1, cr=90000, side=True),
    ])
    write(p / "s1" / "subagents" / "agent-a1.jsonl", [assistant("m2", "r2", T.format(3), inp=7, out=3, side=True)])
    write(p / "agent-old.jsonl", [assistant("m3", "r3", T.format(4), inp=2, out=2, side=True, sid="s1")])
    got = scan(tmp_path)[0]
    assert set(got) == {"s1"}  # subagents are never sessions of their own
    s = got["s1"]
    assert s.usage.input == 10 + 1 + 7 + 2
    assert s.context.used == 5010  # the sidechain's 90k never touches the main context
    assert s.subagent_files == 2


def test_compaction_uses_post_tokens_until_next_turn(tmp_path):
    f = write(proj(tmp_path) / "s1.jsonl", [
        assistant("m1", "r1", T.format(1), inp=10, cr=160000),
        compact(T.format(2), 23000),
    ])
    s = scan(tmp_path)[0]["s1"]
    assert (s.context.used, s.context.source, s.compactions) == (23000, "compaction", 1)
    write(f, [assistant("m2", "r2", T.format(3), inp=10, cr=24000)], mode="a")
    s = scan(tmp_path)[0]["s1"]
    assert (s.context.used, s.context.source) == (24010, "last turn")


def test_one_million_window_from_suffix_or_evidence(tmp_path):
    write(proj(tmp_path) / "a.jsonl", [assistant("m1", "r1", T.format(1), cr=250000, model="claude-opus-4-6")])
    write(proj(tmp_path) / "b.jsonl", [assistant("m2", "r2", T.format(1), cr=1000, model="claude-opus-4-6[1m]")])
    write(proj(tmp_path) / "c.jsonl", [assistant("m3", "r3", T.format(1), cr=150000, model="claude-opus-4-6")])
    got = scan(tmp_path)[0]
    assert got["a"].context.window == 1_000_000
    assert got["b"].context.window == 1_000_000
    assert got["c"].context.window == 200_000
    assert got["c"].context.compact_at == 167_000


def test_api_errors_limit_lines_tool_errors_and_garbage(tmp_path):
    write(proj(tmp_path) / "s1.jsonl", [
        assistant("m1", "r1", T.format(1), inp=10, out=10),
        api_error(T.format(2)),
        user(T.format(3), "Claude AI usage limit reached|1790000000"),
        user(T.format(4), error=True),
        "not json at all",
        '{"type":"assistant","message":"a string where an object belongs"}',
        '{"type":"brand-new-record","timestamp":"2026-11-20T10:00:05.000Z"}',
        "[1,2,3]",
    ], tail='{"type":"assistant","mess')
    got, res, prov = scan(tmp_path)
    s = got["s1"]
    assert s.api_errors == 1 and s.tool_errors == 1
    assert s.usage.total == 20  # the API error line has zero usage and is no response
    assert s.limit_resets_at is not None and int(s.limit_resets_at.timestamp()) == 1790000000
    assert s.malformed_lines == 3  # the monitor turns it into a problem (test_hostile_files)
    f = next(iter(prov.files.values()))
    assert f.unknown == 1


def test_resumed_copies_stay_with_the_original(tmp_path):
    a1 = assistant("m1", "r1", T.format(1), inp=100, out=10)
    a2 = assistant("m2", "r2", T.format(2), inp=200, out=20)
    write(proj(tmp_path) / "orig.jsonl", [dict(a1, sessionId="orig"), dict(a2, sessionId="orig")])
    write(proj(tmp_path) / "resumed.jsonl", [
        dict(a1, sessionId="resumed"), dict(a2, sessionId="resumed"),
        assistant("m3", "r3", "2026-11-20T12:00:00.000Z", inp=300, out=30, sid="resumed"),
    ])
    got = scan(tmp_path)[0]
    assert got["orig"].usage.input == 300 and got["orig"].turns == 2
    assert got["resumed"].usage.input == 300 and got["resumed"].turns == 1


def test_empty_file_is_not_a_session_and_roots_follow_env(tmp_path):
    write(proj(tmp_path) / "empty.jsonl", [])
    other = tmp_path / "elsewhere"
    write(other / "projects" / "-x" / "s9.jsonl", [assistant("m1", "r1", T.format(1))])
    got = scan(tmp_path)[0]
    assert got == {}
    got = scan(tmp_path, CLAUDE_CONFIG_DIR=f"{other},{tmp_path / '.claude'}")[0]
    assert set(got) == {"s9"}


def test_awaiting_user_after_a_final_answer(tmp_path):
    f = write(proj(tmp_path) / "s1.jsonl", [user(T.format(0)), assistant("m1", "r1", T.format(1), tool_use=True)])
    assert not scan(tmp_path)[0]["s1"].awaiting_user
    write(f, [assistant("m2", "r2", T.format(2), stop="end_turn")], mode="a")
    assert scan(tmp_path)[0]["s1"].awaiting_user


def _lines():
    out, n = [], 0
    for turn in range(6):
        out.append(user(f"2026-11-20T10:{turn:02d}:00.000Z"))
        for k in range(3):
            out.append(assistant(f"m{turn}", f"r{turn}", f"2026-11-20T10:{turn:02d}:0{k + 1}.000Z",
                                 inp=10 + turn, out=5 * (k + 1), cr=1000 * turn))
        if turn == 3:
            out.append(compact("2026-11-20T10:03:30.000Z", 500))
        n += 1
    out.append(api_error("2026-11-20T10:09:00.000Z"))
    return [dumps(r) for r in out]


@settings(max_examples=40, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=10_000), max_size=5))
def test_incremental_reads_equal_one_full_read(tmp_path_factory, cuts):
    """However the file grows (even mid-line), the result equals reading it whole."""
    data = ("\n".join(_lines()) + "\n").encode()
    whole = tmp_path_factory.mktemp("whole")
    write(proj(whole) / "s1.jsonl", [])
    (proj(whole) / "s1.jsonl").write_bytes(data)
    expected = scan(whole)[0]["s1"]

    grown = tmp_path_factory.mktemp("grown")
    path = proj(grown) / "s1.jsonl"
    write(path, [])
    prov = ClaudeProvider({"HOME": str(grown)})
    prev = 0
    for cut in sorted(c % (len(data) + 1) for c in cuts) + [len(data)]:
        with path.open("ab") as fh:
            fh.write(data[prev:cut])
        prev = max(prev, cut)
        prov.scan()
    got = {s.id: s for s in prov.scan().sessions}["s1"]
    assert (got.usage, got.context, got.turns, got.api_errors, got.compactions) == (
        expected.usage, expected.context, expected.turns, expected.api_errors, expected.compactions)
