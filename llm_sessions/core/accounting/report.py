"""Sessions as plain dicts: the `--json` contract of the CLI, shared by every command.

Keys are part of the public interface (scripts parse them), so they are spelled out here
once; every datetime is ISO 8601 UTC and unknown values are null, never 0.
"""

from __future__ import annotations

from datetime import datetime

from llm_sessions.core.accounting.limit_report import session_shares
from llm_sessions.core.ids import pid_of, pid_query
from llm_sessions.core.models import Session
from llm_sessions.core.timeparse import iso

STATE_NOTES = {"unknown": "processes were not scanned, so whether it runs is unknown"}


def session_dict(s: Session, now: datetime | None = None, reasons: bool = False) -> dict:
    p = s.process
    return {
        "id": s.id,
        "tool": s.tool,
        "pid": p.pid if p else None,
        "pids": list(p.pids) if p else [],
        "state": s.state,
        # true/false when discovery looked at the processes; null (and a note) when it did not
        "running": None if s.state == "unknown" else s.state != "ended",
        "state_note": STATE_NOTES.get(s.state),
        "cwd": s.cwd,
        "transcript": s.transcript,
        "model": s.model,
        "git_branch": s.git_branch,
        "title": s.title,
        "started_at": iso(s.started_at),
        "last_activity": iso(s.last_activity),
        "turns": s.turns,
        "tokens": s.usage.as_dict(),
        "context": s.context.as_dict() if s.context else None,
        "cost_usd": s.cost_usd,
        "health": s.health.as_dict(reasons=reasons) if s.health else None,
        "api_errors": s.api_errors,
        "tool_errors": s.tool_errors,
        "compactions": s.compactions,
        "limit_resets_at": iso(s.limit_resets_at),
        "rate_limits": [
            {"name": r.name, "used_percent": r.used_percent, "resets_at": iso(r.resets_at), "window_minutes": r.window_minutes}
            for r in s.rate_limits
        ],
        "limit_shares": session_shares(s),
        "subagent_files": s.subagent_files,
        "malformed_lines": s.malformed_lines,
        "cpu_percent": p.cpu_percent if p else None,
        "rss_bytes": p.rss_bytes if p else None,
        "tmux_pane": p.tmux_pane if p else None,
        "match": p.match if p else None,
        "ambiguous": p.ambiguous if p else False,
    }


class Ambiguous(LookupError):
    def __init__(self, prefix: str, candidates: list[str]):
        super().__init__(f"session id '{prefix}' is ambiguous: it matches {', '.join(sorted(candidates)[:8])}")


class NotFound(LookupError):
    def __init__(self, prefix: str):
        super().__init__(f"no session id starts with '{prefix}'")


def find_session(sessions: tuple[Session, ...] | list[Session], prefix: str) -> Session:
    """An exact id, else the one session whose id starts with `prefix`.

    Every label a table shows works: `pid 17436` (or `pid17436`) names the session of that
    process, and a bare number that is no id prefix is tried as a pid too.
    """
    prefix = prefix.strip()
    if not prefix:
        raise NotFound(prefix)
    hits = [s for s in sessions if s.id == prefix]
    pid = pid_query(prefix)
    if not hits and pid is None:
        hits = [s for s in sessions if s.id.startswith(prefix)]
        if not hits and prefix.isdigit():
            pid = int(prefix)
    if not hits and pid is not None:
        hits = [s for s in sessions if pid_of(s.id) == pid or (s.process is not None and pid in (s.process.pid, *s.process.pids))]
    if len({s.id for s in hits}) > 1:
        raise Ambiguous(prefix, list({s.id for s in hits}))
    if not hits:
        raise NotFound(prefix)
    return hits[0]
