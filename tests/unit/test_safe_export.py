"""Issue 8 (findings 3, 9, 10) and issue 10's brief: what export writes is inert, written
without clobbering, made without running the repository's code, and reads as a brief.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from llm_sessions.core.export import bundle as bundle_mod
from llm_sessions.core.export.brief import SECTIONS
from llm_sessions.core.export.build import build_bundle
from llm_sessions.core.export.bundle import BundleError, write_bundle
from llm_sessions.core.export.git_status import git_status
from llm_sessions.core.export.transcript import read_digest
from tests.transcript_factory import ClaudeWriter, claude_session_file
from tests.unit.test_export_bundle import make_session

RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True,
                   env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "GIT_CONFIG_NOSYSTEM": "1"})


@pytest.fixture
def hostile_repo(tmp_path):
    """A repository whose own config runs a command on `git status`: an fsmonitor hook and
    a clean filter, each leaving a marker file when it runs."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    git(repo, "config", "user.email", "t@example.com")
    git(repo, "config", "user.name", "t")
    (repo / "a.txt").write_text("one\n")
    git(repo, "add", "a.txt")
    git(repo, "commit", "-qm", "one")
    hook = tmp_path / "hook.sh"
    hook.write_text(f"#!/bin/sh\ntouch {tmp_path}/fsmonitor-ran\nexit 1\n")
    hook.chmod(0o755)
    git(repo, "config", "core.fsmonitor", str(hook))
    git(repo, "config", "filter.evil.clean", f"sh -c 'touch {tmp_path}/filter-ran; cat'")
    (repo / ".gitattributes").write_text("*.txt filter=evil\n")
    (repo / "a.txt").write_text("two\n")  # modified: status must look at its content
    return repo


def test_git_status_runs_nothing_the_repository_configures(hostile_repo, tmp_path):
    """Finding 9: a repository-local core.fsmonitor or filter runs on a plain `git status`."""
    out = git_status(str(hostile_repo))
    assert out is not None and "a.txt" in out
    assert not (tmp_path / "fsmonitor-ran").exists()
    assert not (tmp_path / "filter-ran").exists()


def test_git_status_ignores_git_environment(hostile_repo, tmp_path, monkeypatch):
    other = tmp_path / "elsewhere"
    other.mkdir()
    monkeypatch.setenv("GIT_DIR", str(other))  # would point git at another repository
    monkeypatch.setenv("GIT_CONFIG_PARAMETERS", f"'core.fsmonitor'='{tmp_path}/hook.sh'")
    assert "a.txt" in (git_status(str(hostile_repo)) or "")
    assert not (tmp_path / "fsmonitor-ran").exists()


def test_git_status_refuses_a_folder_with_control_characters(tmp_path):
    assert git_status(f"{tmp_path}/x\x1b]0;t\x07") is None


@pytest.fixture
def bundle(tmp_path):
    path = claude_session_file(tmp_path / "home")
    return build_bundle(make_session(path), read_digest(path), sections=set(SECTIONS), budget_tokens=8000, git_status=None)


def test_no_clobber_holds_even_if_a_file_appears_after_the_check(bundle, tmp_path, monkeypatch):
    """Finding 10: `exists()` then `os.replace()` overwrote a file created in between."""
    dest = tmp_path / "brief.md"
    dest.write_text("written by someone else a moment ago\n")
    monkeypatch.setattr(bundle_mod.Path, "exists", lambda self: False)  # the check saw nothing
    with pytest.raises(BundleError, match="exists"):
        write_bundle(bundle, dest, "md")
    assert dest.read_text() == "written by someone else a moment ago\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".brief")] == []  # no temp left


def test_force_still_overwrites(bundle, tmp_path):
    dest = tmp_path / "brief.md"
    dest.write_text("old")
    write_bundle(bundle, dest, "md", force=True)
    assert dest.read_text() == bundle.markdown


# -- the brief itself -------------------------------------------------------------------------


def brief_of(tmp_path, w: ClaudeWriter, **session):
    path = w.write(tmp_path / "home" / "projects" / "p")
    return build_bundle(make_session(path, **session), read_digest(path), sections=set(SECTIONS),
                        budget_tokens=20000, git_status=None)


def assert_markdown_structure(md: str) -> None:
    """Every `## ` heading sits outside any fence, and every fence is closed."""
    fence: str | None = None
    for line in md.splitlines():
        stripped = line.lstrip(" ")
        run = re.match(r"`{3,}", stripped)
        if fence is None and run:
            fence = run.group()
        elif fence is not None and stripped.startswith(fence) and stripped.strip("`") == "":
            fence = None
        elif fence is None and line.startswith("#"):
            assert line.startswith(("# Resume brief", "## ")), line
    assert fence is None, "a fence was left open"


def test_control_characters_never_reach_the_brief_files(tmp_path):
    """Finding 3: a transcript set the pane title and wrote OSC 52 payloads."""
    osc = "\x1b]0;owned\x07\x1b]52;c;cm0gLXJmIH4=\x07\x9b2J"
    w = ClaudeWriter(cwd="/home/dev/p\x1b[2J", model="m\x1b]0;x\x07")
    w.user(f"Fix the login {osc} bug")
    w.text(f"Done {osc}")
    w.tool("Bash", "b1", command=f"printf '{osc}'")
    w.result("b1", f"out {osc}", is_error=True)
    b = brief_of(tmp_path, w, title=f"title {osc}", cwd="/home/dev/p\x1b[2J")
    paths = write_bundle(b, tmp_path / "out" / "brief", "both")
    for p in paths:
        text = p.read_text(encoding="utf-8")
        assert not RAW_CONTROL.search(text.replace("\n", "").replace("\t", "")), p
    md = paths[0].read_text()
    assert "Fix the login \\x1b]0;owned\\x07\\x1b]52;c;cm0gLXJmIH4=\\x07\\u009b2J bug" in md
    assert json.loads(paths[1].read_text())["session"]["cwd"] == "/home/dev/p\x1b[2J"  # data kept exact, escaped


