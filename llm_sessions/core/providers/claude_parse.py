"""Claude Code transcript lines -> per-file partial results.

This is the hot loop of a cold scan (a gigabyte of JSONL), so it decodes each line into a
small msgspec Struct that names only the fields we use: msgspec skips everything else
(message contents, tool results) without building Python objects for it.

One file's partial result (`ClaudeFile`) is everything the merge step needs, in a form that
can be persisted and extended by later appends:
- usage per (message.id, requestId) key, deduplicated inside the file with the largest usage
  winning (one response is written as several lines whose output count grows),
- running sums of that usage per (model, above-200k tier), so session totals and cost never
  need a pass over the keys,
- the latest context figures of the main chain, errors, timestamps and recent turn marks.
Duplicates across files (resumed sessions copy old lines) are settled by the merge step.
"""

from __future__ import annotations

from array import array
from hashlib import blake2b

import msgspec

from llm_sessions.core.limit_lines import OLD_MARKER, limit_hit
from llm_sessions.core.tailer import Cursor
from llm_sessions.core.timeparse import iso_ms

RECENT_KEEP = 32
LIMIT_HITS_KEEP = 16
TIER_LIMIT = 200_000


class _Usage(msgspec.Struct):
    input_tokens: int | None = 0
    output_tokens: int | None = 0
    cache_creation_input_tokens: int | None = 0
    cache_read_input_tokens: int | None = 0


class _Message(msgspec.Struct):
    id: str | None = None
    model: str | None = None
    stop_reason: str | None = None
    usage: _Usage | None = None


class _Compact(msgspec.Struct):
    trigger: str | None = None
    preTokens: int | None = None
    postTokens: int | None = None


class _Line(msgspec.Struct):
    type: str | None = None
    uuid: str | None = None
    timestamp: str | None = None
    sessionId: str | None = None
    cwd: str | None = None
    gitBranch: str | None = None
    isSidechain: bool | None = None
    isMeta: bool | None = None
    isApiErrorMessage: bool | None = None
    isCompactSummary: bool | None = None
    requestId: str | None = None
    subtype: str | None = None
    summary: str | None = None
    compactMetadata: _Compact | None = None
    message: _Message | None = None


_decode = msgspec.json.Decoder(_Line).decode
_TOOL_ERROR = b'"is_error":true'
_TURN_ENDS = frozenset({"end_turn", "stop_sequence", "max_tokens", "refusal"})


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
    models: list[str] = msgspec.field(default_factory=list)
    # Parallel arrays, one entry per distinct key in this file (raw bytes of array()).
    keys: bytes = b""  # array('Q')
    cols: bytes = b""  # array('q'), 4 per key: input, output, cache_creation, cache_read
    meta: bytes = b""  # array('I'), model index << 1 | above-200k tier
    stamps: bytes = b""  # array('q'), epoch ms of the line that holds the key's usage
    # (epoch s of the refusal, epoch s of the reset or 0, window kind) of usage-limit lines
    limit_hits: list[tuple[int, int, str]] = msgspec.field(default_factory=list)
    # Sums over the keys above per "model index:tier": [input, output, cc, cr, responses].
    sums: dict[str, list[int]] = msgspec.field(default_factory=dict)

    def reset(self) -> None:
        """Forget everything derived from the file's old contents (it shrank or was replaced)."""
        fresh = ClaudeFile(path=self.path, session=self.session, subagent=self.subagent)
        for name in self.__struct_fields__:
            setattr(self, name, getattr(fresh, name))


