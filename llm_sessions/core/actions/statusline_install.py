"""Adding `llm-session statusline` to Claude Code's settings, and taking it out again.

The settings file is the user's (`$CLAUDE_CONFIG_DIR/settings.json`, else
`~/.claude/settings.json`), so a change is planned first and shown whole before anything is
written; the caller asks. Writing keeps a timestamped backup beside the file and replaces
the file atomically, keeping its other keys and their order.

A status line that is already configured is chained, not replaced: the new command carries
the old one after `--chain` (shell-quoted), runs it on the same input and prints its output
first. Uninstalling puts the old command back (or removes the key when there was none),
read from that same argument, so no other record is needed. A file that is not valid JSON
is never touched.
"""

from __future__ import annotations

import json
import os
import shlex
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class InstallError(Exception):
    """A reason not to touch the settings file, in one line."""


@dataclass(frozen=True, slots=True)
class Plan:
    path: Path
    before: Any  # the statusLine value now (None when absent)
    after: Any  # the statusLine value to write (None = remove the key)
    data: dict | None  # the whole new settings object; None when nothing changes
    message: str

    @property
    def changes(self) -> bool:
        return self.data is not None


def settings_path(env: Mapping[str, str]) -> Path:
    """Claude Code's user settings: the first CLAUDE_CONFIG_DIR entry, else ~/.claude."""
    configured = [p.strip() for p in env.get("CLAUDE_CONFIG_DIR", "").split(",") if p.strip()]
    if configured:
        return Path(configured[0]).expanduser() / "settings.json"
    home = env.get("HOME") or os.path.expanduser("~")
    return Path(home) / ".claude" / "settings.json"


def _read(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise InstallError(f"cannot read {path}: {exc}") from None
    if not text.strip():
        return {}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InstallError(f"{path} is not valid JSON ({exc}); fix it first, it was left untouched") from None
    if not isinstance(data, dict):
        raise InstallError(f"{path} does not hold a JSON object; it was left untouched")
    return data


def ours(command: Any) -> bool:
    """True when a statusLine command runs `llm-session statusline`, however it is spelled
    (any path to the executable, or `python -m llm_sessions`)."""
    if not isinstance(command, str):
        return False
    try:
        words = shlex.split(command)
    except ValueError:
        return False
    if "statusline" not in words:
        return False
    head = words[: words.index("statusline")]
    return (len(head) == 1 and os.path.basename(head[0]) == "llm-session") or head[-2:] == ["-m", "llm_sessions"]


def chained(command: str) -> str | None:
    """The command our status line chains, from its `--chain` argument."""
    words = shlex.split(command)
    if "--chain" in words:
        i = words.index("--chain")
        return words[i + 1] if i + 1 < len(words) else None
    return None


def plan_install(path: Path, program: list[str]) -> Plan:
    """`program`: the words that start llm-session (an absolute path, or python -m)."""
    data = _read(path)
    before = data.get("statusLine")
    old_cmd = before.get("command") if isinstance(before, dict) else None
    if ours(old_cmd):
        return Plan(path, before, before, None, f"already installed in {path}")
    if before is not None and not isinstance(before, dict):
        raise InstallError(f"{path}: statusLine is not an object; left untouched")
    command = shlex.join([*program, "statusline"])
    if isinstance(old_cmd, str) and old_cmd.strip():
        command += " --chain " + shlex.quote(old_cmd)
        message = f"chain the existing status line command ({old_cmd}) and add llm-session's figures after its output"
    else:
        message = "set llm-session as the status line command"
    after = {**(before or {}), "type": "command", "command": command}
    after.setdefault("padding", 0)
    return Plan(path, before, after, {**data, "statusLine": after}, message)


def plan_uninstall(path: Path) -> Plan:
    data = _read(path)
    before = data.get("statusLine")
    cmd = before.get("command") if isinstance(before, dict) else None
    if not isinstance(before, dict) or not isinstance(cmd, str) or not ours(cmd):
        return Plan(path, before, before, None, f"llm-session is not the status line in {path}; nothing to undo")
    previous = chained(cmd)
    new = dict(data)
    if previous:
        after = {**before, "command": previous}
        new["statusLine"] = after
        message = f"restore the chained status line command ({previous})"
    else:
        after = None
        del new["statusLine"]
        message = "remove the status line setting"
    return Plan(path, before, after, new, message)


def describe(plan: Plan) -> str:
    """The change as the user will see it before saying yes."""
    show = lambda v: "(none)" if v is None else json.dumps(v, indent=2, ensure_ascii=False)  # noqa: E731
    return (
        f"{plan.path}: {plan.message}\n"
        f"  statusLine now:\n{_indent(show(plan.before))}\n"
        f"  statusLine after:\n{_indent(show(plan.after))}"
    )


def _indent(text: str) -> str:
    return "\n".join("    " + line for line in text.splitlines())


def apply(plan: Plan) -> Path | None:
    """Write the planned settings; returns the backup made of the old file (None if new)."""
    from llm_sessions.core.accounting.statusline_state import write_atomic

    if plan.data is None:
        return None
    path = plan.path
    path.parent.mkdir(parents=True, exist_ok=True)
    backup = None
    if path.exists():
        backup = path.with_name(f"{path.name}.llm-session-backup-{time.strftime('%Y%m%d-%H%M%S')}")
        n = 1
        while backup.exists():
            backup = backup.with_name(f"{backup.name.rsplit('~', 1)[0]}~{n}")
            n += 1
        backup.write_bytes(path.read_bytes())
        mode = path.stat().st_mode & 0o777
    else:
        mode = 0o600
    write_atomic(path, (json.dumps(plan.data, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    os.chmod(path, mode)
    return backup


__all__ = ["InstallError", "Plan", "apply", "chained", "describe", "ours", "plan_install", "plan_uninstall", "settings_path"]
