"""Context bundles: a resume brief for a fresh session, built, redacted, written and read back.

A long session degrades (context fills up, compaction loses detail); the cure is a fresh
session that starts from a short, faithful brief. `build_bundle` turns a Session and its
transcript Digest into that brief, as Markdown for a human or an assistant to read and as JSON
(`"schema": "llm-session.bundle/1"`) that `read_bundle` round-trips exactly, so `import` can
relaunch the same assistant in the same folder.

Four promises shape the code:
- secrets are redacted by default, before anything is cut or rendered, so a truncation
  can never leave half a key that the patterns no longer recognise;
- text from the transcript stays inert: control characters are spelled out (a brief is
  printed, cat'ed and pasted into terminals), and commands, paths and status output sit in
  code spans or fences long enough that their backticks and newlines cannot break the
  Markdown;
- the brief fits its token budget (~4 characters a token), losing the least useful sections
  first rather than being cut mid-sentence;
- a file is written atomically (temp file in the same folder, fsync, then a hard link that
  fails if the name exists, or os.replace when overwriting was asked for) with mode 0600, so
  a crash leaves either nothing or the whole file and an existing file is never replaced
  by accident, not even by one that appears between a check and the write.
"""

from __future__ import annotations

import errno
import json
import logging
import math
import os
import re
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from llm_sessions.core.inert import control_char, inert, inert_tree
from llm_sessions.core.models import Session
from llm_sessions.core.redact import cut, redact
from llm_sessions.core.transcript import Digest, one_line

log = logging.getLogger(__name__)

SCHEMA = "llm-session.bundle/1"
SCHEMA_PREFIX = "llm-session.bundle/"
MAX_BUNDLE_BYTES = 5 * 1024 * 1024
CHARS_PER_TOKEN = 4
MIN_BUDGET_TOKENS = 200

Format = Literal["md", "json", "both"]
FORMATS: tuple[str, ...] = ("md", "json", "both")

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
# When the brief is over budget, sections go in this order: what a fresh session can most
# easily rediscover (command history, old errors) first, the user's own goal last.
DROP_ORDER: tuple[str, ...] = ("commands", "errors", "meta", "git", "files", "answer", "latest", "todos", "goal")

# Per-item caps applied before the budget, so one pasted log cannot crowd out everything else.
MAX_PROMPT_CHARS = 1500
MAX_ANSWER_CHARS = 3000
MAX_COMMAND_CHARS = 300
MAX_FILES = 40
MAX_COMMANDS = 15
MAX_ERRORS = 10
MAX_GIT_STATUS_LINES = 40

Recorder = Callable[[str, Path, str, int, int], None]
_C1 = re.compile(r"[\x80-\x9f]")

# git runs in a folder named by a transcript, so nothing the repository configures may run:
# no fsmonitor hook, no hooks, no pager, no optional index write (which would also fire the
# post-index-change hook), no submodule recursion. Clean/smudge filters are disabled one by
# one below, by the names the repository's config gives them.
_GIT_SAFE = (
    "--no-pager",
    "--no-optional-locks",
    "-c", "core.fsmonitor=false",
    "-c", "core.hooksPath=/dev/null",
    "-c", "core.untrackedCache=false",
    "-c", "core.quotePath=true",
    "-c", "status.submoduleSummary=false",
    "-c", "diff.external=",
)


class BundleError(Exception):
    """A bundle problem worth one clear line to the user: bad file, wrong schema, clobber."""


