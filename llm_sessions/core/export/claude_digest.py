"""Claude Code transcript records -> the digest builder.

Claude writes one JSON line per message: user lines hold prompts or tool results, assistant
lines hold text and tool calls (Edit/Write touch files, Bash runs commands, TodoWrite is the
plan). Harness lines, compaction summaries and tool-validation refusals are noise in a
brief and are left out here. Every field is optional (see docs formats.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from llm_sessions.core.export.digest import CommandRun, one_line
from llm_sessions.core.export.digest_builder import (
    CLAUDE_NOISE_PREFIXES,
    DigestBuilder,
    parse_ts,
    strip_harness,
    text_of,
    todos_of,
)
from llm_sessions.core.fields import dict_at, str_at

# "Claude AI usage limit reached|<epoch>": the session is blocked, not answering.
_LIMIT_PREFIX = "Claude AI usage limit reached"
_EDIT_TOOLS = {"Edit", "Write", "MultiEdit", "NotebookEdit"}
# Claude's tool validation ("File has not been read yet", "String to replace not found"):
# the assistant retries at once, so these are noise in a brief, not errors to carry over.
_TOOL_USE_ERROR = "<tool_use_error>"
# Input fields that say what a tool call was about, so a later success of the same call
# can be recognised as the fix of an earlier failure.
_TOOL_SUBJECT = ("file_path", "notebook_path", "path", "url", "pattern", "query", "command")


def claude_record(b: DigestBuilder, rec: dict) -> None:
    kind = rec.get("type")
    at = parse_ts(rec.get("timestamp"))
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
            b.error("api", text_of(content) or "API error", at)
            return
        model = msg.get("model")
        if isinstance(model, str) and model and model != "<synthetic>":
            b.model = model
        text = text_of(content)
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
    text = "\n".join(t for t in (strip_harness(t) for t in texts) if t and not t.startswith(CLAUDE_NOISE_PREFIXES))
    if text.strip():
        b.prompt(text, at)


def _claude_tool_use(b: DigestBuilder, block: dict, at: datetime | None) -> None:
    name = block.get("name")
    inp = dict_at(block, "input")
    call_id = str_at(block, "id")
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
        todos = todos_of(inp.get("todos"), "content")
        if todos is not None:
            b.todos = todos
    elif call_id:
        # Remember other tools by id so a failing result can name them.
        b.other_tools[call_id] = _tool_label(name, inp)


def _tool_label(name: Any, inp: dict) -> str:
    """`Edit /src/app.py`, `WebFetch https://…`: the tool and what it was about."""
    subject = next((inp[k] for k in _TOOL_SUBJECT if isinstance(inp.get(k), str) and inp[k].strip()), None)
    return f"{name or 'tool'} {one_line(subject, 120)}" if subject else str(name or "tool")


def _claude_tool_result(b: DigestBuilder, block: dict, at: datetime | None) -> None:
    call_id = str_at(block, "tool_use_id")
    failed = bool(block.get("is_error"))
    output = text_of(block.get("content"))
    if failed and output.lstrip().startswith(_TOOL_USE_ERROR):
        # the call never ran (refused by validation, or a sibling call failed): no result
        if call_id in b.pending:
            command, started = b.pending.pop(call_id)
            b.commands.append(CommandRun(command, None, None, started))
        if call_id:
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
