"""The scan cache's journal: what changed since the base file, appended instead of rewritten.

After 1 MiB was appended to one transcript of a gigabyte, re-reading it cost ~5 ms, and
rewriting the whole 10 MB scan cache cost ~40 ms (encode 16, CRC-32 10, write 15). So a save
that changed a few files appends one record holding only the difference (those files'
heads and partial results, their sessions, the cross-file index entries that moved) to
`<cache>.journal`; a load replays the records over the base. When the journal would grow
past a share of the base, the save writes a whole new base instead (the compaction).

Why this cannot give wrong totals:
- A record is a `Patch` that turns one exact state into the next, order included (`Changes`).
- The journal starts with the token of the base it extends (a random number in the base's
  payload). A journal left beside a base that has since been replaced (by a compaction, a
  crash between the base's rename and the journal's removal, or an older version of this
  tool, which knows nothing of journals) names another token and is ignored.
- Each record carries its length and a CRC-32 chained over the previous record's CRC (the
  first over the header). A torn tail (a crash mid-write), a damaged record, or a record
  that did not extend the one before it fails the check, and replay stops there: every
  prefix of a journal is a state that a save wrote, so a load sees the old state or the new
  one, never a mix.
- Writers take an exclusive lock (`<cache>.lock`) and append only while the base and the
  journal are exactly the ones they loaded or last wrote; otherwise they write a new base,
  which is consistent on its own. Readers take no lock.
"""

from __future__ import annotations

import contextlib
import os
import time
import zlib
from collections.abc import Callable, Iterator, Mapping
from itertools import compress
from operator import is_not
from typing import Any, Generic, TypeVar

import msgspec

from llm_sessions.core.accounting.crossfile import IndexData
from llm_sessions.core.accounting.providers.claude_state import Group, Head
from llm_sessions.core.models import Session

MAGIC = b"llm-session scan journal\n"
HEADER = len(MAGIC) + 8  # magic, the base's token
RECORD_HEAD = 8  # length, chained CRC-32
LOCK_WAIT_S = 2.0  # a writer that cannot lock by then writes a whole base (safe without the lock)

K = TypeVar("K")
V = TypeVar("V")


class Changes(msgspec.Struct, Generic[K, V], array_like=True, omit_defaults=True):
    """How an ordered mapping changed. Applied to the old mapping it gives the new one
    exactly, order included: the order of sessions decides ties in a listing, and the order
    of price groups the order of a session's models."""

    removed: list[K] = []
    updated: dict[K, V] = {}  # in place
    appended: dict[K, V] = {}  # new, or moved: popped and put at the end, in this order

    def apply(self, old: dict) -> dict:
        for k in self.removed:
            old.pop(k, None)
        old.update(self.updated)
        for k, v in self.appended.items():
            old.pop(k, None)
            old[k] = v
        return old


def changes(old: Mapping, new: Mapping, same: Callable[[Any, Any], bool]) -> Changes | None:
    """The `Changes` from `old` to `new` (None when equal). Keys that kept their place among
    the survivors are updated in place; from the first key out of place on, the rest of
    `new` is appended (a provider moves a key to the end by popping and re-adding it)."""
    removed = [k for k in old if k not in new]
    updated: dict = {}
    order = iter(new)
    expected = next(order, _END)
    for k in old:
        if k == expected:
            if not same(old[k], new[k]):
                updated[k] = new[k]
            expected = next(order, _END)
    appended = {} if expected is _END else {expected: new[expected], **{k: new[k] for k in order}}
    if not (removed or updated or appended):
        return None
    return Changes(removed, updated, appended)


_END = object()


class IndexPatch(msgspec.Struct, omit_defaults=True):
    """A cross-file index's change: the recent additions and retired ids, or, after the
    index folded its additions into its sorted arrays, the whole index."""

    whole: IndexData | None = None
    extra: Changes[int, list[int]] | None = None
    dead: list[int] | None = None


Correction = list[tuple[str, Group, list[int]]]


