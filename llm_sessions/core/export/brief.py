"""The resume brief as Markdown: a bundle's content rendered for a human or an assistant.

Text from the transcript is quoted (prompts, the answer), put in code spans (paths, one-line
commands) or fences (multi-line commands, git status), each long enough that backticks and
newlines inside cannot break out, and the whole is made inert, so nothing in the brief can
change the document's structure or act on a terminal that shows it.
"""

from __future__ import annotations

import re
from typing import Any

from llm_sessions.core.export.digest import one_line
from llm_sessions.core.inert import inert

# Render order of the brief.
SECTIONS: tuple[str, ...] = ("goal", "latest", "todos", "answer", "files", "commands", "errors", "git", "meta")
SECTION_TITLES: dict[str, str] = {
    "goal": "Goal (first prompts)",
    "latest": "Latest prompts",
    "todos": "Open todos",
    "answer": "Last answer",
    "files": "Files touched",
    "commands": "Commands run",
    "errors": "Recent errors",
    "git": "Git",
    "meta": "Model, tokens and cost",
}


def _quote(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.splitlines() or [""])


def _longest_run(text: str, char: str = "`") -> int:
    return max((len(m) for m in re.findall(re.escape(char) + "+", text)), default=0)


def code_span(text: str) -> str:
    """`text` as inline code on one line, fenced with more backticks than it holds."""
    flat = " ".join(str(text).split())
    fence = "`" * (_longest_run(flat) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def code_block(text: str, info: str = "", indent: str = "") -> list[str]:
    """`text` as a fenced block whose fence is longer than any backtick run inside it."""
    fence = "`" * max(3, _longest_run(text) + 1)
    body = [indent + line if line else line for line in text.splitlines() or [""]]
    return [f"{indent}{fence}{info}", *body, f"{indent}{fence}"]


def _count(n: int) -> str:
    return f"{int(n):,}"


def _command_state(c: dict[str, Any]) -> str:
    if c["failed"]:
        return "failed" + (f", exit {c['exit_code']}" if c["exit_code"] not in (None, 0) else "")
    return "ok" if c["failed"] is False else "no result"


def render_markdown(meta: dict[str, Any], content: dict[str, Any]) -> str:
    """The brief as Markdown, written to be read by a fresh assistant session first.

    Text from the transcript is quoted (prompts, the answer), put in code spans (paths, one-line
    commands) or fences (multi-line commands, git status), and the whole is made inert, so
    nothing in it can change the document's structure or act on a terminal that shows it.
    """
    tool = meta.get("tool") or "assistant"
    title = one_line(str(meta.get("title") or meta.get("id")), 200)
    lines = [f"# Resume brief: {title}", ""]
    where = f" in {code_span(meta['cwd'])}" if meta.get("cwd") else ""
    if meta.get("subagent_of"):
        lines.append(
            f"This is the transcript of a subagent of {tool} session {code_span(meta['subagent_of'])}{where}: a task that"
            " session delegated, not a whole session. Its prompt is the task it was given, not the user's goal."
            " Read it as one part of the parent session's work."
        )
    else:
        lines.append(
            f"You are continuing a previous {tool} session (id {code_span(str(meta.get('id')))}){where}."
            " This brief summarises where it left off; read it, check the working tree, then carry on."
        )
    lines.append("")
    for name in SECTIONS:
        if name not in content and not (name == "errors" and content.get("errors_resolved")):
            continue
        value: Any = content.get(name)  # the section's JSON as built above (None only for errors)
        lines.append(f"## {SECTION_TITLES[name]}")
        lines.append("")
        if name in ("goal", "latest"):
            for i, prompt in enumerate(value):
                if i:
                    lines.append("")
                lines.append(_quote(prompt))
        elif name == "answer":
            lines.append(_quote(value))
        elif name == "todos":
            open_items = [t for t in value if t["status"] != "completed"]
            done = len(value) - len(open_items)
            for t in open_items:
                mark = "[~]" if t["status"] == "in_progress" else "[ ]"
                lines.append(f"- {mark} {one_line(t['content'], 300)}" + (" (in progress)" if t["status"] == "in_progress" else ""))
            if not open_items:
                lines.append("- none open")
            if done:
                lines.append(f"- ({done} completed)")
        elif name == "files":
            for f in value:
                lines.append(f"- {code_span(f['path'])} ({f['edits']} edit{'s' if f['edits'] != 1 else ''})")
            if content.get("files_more"):
                lines.append(f"- … and {content['files_more']} more")
        elif name == "commands":
            lines.append(f"{value['total']} run, {value['failed']} failed. Most recent:")
            lines.append("")
            for c in value["recent"]:
                command = c["command"].strip("\n")
                if "\n" in command:
                    lines.append(f"- ({_command_state(c)}):")
                    lines.append("")
                    lines.extend(code_block(command, "sh", indent="  "))
                    lines.append("")
                else:
                    lines.append(f"- {code_span(command)} ({_command_state(c)})")
        elif name == "errors":
            for e in value or ():
                lines.append(f"- {e['kind']}: {one_line(e['message'], 400)}")
            if content.get("errors_resolved"):
                n = content["errors_resolved"]
                lines.append(f"- ({n} earlier error{'s' if n != 1 else ''} fixed by later turns, not listed)")
        elif name == "git":
            lines.append(f"- branch: {code_span(value['branch'])}" if value.get("branch") else "- branch: unknown")
            status = value.get("status")
            if status is None:
                lines.append("- working tree: not a git repository or git unavailable")
            elif not status.strip():
                lines.append("- working tree: clean")
            else:
                lines.append("- working tree (`git status --porcelain`):")
                lines.append("")
                lines.extend(code_block(status))
        elif name == "meta":
            if value.get("model"):
                lines.append(f"- model: {code_span(value['model'])}")
            usage = value.get("usage") or {}
            exact = "" if usage.get("exact", True) else " (estimated)"
            lines.append(
                f"- tokens: {_count(usage.get('total', 0))} total{exact}"
                f" ({_count(usage.get('input', 0))} input, {_count(usage.get('output', 0))} output,"
                f" {_count(usage.get('cache_creation', 0))} cache write, {_count(usage.get('cache_read', 0))} cache read)"
            )
            ctx = value.get("context")
            if ctx:
                lines.append(f"- context: {_count(ctx['used'])} of {_count(ctx['window'])} tokens ({ctx['percent']}%)")
            if value.get("cost_usd") is not None:
                lines.append(f"- cost: ${value['cost_usd']:,.2f}")
            lines.append(f"- turns: {_count(value.get('turns', 0))}")
        lines.append("")
    return inert("\n".join(lines).rstrip() + "\n", multiline=True)


__all__ = ["SECTIONS", "SECTION_TITLES", "code_block", "code_span", "render_markdown"]
