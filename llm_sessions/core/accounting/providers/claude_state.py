"""What the Claude provider keeps between runs (in the scan cache): one `Head` per file (the
merge's view of it without decoding its partial result) and the `ClaudeState` around them.
"""

from __future__ import annotations

import msgspec

from llm_sessions.core.accounting import tailer
from llm_sessions.core.accounting.crossfile import IndexData
from llm_sessions.core.models import Session

Group = tuple[str, int, str, str, bool]  # model, prompt-size bucket, speed, day, advisor call


class Head(msgspec.Struct, array_like=True):
    """What the merge needs of one file without decoding its partial result (`ClaudeFile`)."""

    path: str
    fid: int  # this content's id in the cross-file indexes
    generation: int
    session: str
    subagent: bool
    first_ts: str
    last_ts: str
    nkeys: int
    nerrors: int
    malformed: int
    usage_drift: int
    convo: bool
    limit_hits: list[tuple[int, int, str]]
    cursor: tailer.Cursor


class ClaudeState(msgspec.Struct):
    """The provider's state between runs (in the scan cache): enough for a warm run that
    changed nothing to answer without decoding a single file's partial result, and for an
    append to re-read one file and rebuild one session."""

    heads: list[Head] = []
    files: list[msgspec.Raw] = []  # each head's encoded ClaudeFile, decoded when needed
    sessions: list[Session] = []
    built_with: str = ""  # fingerprint of what `sessions` depend on besides files (prices, settings)
    keys: IndexData | None = None
    errors: IndexData | None = None
    # Shared response key -> corrections to its holders' sessions: (session, price group, deltas).
    corrections: dict[int, list[tuple[str, Group, list[int]]]] = {}
    error_owners: dict[int, int] = {}  # shared error line -> the file id that counts it
    next_fid: int = 1
