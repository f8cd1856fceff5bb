"""Export: a resume brief for a fresh session, built from a session and its transcript.

A long session degrades (context fills up, compaction loses detail); the cure is a fresh
session that starts from a short, faithful brief. `build_bundle` turns a Session and its
transcript Digest into a Bundle (core.export.bundle: the JSON and its files), rendered as Markdown
by core.export.brief, with the working tree's state from core.export.git_status.

Four promises shape the code (the last one kept by core.export.bundle):
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

import logging
import math
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from llm_sessions.core.export.brief import SECTIONS, render_markdown
from llm_sessions.core.export.bundle import Bundle, BundleError
from llm_sessions.core.export.digest import Digest
from llm_sessions.core.export.git_status import git_status
from llm_sessions.core.export.redact import cut, redact
from llm_sessions.core.inert import inert, inert_tree
from llm_sessions.core.models import Session

log = logging.getLogger(__name__)

CHARS_PER_TOKEN = 4
MIN_BUDGET_TOKENS = 200

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


def estimate_tokens(text: str) -> int:
    """~4 characters a token: the same rough rule the estimator uses, good enough for a cap."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


class TranscriptUnreadable(BundleError, OSError):
    """The session's transcript exists in the scan but cannot be read now."""


def digest_for(session: Session) -> Digest | None:
    """The transcript digest of a Claude or Codex session; None when there is nothing to read.

    Raises TranscriptUnreadable (a BundleError and an OSError) when the transcript cannot be
    read: an export must not silently leave out everything the transcript would give.

    Reads the whole transcript: call it off the UI thread.
    """
    from llm_sessions.core.export.transcript import read_digest

    if session.tool not in ("claude", "codex") or not session.transcript:
        return None
    try:
        return read_digest(session.transcript, session.tool)
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
    stamp = (now or datetime.now(UTC)).isoformat()
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


__all__ = [
    "DROP_ORDER",
    "MAX_PROMPT_CHARS",
    "TranscriptUnreadable",
    "build_bundle",
    "digest_for",
    "estimate_tokens",
    "gather",
    "session_meta",
]
