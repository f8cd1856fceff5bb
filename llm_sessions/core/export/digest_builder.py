"""The accumulator both transcript parsers feed, and the helpers they share.

A transcript can grow to hundreds of megabytes, so everything kept is bounded (deques of
the latest turns, commands and errors). Failures are remembered with a key so that a later
success of the same call marks them resolved. `freeze()` turns it into a frozen Digest.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from llm_sessions.core.export.digest import (
    CommandRun,
    Digest,
    ErrorNote,
    FileTouch,
    Todo,
    TranscriptTool,
    TurnSummary,
    one_line,
)
from llm_sessions.core.export.redact import cut

FIRST_PROMPTS = 3
LATEST_PROMPTS = 3
KEEP_TURNS = 200
KEEP_COMMANDS = 50
KEEP_ERRORS = 20

# Claude Code wraps what the harness says in tags inside user lines: slash commands and their
# output, reminders, hook output, background-task notifications, `!` shell runs. That is not
# the user talking, so the tagged blocks are removed wherever they stand, and a line that is
# nothing else never counts as a prompt.
_HARNESS_BLOCK = re.compile(
    r"<(system-reminder|task-notification|command-[a-z-]{1,30}|local-command-[a-z-]{1,30}"
    r"|user-prompt-submit-hook|bash-[a-z-]{1,30})(?:\s[^>]{0,200})?>[\s\S]*?(?:</\1>|\Z)"
)
CLAUDE_NOISE_PREFIXES = (
    "Caveat: The messages below were generated",
    "This session is being continued from a previous conversation",
    "[Request interrupted by user",
)


def strip_harness(text: str) -> str:
    """`text` without the harness's tagged blocks (reminders, command output, notifications)."""
    if "<" not in text:
        return text.strip()
    return _HARNESS_BLOCK.sub("", text).strip()


