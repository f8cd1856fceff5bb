"""Small, realistic Claude Code and Codex transcripts written into a test's tmp_path.

The shapes follow docs formats.md (and the public parsers cited there); tests never read the
real ~/.claude or ~/.codex of the machine they run on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _stamp(i: int) -> str:
    return (T0 + timedelta(seconds=30 * i)).isoformat().replace("+00:00", "Z")


@dataclass
class ClaudeWriter:
    """Builds a Claude Code session file line by line with the envelope fields filled in."""

    session_id: str = "5f1c2a9e-1111-4222-8333-944455556666"
    cwd: str = "/home/dev/project"
    branch: str = "feature/export"
    model: str = "claude-sonnet-4-5-20250929"
    lines: list[str] = field(default_factory=list)
    n: int = 0

    def _env(self, kind: str, **extra: Any) -> dict:
        self.n += 1
        rec = {
            "type": kind,
            "uuid": f"u-{self.n}",
            "parentUuid": f"u-{self.n - 1}" if self.n > 1 else None,
            "sessionId": self.session_id,
            "timestamp": _stamp(self.n),
            "cwd": self.cwd,
            "gitBranch": self.branch,
            "version": "2.0.30",
            "isSidechain": False,
            "userType": "external",
        }
        rec.update(extra)
        return rec

    def add(self, rec: dict) -> ClaudeWriter:
        self.lines.append(json.dumps(rec))
        return self

    def raw(self, line: str) -> ClaudeWriter:
        self.lines.append(line)
        return self

    def user(self, text: str, **extra: Any) -> ClaudeWriter:
        return self.add(self._env("user", message={"role": "user", "content": text}, **extra))

    def assistant(self, *blocks: dict, usage: dict | None = None, **extra: Any) -> ClaudeWriter:
        msg = {
            "id": f"msg_{self.n}",
            "type": "message",
            "role": "assistant",
            "model": extra.pop("model", self.model),
            "content": list(blocks),
            "stop_reason": "end_turn",
            "usage": usage
            or {"input_tokens": 12, "output_tokens": 80, "cache_creation_input_tokens": 500, "cache_read_input_tokens": 9000},
        }
        return self.add(self._env("assistant", message=msg, requestId=f"req_{self.n}", **extra))

    def text(self, text: str, **extra: Any) -> ClaudeWriter:
        return self.assistant({"type": "text", "text": text}, **extra)

    def tool(self, name: str, tool_id: str, **inp: Any) -> ClaudeWriter:
        return self.assistant({"type": "tool_use", "id": tool_id, "name": name, "input": inp})

    def result(self, tool_id: str, output: str, is_error: bool = False) -> ClaudeWriter:
        block = {"type": "tool_result", "tool_use_id": tool_id, "content": output, "is_error": is_error}
        return self.add(self._env("user", message={"role": "user", "content": [block]}))

    def write(self, folder: Path) -> Path:
        path = folder / f"{self.session_id}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(self.lines) + "\n", encoding="utf-8")
        return path


@dataclass
class CodexWriter:
    """Builds a Codex rollout: session_meta, turn_context, response_item and event_msg lines."""

    session_id: str = "0199a0b1-7c2d-7e3f-8a4b-5c6d7e8f9a0b"
    cwd: str = "/home/dev/service"
    branch: str = "main"
    model: str = "gpt-5-codex"
    lines: list[str] = field(default_factory=list)
    n: int = 0

    def add(self, kind: str, payload: dict) -> CodexWriter:
        self.n += 1
        self.lines.append(json.dumps({"timestamp": _stamp(self.n), "type": kind, "payload": payload}))
        return self

    def raw(self, line: str) -> CodexWriter:
        self.lines.append(line)
        return self

    def meta(self) -> CodexWriter:
        self.add("session_meta", {
            "id": self.session_id, "timestamp": _stamp(0), "cwd": self.cwd, "originator": "codex_cli_rs",
            "cli_version": "0.46.0", "git": {"branch": self.branch, "commit_hash": "abc123"},
        })
        return self.add("turn_context", {"cwd": self.cwd, "model": self.model, "approval_policy": "on-request"})

    def user(self, text: str) -> CodexWriter:
        self.add("response_item", {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]})
        return self.add("event_msg", {"type": "user_message", "message": text, "images": []})

    def answer(self, text: str) -> CodexWriter:
        self.add("response_item", {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": text}]})
        return self.add("event_msg", {"type": "agent_message", "message": text})

    def call(self, name: str, call_id: str, args: dict) -> CodexWriter:
        return self.add("response_item", {"type": "function_call", "name": name, "arguments": json.dumps(args), "call_id": call_id})

    def shell(self, call_id: str, line: str, exit_code: int, output: str = "") -> CodexWriter:
        self.call("shell", call_id, {"command": ["bash", "-lc", line], "workdir": self.cwd, "timeout_ms": 120000})
        out = json.dumps({"output": output, "metadata": {"exit_code": exit_code, "duration_seconds": 0.4}})
        return self.add("response_item", {"type": "function_call_output", "call_id": call_id, "output": out})

    def patch(self, call_id: str, *files: str) -> CodexWriter:
        body = "*** Begin Patch\n" + "".join(f"*** Update File: {f}\n@@\n-old\n+new\n" for f in files) + "*** End Patch\n"
        self.add("response_item", {"type": "custom_tool_call", "status": "completed", "call_id": call_id, "name": "apply_patch",
                                   "input": body})
        output = json.dumps({"output": "Success.", "metadata": {"exit_code": 0}})
        return self.add("response_item", {"type": "custom_tool_call_output", "call_id": call_id, "output": output})

    def plan(self, call_id: str, *steps: tuple[str, str]) -> CodexWriter:
        return self.call("update_plan", call_id, {"plan": [{"step": s, "status": st} for s, st in steps]})

    def tokens(self, total: int) -> CodexWriter:
        u = {"input_tokens": total - 100, "cached_input_tokens": 0, "output_tokens": 100, "reasoning_output_tokens": 0,
             "total_tokens": total}
        info = {"total_token_usage": u, "last_token_usage": u, "model_context_window": 272000}
        return self.add("event_msg", {"type": "token_count", "info": info})

    def write(self, folder: Path) -> Path:
        path = folder / "2026" / "11" / "24" / f"rollout-2026-11-24T09-00-00-{self.session_id}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(self.lines) + "\n", encoding="utf-8")
        return path


def claude_session_file(folder: Path, secret: str | None = None) -> Path:
    """A realistic Claude session: goal, edits, a failing and a passing command, todos, API error."""
    w = ClaudeWriter()
    w.add({"type": "summary", "summary": "Export feature", "leafUuid": "u-0"})
    w.user("<command-name>/clear</command-name>")
    w.user("Caveat: The messages below were generated by the user while running local commands.", isMeta=True)
    w.user("Add a CSV export to the reports page" + (f"; the staging key is {secret}" if secret else ""))
    w.text("I'll look at the reports module first.")
    w.tool("TodoWrite", "t1", todos=[
        {"content": "Write CSV serializer", "status": "completed", "activeForm": "Writing"},
        {"content": "Wire the export button", "status": "in_progress", "activeForm": "Wiring"},
        {"content": "Add tests for CSV export", "status": "pending", "activeForm": "Adding"},
    ])
    w.result("t1", "Todos have been modified successfully")
    w.tool("Edit", "e1", file_path="/home/dev/project/reports/csv.py", old_string="a", new_string="b")
    w.result("e1", "The file has been updated.")
    w.tool("Edit", "e2", file_path="/home/dev/project/reports/csv.py", old_string="b", new_string="c")
    w.result("e2", "The file has been updated.")
    w.tool("Write", "w1", file_path="/home/dev/project/reports/views.py", content="x")
    w.result("w1", "File created")
    w.tool("Bash", "b1", command="pytest tests/test_csv.py -q", description="run tests")
    w.result("b1", "FAILED tests/test_csv.py::test_header - AssertionError", is_error=True)
    w.tool("Bash", "b2", command="git diff --stat")
    w.result("b2", " reports/csv.py | 4 ++--")
    # a subagent's work must not become the narrative
    w.add(w._env("user", isSidechain=True, message={"role": "user", "content": "SIDECHAIN prompt to explore"}))
    side = {"id": "m-side", "role": "assistant", "model": w.model, "content": [{"type": "text", "text": "SIDECHAIN answer"}]}
    w.add(w._env("assistant", isSidechain=True, message=side))
    w.raw('{"type": "assistant", "message": {')  # half-written line
    w.raw("not json at all")
    w.assistant({"type": "text", "text": "API Error: 529 Overloaded"}, isApiErrorMessage=True, model="<synthetic>")
    w.user("Now make the header row bold and rerun the tests")
    w.add(w._env("user", isCompactSummary=True, message={"role": "user", "content": "This session is being continued... SUMMARY NOISE"}))
    w.text("Done: the header row is bold and tests/test_csv.py passes.")
    return w.write(folder / "projects" / "-home-dev-project")


def codex_session_file(folder: Path, secret: str | None = None) -> Path:
    w = CodexWriter()
    w.meta()
    context = "<environment_context>\n  <cwd>/home/dev/service</cwd>\n</environment_context>"
    w.add("response_item", {"type": "message", "role": "user", "content": [{"type": "input_text", "text": context}]})
    w.user("Fix the flaky retry test in the HTTP client" + (f" (token {secret})" if secret else ""))
    w.plan("p1", ("Reproduce the flake", "completed"), ("Fix backoff jitter", "in_progress"), ("Run full suite", "pending"))
    w.shell("c1", "cargo test retry", 101, "test retry::backoff ... FAILED")
    w.patch("c2", "src/retry.rs", "src/client.rs")
    w.patch("c3", "src/retry.rs")
    w.shell("c4", "cargo test retry", 0, "test result: ok")
    w.add("event_msg", {"type": "error", "message": "stream disconnected before completion"})
    w.raw("{broken")
    w.tokens(42000)
    w.answer("The jitter now uses a seeded RNG; cargo test retry passes.")
    return w.write(folder / "sessions")
