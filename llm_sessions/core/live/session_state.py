"""A session's live state (working, waiting, idle, ended) from its process and transcript.

Apart from discovery because it is a pure rule over one frozen `Session` and its
`ProcessInfo`: the monitor applies it on every poll, and it needs no process table.
"""

from __future__ import annotations

from datetime import datetime

from llm_sessions.core.live.recognise import RULES_BY_TOOL
from llm_sessions.core.models import ProcessInfo, Session, State

#: CPU share (of one core) above which a process counts as busy.
CPU_BUSY_PERCENT = 5.0
#: Activity this recent counts as "the transcript grew in the last few seconds".
WORKING_SECONDS = 5.0


def session_state(session: Session, process: ProcessInfo | None, now: datetime, grew_recently: bool) -> State:
    """`ended` when the process is gone; `waiting` when the last main-chain turn ended and
    the assistant waits for the user (and is not busy); `working` when the process burns CPU
    or the transcript grew in the last few seconds; otherwise `idle`.

    A Claude session file that was trusted (its `procStart` matched) says it directly:
    `busy`/`shell` is working, `idle` is waiting when a turn has ended, else idle.

    Waiting is checked before growth because the transcript grows when the final turn is
    written, which is exactly the moment the assistant starts waiting. The CPU of an app
    process that hosts many sessions (Cursor) says nothing about any one of them, so only
    growth counts there.
    """
    if process is None:
        return "ended"
    if process.status is not None:  # the assistant's own word (a trusted Claude session file)
        if process.status in ("busy", "shell"):
            return "working"
        return "waiting" if session.awaiting_user else "idle"
    rule = RULES_BY_TOOL.get(process.tool)
    busy = process.cpu_percent >= CPU_BUSY_PERCENT and not (rule and rule.shared_process)
    if session.awaiting_user and not busy:
        return "waiting"
    recent = (
        session.last_activity is not None
        and 0 <= now.timestamp() - session.last_activity.timestamp() <= WORKING_SECONDS
    )
    if busy or grew_recently or recent:
        return "working"
    return "idle"