def parse_ts(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def text_of(content: Any) -> str:
    """The plain text of a message content: a string or a list of text-like blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, dict) and block.get("type") in ("text", "input_text", "output_text"):
                text = block.get("text")
                if isinstance(text, str):
                    parts.append(text)
        return "\n".join(parts)
    return ""


def todos_of(raw: Any, text_key: str) -> tuple[Todo, ...] | None:
    if not isinstance(raw, list):
        return None
    out = []
    for item in raw:
        if isinstance(item, dict):
            content = item.get(text_key) or item.get("content") or item.get("step")
            if isinstance(content, str) and content.strip():
                out.append(Todo(content.strip(), str(item.get("status") or "pending")))
    return tuple(out)


class DigestBuilder:
    """Mutable accumulator shared by both parsers; `freeze()` returns the Digest."""

    def __init__(self, tool: TranscriptTool, path: Path) -> None:
        self.tool = tool
        self.path = path
        self.session_id: str | None = None
        self.cwd: str | None = None
        self.git_branch: str | None = None
        self.model: str | None = None
        self.first: list[str] = []
        self.latest: deque[str] = deque(maxlen=LATEST_PROMPTS)
        self.prompts_total = 0
        self.last_answer: str | None = None
        self.todos: tuple[Todo, ...] = ()
        self.files: dict[str, int] = {}
        self.commands: deque[CommandRun] = deque(maxlen=KEEP_COMMANDS)
        self.commands_total = 0
        self.pending: dict[str, tuple[str, datetime | None]] = {}
        self.other_tools: dict[str, str] = {}
        self.errors: deque[tuple[tuple[str, str] | None, ErrorNote]] = deque(maxlen=KEEP_ERRORS)
        self.turns: deque[TurnSummary] = deque(maxlen=KEEP_TURNS)
        self.records = 0
        self.malformed = 0
        self.failed_total = 0

    @property
    def said_anything(self) -> bool:
        return bool(self.prompts_total or self.last_answer or self.commands_total or self.files)

    def prompt(self, text: str, at: datetime | None) -> None:
        text = strip_harness(text)
        if not text or text.startswith(CLAUDE_NOISE_PREFIXES):
            return
        self.prompts_total += 1
        if len(self.first) < FIRST_PROMPTS:
            self.first.append(text)
        self.latest.append(text)
        self.turns.append(TurnSummary(at, "user", one_line(text)))

    def answer(self, text: str, at: datetime | None) -> None:
        text = text.strip()
        if not text:
            return
        self.last_answer = text
        self.resolve_kind("api")  # the API answered again
        self.turns.append(TurnSummary(at, "assistant", one_line(text)))

    def touch(self, path: str, at: datetime | None, tool_name: str) -> None:
        path = path.strip()
        if not path:
            return
        self.files[path] = self.files.get(path, 0) + 1
        self.turns.append(TurnSummary(at, "tool", one_line(f"{tool_name} {path}")))

    def command_started(self, call_id: str | None, command: str, at: datetime | None) -> None:
        command = command.strip()
        if not command:
            return
        self.commands_total += 1
        if call_id:
            self.pending[call_id] = (command, at)
        else:
            self.commands.append(CommandRun(command, at=at))
        self.turns.append(TurnSummary(at, "tool", one_line(f"$ {command}")))

    def command_finished(
        self, call_id: str | None, failed: bool, exit_code: int | None, output: str, at: datetime | None
    ) -> bool:
        """Attach a result to its command; False when the call id is not a known command."""
        if not call_id or call_id not in self.pending:
            return False
        command, started = self.pending.pop(call_id)
        tail = cut(output.strip(), 400, tail=True) if output else None
        self.commands.append(CommandRun(command, failed, exit_code, started, tail or None))
        key = ("command", " ".join(command.split()))
        if failed:
            self.failed_total += 1
            detail = f" (exit {exit_code})" if exit_code not in (None, 0) else ""
            msg = f"`{one_line(command, 80)}` failed{detail}"
            if tail:
                msg += f": {one_line(tail.splitlines()[-1] if tail.splitlines() else tail, 160)}"
            self.error("command", msg, at, key=key)
        else:
            self.resolve(key)
        return True

    def error(
        self, kind: Literal["api", "tool", "command"], message: str, at: datetime | None, *, key: tuple[str, str] | None = None
    ) -> None:
        message = one_line(message, 300)
        if not message:
            return
        self.errors.append((key, ErrorNote(kind, message, at)))
        self.turns.append(TurnSummary(at, "error", one_line(message), error=True))

    def resolve(self, key: tuple[str, str]) -> None:
        """A later success of the same call: earlier failures of it are marked resolved."""
        if any(k == key and not note.resolved for k, note in self.errors):
            self.errors = deque(
                ((k, replace(note, resolved=True) if k == key else note) for k, note in self.errors), maxlen=KEEP_ERRORS
            )

    def resolve_kind(self, kind: str) -> None:
        if any(note.kind == kind and not note.resolved for _k, note in self.errors):
            self.errors = deque(
                ((k, replace(note, resolved=True) if note.kind == kind else note) for k, note in self.errors),
                maxlen=KEEP_ERRORS,
            )

    def freeze(self, kind: Literal["main", "subagent"] = "main") -> Digest:
        # Commands whose result never arrived (session cut off mid-call) still count.
        for command, at in self.pending.values():
            self.commands.append(CommandRun(command, None, None, at))
        files = sorted(self.files.items(), key=lambda kv: (-kv[1], kv[0]))
        return Digest(
            tool=self.tool,
            path=str(self.path),
            session_id=self.session_id,
            cwd=self.cwd,
            git_branch=self.git_branch,
            model=self.model,
            first_prompts=tuple(self.first),
            latest_prompts=tuple(self.latest),
            last_answer=self.last_answer,
            todos=self.todos,
            files=tuple(FileTouch(p, n) for p, n in files),
            commands=tuple(self.commands),
            commands_total=self.commands_total,
            commands_failed=self.failed_total,
            errors=tuple(note for _k, note in self.errors),
            turns=tuple(self.turns),
            prompts_total=self.prompts_total,
            records=self.records,
            malformed_lines=self.malformed,
            kind=kind,
            parent_session_id=self.session_id if kind == "subagent" else None,
        )
