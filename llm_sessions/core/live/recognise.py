"""Which running processes are AI coding assistants: the recognition rules, as data.

Every assistant has one `Rule`. A rule says which process names are worth a closer look
(`names`, cheap: they come from the kernel's one-line status), and which evidence proves
the process is that assistant: its name alone, a path inside its executable, or a pattern
in its command line. Interpreters (`node`, `python`) are only ever looked at, never taken
at face value: a bare `node` or `python` process is not an assistant, so interpreter rules
always need a command-line pattern that names the assistant's own package *as a path*
(`@google/gemini-cli/`, not the bare package name that `npm install` would carry).

Keeping this as a table means adding an assistant, or a new way one is launched, is a data
change reviewed on its own, not a new branch in the scanning loop.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Literal

import msgspec

#: Interpreter process names. Any of these is a *candidate*, never an assistant by itself.
NODE_NAMES = re.compile(r"^(node|nodejs|bun)$")
PYTHON_NAMES = re.compile(r"^python[0-9.]*$")
#: Native Claude Code builds can be named after their version (`2.1.37`).
VERSION_NAME = re.compile(r"^\d+\.\d+\.\d+")


class Rule(msgspec.Struct, frozen=True):
    """How one assistant's processes look.

    `names`: process names that identify the assistant on their own (the kernel name, which
    Linux cuts at 15 characters). `candidate_names`: names that merit reading the command
    line and executable (interpreters, version-named binaries). `cmdline`: regular
    expressions searched in the command line joined by spaces; a match proves the assistant
    when the process name is any candidate. `exe`: regular expressions on the executable
    path, proof on their own. `exclude`: command-line patterns that veto the rule (Cursor's
    `--type=` helpers). `tool_group`: when set, the tool name is read from that group of the
    cmdline match instead of `tool` (the demo writer says which assistant it plays).
    `cwd_match`: how a process cwd relates to a session cwd when nothing better is known
    (`ancestor` for Aider, which keeps its history at the repository root).
    `shared_process`: one process serves many sessions (Cursor's app window hosts every
    composer), so it is matched to each session active since it started.
    """

    tool: str
    names: tuple[str, ...] = ()
    candidate_names: tuple[re.Pattern[str], ...] = ()
    cmdline: tuple[re.Pattern[str], ...] = ()
    exe: tuple[re.Pattern[str], ...] = ()
    exclude: tuple[re.Pattern[str], ...] = ()
    tool_group: int | None = None
    cwd_match: Literal["exact", "ancestor"] = "exact"
    shared_process: bool = False


def _re(*patterns: str) -> tuple[re.Pattern[str], ...]:
    return tuple(re.compile(p) for p in patterns)


RULES: tuple[Rule, ...] = (
    Rule(
        tool="claude",
        names=("claude",),
        candidate_names=(NODE_NAMES, VERSION_NAME),
        cmdline=_re(r"@anthropic-ai/claude-code/cli\.js"),
        exe=_re(r"/\.local/share/claude/versions/[^/]+$"),
    ),
    Rule(
        tool="codex",
        names=("codex",),
        candidate_names=(NODE_NAMES,),
        cmdline=_re(r"@openai/codex/bin/codex"),
    ),
    Rule(
        tool="gemini",
        names=("gemini",),
        candidate_names=(NODE_NAMES,),
        cmdline=_re(r"@google/gemini-cli/"),
    ),
    Rule(
        tool="copilot",
        names=("copilot",),
        candidate_names=(NODE_NAMES,),
        cmdline=_re(r"@github/copilot/"),
    ),
    Rule(
        tool="cursor",
        names=("cursor", "Cursor"),
        exclude=_re(r"(^|\s)--type="),
        shared_process=True,
    ),
    Rule(
        tool="aider",
        names=("aider",),
        candidate_names=(PYTHON_NAMES,),
        # `python .../bin/aider ...`, `python -m aider ...`; not `python my_aider.py`.
        cmdline=_re(r"(^|\s)(\S*/)?aider(\s|$)", r"(^|\s)-m\s*aider(\.main)?(\s|$)"),
        cwd_match="ancestor",
    ),
    Rule(
        tool="",
        candidate_names=(PYTHON_NAMES,),
        cmdline=_re(r"llm_sessions\.synth\.live\b.*?--tool[ =](claude|codex|gemini|cursor|aider|copilot)\b"),
        tool_group=1,
    ),
)

RULES_BY_TOOL: dict[str, Rule] = {r.tool: r for r in RULES if r.tool}


class Recognition(msgspec.Struct, frozen=True):
    """What a process was recognised as, and the evidence, for `ProcessInfo.match` logs."""

    tool: str
    evidence: str


def _looks_at(rule: Rule, name: str) -> bool:
    return name in rule.names or any(p.match(name) for p in rule.candidate_names)


def candidate_matcher(rules: tuple[Rule, ...] = RULES) -> Callable[[str], bool]:
    """A fast `is_candidate` for one rule table: every name and name pattern folded into
    one regular expression, answers memoised per name.

    This runs for every process on the machine on the first pass, and most machines have
    a few dozen distinct names over thousands of processes, so a dict lookup is the
    common case and one regex match the rare one.
    """
    parts = [re.escape(n) + "$" for rule in rules for n in rule.names]
    parts += [p.pattern for rule in rules for p in rule.candidate_names]
    combined = re.compile("|".join(f"(?:{p})" for p in parts)) if parts else None
    memo: dict[str, bool] = {}

    def is_candidate(name: str) -> bool:
        hit = memo.get(name)
        if hit is None:
            hit = memo[name] = bool(combined and combined.match(name))
        return hit

    return is_candidate


def is_candidate(name: str, rules: tuple[Rule, ...] = RULES) -> bool:
    """Whether a process name is worth reading the command line and executable of."""
    return any(_looks_at(rule, name) for rule in rules)


def recognise(
    name: str, cmdline: tuple[str, ...], exe: str, rules: tuple[Rule, ...] = RULES
) -> Recognition | None:
    """The assistant a candidate process is, or None for anything else (a bare `node`).

    A rule's command-line patterns only count for the names that rule looks at, so an
    interpreter of one kind never matches another assistant's pattern by accident. Command
    line and executable evidence come before the bare name, so a `claude` process that is
    really the npm build says so in its evidence.
    """
    joined = " ".join(cmdline)
    for rule in rules:
        if any(p.search(joined) for p in rule.exclude):
            continue
        for pattern in rule.exe:
            if exe and pattern.search(exe):
                return Recognition(rule.tool, f"executable {exe}")
        if not _looks_at(rule, name):
            continue
        for pattern in rule.cmdline:
            found = pattern.search(joined)
            if found:
                tool = found.group(rule.tool_group) if rule.tool_group else rule.tool
                return Recognition(tool, f"command line has {found.group(0)!r}")
        if name in rule.names:
            return Recognition(rule.tool, f"process name {name!r}")
    return None


_ID_FLAGS = ("--session-id", "--resume", "-r", "--session")
_ID_SHAPE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_.:-]{5,}$")


def session_id_from_cmdline(cmdline: tuple[str, ...]) -> str | None:
    """A session id named on the command line: `--session-id X`, `--resume X`, `-r X`,
    `--resume=X`, or Codex's `codex resume X`.

    `--resume` with no id (the interactive picker) names nothing; an id-looking value is
    required so a following flag is not mistaken for one.
    """
    args = list(cmdline)
    for i, arg in enumerate(args):
        for flag in _ID_FLAGS:
            if arg.startswith(flag + "="):
                value = arg[len(flag) + 1 :]
                if _ID_SHAPE.match(value):
                    return value
            elif arg == flag and i + 1 < len(args) and _ID_SHAPE.match(args[i + 1]):
                return args[i + 1]
        if arg == "resume" and i + 1 < len(args) and _ID_SHAPE.match(args[i + 1]):
            if any(a.rsplit("/", 1)[-1].startswith("codex") for a in args[:i]):
                return args[i + 1]
    return None
