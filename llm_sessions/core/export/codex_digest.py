"""Codex CLI rollout records -> the digest builder.

A rollout wraps each record in a `payload`: `session_meta` and `turn_context` say where and
with which model, `response_item` holds messages and tool calls (shell commands in several
historical shapes, apply_patch, update_plan), and `event_msg` holds user prompts, command
results and errors. Newer Codex writes each prompt twice; the caller says which copy counts.
"""

from __future__ import annotations

import json
import re
from typing import Any

from llm_sessions.core.export.digest_builder import DigestBuilder, parse_ts, text_of, todos_of
from llm_sessions.core.fields import dict_at, str_at

# Codex injects the environment and AGENTS.md as user messages at the start of a rollout.
_CODEX_NOISE_PREFIXES = (
    "<environment_context>",
    "<user_instructions>",
    "<user_shell_command>",
    "# AGENTS.md instructions",
    "<turn_aborted>",
)
_SHELL_TOOLS = {"shell", "container.exec", "shell_command", "exec_command", "local_shell"}
_PATCH_FILE = re.compile(r"^\*\*\* (?:Update|Add|Delete) File: (.+?)\s*$|^\*\*\* Move to: (.+?)\s*$", re.M)
_EXIT_CODE_TEXT = re.compile(r"^(?:Exit code|Process exited with code):?\s*(-?\d+)", re.M)


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
        meta = dict_at(data, "metadata")
        code = meta.get("exit_code")
        out = data.get("output")
        return (out if isinstance(out, str) else ""), (code if isinstance(code, int) else None)
    m = _EXIT_CODE_TEXT.search(raw)
    return raw, (int(m.group(1)) if m else None)


def codex_record(b: DigestBuilder, rec: dict, prompts_from_events: bool) -> None:
    kind = rec.get("type")
    p = rec.get("payload")
    at = parse_ts(rec.get("timestamp"))
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
        text = text_of(p.get("content"))
        if role == "assistant":
            b.answer(text, at)
        elif role == "user" and not prompts_from_events:
            if not text.lstrip().startswith(_CODEX_NOISE_PREFIXES):
                b.prompt(text, at)
        return
    call_id = str_at(p, "call_id")
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
            todos = todos_of(args.get("plan"), "step")
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
