"""Claude Code transcript lines -> per-file partial results.

This is the hot loop of a cold scan (a gigabyte of JSONL). Lines are decoded a block at a
time (`decode_lines`: one C call per 256 KiB block instead of a split and a call per line) into
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

The key table (usage per response, price groups, stamps) is `claude_keys.KeyTable`; the
structs and decoders the lines go through are in `claude_records`; the persisted result is
`claude_file.ClaudeFile`.
"""

from __future__ import annotations

from collections import Counter

from llm_sessions.core.accounting.pricing import size_bucket
from llm_sessions.core.accounting.providers.claude_file import NCOLS, TIER_LIMIT, ClaudeFile, key_hash
from llm_sessions.core.accounting.providers.claude_keys import KeyTable
from llm_sessions.core.accounting.providers.claude_records import (
    _BRANCH,
    _CWD,
    _DECODE_ERRORS,
    _KNOWN,
    _LIMIT_TEXT,
    _SESSION,
    _SUBTYPES,
    _TS,
    _TURN_ENDS,
    _VERSION,
    Lines,
    _Block,
    _decode,
    _decode_lines,
    _Line,
    _speed,
    deep_unstamped,
)
from llm_sessions.core.accounting.sanity import may_nest_too_deep, too_deep

__all__ = ["NCOLS", "ClaudeFile", "FileParser", "key_hash"]


class FileParser(KeyTable):
    """Folds the lines of one file into its ClaudeFile, keeping the key index while it runs.

    `feed_block` runs once per block (256 KiB) of a cold scan and `_fold` once per line inside it,
    so `_fold` is written for speed: one loop, locals instead of attribute lookups, the
    common kinds of line first, and the (message.id, requestId) hash reused for the run of
    lines that stream one response.
    """

    __slots__ = ()

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
            if None not in stamps:
                self._fold(recs, block, stamps, stamps)  # every line stamped: no filter pass
                return
            if not deep_unstamped(recs, stamps, block):
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

    def _fold(self, recs: list, source, times: list | None = None, stamped: list | None = None) -> None:
        """Fold decoded lines (None: malformed) into the file's partial result.

        `source` is the block the records came from (or its lines): the rare checks that
        need a line's bytes (a usage sample per version, an unknown record) split it.
        `times`: the records' timestamps when the caller has them already; `stamped`: the
        ones that are not None, when the caller knows (all of them, usually).
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
        if stamped is None:
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
        raw_lines = Lines(source)
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
