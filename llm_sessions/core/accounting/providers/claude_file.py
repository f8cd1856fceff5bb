"""One file's partial result (`ClaudeFile`) is everything the merge step needs, in a form that
can be persisted and extended by later appends:
- usage per (message.id, requestId) key, deduplicated inside the file with the largest usage
  winning (one response is written as several lines whose output count grows),
- running sums of that usage per price group (model, prompt-size bucket, speed, day, and
  whether it is an advisor call), so session totals and cost never need a pass over the
  keys, and a price table loaded later can still price each group exactly,
- the latest context figures of the main chain, errors, timestamps and recent turn marks,
- what the format-drift doctor needs: lines per Claude Code version, record types,
  subtypes and usage fields not understood (see `core/accounting/drift.py`).
Duplicates across files (resumed sessions copy old lines) are settled by the merge step.

Money fields (2026 builds): `usage.cache_creation.ephemeral_1h_input_tokens` is the part of
the cache writes made with the 1-hour TTL (billed 2x input, 5-minute writes 1.25x; a line
without the split counts as 5-minute); `usage.speed == "fast"` and `inference_geo == "us"`
change the rate; `usage.iterations[]` entries of type `advisor_message` are separate model
calls, priced under their own model and kept under their own key, so they are neither
double counted nor lost when the response is streamed over several lines.
"""

from __future__ import annotations

from hashlib import blake2b

import msgspec

from llm_sessions.core.accounting.tailer import Cursor

RECENT_KEEP = 32
LIMIT_HITS_KEEP = 16
TIER_LIMIT = 200_000
#: How many columns each key keeps: input, output, cache writes (all), 1-hour writes, reads.
NCOLS = 5


def key_hash(message_id: str, request_id: str | None) -> int:
    """A stable 64-bit key for (message.id, requestId): small to keep and to persist."""
    raw = f"{message_id}\x00{request_id or ''}".encode()
    return int.from_bytes(blake2b(raw, digest_size=8).digest(), "little")


class ClaudeFile(msgspec.Struct, kw_only=True):
    """The partial result of one transcript file; persisted in the scan cache."""

    path: str
    session: str
    subagent: bool = False
    cursor: Cursor = msgspec.field(default_factory=Cursor)
    first_ts: str = ""
    last_ts: str = ""
    cwd: str | None = None
    branch: str | None = None
    title: str | None = None
    model: str | None = None
    ctx: int = -1
    ctx_source: str = ""
    ctx_max: int = 0
    compactions: int = 0
    limit_reset: int = 0
    awaiting: bool = False
    malformed: int = 0
    unknown: int = 0
    lines: int = 0
    recent: list[tuple[str, str, bool, bool]] = msgspec.field(default_factory=list)
    # (line uuid, API errors, failed tool results) of every line with an error, subagents
    # included: the merge counts each uuid once, so lines a resumed session copied do not
    # count twice.
    errors: list[tuple[str, int, int]] = msgspec.field(default_factory=list)
    # Price groups: (model, prompt-size bucket, speed, day, advisor call).
    groups: list[tuple[str, int, str, str, bool]] = msgspec.field(default_factory=list)
    # Parallel arrays, one entry per distinct key in this file (raw bytes of array()).
    keys: bytes = b""  # array('Q')
    cols: bytes = b""  # array('q'), NCOLS per key: input, output, cache writes, 1h writes, reads
    meta: bytes = b""  # array('I'), index into `groups`
    stamps: bytes = b""  # array('q'), epoch ms of the line that holds the key's usage
    # (epoch s of the refusal, epoch s of the reset or 0, window kind) of usage-limit lines
    limit_hits: list[tuple[int, int, str]] = msgspec.field(default_factory=list)
    # Sums over the keys above per group index: [input, output, cc, cc 1h, cr, responses].
    sums: dict[int, list[int]] = msgspec.field(default_factory=dict)
    # Format drift: lines per version; "record:<type>", "subtype:<x>", "usage:<field>",
    # "iteration:<type>" not understood -> count; usage-bearing records not understood.
    versions: dict[str, int] = msgspec.field(default_factory=dict)
    drift: dict[str, int] = msgspec.field(default_factory=dict)
    usage_drift: int = 0
    checked: list[str] = msgspec.field(default_factory=list)  # versions whose usage was sampled
    convo: bool = False  # holds a user, assistant or system record (else a ghost stub)
    # Bumped by reset(): the merge step sees that the keys it indexed are gone.
    generation: int = 0

    def reset(self) -> None:
        """Forget everything derived from the file's old contents (it shrank or was replaced)."""
        fresh = ClaudeFile(path=self.path, session=self.session, subagent=self.subagent, generation=self.generation + 1)
        for name in self.__struct_fields__:
            setattr(self, name, getattr(fresh, name))
