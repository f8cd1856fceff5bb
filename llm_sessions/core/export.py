"""Context bundles: a resume brief for a fresh session, built, redacted, written and read back.

A long session degrades (context fills up, compaction loses detail); the cure is a fresh
session that starts from a short, faithful brief. `build_bundle` turns a Session and its
transcript Digest into that brief, as Markdown for a human or an assistant to read and as JSON
(`"schema": "llm-session.bundle/1"`) that `read_bundle` round-trips exactly, so `import` can
relaunch the same assistant in the same folder.

Three promises shape the code:
- secrets are redacted by default, before anything is cut or rendered, so a truncation
  can never leave half a key that the patterns no longer recognise;
- the brief fits its token budget (~4 characters a token), losing the least useful sections
  first rather than being cut mid-sentence;
- a file is written atomically (temp file in the same folder, fsync, os.replace) with mode
  0600, and never over an existing file unless asked, so a crash leaves either nothing or the
  whole file.
"""

from __future__ import annotations

import json
import logging
import math
import os
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from llm_sessions.core.models import Session
from llm_sessions.core.redact import redact
from llm_sessions.core.transcript import Digest

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
MAX_FILES = 40
MAX_COMMANDS = 15
MAX_ERRORS = 10
MAX_GIT_STATUS_LINES = 40

Recorder = Callable[[str, Path, str, int, int], None]


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
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

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


def git_status(cwd: str | None, timeout: float = 5.0) -> str | None:
    """`git status --porcelain` in `cwd`, or None when there is no cwd, no git or no repo."""
    if not cwd or not os.path.isdir(cwd):
        return None
    try:
        done = subprocess.run(
            ["git", "-C", cwd, "status", "--porcelain"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log.debug("git status in %s failed: %s", cwd, exc)
        return None
    if done.returncode != 0:
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
    }


def _cut(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _content(session: Session, digest: Digest | None, git_text: str | None, sections: Iterable[str]) -> dict[str, Any]:
    """The machine-readable content of each wanted section that has something to say."""
    d = digest
    out: dict[str, Any] = {}
    for name in SECTIONS:
        if name not in sections:
            continue
        if name == "goal" and d and d.first_prompts:
            out[name] = [_cut(p, MAX_PROMPT_CHARS) for p in d.first_prompts]
        elif name == "latest" and d and d.latest_prompts:
            # Skip prompts already shown as the goal (short sessions).
            latest = [p for p in d.latest_prompts if p not in d.first_prompts]
            if latest:
                out[name] = [_cut(p, MAX_PROMPT_CHARS) for p in latest]
        elif name == "todos" and d and d.todos:
            out[name] = [{"content": t.content, "status": t.status} for t in d.todos]
        elif name == "answer" and d and d.last_answer:
            out[name] = _cut(d.last_answer, MAX_ANSWER_CHARS)
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
                    {"command": _cut(c.command, 300), "failed": c.failed, "exit_code": c.exit_code}
                    for c in recent
                ],
            }
        elif name == "errors" and d and d.errors:
            out[name] = [
                {"kind": e.kind, "message": e.message, "at": _iso(e.at)} for e in list(d.errors)[-MAX_ERRORS:]
            ]
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


def _fmt_tokens(n: int) -> str:
    return f"{n / 1000:.1f}k" if n >= 1000 else str(n)


def render_markdown(meta: dict[str, Any], content: dict[str, Any]) -> str:
    """The brief as Markdown, written to be read by a fresh assistant session first."""
    tool = meta.get("tool") or "assistant"
    title = meta.get("title") or meta.get("id")
    lines = [f"# Resume brief: {title}", ""]
    lines.append(
        f"You are continuing a previous {tool} session (id `{meta.get('id')}`)"
        + (f" in `{meta['cwd']}`" if meta.get("cwd") else "")
        + ". This brief summarises where it left off; read it, check the working tree, then carry on."
    )
    lines.append("")
    for name in SECTIONS:
        if name not in content:
            continue
        value = content[name]
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
                lines.append(f"- {mark} {t['content']}" + (" (in progress)" if t["status"] == "in_progress" else ""))
            if not open_items:
                lines.append("- none open")
            if done:
                lines.append(f"- ({done} completed)")
        elif name == "files":
            for f in value:
                lines.append(f"- `{f['path']}` ({f['edits']} edit{'s' if f['edits'] != 1 else ''})")
            if content.get("files_more"):
                lines.append(f"- … and {content['files_more']} more")
        elif name == "commands":
            lines.append(f"{value['total']} run, {value['failed']} failed. Most recent:")
            lines.append("")
            for c in value["recent"]:
                state = "failed" + (f", exit {c['exit_code']}" if c["exit_code"] not in (None, 0) else "") if c["failed"] else ("ok" if c["failed"] is False else "no result")
                lines.append(f"- `{c['command']}` ({state})")
        elif name == "errors":
            for e in value:
                lines.append(f"- {e['kind']}: {e['message']}")
        elif name == "git":
            lines.append(f"- branch: `{value['branch']}`" if value.get("branch") else "- branch: unknown")
            status = value.get("status")
            if status is None:
                lines.append("- working tree: not a git repository or git unavailable")
            elif not status.strip():
                lines.append("- working tree: clean")
            else:
                lines.append("- working tree (`git status --porcelain`):")
                lines.append("")
                lines.append("```")
                lines.append(status)
                lines.append("```")
        elif name == "meta":
            if value.get("model"):
                lines.append(f"- model: `{value['model']}`")
            usage = value.get("usage") or {}
            exact = "" if usage.get("exact", True) else " (estimated)"
            lines.append(
                f"- tokens: {_fmt_tokens(usage.get('total', 0))} total{exact}"
                f" ({_fmt_tokens(usage.get('input', 0))} in, {_fmt_tokens(usage.get('output', 0))} out,"
                f" {_fmt_tokens(usage.get('cache_read', 0))} cache read)"
            )
            ctx = value.get("context")
            if ctx:
                lines.append(f"- context: {_fmt_tokens(ctx['used'])} of {_fmt_tokens(ctx['window'])} ({ctx['percent']}%)")
            if value.get("cost_usd") is not None:
                lines.append(f"- cost: ${value['cost_usd']:.2f}")
            lines.append(f"- turns: {value.get('turns', 0)}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


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
    """
    wanted = set(SECTIONS if sections is None else sections)
    unknown = wanted - set(SECTIONS)
    if unknown:
        raise BundleError(f"unknown section(s): {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    budget = max(MIN_BUDGET_TOKENS, int(budget_tokens))
    meta = _scrub(session_meta(session, digest))
    content = _scrub(_content(session, digest, git_status, wanted))
    count = 0
    if redact:
        content, count = _redact_tree(content)
        # The title is often the first prompt; paths and the model are not redacted so that
        # import can relaunch in the same folder (a secret in a folder name is not our case).
        for key in ("title",):
            if isinstance(meta.get(key), str):
                meta[key], n = _redact_tree(meta[key])
                count += n
    dropped: list[str] = []
    markdown = render_markdown(meta, content)
    for name in DROP_ORDER:
        if estimate_tokens(markdown) <= budget:
            break
        if name in content:
            del content[name]
            if name == "files":
                content.pop("files_more", None)
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


def _atomic_write(path: Path, data: bytes, force: bool) -> None:
    """Write `data` to `path` via a same-folder temp file, fsync and os.replace, mode 0600."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if not force and path.exists():
            raise BundleError(f"{path} exists; use --force to overwrite it")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass  # some filesystems cannot fsync a directory; the file itself is on disk


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
            existed = path.exists()
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
]
