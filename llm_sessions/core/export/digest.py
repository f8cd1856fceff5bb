"""The digest of a transcript: what a fresh session needs to pick up where one left off.

Frozen values only, so a digest can cross from the worker thread that reads a transcript to
the export screens, the brief and the bundle. Reading (core.export.transcript) and the per-format
parsers (core.export.claude_digest, core.export.codex_digest) produce it; nothing here reads a file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from llm_sessions.core.export.redact import cut

TranscriptTool = Literal["claude", "codex"]

ONE_LINE = 160


@dataclass(frozen=True, slots=True)
class Todo:
    """One entry of the assistant's own plan (Claude TodoWrite, Codex update_plan)."""

    content: str
    status: str = "pending"

    @property
    def open(self) -> bool:
        return self.status != "completed"


@dataclass(frozen=True, slots=True)
class FileTouch:
    path: str
    edits: int


@dataclass(frozen=True, slots=True)
class CommandRun:
    """A shell command the assistant ran; `failed` is None while its result is unknown."""

    command: str
    failed: bool | None = None
    exit_code: int | None = None
    at: datetime | None = None
    output_tail: str | None = None


@dataclass(frozen=True, slots=True)
class ErrorNote:
    """A failure seen in the transcript; `resolved` when a later turn did the same thing
    successfully (the command ran clean, the edit went through, the API answered)."""

    kind: Literal["api", "tool", "command"]
    message: str
    at: datetime | None = None
    resolved: bool = False


@dataclass(frozen=True, slots=True)
class TurnSummary:
    """One line of the recent conversation, as the detail drilldown lists it."""

    at: datetime | None
    role: Literal["user", "assistant", "tool", "error"]
    text: str
    error: bool = False


@dataclass(frozen=True, slots=True)
class Digest:
    """What a fresh session needs to know to pick up where this one left off.

    Every field is optional because any of them can be missing from a real transcript (a
    session that never edited a file, a Codex rollout without a plan, a truncated file).
    """

    tool: TranscriptTool
    path: str
    session_id: str | None = None
    cwd: str | None = None
    git_branch: str | None = None
    model: str | None = None
    first_prompts: tuple[str, ...] = ()
    latest_prompts: tuple[str, ...] = ()
    last_answer: str | None = None
    todos: tuple[Todo, ...] = ()
    files: tuple[FileTouch, ...] = ()
    commands: tuple[CommandRun, ...] = ()
    commands_total: int = 0
    commands_failed: int = 0
    errors: tuple[ErrorNote, ...] = ()
    turns: tuple[TurnSummary, ...] = ()
    prompts_total: int = 0
    records: int = 0
    malformed_lines: int = 0
    # "subagent" when the file holds only a subagent's (sidechain) work: a task delegated by
    # session `parent_session_id`, not a conversation with the user.
    kind: Literal["main", "subagent"] = "main"
    parent_session_id: str | None = None

    @property
    def open_todos(self) -> tuple[Todo, ...]:
        return tuple(t for t in self.todos if t.open)

    @property
    def open_errors(self) -> tuple[ErrorNote, ...]:
        return tuple(e for e in self.errors if not e.resolved)


def one_line(text: str, width: int = ONE_LINE) -> str:
    """Collapse whitespace and cut to `width` characters with an ellipsis, never through a
    secret (see `redact.cut`), so whatever redacts the line later sees the whole of it."""
    return cut(" ".join(text.split()), width)