@dataclass(frozen=True)
class Bundle:
    """One exported brief: machine-readable content plus the Markdown rendered from it.

    Everything is JSON-native (dicts, lists, str, int, float, bool, None) or a tuple of str,
    so `Bundle.from_dict(b.to_dict()) == b` holds exactly.
    """

    session: dict[str, Any]
    content: dict[str, Any]
    markdown: str
    sections: tuple[str, ...]
    dropped: tuple[str, ...] = ()
    budget_tokens: int = 0
    estimated_tokens: int = 0
    redactions: int = 0
    redacted: bool = True
    created_at: str = ""
    schema: str = SCHEMA

    @property
    def tool(self) -> str:
        return str(self.session.get("tool") or "")

    @property
    def session_id(self) -> str:
        return str(self.session.get("id") or "")

    @property
    def cwd(self) -> str | None:
        cwd = self.session.get("cwd")
        return cwd if isinstance(cwd, str) else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "created_at": self.created_at,
            "session": self.session,
            "sections": list(self.sections),
            "dropped": list(self.dropped),
            "budget_tokens": self.budget_tokens,
            "estimated_tokens": self.estimated_tokens,
            "redacted": self.redacted,
            "redactions": self.redactions,
            "content": self.content,
            "markdown": self.markdown,
        }

    def to_json(self) -> str:
        # C1 controls (U+0080-U+009F) are the one kind json.dumps leaves raw with
        # ensure_ascii=False; some terminals act on them, so they become \u00XX escapes.
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False)
        return _C1.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"

    @classmethod
    def from_dict(cls, data: Any) -> Bundle:
        """Validate a decoded bundle; every problem becomes one BundleError line."""
        if not isinstance(data, dict):
            raise BundleError("not an llm-session bundle (the JSON is not an object)")
        schema = data.get("schema")
        if not isinstance(schema, str) or not schema.startswith(SCHEMA_PREFIX):
            raise BundleError(f"not an llm-session bundle (schema is {schema!r}, expected {SCHEMA!r})")
        if schema != SCHEMA:
            raise BundleError(f"unsupported bundle version {schema!r}; this llm-session reads {SCHEMA!r}")

        def need(key: str, kind: type | tuple[type, ...]) -> Any:
            value = data.get(key)
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise BundleError(f"invalid bundle: {key!r} is missing or has the wrong type")
            return value

        session = need("session", dict)
        for key in ("tool", "id"):
            if not isinstance(session.get(key), str) or not session[key]:
                raise BundleError(f"invalid bundle: session.{key} is missing")
        sections = need("sections", list)
        dropped = need("dropped", list)
        if not all(isinstance(s, str) for s in sections + dropped):
            raise BundleError("invalid bundle: sections must be names")
        return cls(
            session=session,
            content=need("content", dict),
            markdown=need("markdown", str),
            sections=tuple(sections),
            dropped=tuple(dropped),
            budget_tokens=need("budget_tokens", int),
            estimated_tokens=need("estimated_tokens", int),
            redactions=need("redactions", int),
            redacted=need("redacted", bool),
            created_at=need("created_at", str),
            schema=schema,
        )


def estimate_tokens(text: str) -> int:
    """~4 characters a token: the same rough rule the estimator uses, good enough for a cap."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def _git_env() -> dict[str, str]:
    """Our environment without any GIT_* variable (GIT_DIR, GIT_CONFIG_*, GIT_EXTERNAL_DIFF,
    GIT_SSH_COMMAND ... would each redirect or extend what git runs), never prompting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0", GIT_CONFIG_NOSYSTEM="1")
    return env


