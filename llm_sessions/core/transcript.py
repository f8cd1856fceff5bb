"""A whole-transcript reader that turns a Claude Code or Codex session into a digest.

The monitor's providers read transcripts incrementally for token counts; this module is the
opposite trade-off: it is called on demand (export, the detail drilldown) and reads one file
from the start to recover the conversation itself: what the user asked for, what the
assistant last said, the open todo list, the files it edited, the commands it ran and what
failed. Nothing here is needed on the hot path, so clarity wins over speed, but memory stays
bounded (deques) because transcripts can grow to hundreds of megabytes.

Both formats are undocumented and change between releases (see docs formats.md): every field
is optional, unknown record types are skipped, and a line that is not JSON is counted in
`malformed_lines`, never raised.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections import deque
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from llm_sessions.core.redact import cut
from llm_sessions.core.sanity import decode_record

log = logging.getLogger(__name__)

TranscriptTool = Literal["claude", "codex"]

FIRST_PROMPTS = 3
LATEST_PROMPTS = 3
KEEP_TURNS = 200
KEEP_COMMANDS = 50
KEEP_ERRORS = 20
ONE_LINE = 160

# Claude Code wraps what the harness says in tags inside user lines: slash commands and their
# output, reminders, hook output, background-task notifications, `!` shell runs. That is not
# the user talking, so the tagged blocks are removed wherever they stand, and a line that is
# nothing else never counts as a prompt.
_HARNESS_BLOCK = re.compile(
    r"<(system-reminder|task-notification|command-[a-z-]{1,30}|local-command-[a-z-]{1,30}"
    r"|user-prompt-submit-hook|bash-[a-z-]{1,30})(?:\s[^>]{0,200})?>[\s\S]*?(?:</\1>|\Z)"
)
_CLAUDE_NOISE_PREFIXES = (
    "Caveat: The messages below were generated",
    "This session is being continued from a previous conversation",
    "[Request interrupted by user",
)
# Codex injects the environment and AGENTS.md as user messages at the start of a rollout.
_CODEX_NOISE_PREFIXES = (
    "<environment_context>",
    "<user_instructions>",
    "<user_shell_command>",
    "# AGENTS.md instructions",
    "<turn_aborted>",
)
# "Claude AI usage limit reached|<epoch>": the session is blocked, not answering.
_LIMIT_PREFIX = "Claude AI usage limit reached"
_EDIT_TOOLS = {"Edit", "Write", "MultiEdit", "NotebookEdit"}
_SHELL_TOOLS = {"shell", "container.exec", "shell_command", "exec_command", "local_shell"}
_PATCH_FILE = re.compile(r"^\*\*\* (?:Update|Add|Delete) File: (.+?)\s*$|^\*\*\* Move to: (.+?)\s*$", re.M)
_EXIT_CODE_TEXT = re.compile(r"^(?:Exit code|Process exited with code):?\s*(-?\d+)", re.M)
# Claude's tool validation ("File has not been read yet", "String to replace not found"):
# the assistant retries at once, so these are noise in a brief, not errors to carry over.
_TOOL_USE_ERROR = "<tool_use_error>"
# Input fields that say what a tool call was about, so a later success of the same call
# can be recognised as the fix of an earlier failure.
_TOOL_SUBJECT = ("file_path", "notebook_path", "path", "url", "pattern", "query", "command")


def strip_harness(text: str) -> str:
    """`text` without the harness's tagged blocks (reminders, command output, notifications)."""
    if "<" not in text:
        return text.strip()
    return _HARNESS_BLOCK.sub("", text).strip()


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


