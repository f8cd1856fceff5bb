"""The trap scenarios every corpus starts with: each trap of formats.md at least once.

About 4 MB of sessions written before any random ones, so a test on the smallest corpus
still meets every trap (`traps` in truth.json counts them; tests require each to be >= 1).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from llm_sessions.synth.claude_options import ClaudeOptions
from llm_sessions.synth.codex_writer import CodexOptions
from llm_sessions.synth.corpus_layout import AIDER_REPOS, CLAUDE_EXTRA, CLAUDE_XDG

if TYPE_CHECKING:
    from llm_sessions.synth.corpus_builder import CorpusBuilder


def _after(last: datetime | None, gap: timedelta) -> datetime:
    """`gap` after a session's last activity (every scenario session has written lines)."""
    assert last is not None
    return last + gap


def write_scenarios(b: CorpusBuilder) -> None:
    """Write the scenarios through builder `b` (a function, so the builder stays small)."""
    odd_cwd = "/home/dev/code/my_app.v2/über tool"
    b.traps["nonalnum_cwd"] += 1
    b.claude(ClaudeOptions(
        turns=8, models=("claude-sonnet-4-5-20250929", "claude-opus-4-6"), subagents=2, api_errors=2,
        tool_error_rate=0.15, usage_limit="user", meta_lines=2, side_records=6, unknown_records=2,
        garbage=("text", "binary", "non_object", "truncated_mid"), summary_line=True,
    ), cwd=odd_cwd)
    api = "/home/dev/projects/api-server"
    original = b.claude(ClaudeOptions(turns=6, keep_for_copy=True), cwd=api)
    b.claude(ClaudeOptions(turns=4), cwd=api, resume_from=original, copy_turns=3,
                start=_after(original.truth.last, timedelta(hours=2)))
    b.claude(ClaudeOptions(turns=5, tools=("Read",), big_reads=True, manual_compact_turn=1, min_context=0),
                cwd="/home/dev/projects/monitor")
    # auto compaction with turns after it: reads push the context over 160k, then two more turns
    b.claude(ClaudeOptions(turns=2, tools=("Read", "Edit"), big_reads=True, min_compactions=1),
                cwd="/home/dev/projects/monitor")
    b.claude(ClaudeOptions(turns=4, compact_at_end=True, models=("claude-opus-4-5-20251101",)), cwd="/srv/app")
    b.claude(ClaudeOptions(turns=3, models=("claude-opus-4-6",), tools=("Read",), big_reads=True, compact_at=None,
                              min_context=205_000), cwd="/home/dev/projects/big-refactor")
    b.claude(ClaudeOptions(turns=4, models=("claude-opus-4-6[1m]",)), cwd="/home/dev/projects/big-refactor")
    b.claude(ClaudeOptions(turns=5, legacy_subagents=2, inline_sidechains=1), cwd="/home/dev/legacy/old_build")
    long_cwd = "/home/dev/" + "/".join(f"deeply_nested_folder_{i:02d}" for i in range(9)) + "/project"
    b.claude(ClaudeOptions(turns=3), cwd=long_cwd)
    b.claude(ClaudeOptions(turns=4, api_errors=1, usage_limit="api_error"), cwd="/home/dev/projects/xdg-user", root=CLAUDE_XDG)
    if b.extra_root:
        b.claude(ClaudeOptions(turns=3), cwd="/home/dev/projects/extra", root=CLAUDE_EXTRA)
    b.claude(ClaudeOptions(turns=3, truncated_tail=True), cwd="/home/dev/projects/live")
    b.empty_claude_file()
    b.ghost_stub()
    # 2026 money: 1-hour and mixed-TTL writes everywhere; fast mode; advisor calls; a
    # session without the TTL split; Opus 4.6 above 200k after the flat-price day.
    b.claude(ClaudeOptions(turns=5, models=("claude-opus-4-6",), fast_rate=0.5, one_hour_rate=0.5),
                cwd="/home/dev/projects/fast-lane")
    b.claude(ClaudeOptions(turns=5, models=("claude-sonnet-4-5-20250929",), advisor_rate=0.6),
                cwd="/home/dev/projects/advised")
    b.claude(ClaudeOptions(turns=3, ttl_split=False, one_hour_rate=0.0), cwd="/home/dev/projects/old-build")
    b.claude(ClaudeOptions(turns=3, models=("claude-opus-4-6",), tools=("Read",), big_reads=True, compact_at=None,
                              min_context=205_000), cwd="/home/dev/projects/big-refactor",
                start=datetime(2026, 4, 2, 9, 0, tzinfo=UTC))
    # Aider works in a repository a Claude session also worked in: found from that cwd.
    # (Its repositories are real absolute paths, so they tie the corpus to its root.)
    shop = str((b.root / "work" / "shop").resolve())
    if b.with_aider:
        b.claude(ClaudeOptions(turns=2), cwd=shop)

    b.codex(CodexOptions(turns=4, models=("gpt-5-codex", "gpt-5"), reemit_rate=0.5, error_events=1, garbage=1,
                            fail_rate=0.2), cwd="/home/dev/projects/api-server")
    parent = b.codex(CodexOptions(turns=3, keep_for_fork=True), cwd="/home/dev/projects/monitor")
    b.codex(CodexOptions(turns=2), cwd="/home/dev/projects/monitor", fork_of=parent,
               start=_after(parent.truth.last, timedelta(minutes=30)))
    b.codex(CodexOptions(turns=3), cwd="/home/dev/projects/old", archived=True)
    b.codex(CodexOptions(turns=6, compact_at=30_000), cwd="/home/dev/projects/codex-long")
    # 2026 Codex formats
    b.codex(CodexOptions(turns=4, models=("gpt-6-astra",), cache_writes=True, compact_at=None),
               cwd="/home/dev/projects/astra")
    b.codex(CodexOptions(turns=6, compact_at=40_000, compact_turns=(2,), compaction_records="remote"),
               cwd="/home/dev/projects/remote-compact")
    b.codex(CodexOptions(turns=6, compact_at=40_000, compact_turns=(2,), compaction_records="local"),
               cwd="/home/dev/projects/local-compact")
    b.codex(CodexOptions(turns=6, models=("gpt-5.3-codex",), priority_turns=(1, 2, 4), aborted_turns=(3,),
                            resume_before=(5,)), cwd="/home/dev/projects/tiers")
    lead = b.codex(CodexOptions(turns=5, keep_for_fork=True), cwd="/home/dev/projects/lineage")
    b.codex(CodexOptions(turns=2), cwd="/home/dev/projects/lineage", fork_of=lead, layout="history_base", cut_turn=2,
               start=_after(lead.truth.last, timedelta(minutes=20)))
    b.codex(CodexOptions(turns=2), cwd="/home/dev/projects/lineage", fork_of=lead, layout="child",
               start=_after(lead.truth.last, timedelta(minutes=40)))
    page1 = b.codex(CodexOptions(turns=3, keep_for_fork=True, ordinals=True), cwd="/home/dev/projects/pages")
    b.codex(CodexOptions(turns=3, ordinals=True), cwd="/home/dev/projects/pages", page_of=page1,
               start=_after(page1.truth.last, timedelta(hours=3)))

    b.gemini(turns=6, cwd="/home/dev/projects/gem", subagent=True)
    b.gemini(turns=4, cwd="/home/dev/projects/gem-root", model="gemini-3-flash-preview", project_root_file=True)
    b.gemini(turns=3, cwd="/home/dev/projects/gem-legacy", legacy=True)
    b.copilot(cwd="/home/dev/projects/pilot", models=("claude-sonnet-4.6", "gpt-5.2"), parts=3, partial=False)
    b.copilot(cwd="/home/dev/projects/pilot", models=("gpt-5.2",), parts=2, partial=True)
    b.copilot(cwd="/home/dev/projects/pilot-old", models=("claude-sonnet-4.6",), parts=2, partial=False, restart=True)
    if b.with_aider:
        b.aider(Path(shop), runs=2)
        b.aider(b.root / AIDER_REPOS / "tools", runs=1)
        b.settings_env["LLM_SESSION_AIDER_PATHS"] = str((b.root / AIDER_REPOS).resolve()) + "/*"