def _git(cwd: str, args: list[str], timeout: float) -> subprocess.CompletedProcess | None:
    try:
        return subprocess.run(
            ["git", *_GIT_SAFE, "-C", cwd, *args],
            capture_output=True, text=True, timeout=timeout, check=False, env=_git_env(),
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log.debug("git %s in %s failed: %s", args[0], cwd, exc)
        return None


def git_status(cwd: str | None, timeout: float = 5.0) -> str | None:
    """`git status --porcelain` in `cwd`, or None when there is no cwd, no git or no repo.

    The folder comes from a transcript and its repository may be hostile: see `_GIT_SAFE`.
    Reading the config runs nothing; it names the filter drivers to switch off.
    """
    if not cwd or control_char(cwd) or not os.path.isdir(cwd):
        return None
    found = _git(cwd, ["config", "--null", "--name-only", "--get-regexp", r"^filter\..*\.(clean|smudge|process)$"], timeout)
    off: list[str] = []
    if found is not None and found.returncode == 0:
        for key in filter(None, found.stdout.split("\0")):
            off += ["-c", f"{key.strip()}="]
    done = _git(cwd, [*off, "status", "--porcelain", "--ignore-submodules=all"], timeout)
    if done is None or done.returncode != 0:
        return None
    return done.stdout


class TranscriptUnreadable(BundleError, OSError):
    """The session's transcript exists in the scan but cannot be read now."""


def digest_for(session: Session) -> Digest | None:
    """The transcript digest of a Claude or Codex session; None when there is nothing to read.

    Raises TranscriptUnreadable (a BundleError and an OSError) when the transcript cannot be
    read: an export must not silently leave out everything the transcript would give.

    Reads the whole transcript: call it off the UI thread.
    """
    from llm_sessions.core.transcript import read_digest

    if session.tool not in ("claude", "codex") or not session.transcript:
        return None
    try:
        return read_digest(session.transcript, session.tool)  # type: ignore[arg-type]
    except OSError as exc:
        # A brief written without its transcript would look complete and be empty: fail.
        from llm_sessions.core.safeio import printable

        log.info("cannot read transcript %s: %s", session.transcript, exc)
        raise TranscriptUnreadable(f"cannot read the transcript {printable(session.transcript)}: {exc.strerror or exc}") from None


def gather(session: Session) -> tuple[Digest | None, str | None]:
    """Everything build_bundle needs from the disk: the digest and `git status` of the cwd."""
    digest = digest_for(session)
    return digest, git_status(session.cwd or (digest.cwd if digest else None))


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def session_meta(session: Session, digest: Digest | None = None) -> dict[str, Any]:
    """Session metadata in the bundle: enough to relaunch and to compare after import."""
    d = digest
    return {
        "tool": session.tool,
        "id": session.id,
        "cwd": session.cwd or (d.cwd if d else None),
        "git_branch": session.git_branch or (d.git_branch if d else None),
        "model": session.model or (d.model if d else None),
        "title": session.title,
        "transcript": session.transcript,
        "started_at": _iso(session.started_at),
        "last_activity": _iso(session.last_activity),
        "turns": session.turns,
        "usage": session.usage.as_dict(),
        "context": session.context.as_dict() if session.context else None,
        "cost_usd": session.cost_usd,
    } | ({"subagent_of": d.parent_session_id or session.id} if d is not None and d.kind == "subagent" else {})


Clip = Callable[[str, int], str]


def _plain_cut(text: str, limit: int) -> str:
    return cut(text.strip(), limit)


def _content(
    session: Session, digest: Digest | None, git_text: str | None, sections: Iterable[str], clip: Clip = _plain_cut
) -> dict[str, Any]:
    """The machine-readable content of each wanted section that has something to say.

    Every text that is shortened goes through `clip`, which redacts before it cuts.
    """
    d = digest
    out: dict[str, Any] = {}
    for name in SECTIONS:
        if name not in sections:
            continue
        if name == "goal" and d and d.first_prompts:
            out[name] = [clip(p, MAX_PROMPT_CHARS) for p in d.first_prompts]
        elif name == "latest" and d and d.latest_prompts:
            # Skip prompts already shown as the goal (short sessions).
            latest = [p for p in d.latest_prompts if p not in d.first_prompts]
            if latest:
                out[name] = [clip(p, MAX_PROMPT_CHARS) for p in latest]
        elif name == "todos" and d and d.todos:
            out[name] = [{"content": t.content, "status": t.status} for t in d.todos]
        elif name == "answer" and d and d.last_answer:
            out[name] = clip(d.last_answer, MAX_ANSWER_CHARS)
        elif name == "files" and d and d.files:
            out[name] = [{"path": f.path, "edits": f.edits} for f in d.files[:MAX_FILES]]
            if len(d.files) > MAX_FILES:
                out["files_more"] = len(d.files) - MAX_FILES
        elif name == "commands" and d and d.commands_total:
            recent = list(d.commands)[-MAX_COMMANDS:]
            out[name] = {
                "total": d.commands_total,
                "failed": d.commands_failed,
                "recent": [
                    {"command": clip(c.command, MAX_COMMAND_CHARS), "failed": c.failed, "exit_code": c.exit_code}
                    for c in recent
                ],
            }
        elif name == "errors" and d and d.errors:
            # An error a later turn fixed is history, not something to pick up: only its count stays.
            open_errors = [e for e in d.errors if not e.resolved]
            if open_errors:
                out[name] = [
                    {"kind": e.kind, "message": e.message, "at": _iso(e.at)} for e in open_errors[-MAX_ERRORS:]
                ]
            if len(open_errors) < len(d.errors):
                out["errors_resolved"] = len(d.errors) - len(open_errors)
        elif name == "git":
            branch = session.git_branch or (d.git_branch if d else None)
            if branch or git_text is not None:
                status = None
                if git_text is not None:
                    lines = git_text.splitlines()
                    status = "\n".join(lines[:MAX_GIT_STATUS_LINES])
                    if len(lines) > MAX_GIT_STATUS_LINES:
                        status += f"\n… {len(lines) - MAX_GIT_STATUS_LINES} more"
                out[name] = {"branch": branch, "status": status}
        elif name == "meta":
            out[name] = {
                "model": session.model or (d.model if d else None),
                "usage": session.usage.as_dict(),
                "context": session.context.as_dict() if session.context else None,
                "cost_usd": session.cost_usd,
                "turns": session.turns,
            }
    return out


def _scrub(value: Any) -> Any:
    """Replace lone surrogates (JSON transcripts can carry them) so the files encode as UTF-8."""
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v) for k, v in value.items()}
    return value