class FileParser:
    """Feeds lines of one file into its ClaudeFile, keeping the key index while it runs.

    `feed` runs once per line of a cold scan, so it is written for speed: one function,
    locals instead of attribute lookups, and the (message.id, requestId) hash reused for
    the run of lines that stream one response.
    """

    __slots__ = ("f", "keys", "cols", "meta", "stamps", "index", "model_ix", "legacy_agent", "last_ids", "last_key")

    def __init__(self, f: ClaudeFile, legacy_agent: bool = False) -> None:
        self.f = f
        self.keys = array("Q", f.keys)
        self.cols = array("q", f.cols)
        self.meta = array("I", f.meta)
        self.stamps = array("q", f.stamps)
        self.index = dict(zip(self.keys, range(len(self.keys))))
        self.model_ix = {m: i for i, m in enumerate(f.models)}
        self.legacy_agent = legacy_agent
        self.last_ids: tuple = ()
        self.last_key = 0

    def finish(self) -> ClaudeFile:
        f = self.f
        f.keys, f.cols, f.meta = self.keys.tobytes(), self.cols.tobytes(), self.meta.tobytes()
        f.stamps = self.stamps.tobytes()
        if len(f.recent) > RECENT_KEEP:
            del f.recent[:-RECENT_KEEP]
        return f

    def _model(self, name: str) -> int:
        ix = self.model_ix.get(name)
        if ix is None:
            ix = self.model_ix[name] = len(self.f.models)
            self.f.models.append(name)
        return ix

    def feed(self, raw: bytes) -> None:
        f = self.f
        f.lines += 1
        try:
            line = _decode(raw)
        except (msgspec.DecodeError, msgspec.ValidationError):
            f.malformed += 1
            return
        ts = line.timestamp
        if ts:
            if ts > f.last_ts:
                f.last_ts = ts
            if ts < f.first_ts or not f.first_ts:
                f.first_ts = ts
        else:
            ts = f.last_ts
        if line.cwd:
            f.cwd = line.cwd
        if line.gitBranch:
            f.branch = line.gitBranch
        if self.legacy_agent and line.sessionId and f.session != line.sessionId:
            f.session = line.sessionId
        side = f.subagent or line.isSidechain is True
        kind = line.type
        if kind == "assistant":
            msg = line.message
            if line.isApiErrorMessage or (msg is not None and msg.model == "<synthetic>"):
                f.errors.append((line.uuid or f"{f.path}:{f.lines}", 1, 0))
                if not side:
                    f.awaiting = True
                    f.recent.append((ts, "assistant", True, False))
                self._limit(raw)
                return
            if msg is None or (u := msg.usage) is None:
                return
            vi = u.input_tokens or 0
            vo = u.output_tokens or 0
            vc = u.cache_creation_input_tokens or 0
            vr = u.cache_read_input_tokens or 0
            ctx = vi + vc + vr
            model = msg.model or "unknown"
            if not side:
                f.ctx = ctx
                f.ctx_source = "last turn"
                if ctx > f.ctx_max:
                    f.ctx_max = ctx
                f.model = model
                # Many builds write stop_reason null on every streamed line: then a reply
                # without a tool call is what ends the turn and hands it back to the user.
                stop = msg.stop_reason
                f.awaiting = stop in _TURN_ENDS or (stop is None and b'"type":"tool_use"' not in raw)
            ids = (msg.id or f"{f.path}:{f.lines}", line.requestId)
            if ids == self.last_ids:
                key = self.last_key
            else:
                key = self.last_key = key_hash(*ids)
                self.last_ids = ids
            meta = self._model(model) << 1 | (ctx > TIER_LIMIT)
            pos = self.index.get(key)
            cols = self.cols
            if pos is None:
                self.index[key] = len(self.keys)
                self.keys.append(key)
                cols.extend((vi, vo, vc, vr))
                self.meta.append(meta)
                self.stamps.append(iso_ms(ts) if ts else 0)
                _add(f.sums, meta, vi, vo, vc, vr, 1)
                if not side:
                    f.recent.append((ts, "assistant", False, False))
                return
            b = pos * 4
            oi, oo, oc, orr = cols[b], cols[b + 1], cols[b + 2], cols[b + 3]
            if vi + vo + vc + vr <= oi + oo + oc + orr:
                return
            old = self.meta[pos]
            if old == meta:
                _add(f.sums, meta, vi - oi, vo - oo, vc - oc, vr - orr, 0)
            else:
                _add(f.sums, old, -oi, -oo, -oc, -orr, -1)
                _add(f.sums, meta, vi, vo, vc, vr, 1)
                self.meta[pos] = meta
            cols[b] = vi
            cols[b + 1] = vo
            cols[b + 2] = vc
            cols[b + 3] = vr
            if ts:
                self.stamps[pos] = iso_ms(ts)
        elif kind == "user":
            errors = raw.count(_TOOL_ERROR) if _TOOL_ERROR in raw else 0
            if OLD_MARKER in raw:
                self._limit(raw)
            if errors:
                f.errors.append((line.uuid or f"{f.path}:{f.lines}", 0, errors))
            if side:
                return
            if errors:
                f.recent.append((ts, "tool_result", False, True))
            if not line.isMeta:
                f.awaiting = False
                if not errors and b'"tool_result"' not in raw:
                    f.recent.append((ts, "user", False, False))
        elif kind == "system":
            if line.subtype == "compact_boundary" and not side:
                f.compactions += 1
                post = line.compactMetadata.postTokens if line.compactMetadata else None
                if post is not None:
                    f.ctx, f.ctx_source = post, "compaction"
                else:
                    f.ctx, f.ctx_source = -1, "compaction (size unknown)"
        elif kind == "summary":
            if line.summary:
                f.title = line.summary
        elif kind not in _KNOWN:
            f.unknown += 1

    def _limit(self, raw: bytes) -> None:
        hit = limit_hit(raw)
        if hit is None:
            return
        f = self.f
        f.limit_hits.append(tuple(hit))
        del f.limit_hits[:-LIMIT_HITS_KEEP]
        if hit.resets_at:
            f.limit_reset = max(f.limit_reset, hit.resets_at)


_KNOWN = frozenset(
    {
        "file-history-snapshot",
        "attachment",
        "progress",
        "queue-operation",
        "custom-title",
        "mode",
        "permission-mode",
        "last-prompt",
        "tag",
        "agent-name",
        "summary",
    }
)


def _add(sums: dict[str, list[int]], meta: int, vi: int, vo: int, vc: int, vr: int, n: int) -> None:
    k = f"{meta >> 1}:{meta & 1}"
    s = sums.get(k)
    if s is None:
        sums[k] = [vi, vo, vc, vr, n]
    else:
        s[0] += vi
        s[1] += vo
        s[2] += vc
        s[3] += vr
        s[4] += n
