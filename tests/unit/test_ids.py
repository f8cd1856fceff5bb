"""Ids as tables show them and people type them: unique prefixes, `pid N`, lookup by either."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from llm_sessions.core.accounting.report import Ambiguous, NotFound, find_session
from llm_sessions.core.ids import display_ids, pid_of, pid_query, pid_session_id, unique_prefixes
from llm_sessions.core.models import ProcessInfo, Session


def s(sid: str, pid: int | None = None) -> Session:
    return Session(id=sid, tool="claude", process=ProcessInfo(pid=pid, pids=(pid,)) if pid else None)


def test_unique_prefixes_grow_only_where_ids_collide():
    ids = ["7c1a2e90-aaaa", "7c1a2e90-aaab", "b84f03d2-0000"]
    assert unique_prefixes(ids) == {"7c1a2e90-aaaa": "7c1a2e90-aaaa", "7c1a2e90-aaab": "7c1a2e90-aaab", "b84f03d2-0000": "b84f03d2"}
    assert unique_prefixes(["abcdefgh12", "abcdefgh12345"]) == {"abcdefgh12": "abcdefgh12", "abcdefgh12345": "abcdefgh123"}


@given(st.lists(st.text(alphabet="0123456789abcdef-", min_size=1, max_size=14), unique=True, max_size=30))
def test_unique_prefixes_are_prefixes_and_tell_ids_apart(ids):
    out = unique_prefixes(ids)
    for sid, short in out.items():
        assert sid.startswith(short) and len(short) >= min(8, len(sid))
        assert not any(o != sid and o.startswith(short) and short != sid for o in ids)


def test_a_process_only_session_reads_pid_n_and_is_never_cut():
    sessions = [s(pid_session_id("claude", 17436), 17436), s(pid_session_id("claude", 1743), 1743), s("17436aaa-0000")]
    labels = display_ids(sessions)
    assert labels["claude-pid17436"] == "pid 17436" and labels["claude-pid1743"] == "pid 1743"
    assert labels["17436aaa-0000"] == "17436aaa"
    assert pid_of("claude-pid17436") == 17436 and pid_of("17436aaa-0000") is None and pid_of("claude-pidx") is None


def test_every_label_a_table_shows_can_be_typed_back():
    sessions = [s("claude-pid17436", 17436), s("7c1a2e90-0000-4000"), s("b84f03d2-0000-4000", 555)]
    for sid, label in display_ids(sessions).items():
        assert find_session(sessions, label).id == sid
    assert find_session(sessions, "pid17436").id == "claude-pid17436"
    assert find_session(sessions, "17436").id == "claude-pid17436"  # a number no id starts with: a pid
    assert find_session(sessions, "555").id == "b84f03d2-0000-4000"  # any session's live pid
    assert pid_query("PID: 42") == 42 and pid_query("7c1a") is None
    with pytest.raises(NotFound):
        find_session(sessions, "pid 999")
    with pytest.raises(Ambiguous):
        find_session([s("aa11"), s("aa12")], "aa1")
