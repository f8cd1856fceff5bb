"""Which transcript files hold an item (a response key, an error line): kept up to date by appends.

Claude Code copies lines into new files when a session is resumed, so the same response
(or API error) can sit in several files, and must count once. Finding those shared items
used to mean a pass over every key of every file whenever any file changed (tens of
milliseconds on a gigabyte, on every append). `ItemIndex` instead keeps all items in one
sorted array with the file id beside each entry, plus a small table of recent additions:
whether a freshly appended key is shared is a binary search, and the index is persisted in
the scan cache as two raw arrays, loaded without building a Python object per key.

File ids are small integers handed out per file content: a file that is truncated,
replaced or deleted gets its id retired (`drop`), and its entries are ignored until the
next compaction rewrites the arrays without them.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable

import msgspec


class IndexData(msgspec.Struct, array_like=True):
    """What is persisted: both arrays as raw bytes, the recent additions and retired ids."""

    keys: bytes = b""
    fids: bytes = b""
    extra: dict[int, list[int]] = {}
    dead: list[int] = []


class ItemIndex:
    """item (unsigned 64-bit int) -> ids of the files that hold it."""

    def __init__(self, data: IndexData | None = None) -> None:
        data = data or IndexData()
        self.keys = array("Q", data.keys)
        self.fids = array("I", data.fids)
        self.extra: dict[int, list[int]] = {k: list(v) for k, v in data.extra.items()}
        self.dead: set[int] = set(data.dead)
        self._extra_size = sum(len(v) for v in self.extra.values())

    def data(self) -> IndexData:
        return IndexData(self.keys.tobytes(), self.fids.tobytes(), self.extra, sorted(self.dead))

    def holders(self, item: int) -> list[int]:
        """Live file ids holding `item`, each once."""
        keys = self.keys
        lo = bisect_left(keys, item)
        hi = bisect_right(keys, item, lo) if lo < len(keys) and keys[lo] == item else lo
        out = [f for f in self.fids[lo:hi] if f not in self.dead]
        for f in self.extra.get(item, ()):
            if f not in self.dead and f not in out:
                out.append(f)
        return out

    def add(self, fid: int, items: Iterable[int]) -> list[int]:
        """Record that file `fid` holds `items`; return those now held by another live file too."""
        shared = []
        extra = self.extra
        for item in items:
            others = self.holders(item)
            if others and others != [fid]:
                shared.append(item)
            got = extra.get(item)
            if got is None:
                extra[item] = [fid]
            elif fid not in got:
                got.append(fid)
            else:
                continue
            self._extra_size += 1
        if self._extra_size > max(4096, len(self.keys) // 4):
            self.compact()
        return shared

    def drop(self, fid: int) -> None:
        """Retire a file id (its file was truncated, replaced or deleted)."""
        self.dead.add(fid)

    def compact(self) -> None:
        """Fold the recent additions into the sorted arrays and forget retired ids."""
        dead = self.dead
        live = {(k, f) for k, f in zip(self.keys, self.fids, strict=True) if f not in dead}
        live.update((k, f) for k, fs in self.extra.items() for f in fs if f not in dead)
        pairs = sorted(live)
        self.keys = array("Q", [k for k, _ in pairs])
        self.fids = array("I", [f for _, f in pairs])
        self.extra = {}
        self._extra_size = 0
        self.dead = set()

    @classmethod
    def build(cls, files: Iterable[tuple[int, Iterable[int]]]) -> ItemIndex:
        """The index of many files at once (a cold scan): one sort instead of many inserts."""
        # One int per entry (key above, file id below) sorts far faster than tuples.
        packed = [k << 32 | fid for fid, items in files for k in items]
        packed.sort()
        index = cls()
        index.keys = array("Q", [p >> 32 for p in packed])
        index.fids = array("I", [p & 0xFFFFFFFF for p in packed])
        return index

    def shared(self) -> list[int]:
        """Every item held by two or more live files (for a full settlement)."""
        if self.extra or self.dead:
            self.compact()
        out: list[int] = []
        prev = None
        for k in self.keys:
            if k == prev and (not out or out[-1] != k):
                out.append(k)
            prev = k
        return out