def _ts(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _text_of(content: Any) -> str:
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


def detect_tool(path: Path) -> TranscriptTool:
    """Claude or Codex, from the first parseable line (Codex lines wrap a `payload`)."""
    try:
        for i, raw in enumerate(_lines(path)):
            if i > 50:
                break
            rec = decode_record(raw)
            if isinstance(rec, dict):
                if "payload" in rec and rec.get("type") in (
                    "session_meta", "turn_context", "response_item", "event_msg", "compacted"
                ):
                    return "codex"
                if "sessionId" in rec or rec.get("type") in ("user", "assistant", "summary", "system"):
                    return "claude"
    except OSError:
        pass
    return "codex" if path.name.startswith("rollout-") else "claude"


class _Builder:
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
        if not text or text.startswith(_CLAUDE_NOISE_PREFIXES):
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


def _todos(raw: Any, text_key: str) -> tuple[Todo, ...] | None:
    if not isinstance(raw, list):
        return None
    out = []
    for item in raw:
        if isinstance(item, dict):
            content = item.get(text_key) or item.get("content") or item.get("step")
            if isinstance(content, str) and content.strip():
                out.append(Todo(content.strip(), str(item.get("status") or "pending")))
    return tuple(out)


def _claude_record(b: _Builder, rec: dict) -> None:
    kind = rec.get("type")
    at = _ts(rec.get("timestamp"))
    if kind not in ("user", "assistant"):
        return
    if isinstance(rec.get("sessionId"), str) and not b.session_id:
        b.session_id = rec["sessionId"]
    if isinstance(rec.get("cwd"), str):
        b.cwd = rec["cwd"]
    if isinstance(rec.get("gitBranch"), str) and rec["gitBranch"]:
        b.git_branch = rec["gitBranch"]
    # Harness lines (isMeta) and the compaction summary would drown the real prompts.
    # Subagent (sidechain) lines arrive here only in the sidechain's own builder.
    if rec.get("isMeta") or rec.get("isCompactSummary"):
        return
    msg = rec.get("message")
    if not isinstance(msg, dict):
        return
    content = msg.get("content")
    if kind == "assistant":
        if rec.get("isApiErrorMessage"):
            b.error("api", _text_of(content) or "API error", at)
            return
        model = msg.get("model")
        if isinstance(model, str) and model and model != "<synthetic>":
            b.model = model
        text = _text_of(content)
        if text.startswith(_LIMIT_PREFIX):
            b.error("api", text.split("|", 1)[0], at)
        elif text.strip():
            b.answer(text, at)
        if isinstance(content, list):
            for block in content:
                if isinstance(block, dict) and block.get("type") == "tool_use":
                    _claude_tool_use(b, block, at)
        return
    # user line: a prompt, or tool results
    if isinstance(content, str):
        if content.startswith(_LIMIT_PREFIX):
            b.error("api", content.split("|", 1)[0], at)
        else:
            b.prompt(content, at)
        return
    if not isinstance(content, list):
        return
    texts = []
    for block in content:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "tool_result":
            _claude_tool_result(b, block, at)
        elif block.get("type") == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
    text = "\n".join(t for t in (strip_harness(t) for t in texts) if t and not t.startswith(_CLAUDE_NOISE_PREFIXES))
    if text.strip():
        b.prompt(text, at)


def _claude_tool_use(b: _Builder, block: dict, at: datetime | None) -> None:
    name = block.get("name")
    inp = block.get("input") if isinstance(block.get("input"), dict) else {}
    call_id = block.get("id") if isinstance(block.get("id"), str) else None
    if name in _EDIT_TOOLS:
        path = inp.get("file_path") or inp.get("notebook_path")
        if isinstance(path, str):
            b.touch(path, at, name)
        if call_id:
            b.other_tools[call_id] = _tool_label(name, inp)
    elif name == "Bash":
        command = inp.get("command")
        if isinstance(command, str):
            b.command_started(call_id, command, at)
    elif name == "TodoWrite":
        todos = _todos(inp.get("todos"), "content")
        if todos is not None:
            b.todos = todos
    elif call_id:
        # Remember other tools by id so a failing result can name them.
        b.other_tools[call_id] = _tool_label(name, inp)


def _tool_label(name: Any, inp: dict) -> str:
    """`Edit /src/app.py`, `WebFetch https://…`: the tool and what it was about."""
    subject = next((inp[k] for k in _TOOL_SUBJECT if isinstance(inp.get(k), str) and inp[k].strip()), None)
    return f"{name or 'tool'} {one_line(subject, 120)}" if subject else str(name or "tool")


def _claude_tool_result(b: _Builder, block: dict, at: datetime | None) -> None:
    call_id = block.get("tool_use_id") if isinstance(block.get("tool_use_id"), str) else None
    failed = bool(block.get("is_error"))
    output = _text_of(block.get("content"))
    if failed and output.lstrip().startswith(_TOOL_USE_ERROR):
        # the call never ran (refused by validation, or a sibling call failed): no result
        if call_id in b.pending:
            command, started = b.pending.pop(call_id)
            b.commands.append(CommandRun(command, None, None, started))
        b.other_tools.pop(call_id, None)
        return
    if b.command_finished(call_id, failed, None, output, at):
        return
    name = b.other_tools.pop(call_id, None) if call_id else None
    key = ("tool", name or "tool")
    if not failed:
        b.resolve(key)
    elif not output.lstrip().startswith(_TOOL_USE_ERROR):
        b.error("tool", f"{name or 'tool'} failed: {one_line(output, 200) or 'error'}", at, key=key)


def _codex_command(args: dict) -> str | None:
    cmd = args.get("command") if isinstance(args, dict) else None
    if isinstance(cmd, str):
        return cmd
    if isinstance(cmd, list) and all(isinstance(c, str) for c in cmd):
        # ["bash", "-lc", "cargo test"] is how Codex wraps a shell line: show the line.
        if len(cmd) >= 3 and cmd[-2] in ("-lc", "-c") and cmd[0].rsplit("/", 1)[-1] in ("bash", "sh", "zsh"):
            return cmd[-1]
        return " ".join(cmd)
    return None


def _patch_files(patch: str) -> list[str]:
    out = []
    for m in _PATCH_FILE.finditer(patch):
        out.append(m.group(1) or m.group(2))
    return out


def _codex_output(raw: Any) -> tuple[str, int | None]:
    """Output text and exit code of a function_call_output, in the JSON or the text style."""
    if isinstance(raw, dict):
        text = raw.get("content") or raw.get("output") or ""
        return (text if isinstance(text, str) else json.dumps(text)), None
    if not isinstance(raw, str):
        return "", None
    try:
        data = json.loads(raw)
    except ValueError:
        data = None
    if isinstance(data, dict):
        meta = data.get("metadata") if isinstance(data.get("metadata"), dict) else {}
        code = meta.get("exit_code")
        out = data.get("output")
        return (out if isinstance(out, str) else ""), (code if isinstance(code, int) else None)
    m = _EXIT_CODE_TEXT.search(raw)
    return raw, (int(m.group(1)) if m else None)


def _codex_record(b: _Builder, rec: dict, prompts_from_events: bool) -> None:
    kind = rec.get("type")
    p = rec.get("payload")
    at = _ts(rec.get("timestamp"))
    if not isinstance(p, dict):
        return
    if kind == "session_meta":
        # Forked rollouts start with their own meta and then the parent's: keep the first.
        if not b.session_id and isinstance(p.get("id"), str):
            b.session_id = p["id"]
        if isinstance(p.get("cwd"), str) and not b.cwd:
            b.cwd = p["cwd"]
        git = p.get("git")
        if isinstance(git, dict) and isinstance(git.get("branch"), str) and git["branch"]:
            b.git_branch = git["branch"]
        return
    if kind == "turn_context":
        if isinstance(p.get("model"), str) and p["model"]:
            b.model = p["model"]
        if isinstance(p.get("cwd"), str):
            b.cwd = p["cwd"]
        return
    if kind == "event_msg":
        et = p.get("type")
        if et == "user_message" and prompts_from_events:
            msg = p.get("message")
            if isinstance(msg, str) and not msg.lstrip().startswith(_CODEX_NOISE_PREFIXES):
                b.prompt(msg, at)
        elif et in ("task_complete", "agent_message"):
            b.resolve_kind("api")
        elif et in ("error", "stream_error"):
            b.error("api", str(p.get("message") or et), at)
        elif et == "exec_command_end":
            code = p.get("exit_code")
            out = p.get("aggregated_output") or p.get("stderr") or p.get("stdout") or ""
            if isinstance(code, int):
                b.command_finished(p.get("call_id"), code != 0, code, str(out), at)
        return
    if kind != "response_item":
        return
    it = p.get("type")
    if it == "message":
        role = p.get("role")
        text = _text_of(p.get("content"))
        if role == "assistant":
            b.answer(text, at)
        elif role == "user" and not prompts_from_events:
            if not text.lstrip().startswith(_CODEX_NOISE_PREFIXES):
                b.prompt(text, at)
        return
    call_id = p.get("call_id") if isinstance(p.get("call_id"), str) else None
    if it in ("function_call", "custom_tool_call", "local_shell_call"):
        name = p.get("name") or ("local_shell" if it == "local_shell_call" else "")
        raw = p.get("arguments") if it == "function_call" else p.get("input")
        if it == "local_shell_call":
            raw = p.get("action")
        args: Any = raw
        if isinstance(raw, str):
            try:
                args = json.loads(raw)
            except ValueError:
                args = raw
        if name == "apply_patch":
            patch = args.get("input") if isinstance(args, dict) else args
            for path in _patch_files(patch if isinstance(patch, str) else ""):
                b.touch(path, at, "apply_patch")
            return
        if name == "update_plan" and isinstance(args, dict):
            todos = _todos(args.get("plan"), "step")
            if todos is not None:
                b.todos = todos
            return
        if name in _SHELL_TOOLS and isinstance(args, dict):
            cmd = args.get("command")
            if isinstance(cmd, list) and cmd and cmd[0] == "apply_patch":
                for path in _patch_files(cmd[-1] if len(cmd) > 1 else ""):
                    b.touch(path, at, "apply_patch")
                return
            command = _codex_command(args)
            if command:
                b.command_started(call_id, command, at)
        return
    if it in ("function_call_output", "custom_tool_call_output"):
        out, code = _codex_output(p.get("output"))
        if code is not None:
            b.command_finished(call_id, code != 0, code, out, at)


def _lines(path: Path):
    """The complete lines of a transcript, through the tailer: a regular file only, and a
    line over the size limit arrives as `OVERSIZED` instead of filling the memory."""
    from llm_sessions.core.tailer import Cursor, read_lines

    return read_lines(str(path), Cursor(), os.stat(path))


def _iter_records(path: Path, b: _Builder):
    for raw in _lines(path):
        if not raw.strip():
            continue
        rec = decode_record(raw)  # None: not JSON, or fails the shared sanity checks
        if not isinstance(rec, dict):
            b.malformed += 1
            continue
        b.records += 1
        yield rec


def read_digest(path: str | Path, tool: TranscriptTool | None = None) -> Digest:
    """Read a whole Claude Code or Codex transcript into a Digest.

    Raises OSError only when the file cannot be opened; bad content never raises.
    """
    path = Path(path)
    tool = tool or detect_tool(path)
    b = _Builder(tool, path)
    if tool == "claude":
        # Subagent (sidechain) work is not the conversation the user is having, so it goes
        # to a builder of its own; it becomes the digest only when the file holds nothing
        # else (a subagent's own transcript).
        side = _Builder(tool, path)
        for rec in _iter_records(path, b):
            try:
                _claude_record(side if rec.get("isSidechain") else b, rec)
            except Exception as exc:  # noqa: BLE001 - a shape we did not foresee costs one line
                b.malformed += 1
                log.debug("skipped claude record in %s: %s", path, exc)
        if not b.said_anything and side.said_anything:
            side.records, side.malformed = b.records, b.malformed
            return side.freeze("subagent")
    else:
        # Newer Codex writes each prompt twice (response_item and event_msg user_message);
        # use the events when there are any, so a prompt is never counted twice.
        events = _codex_has_user_events(path)
        for rec in _iter_records(path, b):
            try:
                _codex_record(b, rec, events)
            except Exception as exc:  # noqa: BLE001
                b.malformed += 1
                log.debug("skipped codex record in %s: %s", path, exc)
    return b.freeze()


def _codex_has_user_events(path: Path) -> bool:
    needle = b'"user_message"'
    return any(needle in line for line in _lines(path))


def last_turns(path: str | Path, n: int = 10, tool: TranscriptTool | None = None) -> list[TurnSummary]:
    """The last `n` one-line turn summaries, oldest first, for the dashboard drilldown."""
    turns = read_digest(path, tool).turns
    return list(turns[-n:]) if n > 0 else []


def files_touched(path: str | Path, tool: TranscriptTool | None = None) -> list[FileTouch]:
    """Files the assistant edited, most-edited first."""
    return list(read_digest(path, tool).files)


def recent_errors(path: str | Path, n: int = 10, tool: TranscriptTool | None = None) -> list[ErrorNote]:
    """The last `n` API errors, failed tools and failed commands, oldest first."""
    errors = read_digest(path, tool).errors
    return list(errors[-n:]) if n > 0 else []


__all__ = [
    "CommandRun",
    "Digest",
    "ErrorNote",
    "FileTouch",
    "Todo",
    "TurnSummary",
    "detect_tool",
    "files_touched",
    "last_turns",
    "read_digest",
    "recent_errors",
    "one_line",
]
