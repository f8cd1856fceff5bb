"""The recognition table, as data in and tool out: no processes needed."""

from __future__ import annotations

import pytest

from llm_sessions.core.live.recognise import is_candidate, recognise, session_id_from_cmdline

HOME = "/home/u"


@pytest.mark.parametrize(
    ("name", "cmdline", "exe", "tool"),
    [
        ("node", ("node", "/usr/lib/node_modules/@anthropic-ai/claude-code/cli.js"), "/usr/bin/node", "claude"),
        ("claude", ("claude", "--model", "opus"), "/usr/bin/node", "claude"),
        ("2.1.37", ("claude",), f"{HOME}/.local/share/claude/versions/2.1.37", "claude"),
        ("claude", ("claude",), f"{HOME}/.local/share/claude/versions/2.1.37", "claude"),
        ("node", ("node", "/opt/lib/node_modules/@openai/codex/bin/codex.js"), "/usr/bin/node", "codex"),
        ("codex", ("/opt/codex/vendor/x86_64/codex/codex",), "/opt/codex/codex", "codex"),
        ("node", ("node", "/x/node_modules/@google/gemini-cli/dist/index.js"), "/usr/bin/node", "gemini"),
        ("node", ("node", "/x/node_modules/@github/copilot/index.js"), "/usr/bin/node", "copilot"),
        ("copilot", ("copilot",), "/usr/bin/copilot", "copilot"),
        ("cursor", ("/usr/share/cursor/cursor", "--no-sandbox"), "/usr/share/cursor/cursor", "cursor"),
        ("Cursor", ("/Applications/Cursor.app/Contents/MacOS/Cursor",), "", "cursor"),
        ("aider", ("/home/u/.venv/bin/python", "/home/u/.local/bin/aider", "--model", "x"), "", "aider"),
        ("python3", ("python3", "/home/u/.local/bin/aider"), "/usr/bin/python3.11", "aider"),
        ("python3.12", ("python3.12", "-m", "aider", "--yes"), "", "aider"),
        ("python3", ("python3", "-m", "llm_sessions.synth.live", "--tool", "codex"), "", "codex"),
        ("python", ("python", "-m", "llm_sessions.synth.live", "--seed", "3", "--tool=claude"), "", "claude"),
        # never assistants
        ("node", ("node",), "/usr/bin/node", None),
        ("node", ("node", "/srv/app/server.js"), "/usr/bin/node", None),
        ("node", ("node", "npm-cli.js", "install", "-g", "@google/gemini-cli"), "/usr/bin/node", None),
        ("node", ("node", "npm-cli.js", "install", "-g", "@anthropic-ai/claude-code"), "/usr/bin/node", None),
        ("python3", ("python3", "my_aider_notes.py"), "/usr/bin/python3", None),
        ("python3", ("python3", "-m", "pytest"), "/usr/bin/python3", None),
        ("cursor", ("/usr/share/cursor/cursor", "--type=renderer"), "/usr/share/cursor/cursor", None),
        ("code", ("/usr/share/code/code",), "/usr/share/code/code", None),
        ("vim", ("vim", "aider"), "/usr/bin/vim", None),
        ("2.1.37", ("2.1.37",), "/opt/other/2.1.37", None),
        ("node", ("node", "/x/node_modules/@github/copilot-language-server/dist/language-server.js"), "", None),
        ("cursor-agent", ("cursor-agent",), "/usr/bin/cursor-agent", None),
    ],
)
def test_recognise(name, cmdline, exe, tool):
    got = recognise(name, cmdline, exe)
    assert (got.tool if got else None) == tool
    if got:
        assert got.evidence


@pytest.mark.parametrize(
    ("name", "want"),
    [("node", True), ("claude", True), ("2.1.37", True), ("python3.11", True), ("cursor", True),
     ("bash", False), ("sleep", False), ("code", False), ("Cursor Helper", False)],
)
def test_is_candidate(name, want):
    assert is_candidate(name) is want


@pytest.mark.parametrize(
    ("cmdline", "sid"),
    [
        (("claude", "--session-id", "0b6c4a2e-1111-2222-3333-444455556666"), "0b6c4a2e-1111-2222-3333-444455556666"),
        (("claude", "--resume=abcdef123"), "abcdef123"),
        (("claude", "-r", "abcdef123", "--verbose"), "abcdef123"),
        (("node", "/x/@openai/codex/bin/codex.js", "resume", "019a-77aa-bb"), "019a-77aa-bb"),
        (("codex", "--model", "o3", "resume", "019a-77aa-bb"), "019a-77aa-bb"),
        (("claude", "--resume"), None),
        (("claude", "--resume", "--verbose"), None),
        (("git", "resume", "abcdef123"), None),
        (("claude",), None),
    ],
)
def test_session_id_from_cmdline(cmdline, sid):
    assert session_id_from_cmdline(cmdline) == sid


def test_candidate_matcher_agrees_with_the_rules():
    from llm_sessions.core.live.recognise import candidate_matcher

    fast = candidate_matcher()
    names = ["node", "nodejs", "bun", "claude", "claude2", "2.1.37", "python", "python3.11", "pythonx",
             "cursor", "Cursor", "Cursor Helper", "codex", "gemini", "copilot", "aider", "bash", "sleep", ""]
    assert [fast(n) for n in names] == [is_candidate(n) for n in names]
    assert fast("node") and not fast("pythonx")
