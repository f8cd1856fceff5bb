"""Bundles: content, budget, redaction, atomic 0600 writes, no clobber, exact round trip."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llm_sessions.core.export import build as export_mod
from llm_sessions.core.export import bundle as bundle_mod
from llm_sessions.core.export.brief import SECTIONS
from llm_sessions.core.export.build import DROP_ORDER, build_bundle, estimate_tokens
from llm_sessions.core.export.bundle import SCHEMA, Bundle, BundleError, read_bundle, write_bundle
from llm_sessions.core.export.digest import Digest, FileTouch, Todo
from llm_sessions.core.export.git_status import git_status
from llm_sessions.core.export.transcript import read_digest
from llm_sessions.core.models import ContextFill, Session, Usage
from tests.transcript_factory import claude_session_file, codex_session_file

NOW = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
PLANTED = {
    "anthropic": "sk-ant-api03-Q7vN2mX9pL4kR8tB1wZ6yH3jF5dS0aGc",
    "aws": "AKIAQ7VN2MX9PL4KR8TB",
    "github": "ghp_Q7vN2mX9pL4kR8tB1wZ6yH3jF5dS0aGcE",
}


def make_session(path: Path, tool: str = "claude", **kw) -> Session:
    base: dict[str, Any] = dict(
        id="5f1c2a9e-1111-4222-8333-944455556666" if tool == "claude" else "0199a0b1-7c2d-7e3f-8a4b-5c6d7e8f9a0b",
        tool=tool,
        transcript=str(path),
        cwd="/home/dev/project",
        model="claude-sonnet-4-5-20250929",
        git_branch="feature/export",
        title="CSV export",
        started_at=datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
        last_activity=datetime(2026, 11, 24, 9, 40, tzinfo=UTC),
        turns=14,
        usage=Usage(input=1200, output=5400, cache_creation=20000, cache_read=310000),
        context=ContextFill(used=96000, window=200000, compact_at=167000),
        cost_usd=1.2345,
    )
    base.update(kw)
    return Session(**base)


@pytest.fixture
def claude(tmp_path):
    path = claude_session_file(tmp_path / "home")
    return make_session(path), read_digest(path)


def test_markdown_brief_holds_every_section(claude):
    session, digest = claude
    b = build_bundle(session, digest, sections=set(SECTIONS), budget_tokens=8000, git_status=" M reports/csv.py\n", now=NOW)
    md = b.markdown
    assert "Add a CSV export to the reports page" in md
    assert "Now make the header row bold" in md
    assert "Done: the header row is bold" in md
    assert "[~] Wire the export button" in md and "[ ] Add tests for CSV export" in md
    assert "Write CSV serializer" not in md  # completed todos are only counted
    assert "`/home/dev/project/reports/csv.py` (2 edits)" in md
    assert "`pytest tests/test_csv.py -q` (failed)" in md
    assert "2 run, 1 failed" in md
    # the API error was followed by answers: fixed, so only counted
    assert "529 Overloaded" not in md and "(1 earlier error fixed by later turns, not listed)" in md
    assert "branch: `feature/export`" in md and " M reports/csv.py" in md
    assert "claude-sonnet-4-5-20250929" in md and "$1.23" in md
    assert b.dropped == ()
    # both prompts are already in the goal, so "latest" has nothing new to say
    assert b.sections == tuple(s for s in SECTIONS if s != "latest")
    assert b.estimated_tokens == estimate_tokens(md)


def test_sections_are_selectable_and_unknown_ones_rejected(claude):
    session, digest = claude
    b = build_bundle(session, digest, sections={"goal", "todos"}, budget_tokens=8000, git_status=None)
    assert b.sections == ("goal", "todos")
    assert "Last answer" not in b.markdown and "Files touched" not in b.markdown
    with pytest.raises(BundleError, match="unknown section"):
        build_bundle(session, digest, sections={"goal", "gaol"}, budget_tokens=8000, git_status=None)


def test_no_git_is_tolerated(claude, tmp_path):
    session, digest = claude
    assert git_status(str(tmp_path)) is None  # a folder that is no repository
    assert git_status(None) is None
    empty = digest.__class__(tool="claude", path="x")
    b = build_bundle(session.with_(git_branch=None), empty, sections={"git"}, budget_tokens=8000, git_status=None)
    assert b.sections == ()


def test_git_status_runs_in_the_cwd(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    if subprocess.run(["git", "init", "-q", str(repo)], check=False).returncode != 0:
        pytest.skip("git not usable here")
    (repo / "new.txt").write_text("x")
    assert git_status(str(repo)).strip() == "?? new.txt"


def test_budget_drops_lowest_priority_sections_first(claude):
    session, digest = claude
    full = build_bundle(session, digest, sections=set(SECTIONS), budget_tokens=100000, git_status="")
    budget = full.estimated_tokens - 20
    cut = build_bundle(session, digest, sections=set(SECTIONS), budget_tokens=budget, git_status="")
    assert cut.estimated_tokens <= budget
    assert cut.dropped and cut.dropped == DROP_ORDER[: len(cut.dropped)]
    assert "goal" in cut.sections
    tiny = build_bundle(session, digest, sections=set(SECTIONS), budget_tokens=1, git_status="")
    assert tiny.estimated_tokens <= tiny.budget_tokens  # clamped to the minimum budget, still honoured


def test_planted_secrets_are_redacted_everywhere(tmp_path):
    secrets = " ".join(PLANTED.values())
    claude_path = claude_session_file(tmp_path / "c", secret=secrets)
    session = make_session(claude_path, title=f"deploy with {PLANTED['github']}")
    b = build_bundle(session, read_digest(claude_path), sections=set(SECTIONS), budget_tokens=8000, git_status=f"?? {PLANTED['aws']}.txt")
    paths = write_bundle(b, tmp_path / "out" / "brief", "both")
    assert b.redactions >= 3
    for p in paths:
        data = p.read_bytes()
        for s in PLANTED.values():
            assert s.encode() not in data
        assert b"[REDACTED]" in data
    # and the same secrets do reach the file when redaction is explicitly turned off
    raw = build_bundle(session, read_digest(claude_path), sections={"goal"}, budget_tokens=8000, redact=False, git_status=None)
    assert PLANTED["anthropic"] in raw.markdown and raw.redactions == 0


def test_codex_secret_redacted(tmp_path):
    secret = "sk-proj-Q7vN2mX9pL4kR8tB1wZ6yH3jF5dS0aGc"
    path = codex_session_file(tmp_path, secret=secret)
    s = make_session(path, tool="codex", model="gpt-5-codex")
    b = build_bundle(s, read_digest(path), sections=set(SECTIONS), budget_tokens=8000, git_status=None)
    assert secret not in b.to_json() and secret not in b.markdown


def test_round_trip_is_exact(claude, tmp_path):
    session, digest = claude
    b = build_bundle(session, digest, sections=set(SECTIONS), budget_tokens=8000, git_status=" M a.py\n", now=NOW)
    md_path, json_path = write_bundle(b, tmp_path / "exports" / "brief", "both")
    assert md_path.suffix == ".md" and json_path.suffix == ".json"
    back = read_bundle(json_path)
    assert back == b
    assert back.session["id"] == session.id and back.session["tool"] == "claude"
    assert back.session["cwd"] == session.cwd and back.session["git_branch"] == session.git_branch
    assert back.session["model"] == session.model
    assert back.session["usage"] == session.usage.as_dict()
    assert back.session["cost_usd"] == session.cost_usd
    assert md_path.read_text() == b.markdown == back.markdown
    assert json.loads(json_path.read_text())["schema"] == SCHEMA


def test_files_are_0600_and_never_clobbered(claude, tmp_path):
    session, digest = claude
    b = build_bundle(session, digest, sections={"goal"}, budget_tokens=8000, git_status=None)
    dest = tmp_path / "b.md"
    [p] = write_bundle(b, dest, "md")
    assert p == dest
    assert stat.S_IMODE(p.stat().st_mode) == 0o600
    p.write_text("user's own notes")
    with pytest.raises(BundleError, match="exists"):
        write_bundle(b, dest, "md")
    assert p.read_text() == "user's own notes"
    # 'both' checks every target first: nothing new appears when one of them exists
    with pytest.raises(BundleError):
        write_bundle(b, tmp_path / "b", "both")
    assert not (tmp_path / "b.json").exists()
    write_bundle(b, dest, "md", force=True)
    assert p.read_text() == b.markdown and stat.S_IMODE(p.stat().st_mode) == 0o600


def test_folder_destination_uses_default_names(claude, tmp_path):
    session, digest = claude
    b = build_bundle(session, digest, sections={"goal"}, budget_tokens=8000, git_status=None, now=NOW)
    paths = write_bundle(b, tmp_path, "both")
    assert [p.name for p in paths] == ["claude-5f1c2a9e-20261124-100000.md", "claude-5f1c2a9e-20261124-100000.json"]


@pytest.mark.parametrize("victim", ["link", "fsync"])
def test_crash_mid_write_leaves_no_partial_file(claude, tmp_path, monkeypatch, victim):
    session, digest = claude
    b = build_bundle(session, digest, sections=set(SECTIONS), budget_tokens=8000, git_status=None)
    out = tmp_path / "out"
    out.mkdir()
    real = getattr(os, victim)
    calls = {"n": 0}

    def boom(*args, **kwargs):
        calls["n"] += 1
        if victim == "link" or calls["n"] == 1:
            raise OSError(28, "No space left on device")
        return real(*args, **kwargs)

    monkeypatch.setattr(bundle_mod.os, victim, boom)
    with pytest.raises(BundleError, match="No space left"):
        write_bundle(b, out / "brief", "both")
    assert list(out.iterdir()) == []


def test_second_file_failing_removes_the_first(claude, tmp_path, monkeypatch):
    session, digest = claude
    b = build_bundle(session, digest, sections={"goal"}, budget_tokens=8000, git_status=None)
    real = os.link
    seen = []

    def second_fails(src, dst):
        seen.append(dst)
        if len(seen) == 2:
            raise OSError(5, "I/O error")
        return real(src, dst)

    monkeypatch.setattr(bundle_mod.os, "link", second_fails)
    with pytest.raises(BundleError):
        write_bundle(b, tmp_path / "brief", "both")
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "home") == []


def test_record_callback_gets_each_file(claude, tmp_path):
    session, digest = claude
    b = build_bundle(session, digest, sections=set(SECTIONS), budget_tokens=8000, git_status=None)
    rows = []
    paths = write_bundle(b, tmp_path / "x", "both", record=lambda *a: rows.append(a))
    assert rows == [
        (session.id, paths[0], "md", b.redactions, b.estimated_tokens),
        (session.id, paths[1], "json", b.redactions, b.estimated_tokens),
    ]


@pytest.mark.parametrize(
    "content,message",
    [
        (b"# just markdown\n", "not JSON"),
        (b"[1, 2]", "not an object"),
        (json.dumps({"schema": "something/1"}).encode(), "not an llm-session bundle"),
        (json.dumps({"schema": "llm-session.bundle/9"}).encode(), "unsupported bundle version"),
        (json.dumps({"schema": SCHEMA, "session": {"tool": "claude"}}).encode(), "session.id"),
        (json.dumps({"schema": SCHEMA, "session": {"tool": "claude", "id": "x"}, "content": {}}).encode(), "'sections'"),
    ],
)
def test_read_bundle_rejects_bad_files(tmp_path, content, message):
    p = tmp_path / "b.json"
    p.write_bytes(content)
    with pytest.raises(BundleError, match=message):
        read_bundle(p)


def test_read_bundle_size_cap_and_missing(tmp_path):
    p = tmp_path / "big.json"
    p.write_bytes(b" " * 2048)
    with pytest.raises(BundleError, match="at most 1024 bytes"):
        read_bundle(p, max_bytes=1024)
    with pytest.raises(BundleError, match="no such file"):
        read_bundle(tmp_path / "nope.json")
    with pytest.raises(BundleError, match="folder"):
        read_bundle(tmp_path)


def test_bundle_from_dict_type_checks(claude):
    session, digest = claude
    d = build_bundle(session, digest, sections={"goal"}, budget_tokens=8000, git_status=None).to_dict()
    d["budget_tokens"] = "lots"
    with pytest.raises(BundleError, match="budget_tokens"):
        Bundle.from_dict(d)


def test_latest_prompts_and_long_texts(tmp_path):
    from tests.transcript_factory import ClaudeWriter

    w = ClaudeWriter()
    for i in range(8):
        w.user(f"prompt number {i} " + "x" * (3000 if i == 7 else 10))
        w.text(f"answer {i}")
    path = w.write(tmp_path)
    b = build_bundle(make_session(path), read_digest(path), sections={"goal", "latest"}, budget_tokens=100000, git_status=None)
    assert [p.split()[2] for p in b.content["goal"]] == ["0", "1", "2"]
    assert [p.split()[2] for p in b.content["latest"]] == ["5", "6", "7"]
    assert len(b.content["latest"][-1]) == export_mod.MAX_PROMPT_CHARS and b.content["latest"][-1].endswith("…")


texts = st.text(max_size=80)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    prompts=st.lists(texts, max_size=4),
    answer=st.none() | texts,
    todos=st.lists(st.tuples(texts.filter(str.strip), st.sampled_from(["pending", "in_progress", "completed"])), max_size=3),
    files=st.lists(st.tuples(texts.filter(str.strip), st.integers(1, 9)), max_size=3),
    title=st.none() | texts,
    budget=st.integers(1, 3000),
)
def test_any_digest_round_trips_through_the_file(tmp_path, prompts, answer, todos, files, title, budget):
    d = Digest(
        tool="claude", path="x", first_prompts=tuple(prompts[:3]), latest_prompts=tuple(prompts[-3:]),
        last_answer=answer, todos=tuple(Todo(c, s) for c, s in todos), files=tuple(FileTouch(p, n) for p, n in files),
    )
    session = make_session(tmp_path / "t.jsonl", title=title)
    b = build_bundle(session, d, budget_tokens=budget, git_status=None)
    assert b.estimated_tokens <= b.budget_tokens
    dest = tmp_path / f"rt-{abs(hash((tuple(prompts), answer, title, budget)))}.json"
    write_bundle(b, dest, "json", force=True)
    assert read_bundle(dest) == b


def test_lone_surrogates_from_a_transcript_still_write(tmp_path):
    d = Digest(tool="claude", path="x", first_prompts=("broken \ud800 emoji",), last_answer="ok \udfff")
    b = build_bundle(make_session(tmp_path / "t.jsonl"), d, budget_tokens=8000, git_status=None)
    md, js = write_bundle(b, tmp_path / "s", "both")
    assert "broken ? emoji" in md.read_text(encoding="utf-8")
    assert read_bundle(js) == b


def test_new_export_folders_are_private(claude, tmp_path):
    session, digest = claude
    b = build_bundle(session, digest, sections={"goal"}, budget_tokens=8000, git_status=None)
    [p] = write_bundle(b, tmp_path / "fresh" / "folder", "md", folder=True)
    assert stat.S_IMODE(p.parent.stat().st_mode) == 0o700