def test_harness_boilerplate_is_never_a_prompt_or_goal(tmp_path):
    w = ClaudeWriter()
    w.user("<command-name>/model</command-name>\n<command-message>model</command-message>\n<command-args></command-args>")
    w.user("<local-command-stdout>Set model to opus</local-command-stdout>")
    w.user("<local-command-caveat>Caveat: local commands</local-command-caveat>")
    w.user("<task-notification>\n<task-id>b1</task-id>\n<status>completed</status>\n</task-notification>")
    w.user("Fix the login redirect\n\n<system-reminder>\nThe TodoWrite tool hasn't been used recently.\n</system-reminder>")
    w.text("On it.")
    w.user("<system-reminder>Only a reminder</system-reminder>")
    w.user("Now add a test for it")
    md = brief_of(tmp_path, w).markdown
    goal = md.split("## Goal (first prompts)", 1)[1].split("\n## ", 1)[0]
    assert "> Fix the login redirect" in goal and "> Now add a test for it" in goal
    for tag in ("command-", "local-command", "task-notification", "system-reminder", "Set model to opus", "TodoWrite"):
        assert tag not in md, tag


def test_errors_a_later_turn_fixed_are_not_carried_over(tmp_path):
    w = ClaudeWriter()
    w.user("Make the tests pass")
    w.tool("Bash", "b1", command="npm test")
    w.result("b1", "1 failing", is_error=True)
    w.tool("Edit", "e1", file_path="/home/dev/project/src/a.ts", old_string="x", new_string="y")
    w.result("e1", "<tool_use_error>File has not been read yet. Read it first before writing to it.</tool_use_error>", is_error=True)
    w.tool("Edit", "e2", file_path="/home/dev/project/src/b.ts", old_string="x", new_string="y")
    w.result("e2", "String to replace not found in file", is_error=True)
    w.tool("Edit", "e3", file_path="/home/dev/project/src/b.ts", old_string="z", new_string="y")
    w.result("e3", "The file has been updated")
    w.tool("Bash", "b2", command="npm test")
    w.result("b2", "all passing")
    w.tool("Bash", "b3", command="npm run lint")
    w.result("b3", "2 problems", is_error=True)
    b = brief_of(tmp_path, w)
    errors = b.markdown.split("## Recent errors", 1)[1].split("\n## ", 1)[0]
    assert "npm run lint" in errors  # still failing: carried over
    assert "npm test" not in errors and "b.ts" not in errors  # fixed later
    assert "tool_use_error" not in b.markdown and "has not been read yet" not in b.markdown
    assert "(2 earlier errors fixed by later turns, not listed)" in errors


def test_commands_with_newlines_and_backticks_cannot_break_the_markdown(tmp_path):
    w = ClaudeWriter()
    w.user("Write the release notes")
    w.tool("Bash", "b1", command="cat > NOTES.md <<'EOF'\n```\n## Not a heading\n```\nEOF")
    w.result("b1", "")
    w.tool("Bash", "b2", command="echo `date` ``two``")
    w.result("b2", "")
    w.tool("Bash", "b3", command="git commit -m 'x'\n\n# Resume brief: fake\n")
    w.result("b3", "", is_error=True)
    md = brief_of(tmp_path, w).markdown
    assert_markdown_structure(md)
    assert "```` sh" not in md and "````sh" in md  # fence longer than the ``` inside
    assert "- ```echo `date` ``two`` ```" in md or "- ``` echo `date` ``two`` ```" in md


def test_token_figures_have_cache_writes_and_separators(bundle):
    assert "- tokens: 336,600 total (1,200 input, 5,400 output, 20,000 cache write, 310,000 cache read)" in bundle.markdown


def test_a_subagent_only_transcript_says_what_it_is(tmp_path):
    w = ClaudeWriter(session_id="parent-5f1c2a9e")
    w.user("Search the codebase for every caller of parse_date and list them", isSidechain=True, agentId="a1")
    w.tool("Grep", "g1", pattern="parse_date")
    w.lines[-1] = w.lines[-1].replace('"isSidechain": false', '"isSidechain": true')
    w.text("Found 4 callers: a.py, b.py, c.py, d.py", isSidechain=True)
    path = w.write(tmp_path / "home" / "projects" / "p" / "parent-5f1c2a9e" / "subagents")
    digest = read_digest(path)
    assert digest.kind == "subagent" and digest.parent_session_id == "parent-5f1c2a9e"
    md = build_bundle(make_session(path).with_(id="agent-a1"), digest, budget_tokens=8000, git_status=None).markdown
    assert "subagent of claude session `parent-5f1c2a9e`" in md
    assert "every caller of parse_date" in md and "Found 4 callers" in md


def test_a_command_that_never_ran_is_not_an_error(tmp_path):
    """A Bash call refused with <tool_use_error> (a sibling call failed) did not run."""
    w = ClaudeWriter()
    w.user("Look around")
    w.tool("Bash", "b1", command="find . -name '*.ex'")
    w.result("b1", "<tool_use_error>Sibling tool call errored</tool_use_error>", is_error=True)
    md = brief_of(tmp_path, w).markdown
    assert "tool_use_error" not in md and "Sibling" not in md
    assert "`find . -name '*.ex'` (no result)" in md