def _redact_tree(value: Any) -> tuple[Any, int]:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        out, total = [], 0
        for v in value:
            r, n = _redact_tree(v)
            out.append(r)
            total += n
        return out, total
    if isinstance(value, dict):
        out_d, total = {}, 0
        for k, v in value.items():
            r, n = _redact_tree(v)
            out_d[k] = r
            total += n
        return out_d, total
    return value, 0


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
        value = content.get(name)
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


def build_bundle(
    session: Session,
    digest: Digest | None,
    *,
    sections: Iterable[str] | None = None,
    budget_tokens: int = 8000,
    redact: bool = True,
    git_status: str | None = None,
    now: datetime | None = None,
) -> Bundle:
    """Build the brief for `session`: pick sections, redact, render, fit the budget.

    `sections=None` means all of them; unknown names raise BundleError so a typo on the
    command line is reported rather than silently ignored. `git_status` is the output of
    `git status --porcelain` (see `git_status()`), None when there is no repository.
    Redaction happens before any text is cut (`clip`), then once more over everything.
    """
    wanted = set(SECTIONS if sections is None else sections)
    unknown = wanted - set(SECTIONS)
    if unknown:
        raise BundleError(f"unknown section(s): {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    budget = max(MIN_BUDGET_TOKENS, int(budget_tokens))
    meta = _scrub(session_meta(session, digest))
    count = 0

    def clip(text: str, limit: int) -> str:
        nonlocal count
        if redact:
            text, n = _redact_tree(text)
            count += n
        return cut(text.strip(), limit)

    content = _scrub(_content(session, digest, git_status, wanted, clip))
    if redact:
        content, n = _redact_tree(content)
        count += n
        # The title is often the first prompt; paths and the model are not redacted so that
        # import can relaunch in the same folder (a secret in a folder name is not our case).
        if isinstance(meta.get("title"), str):
            meta["title"], n = _redact_tree(meta["title"])
            count += n
    content = inert_tree(content)
    if isinstance(meta.get("title"), str):
        meta["title"] = inert(meta["title"])
    dropped: list[str] = []
    markdown = render_markdown(meta, content)
    for name in DROP_ORDER:
        if estimate_tokens(markdown) <= budget:
            break
        if name in content:
            del content[name]
            content.pop({"files": "files_more", "errors": "errors_resolved"}.get(name, ""), None)
            dropped.append(name)
            markdown = render_markdown(meta, content)
    if estimate_tokens(markdown) > budget:
        # Even the header and goal alone are too long: cut the text itself, visibly.
        note = "\n\n… (cut to fit the token budget)\n"
        markdown = markdown[: budget * CHARS_PER_TOKEN - len(note)].rstrip() + note
    stamp = (now or datetime.now(timezone.utc)).isoformat()
    return Bundle(
        session=meta,
        content=content,
        markdown=markdown,
        sections=tuple(n for n in SECTIONS if n in content),
        dropped=tuple(dropped),
        budget_tokens=budget,
        estimated_tokens=estimate_tokens(markdown),
        redactions=count,
        redacted=redact,
        created_at=stamp,
    )


def default_name(bundle: Bundle) -> str:
    """`<tool>-<id8>-<UTC time>`: sorts by time, says whose it is, never collides in practice."""
    try:
        when = datetime.fromisoformat(bundle.created_at)
    except ValueError:
        when = datetime.now(timezone.utc)
    safe_id = "".join(c for c in bundle.session_id if c.isalnum() or c in "-_")[:8] or "session"
    return f"{bundle.tool or 'session'}-{safe_id}-{when.strftime('%Y%m%d-%H%M%S')}"


def target_paths(
    bundle: Bundle, dest: Path | str, fmt: Format, folder: bool | None = None, unique: bool = False
) -> list[tuple[str, Path]]:
    """Where `write_bundle` will write: (fmt, path) pairs, md first.

    `dest` is a folder -> default names inside; otherwise a file path whose suffix is replaced
    by .md/.json as the format needs. `folder=None` guesses: an existing folder, or a string
    ending in a slash (the way a user types a folder that does not exist yet).
    """
    if fmt not in FORMATS:
        raise BundleError(f"unknown format {fmt!r}; choose md, json or both")
    kinds = ["md", "json"] if fmt == "both" else [fmt]
    text = str(dest)
    dest = Path(text).expanduser()
    if folder is None:
        folder = dest.is_dir() or text.endswith(os.sep) or text.endswith("/")
    if folder:
        name = default_name(bundle)
        base = dest / name
        # `unique`: a second export within the same second gets "-2", never an error
        n = 2
        while unique and any(base.with_name(base.name + "." + k).exists() for k in kinds):
            base, n = dest / f"{name}-{n}", n + 1
        return [(k, base.with_name(base.name + "." + k)) for k in kinds]
    if fmt != "both" and dest.suffix == "." + fmt:
        return [(fmt, dest)]
    stem = dest.with_suffix("") if dest.suffix in (".md", ".json") else dest
    return [(k, stem.with_name(stem.name + "." + k)) for k in kinds]


def _fsync_dir(folder: Path) -> None:
    try:
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass  # some filesystems cannot fsync a directory; the file itself is on disk


def _place(tmp: str, path: Path) -> None:
    """Give the finished temp file its name, failing if the name exists.

    A hard link is atomic and refuses an existing name, so there is no moment between a
    check and the write in which another file could appear and be replaced. Where links are
    not supported, an exclusive create is the fallback (still never replacing anything).
    """
    try:
        os.link(tmp, path)
        return
    except FileExistsError:
        raise BundleError(f"{path} exists; use --force to overwrite it") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK, errno.ENOSYS):
            raise
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        raise BundleError(f"{path} exists; use --force to overwrite it") from None
    with os.fdopen(fd, "wb") as out, open(tmp, "rb") as src:
        out.write(src.read())
        out.flush()
        os.fsync(out.fileno())


