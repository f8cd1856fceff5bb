"""Claude Code transcript lines -> per-file partial results.

This is the hot loop of a cold scan (a gigabyte of JSONL). Lines are decoded a block at a
time (`decode_lines`: one C call per megabyte instead of a split and a call per line) into
a small msgspec Struct that names only the fields we use: msgspec skips everything else
(tool output, thinking, file snapshots, progress payloads) without building Python objects
for it. The fold over the decoded records keeps its state in local variables and spends a
few bytecodes on the lines that cannot change an answer beyond their timestamp, cwd and
branch (progress rows, snapshots: most lines of a real history). A block holding a line
that is not valid JSON, or a blank line, is decoded line by line instead, so every bad
line is counted as malformed and costs only itself.

Tool errors, tool results and tool calls are read from the decoded content blocks, not by
searching the raw bytes: one pass over each line instead of three. Measured before and
after on the benchmark corpora and on public real transcripts, the figures are identical.

One file's partial result (`ClaudeFile`) is everything the merge step needs, in a form that
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

from array import array
from collections import Counter
from hashlib import blake2b
from operator import attrgetter
from typing import Any

import msgspec

from llm_sessions.core.accounting.limit_lines import limit_hit
from llm_sessions.core.accounting.pricing import size_bucket
from llm_sessions.core.accounting.sanity import DECODE_ERRORS, CallTokens, may_nest_too_deep, too_deep
from llm_sessions.core.accounting.tailer import Cursor
from llm_sessions.core.timeparse import iso_ms

RECENT_KEEP = 32
LIMIT_HITS_KEEP = 16
TIER_LIMIT = 200_000
#: How many columns each key keeps: input, output, cache writes (all), 1-hour writes, reads.
NCOLS = 5


class _Split(msgspec.Struct):
    ephemeral_5m_input_tokens: CallTokens | None = 0
    ephemeral_1h_input_tokens: CallTokens | None = 0


class _Iteration(msgspec.Struct):
    type: str | None = None
    model: str | None = None
    input_tokens: CallTokens | None = 0
    output_tokens: CallTokens | None = 0
    cache_creation_input_tokens: CallTokens | None = 0
    cache_read_input_tokens: CallTokens | None = 0
    cache_creation: _Split | None = None


class _Usage(msgspec.Struct):
    input_tokens: CallTokens | None = 0
    output_tokens: CallTokens | None = 0
    cache_creation_input_tokens: CallTokens | None = 0
    cache_read_input_tokens: CallTokens | None = 0
    cache_creation: _Split | None = None
    speed: str | None = None
    inference_geo: str | None = None
    iterations: list[_Iteration] | None = None


class _Block(msgspec.Struct):
    """A content block: only what says "tool call", "tool result", "failed" or "limit".

    Lenient types (Any): a block of an unexpected shape is ignored, never a malformed line.
    """

    type: Any = None
    is_error: Any = None
    text: Any = None


# Content as the API writes it (a string or a list of blocks), and any other JSON value.
_Content = str | list[_Block | str | int | float | bool | list | None] | dict | int | float | bool | None


class _Message(msgspec.Struct):
    id: str | None = None
    model: str | None = None
    stop_reason: str | None = None
    usage: _Usage | None = None
    content: _Content = None


class _Compact(msgspec.Struct):
    trigger: str | None = None
    preTokens: CallTokens | None = None
    postTokens: CallTokens | None = None


class _Line(msgspec.Struct):
    type: str | None = None
    version: str | None = None
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


_decoder = msgspec.json.Decoder(_Line)
_decode = _decoder.decode
_decode_lines = _decoder.decode_lines
_decode_any = msgspec.json.Decoder().decode
_DECODE_ERRORS = DECODE_ERRORS  # not JSON, too deep, or a count outside core.accounting.sanity bounds
_LIMIT_TEXT = "usage limit reached|"  # the old marker: only a user line whose own text holds it can be a limit
_TURN_ENDS = frozenset({"end_turn", "stop_sequence", "max_tokens", "refusal"})
_TS = attrgetter("timestamp")
_CWD = attrgetter("cwd")
_BRANCH = attrgetter("gitBranch")
_SESSION = attrgetter("sessionId")
_VERSION = attrgetter("version")


def _deep_unstamped(recs: list, stamps: list, block) -> bool:
    """True when a decoded line without a timestamp nests deeper than MAX_DEPTH.

    msgspec refuses a deep line only past the interpreter's C recursion limit, which 3.12
    raised, so a line 1,000 deep decodes there. Every conversation line Claude Code writes
    has a timestamp; the few without one (summaries, queue records, hand-made or hostile
    lines) are found with list.index at C speed and searched (a memmem each, an exact scan
    of a line holding a run of "["). File snapshots (no timestamp, 3% of lines, nothing
    read but their type) and stamped lines are left to msgspec's own limit: searching
    every line costs a quarter of a cold scan's CPU (measured: 0.76 s per GB, memmem alone).
    """
    raws = _Lines(block)
    i = -1
    while True:
        try:
            i = stamps.index(None, i + 1)
        except ValueError:
            return False
        if recs[i].type != "file-history-snapshot" and may_nest_too_deep(raw := raws[i]) and too_deep(raw):
            return True


class _Lines:
    """Line `i` of a block (a block in the fast path holds no blank line) or of a list of
    lines, for the rare record whose bytes are needed: the line starts are found once per
    block, as far as asked, so a block full of such records is never read quadratically.
    A memoryview block must start at the start of its buffer, as `tailer.read_blocks` yields."""

    __slots__ = ("source", "starts")

    def __init__(self, source: bytes | bytearray | memoryview | list[bytes]) -> None:
        self.source = source
        self.starts: list[int] | None = None

    def __getitem__(self, i: int) -> bytes:
        source = self.source
        if isinstance(source, list):
            return source[i]
        end = len(source)
        buf: bytes | bytearray = source.obj if isinstance(source, memoryview) else source  # type: ignore[assignment]
        starts = self.starts
        if starts is None:
            starts = self.starts = [0]
        while len(starts) <= i:  # extended only as far as asked: usually a line near the top
            starts.append(buf.find(b"\n", starts[-1], end) + 1)
        start = starts[i]
        stop = buf.find(b"\n", start, end)
        return bytes(buf[start : stop if stop >= 0 else end])


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


class FileParser:
    """Folds the lines of one file into its ClaudeFile, keeping the key index while it runs.

    `feed_block` runs once per megabyte of a cold scan and `_fold` once per line inside it,
    so `_fold` is written for speed: one loop, locals instead of attribute lookups, the
    common kinds of line first, and the (message.id, requestId) hash reused for the run of
    lines that stream one response.
    """

    __slots__ = ("f", "keys", "cols", "meta", "stamps", "stamping", "index", "group_ix", "legacy_agent", "last_ids", "last_key", "ts")

    def __init__(self, f: ClaudeFile, legacy_agent: bool = False) -> None:
        self.f = f
        self.keys = array("Q", f.keys)
        self.cols = array("q", f.cols)
        self.meta = array("I", f.meta)
        self.stamps = array("q", f.stamps)
        # key position -> timestamp of the line now holding its usage, stamped in finish()
        self.stamping: dict[int, str] = {}
        self.ts = ""  # timestamp of the line being folded (for the helpers below)
        self.index = dict(zip(self.keys, range(len(self.keys)), strict=True))
        self.group_ix = {tuple(g): i for i, g in enumerate(f.groups)}
        self.legacy_agent = legacy_agent
        self.last_ids: tuple = ()
        self.last_key = 0

    def finish(self) -> ClaudeFile:
        f = self.f
        f.keys, f.cols, f.meta = self.keys.tobytes(), self.cols.tobytes(), self.meta.tobytes()
        stamps = self.stamps
        for pos, ts in self.stamping.items():
            stamps[pos] = iso_ms(ts) if ts else 0
        self.stamping.clear()
        f.stamps = stamps.tobytes()
        if len(f.recent) > RECENT_KEEP:
            del f.recent[:-RECENT_KEEP]
        return f

    def feed(self, raw: bytes) -> None:
        """One line (without its newline)."""
        self.feed_block(raw + b"\n", 1)

    def feed_block(self, block, lines: int) -> None:
        """Complete lines: `block` (bytes or a buffer view) ends with a newline and holds
        `lines` newlines. Decoded in one call when every line is valid JSON and none is
        blank; otherwise line by line, counting each bad line as malformed."""
        try:
            recs = _decode_lines(block)
        except _DECODE_ERRORS:
            recs = None
        if recs is not None and len(recs) == lines:
            stamps = list(map(_TS, recs))
            if None not in stamps or not _deep_unstamped(recs, stamps, block):
                self._fold(recs, block, stamps)
                return
        raws = [raw for raw in bytes(block).split(b"\n") if raw]
        each: list[_Line | None] = []
        for raw in raws:
            try:
                each.append(None if may_nest_too_deep(raw) and too_deep(raw) else _decode(raw))
            except _DECODE_ERRORS:
                each.append(None)
        self._fold(each, raws)

    def _group(self, group: tuple[str, int, str, str, bool]) -> int:
        ix = self.group_ix.get(group)
        if ix is None:
            ix = self.group_ix[group] = len(self.f.groups)
            self.f.groups.append(group)
        return ix

    def _drift(self, what: str, usage: bool = False) -> None:
        d = self.f.drift
        d[what] = d.get(what, 0) + 1
        if usage:
            self.f.usage_drift += 1

    def _fold(self, recs: list, source, times: list | None = None) -> None:
        """Fold decoded lines (None: malformed) into the file's partial result.

        `source` is the block the records came from (or its lines): the rare checks that
        need a line's bytes (a usage sample per version, an unknown record) split it.
        `times`: the records' timestamps when the caller has them already.
        """
        f = self.f
        subagent, legacy, path = f.subagent, self.legacy_agent, f.path
        recent, errors, sums, versions, checked = f.recent, f.errors, f.sums, f.versions, f.checked
        ctx_now, ctx_source, ctx_max, main_model, awaiting = f.ctx, f.ctx_source, f.ctx_max, f.model, f.awaiting
        index, keys, cols, metas, stamps, group_ix = self.index, self.keys, self.cols, self.meta, self.stamps, self.group_ix
        stamping, last_ids, last_key = self.stamping, self.last_ids, self.last_key
        g_model = g_day = g_speed = None
        g_bucket = g_group = -1
        convo = f.convo
        start = f.lines
        # What every line contributes (times, cwd, branch, version) is taken for the whole
        # block at C speed (map, filter, min/max, Counter), so the loop below spends almost
        # nothing on the lines that carry nothing else: most lines of a real history.
        good = recs if isinstance(source, (bytes, bytearray, memoryview)) else [r for r in recs if r is not None]
        malformed = len(recs) - len(good)
        stamped = list(filter(None, map(_TS, good) if times is None else times))
        seen_ts = f.last_ts  # the newest timestamp before the line being folded
        upto = 0  # records[:upto] are in seen_ts
        if stamped:
            hi, lo = max(stamped), min(stamped)
            last = hi if hi > f.last_ts else f.last_ts
            first = lo if not f.first_ts or lo < f.first_ts else f.first_ts
        else:
            last, first = f.last_ts, f.first_ts
        cwd = next(filter(None, map(_CWD, reversed(good))), None) or f.cwd
        branch = next(filter(None, map(_BRANCH, reversed(good))), None) or f.branch
        if legacy:
            sid = next(filter(None, map(_SESSION, reversed(good))), None)
            if sid and sid != f.session:
                f.session = sid
        for v, count in Counter(map(_VERSION, good)).items():
            if v:
                versions[v] = versions.get(v, 0) + count
        unknown = 0
        raw_lines = _Lines(source)
        for i, line in enumerate(recs):
            if line is None:
                continue
            kind = line.type
            if kind == "progress" or kind == "file-history-snapshot":
                continue  # most lines of a real history: nothing more to take from them
            n = start + i + 1
            ts = line.timestamp
            if not ts:  # a line without a time takes the newest one seen before it
                if upto < i:
                    newer = max(filter(None, map(_TS, filter(None, recs[upto:i]))), default="")
                    if newer > seen_ts:
                        seen_ts = newer
                    upto = i
                ts = seen_ts
            side = subagent or line.isSidechain is True
            if kind == "assistant":
                convo = True
                msg = line.message
                if line.isApiErrorMessage or (msg is not None and msg.model == "<synthetic>"):
                    errors.append((line.uuid or f"{path}:{n}", 1, 0))
                    if not side:
                        awaiting = True
                        recent.append((ts, "assistant", True, False))
                    self._limit(raw_lines[n - start - 1])  # rare lines: limit_lines decodes them whole
                    continue
                if msg is None or (u := msg.usage) is None:
                    continue
                vi = u.input_tokens or 0
                vo = u.output_tokens or 0
                vc = u.cache_creation_input_tokens or 0
                vr = u.cache_read_input_tokens or 0
                split = u.cache_creation
                if split is None:
                    vh = 0
                else:
                    vh = split.ephemeral_1h_input_tokens or 0
                    if vh > vc:
                        vh = vc
                ctx = vi + vc + vr
                model = msg.model or "unknown"
                speed = "" if u.speed != "fast" and u.inference_geo != "us" else _speed(u)
                day = ts[:10]
                v = line.version
                if v and v not in checked:
                    checked.append(v)
                    self._check_usage(raw_lines[n - start - 1])
                if not side:
                    ctx_now = ctx
                    ctx_source = "last turn"
                    if ctx > ctx_max:
                        ctx_max = ctx
                    main_model = model
                    # Many builds write stop_reason null on every streamed line: then a reply
                    # without a tool call is what ends the turn and hands it back to the user.
                    stop = msg.stop_reason
                    if stop is None:
                        awaiting = True
                        content = msg.content
                        if type(content) is list:
                            for b in content:
                                if type(b) is _Block and b.type == "tool_use":
                                    awaiting = False
                                    break
                    else:
                        awaiting = stop in _TURN_ENDS
                ids = (msg.id or f"{path}:{n}", line.requestId)
                if ids != last_ids:
                    last_ids = ids
                    last_key = key_hash(*ids)
                key = last_key
                bucket = 0 if ctx <= TIER_LIMIT else size_bucket(ctx)
                # Consecutive lines nearly always share their price group: skip the lookup.
                if model != g_model or day != g_day or bucket != g_bucket or speed != g_speed:
                    g_model, g_day, g_bucket, g_speed = model, day, bucket, speed
                    gk = (model, bucket, speed, day, False)
                    group = group_ix.get(gk)
                    if group is None:
                        group = self._group(gk)
                    g_group = group
                group = g_group
                # The common cases inline (this runs for every assistant line of a cold scan):
                # a new key, or a larger copy of a known key in the same price group.
                pos = index.get(key)
                if pos is None:
                    index[key] = len(keys)
                    keys.append(key)
                    cols.extend((vi, vo, vc, vh, vr))
                    metas.append(group)
                    stamps.append(0)
                    stamping[len(keys) - 1] = ts  # converted once per key, in finish()
                    acc = sums.get(group)
                    if acc is None:
                        sums[group] = [vi, vo, vc, vh, vr, 1]
                    else:
                        acc[0] += vi
                        acc[1] += vo
                        acc[2] += vc
                        acc[3] += vh
                        acc[4] += vr
                        acc[5] += 1
                    if not side:
                        recent.append((ts, "assistant", False, False))
                elif metas[pos] == group:
                    b = pos * NCOLS
                    oi, oo, oc, oh, orr = cols[b], cols[b + 1], cols[b + 2], cols[b + 3], cols[b + 4]
                    if vi + vo + vc + vr > oi + oo + oc + orr:
                        acc = sums[group]
                        acc[0] += vi - oi
                        acc[1] += vo - oo
                        acc[2] += vc - oc
                        acc[3] += vh - oh
                        acc[4] += vr - orr
                        cols[b], cols[b + 1], cols[b + 2], cols[b + 3], cols[b + 4] = vi, vo, vc, vh, vr
                        stamping[pos] = ts
                else:
                    self.ts = ts
                    self._count(key, group, (vi, vo, vc, vh, vr))
                its = u.iterations
                if its:
                    self.ts = ts
                    self._iterations(its, ids, speed, day)
            elif kind == "user":
                convo = True
                msg = line.message
                content = msg.content if msg is not None else None
                failed = 0
                results = limit = False
                if type(content) is list:
                    for b in content:
                        if type(b) is _Block:
                            if b.is_error is True:
                                failed += 1
                            if b.type == "tool_result":
                                results = True
                            elif type(b.text) is str and _LIMIT_TEXT in b.text:
                                limit = True
                elif type(content) is str and _LIMIT_TEXT in content:
                    limit = True
                if limit:  # the marker in the line's own text (never a tool result's)
                    self._limit(raw_lines[n - start - 1])
                if failed:
                    errors.append((line.uuid or f"{path}:{n}", 0, failed))
                if side:
                    continue
                if failed:
                    recent.append((ts, "tool_result", False, True))
                if not line.isMeta:
                    awaiting = False
                    if not failed and not results:
                        recent.append((ts, "user", False, False))
            elif kind == "system":
                convo = True
                sub = line.subtype
                if sub == "compact_boundary" and not side:
                    f.compactions += 1
                    post = line.compactMetadata.postTokens if line.compactMetadata else None
                    if post is not None:
                        ctx_now, ctx_source = post, "compaction"
                    else:
                        ctx_now, ctx_source = -1, "compaction (size unknown)"
                elif sub not in _SUBTYPES:
                    self._drift(f"subtype:{sub}")
            elif kind == "summary":
                if line.summary:
                    f.title = line.summary
            elif kind not in _KNOWN:
                unknown += 1
                self._drift(f"record:{kind}", usage=b'"usage"' in raw_lines[n - start - 1])
        f.ctx, f.ctx_source, f.ctx_max, f.model, f.awaiting = ctx_now, ctx_source, ctx_max, main_model, awaiting
        self.last_ids, self.last_key = last_ids, last_key
        f.first_ts, f.last_ts, f.cwd, f.branch = first, last, cwd, branch
        f.convo = convo
        f.lines = start + len(recs)
        f.malformed += malformed
        f.unknown += unknown

    def _count(self, key: int, group: int, vals: tuple[int, int, int, int, int]) -> bool:
        """Fold one line's usage for `key` into the file; True when the key is new.

        A key seen before keeps its largest usage (a streamed response grows line by line);
        its sums move to the new group if the larger copy changed it.
        """
        f = self.f
        pos = self.index.get(key)
        cols = self.cols
        if pos is None:
            self.index[key] = len(self.keys)
            self.keys.append(key)
            cols.extend(vals)
            self.meta.append(group)
            self.stamps.append(0)
            self.stamping[len(self.keys) - 1] = self.ts
            _add(f.sums, group, vals, 1)
            return True
        b = pos * NCOLS
        old_vals = cols[b : b + NCOLS]
        if sum(vals) - vals[3] <= sum(old_vals) - old_vals[3]:
            return False
        old = self.meta[pos]
        if old == group:
            _add(f.sums, group, [a - o for a, o in zip(vals, old_vals, strict=True)], 0)
        else:
            _add(f.sums, old, [-o for o in old_vals], -1)
            _add(f.sums, group, vals, 1)
            self.meta[pos] = group
        for i, v in enumerate(vals):
            cols[b + i] = v
        self.stamping[pos] = self.ts
        return False

    def _iterations(self, its: list[_Iteration], ids: tuple, speed: str, day: str) -> None:
        """Advisor calls inside one response: each under its own key, model and price."""
        for i, it in enumerate(its):
            kind = it.type
            if kind == "advisor_message":
                ci = it.input_tokens or 0
                cc = it.cache_creation_input_tokens or 0
                cr = it.cache_read_input_tokens or 0
                ch = min(cc, it.cache_creation.ephemeral_1h_input_tokens or 0) if it.cache_creation is not None else 0
                group = self._group((it.model or "unknown", size_bucket(ci + cc + cr), speed, day, True))
                self._count(key_hash(f"{ids[0]}#advisor{i}", ids[1]), group, (ci, it.output_tokens or 0, cc, ch, cr))
            elif kind not in _ITERATIONS:
                self._drift(f"iteration:{kind}", usage=True)

    def _check_usage(self, raw: bytes) -> None:
        """Sample one usage line per (file, version) for fields we do not understand.

        Decoding a whole line generically is slow, so it happens once per version per file;
        a build that adds a usage field adds it to every line, so one sample finds it.
        """
        try:
            usage = _decode_any(raw)["message"]["usage"]
        except (msgspec.DecodeError, KeyError, TypeError):
            return
        if not isinstance(usage, dict):
            return
        for name, value in usage.items():
            if name not in _USAGE_FIELDS:
                self._drift(f"usage:{name}", usage=True)
            elif name == "cache_creation" and isinstance(value, dict):
                for sub in value:
                    if sub not in _SPLIT_FIELDS:
                        self._drift(f"usage:cache_creation.{sub}", usage=True)

    def _limit(self, raw: bytes) -> None:
        hit = limit_hit(raw)
        if hit is None:
            return
        f = self.f
        f.limit_hits.append((hit.at, hit.resets_at, hit.kind))
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
        "ai-title",
        "summary",
    }
)
_SUBTYPES = frozenset(
    {
        "compact_boundary", "microcompact_boundary", "stop_hook_summary", "turn_duration", "local_command",
        "informational", "api_error", "away_summary", "scheduled_task_fire", "bridge_status",
    }
)
#: usage fields read (the money) or knowingly left aside (not billed per token here).
_USAGE_FIELDS = frozenset(
    {
        "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
        "cache_creation", "service_tier", "server_tool_use", "inference_geo", "speed", "iterations",
        "output_tokens_details", "fallback_credit",
    }
)
_SPLIT_FIELDS = frozenset({"ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens"})
# Iterations already included in the top-level usage ("message", "compaction") or, for
# fallback calls, whose usage Claude Code reports at the top level as well.
_ITERATIONS = frozenset({"message", "compaction", "fallback_message", "advisor_message"})


def _speed(u: _Usage) -> str:
    """The price modifiers one response ran with ("" standard, "fast", "us", "fast+us")."""
    fast = u.speed == "fast"
    us = u.inference_geo == "us"
    if not (fast or us):
        return ""
    return "fast+us" if fast and us else "fast" if fast else "us"


def _add(sums: dict[int, list[int]], group: int, vals, n: int) -> None:
    k = group
    s = sums.get(k)
    if s is None:
        sums[k] = [*vals, n]
    else:
        for i, v in enumerate(vals):
            s[i] += v
        s[NCOLS] += n
