"""The whole-transcript digest: narrative, todos, files, commands, errors, noise skipped."""

from __future__ import annotations

import json

from llm_sessions.core.export.transcript import detect_tool, files_touched, last_turns, read_digest, recent_errors
from tests.transcript_factory import ClaudeWriter, CodexWriter, claude_session_file, codex_session_file


def test_claude_digest_narrative_skips_meta_sidechain_and_compact_noise(tmp_path):
    d = read_digest(claude_session_file(tmp_path))
    assert d.tool == "claude"
    assert d.session_id == "5f1c2a9e-1111-4222-8333-944455556666"
    assert d.cwd == "/home/dev/project"
    assert d.git_branch == "feature/export"
    assert d.model == "claude-sonnet-4-5-20250929"  # not <synthetic> from the API error
    assert d.first_prompts == (
        "Add a CSV export to the reports page",
        "Now make the header row bold and rerun the tests",
    )
    assert d.latest_prompts[-1] == "Now make the header row bold and rerun the tests"
    everything = json.dumps([d.first_prompts, d.latest_prompts, d.last_answer, [t.text for t in d.turns]])
    for noise in ("SIDECHAIN", "SUMMARY NOISE", "Caveat", "/clear"):
        assert noise not in everything
    assert d.last_answer == "Done: the header row is bold and tests/test_csv.py passes."
    assert d.malformed_lines == 2


def test_claude_digest_todos_files_commands_errors(tmp_path):
    d = read_digest(claude_session_file(tmp_path))
    assert [(t.content, t.status) for t in d.open_todos] == [
        ("Wire the export button", "in_progress"),
        ("Add tests for CSV export", "pending"),
    ]
    assert len(d.todos) == 3
    assert [(f.path, f.edits) for f in d.files] == [
        ("/home/dev/project/reports/csv.py", 2),
        ("/home/dev/project/reports/views.py", 1),
    ]
    assert d.commands_total == 2 and d.commands_failed == 1
    by_cmd = {c.command: c for c in d.commands}
    assert by_cmd["pytest tests/test_csv.py -q"].failed is True
    assert by_cmd["git diff --stat"].failed is False
    kinds = [e.kind for e in d.errors]
    assert "command" in kinds and "api" in kinds
    assert any("529 Overloaded" in e.message for e in d.errors)


def test_claude_failed_non_bash_tool_is_an_error(tmp_path):
    w = ClaudeWriter()
    w.user("edit it")
    w.tool("Edit", "e9", file_path="/p/a.py", old_string="x", new_string="y")
    w.result("e9", "String to replace not found in file.", is_error=True)
    d = read_digest(w.write(tmp_path))
    assert d.errors[-1].kind == "tool"
    assert "Edit /p/a.py failed" in d.errors[-1].message
    assert d.commands_total == 0


def test_codex_digest(tmp_path):
    path = codex_session_file(tmp_path)
    assert detect_tool(path) == "codex"
    d = read_digest(path)
    assert d.tool == "codex"
    assert d.session_id == "0199a0b1-7c2d-7e3f-8a4b-5c6d7e8f9a0b"
    assert d.git_branch == "main" and d.model == "gpt-5-codex" and d.cwd == "/home/dev/service"
    # the prompt appears as response_item and as event_msg: counted once; environment skipped
    assert d.first_prompts == ("Fix the flaky retry test in the HTTP client",)
    assert d.prompts_total == 1
    assert [(t.content, t.status) for t in d.open_todos] == [("Fix backoff jitter", "in_progress"), ("Run full suite", "pending")]
    assert [(f.path, f.edits) for f in d.files] == [("src/retry.rs", 2), ("src/client.rs", 1)]
    assert d.commands_total == 2 and d.commands_failed == 1
    assert [c.exit_code for c in d.commands] == [101, 0]
    assert any(e.kind == "api" and "stream disconnected" in e.message for e in d.errors)
    assert d.last_answer == "The jitter now uses a seeded RNG; cargo test retry passes."
    assert d.malformed_lines == 1


def test_codex_text_style_output_and_shell_apply_patch(tmp_path):
    w = CodexWriter()
    w.meta()
    w.add("response_item", {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "go"}]})
    w.call("shell", "s1", {"command": ["apply_patch", "*** Begin Patch\n*** Add File: docs/a.md\n+hi\n*** End Patch\n"]})
    w.call("shell", "s2", {"command": ["bash", "-lc", "make lint"]})
    w.add("response_item", {"type": "function_call_output", "call_id": "s2", "output": "Exit code: 2\nWall time: 1s\nOutput:\nlint failed"})
    d = read_digest(w.write(tmp_path))
    assert d.first_prompts == ("go",)  # no event_msg user_message: response_item prompts used
    assert [(f.path, f.edits) for f in d.files] == [("docs/a.md", 1)]
    assert d.commands[-1].command == "make lint" and d.commands[-1].exit_code == 2 and d.commands[-1].failed


def test_malformed_and_empty_files_are_never_fatal(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_bytes(b"\x00\xff garbage\n[1,2]\n{\"type\": \"user\", \"message\": 5}\n\n")
    d = read_digest(p, tool="claude")
    assert d.malformed_lines == 2 and d.records == 1
    assert d.first_prompts == () and d.last_answer is None and d.files == ()
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert read_digest(empty).records == 0


def test_drilldown_helpers(tmp_path):
    path = claude_session_file(tmp_path)
    turns = last_turns(path, 4)
    assert len(turns) == 4
    assert turns[-1].role == "assistant" and turns[-1].text.startswith("Done: the header row")
    assert all("\n" not in t.text and len(t.text) <= 160 for t in last_turns(path, 100))
    assert last_turns(path, 0) == []
    assert files_touched(path)[0].path.endswith("csv.py")
    errors = recent_errors(path, 1)
    assert len(errors) == 1 and errors[0].kind == "api"


def test_claude_usage_limit_is_an_error_not_an_answer(tmp_path):
    w = ClaudeWriter()
    w.user("continue")
    w.text("Working on it.")
    w.text("Claude AI usage limit reached|1764000000")
    w.user("Claude AI usage limit reached|1764000000")
    d = read_digest(w.write(tmp_path))
    assert d.last_answer == "Working on it."
    assert d.first_prompts == ("continue",)
    assert [e.message for e in d.errors] == ["Claude AI usage limit reached"] * 2