def _atomic_write(path: Path, data: bytes, force: bool) -> None:
    """Write `data` to `path` via a same-folder temp file and fsync, mode 0600; then link it
    into place (never over an existing file), or os.replace it when `force`."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if force:
            os.replace(tmp, path)
        else:
            _place(tmp, path)
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass  # already renamed into place
    _fsync_dir(path.parent)


def write_new(path: Path, data: bytes, attempts: int = 100) -> Path:
    """Write `data` under `path`, or `name-2.ext`, `name-3.ext` ... if taken; never replaces
    a file. A candidate that already holds exactly `data` is reused. Returns the path."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    for i in range(1, attempts + 1):
        candidate = path if i == 1 else path.with_name(f"{path.stem}-{i}{path.suffix}")
        try:
            if candidate.read_bytes() == data:
                return candidate
        except OSError:
            pass
        try:
            _atomic_write(candidate, data, force=False)
            return candidate
        except BundleError:
            continue
    raise BundleError(f"{path} and {attempts - 1} numbered names beside it exist; clean up {path.parent}")


def write_bundle(
    bundle: Bundle,
    dest: Path | str,
    fmt: Format = "md",
    force: bool = False,
    record: Recorder | None = None,
    folder: bool | None = None,
) -> list[Path]:
    """Write the bundle as Markdown, JSON or both; return the paths written.

    Every target is checked before anything is written, so `both` never leaves one file
    without the other because the second already existed. If a later write fails, files this
    call created are removed again. `record(session_id, path, fmt, redactions, tokens)` is
    called once per file written (the integrator wires it to the store). `folder=True`
    says `dest` is a folder even when it does not exist yet (see `target_paths`).
    """
    targets = target_paths(bundle, dest, fmt, folder, unique=not force)
    if not force:
        for _kind, path in targets:
            if path.exists():
                raise BundleError(f"{path} exists; use --force to overwrite it")
    for _kind, path in targets:
        try:
            # Briefs describe private work: a folder we create is the user's alone.
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise BundleError(f"cannot create {path.parent}: {exc.strerror or exc}") from None
    written: list[Path] = []
    created: list[Path] = []
    try:
        for kind, path in targets:
            data = (bundle.markdown if kind == "md" else bundle.to_json()).encode("utf-8")
            existed = force and path.exists()
            _atomic_write(path, data, force)
            written.append(path)
            if not existed:
                created.append(path)
    except BaseException as exc:
        for path in created:
            try:
                path.unlink()
            except OSError:
                pass
        if isinstance(exc, OSError):
            raise BundleError(f"cannot write {exc.filename or dest}: {exc.strerror or exc}") from None
        raise
    if record is not None:
        for (kind, _), path in zip(targets, written):
            record(bundle.session_id, path, kind, bundle.redactions, bundle.estimated_tokens)
    return written


