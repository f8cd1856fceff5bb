"""One file's usage table while it is parsed: a row per (message.id, requestId) key.

A response streamed over several lines is one key whose largest usage wins; each key
belongs to a price group (model, prompt-size bucket, speed, day, advisor call), and the
running sums per group are kept as keys change, so totals never need a pass over the keys.
The table lives in typed arrays (compact to persist in the scan cache) with a dict index
while a parse runs. `FileParser` (claude_parse) folds lines into it; the rare paths (a key
moving group, advisor iterations, usage-field sampling, limit lines) are methods here.
"""

from __future__ import annotations

from array import array

import msgspec

from llm_sessions.core.accounting.limit_lines import limit_hit
from llm_sessions.core.accounting.pricing import size_bucket
from llm_sessions.core.accounting.providers.claude_file import LIMIT_HITS_KEEP, NCOLS, RECENT_KEEP, ClaudeFile, key_hash
from llm_sessions.core.accounting.providers.claude_records import _ITERATIONS, _SPLIT_FIELDS, _USAGE_FIELDS, _decode_any, _Iteration
from llm_sessions.core.timeparse import iso_ms


class KeyTable:
    """The key table of one ClaudeFile, unpacked into arrays and an index for a parse."""

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


def _add(sums: dict[int, list[int]], group: int, vals, n: int) -> None:
    k = group
    s = sums.get(k)
    if s is None:
        sums[k] = [*vals, n]
    else:
        for i, v in enumerate(vals):
            s[i] += v
        s[NCOLS] += n