class Patch(msgspec.Struct, omit_defaults=True):
    """One journal record: what changed in the cache between two saves (None: unchanged)."""

    files: Changes[str, tuple[Head, msgspec.Raw]] | None = None  # path -> (head, encoded ClaudeFile)
    sessions: Changes[str, Session] | None = None
    built_with: str | None = None
    keys: IndexPatch | None = None
    errors: IndexPatch | None = None
    corrections: Changes[int, Correction] | None = None
    error_owners: Changes[int, int] | None = None
    next_fid: int | None = None
    codex: Changes[str, msgspec.Raw] | None = None  # path -> encoded CodexFile

    def empty(self) -> bool:
        return all(getattr(self, f) is None for f in self.__struct_fields__)


_encode_patch = msgspec.msgpack.Encoder().encode
_decode_patch = msgspec.msgpack.Decoder(Patch).decode


def _same(a, b) -> bool:
    return a is b or a == b


def _same_file(a: tuple, b: tuple) -> bool:
    return _same(a[0], b[0]) and _same(a[1], b[1])


def _index_patch(old: IndexData | None, new: IndexData | None) -> IndexPatch | None:
    if new is None:
        if old is None:
            return None
        raise _Inexpressible
    if old is None or old.keys != new.keys or old.fids != new.fids:
        return IndexPatch(whole=new)
    extra = changes(old.extra, new.extra, _same)
    dead = new.dead if new.dead != old.dead else None
    return IndexPatch(extra=extra, dead=dead) if extra is not None or dead is not None else None


class _Inexpressible(Exception):
    """The change cannot be a patch (the caller writes a whole base)."""


def diff(old, new) -> Patch | None:
    """The Patch from `old` to `new` (two scancache.CacheData; `new.codex` holds raw
    entries), or None when only a whole base can say it (other roots or format)."""
    if old.format != new.format or old.roots != new.roots:
        return None
    a, b = old.claude, new.claude
    try:
        return Patch(
            files=_list_changes((a.heads, a.files), (b.heads, b.files), lambda h: h.path, _same_file),
            sessions=_list_changes((a.sessions,), (b.sessions,), lambda s: s.id, _same),
            built_with=b.built_with if b.built_with != a.built_with else None,
            keys=_index_patch(a.keys, b.keys),
            errors=_index_patch(a.errors, b.errors),
            corrections=changes(a.corrections, b.corrections, _same),
            error_owners=changes(a.error_owners, b.error_owners, _same),
            next_fid=b.next_fid if b.next_fid != a.next_fid else None,
            codex=changes(old.codex, new.codex, _same),
        )
    except _Inexpressible:
        return None


def _list_changes(old: tuple[list, ...], new: tuple[list, ...], key, same) -> Changes | None:
    """`changes` of parallel lists keyed by `key(first list's item)`, each entry the tuple of
    the lists' items (a single item for one list). The common case, where the same keys
    stand in the same order and most items are the very same objects, is found by C-level
    identity passes instead of building and walking two mappings (1-2 ms on r1g per save)."""

    def entry(lists: tuple[list, ...], i: int):
        return tuple(x[i] for x in lists) if len(lists) > 1 else lists[0][i]

    n = len(old[0])
    if n == len(new[0]):
        moved: set[int] = set()
        for a, b in zip(old, new, strict=True):
            moved.update(compress(range(n), map(is_not, a, b)))
        if all(key(old[0][i]) == key(new[0][i]) for i in moved):
            updated = {key(new[0][i]): entry(new, i) for i in sorted(moved) if not same(entry(old, i), entry(new, i))}
            return Changes(updated=updated) if updated else None
    return changes({key(x): entry(old, i) for i, x in enumerate(old[0])},
                   {key(x): entry(new, i) for i, x in enumerate(new[0])}, same)


def _apply_index(old: IndexData | None, patch: IndexPatch | None) -> IndexData | None:
    if patch is None:
        return old
    if patch.whole is not None:
        return patch.whole
    old = old or IndexData()
    extra = patch.extra.apply(dict(old.extra)) if patch.extra is not None else old.extra
    return IndexData(old.keys, old.fids, extra, patch.dead if patch.dead is not None else old.dead)