def read_bundle(path: Path | str, max_bytes: int = MAX_BUNDLE_BYTES) -> Bundle:
    """Read and validate a JSON bundle; every problem is a BundleError with one clear line."""
    from llm_sessions.core.safeio import FileTooLarge, read_regular

    path = Path(path).expanduser()
    if path.is_dir():
        raise BundleError(f"{path} is a folder, not a bundle file")
    try:
        # Only a regular file, and never more than max_bytes of it: a FIFO or /dev/zero
        # passed as a bundle used to hang the command or fill the memory.
        raw = read_regular(path, max_bytes)
    except FileNotFoundError:
        raise BundleError(f"{path}: no such file") from None
    except FileTooLarge as exc:
        raise BundleError(f"{path} is {exc.size} bytes; bundles are at most {max_bytes} bytes") from None
    except OSError as exc:
        raise BundleError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        hint = ""
        if path.suffix == ".md" and path.with_suffix(".json").exists():
            hint = f"; the JSON bundle is {path.with_suffix('.json')}"
        elif path.suffix == ".md":
            hint = "; import needs the JSON bundle (export with --format json or both)"
        raise BundleError(f"{path} is not an llm-session bundle (not JSON){hint}") from None
    try:
        return Bundle.from_dict(data)
    except BundleError as exc:
        raise BundleError(f"{path}: {exc}") from None


__all__ = [
    "Bundle",
    "BundleError",
    "DROP_ORDER",
    "FORMATS",
    "MAX_BUNDLE_BYTES",
    "SCHEMA",
    "SECTIONS",
    "SECTION_TITLES",
    "build_bundle",
    "code_block",
    "code_span",
    "default_name",
    "digest_for",
    "estimate_tokens",
    "gather",
    "git_status",
    "read_bundle",
    "render_markdown",
    "session_meta",
    "target_paths",
    "write_bundle",
    "write_new",
]
