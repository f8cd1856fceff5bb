"""A whole-transcript reader that turns a Claude Code or Codex session into a digest.

The monitor's providers read transcripts incrementally for token counts; this module is the
opposite trade-off: it is called on demand (export, the detail drilldown) and reads one file
from the start to recover the conversation itself: what the user asked for, what the
assistant last said, the open todo list, the files it edited, the commands it ran and what
failed. Nothing here is needed on the hot path, so clarity wins over speed, but memory stays
bounded (deques) because transcripts can grow to hundreds of megabytes.

Both formats are undocumented and change between releases (see docs formats.md): every field
is optional, unknown record types are skipped, and a line that is not JSON is counted in
`malformed_lines`, never raised.

This module opens the file and drives the parsers: the Digest values are core.export.digest, the
accumulator core.export.digest_builder, and one parser per format core.export.claude_digest and
core.export.codex_digest.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from llm_sessions.core.accounting.sanity import decode_record
from llm_sessions.core.export.claude_digest import claude_record
from llm_sessions.core.export.codex_digest import codex_record
from llm_sessions.core.export.digest import Digest, ErrorNote, FileTouch, TranscriptTool, TurnSummary
from llm_sessions.core.export.digest_builder import DigestBuilder

log = logging.getLogger(__name__)


def detect_tool(path: Path) -> TranscriptTool:
    """Claude or Codex, from the first parseable line (Codex lines wrap a `payload`)."""
    try:
        for i, raw in enumerate(_lines(path)):
            if i > 50:
                break
            rec = decode_record(raw)
            if isinstance(rec, dict):
                if "payload" in rec and rec.get("type") in (
                    "session_meta", "turn_context", "response_item", "event_msg", "compacted"
                ):
                    return "codex"
                if "sessionId" in rec or rec.get("type") in ("user", "assistant", "summary", "system"):
                    return "claude"
    except OSError:
        pass
    return "codex" if path.name.startswith("rollout-") else "claude"


def _lines(path: Path):
    """The complete lines of a transcript, through the tailer: a regular file only, and a
    line over the size limit arrives as `OVERSIZED` instead of filling the memory."""
    from llm_sessions.core.accounting.tailer import Cursor, read_lines

    return read_lines(str(path), Cursor(), os.stat(path))


def _iter_records(path: Path, b: DigestBuilder):
    for raw in _lines(path):
        if not raw.strip():
            continue
        rec = decode_record(raw)  # None: not JSON, or fails the shared sanity checks
        if not isinstance(rec, dict):
            b.malformed += 1
            continue
        b.records += 1
        yield rec


def read_digest(path: str | Path, tool: TranscriptTool | None = None) -> Digest:
    """Read a whole Claude Code or Codex transcript into a Digest.

    Raises OSError only when the file cannot be opened; bad content never raises.
    """
    path = Path(path)
    tool = tool or detect_tool(path)
    b = DigestBuilder(tool, path)
    if tool == "claude":
        # Subagent (sidechain) work is not the conversation the user is having, so it goes
        # to a builder of its own; it becomes the digest only when the file holds nothing
        # else (a subagent's own transcript).
        side = DigestBuilder(tool, path)
        for rec in _iter_records(path, b):
            try:
                claude_record(side if rec.get("isSidechain") else b, rec)
            except Exception as exc:  # a shape we did not foresee costs one line
                b.malformed += 1
                log.debug("skipped claude record in %s: %s", path, exc)
        if not b.said_anything and side.said_anything:
            side.records, side.malformed = b.records, b.malformed
            return side.freeze("subagent")
    else:
        # Newer Codex writes each prompt twice (response_item and event_msg user_message);
        # use the events when there are any, so a prompt is never counted twice.
        events = _codex_has_user_events(path)
        for rec in _iter_records(path, b):
            try:
                codex_record(b, rec, events)
            except Exception as exc:
                b.malformed += 1
                log.debug("skipped codex record in %s: %s", path, exc)
    return b.freeze()


def _codex_has_user_events(path: Path) -> bool:
    needle = b'"user_message"'
    return any(needle in line for line in _lines(path))


def last_turns(path: str | Path, n: int = 10, tool: TranscriptTool | None = None) -> list[TurnSummary]:
    """The last `n` one-line turn summaries, oldest first, for the dashboard drilldown."""
    turns = read_digest(path, tool).turns
    return list(turns[-n:]) if n > 0 else []


def files_touched(path: str | Path, tool: TranscriptTool | None = None) -> list[FileTouch]:
    """Files the assistant edited, most-edited first."""
    return list(read_digest(path, tool).files)


def recent_errors(path: str | Path, n: int = 10, tool: TranscriptTool | None = None) -> list[ErrorNote]:
    """The last `n` API errors, failed tools and failed commands, oldest first."""
    errors = read_digest(path, tool).errors
    return list(errors[-n:]) if n > 0 else []