def apply(data, patches: list[Patch]) -> None:
    """Replay `patches` in order over `data` (a scancache.CacheData just decoded; changed in
    place). Files and sessions are keyed once for all of them."""
    if not patches:
        return
    c = data.claude
    files = {h.path: (h, f) for h, f in zip(c.heads, c.files, strict=True)}
    sessions = {s.id: s for s in c.sessions}
    for patch in patches:
        if patch.files is not None:
            patch.files.apply(files)
        if patch.sessions is not None:
            patch.sessions.apply(sessions)
        if patch.built_with is not None:
            c.built_with = patch.built_with
        c.keys = _apply_index(c.keys, patch.keys)
        c.errors = _apply_index(c.errors, patch.errors)
        if patch.corrections is not None:
            c.corrections = patch.corrections.apply(c.corrections)
        if patch.error_owners is not None:
            c.error_owners = patch.error_owners.apply(c.error_owners)
        if patch.next_fid is not None:
            c.next_fid = patch.next_fid
        if patch.codex is not None:
            data.codex = patch.codex.apply(data.codex)
    c.heads = [h for h, _ in files.values()]
    c.files = [f for _, f in files.values()]
    c.sessions = list(sessions.values())


def settled(data):
    """A copy of `data` (a CacheData about to be saved) that later scans cannot change: the
    provider keeps mutating its corrections, error owners and index additions in place."""
    c = data.claude

    def frozen(index: IndexData | None) -> IndexData | None:
        return None if index is None else IndexData(index.keys, index.fids, {k: list(v) for k, v in index.extra.items()},
                                                    list(index.dead))

    claude = msgspec.structs.replace(c, heads=list(c.heads), files=list(c.files), sessions=list(c.sessions),
                                     keys=frozen(c.keys), errors=frozen(c.errors), corrections=dict(c.corrections),
                                     error_owners=dict(c.error_owners))
    return msgspec.structs.replace(data, claude=claude, codex=dict(data.codex))


# -- the file -------------------------------------------------------------------------


def header(token: int) -> bytes:
    return MAGIC + token.to_bytes(8, "little")


def record(payload: bytes, chain: int) -> tuple[bytes, int]:
    """(the framed record, the CRC the next record chains on)."""
    crc = zlib.crc32(payload, chain)
    return len(payload).to_bytes(4, "little") + crc.to_bytes(4, "little") + payload, crc


def replay(raw: bytes, token: int, data) -> tuple[int, int, int]:
    """Apply the valid records of journal `raw` to `data` (a CacheData whose token is
    `token`); return (where the valid records end, the CRC the next record chains on, how
    many were applied). (0, 0, 0) when the journal belongs to another base."""
    if not token or len(raw) < HEADER or raw[:HEADER] != header(token):
        return 0, 0, 0
    view = memoryview(raw)
    pos, chain = HEADER, zlib.crc32(raw[:HEADER])
    patches: list[Patch] = []
    while pos + RECORD_HEAD <= len(raw):
        size = int.from_bytes(raw[pos : pos + 4], "little")
        end = pos + RECORD_HEAD + size
        if end > len(raw):
            break  # torn tail
        payload = view[pos + RECORD_HEAD : end]
        crc = zlib.crc32(payload, chain)
        if crc != int.from_bytes(raw[pos + 4 : pos + 8], "little"):
            break  # damaged, or not the successor of the record before
        try:
            patch = _decode_patch(payload)
        except (msgspec.DecodeError, msgspec.ValidationError):
            break
        patches.append(patch)
        pos, chain = end, crc
    apply(data, patches)
    return pos, chain, len(patches)


def encode(patch: Patch) -> bytes:
    return _encode_patch(patch)


@contextlib.contextmanager
def locked(path: str) -> Iterator[bool]:
    """An exclusive lock on `path` (created if needed); yields whether it was had within
    LOCK_WAIT_S. Where there are no advisory locks (Windows), never."""
    try:
        import fcntl
    except ImportError:
        yield False
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield False
        return
    try:
        deadline = time.monotonic() + LOCK_WAIT_S
        got = False
        while not got:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                got = True
            except OSError:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.005)
        yield got
    finally:
        os.close(fd)  # closing drops the lock
