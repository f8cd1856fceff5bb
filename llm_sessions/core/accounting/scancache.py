"""The scan cache: every file's cursor and partial sums, kept between runs.

A second `llm-session list` must read only the bytes appended since the first, so the
providers' per-file state (byte offsets and the partial sums derived from the bytes before
them) is written here after a scan and read back before the next one.

It is a msgpack file rather than rows in the SQLModel store on purpose: the warm `list`
path has to answer in a fraction of a second, and importing SQLAlchemy alone costs about
0.2-0.3 s here, while decoding this file with msgspec costs milliseconds. The store keeps
what has to be queried (sessions, samples, exports); this file keeps what is only ever
loaded whole. Losing it costs one cold scan, never data: it is rebuilt from the transcripts.

So a damaged cache must be noticed, never believed: the file starts with a magic string and
a CRC-32 of the payload, and a cache whose checksum, format or roots do not match is ignored
(a bit flipped on disk used to change figures silently). What cannot be encoded (a path
that is not valid UTF-8) is left out of the cache and simply re-read next run, and temp
files left by a crash mid-write are removed by the next save.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import os
import zlib
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgspec

from llm_sessions.core.accounting import scanjournal
from llm_sessions.core.accounting.providers.claude import ClaudeState
from llm_sessions.core.accounting.providers.codex import CodexFile
from llm_sessions.core.accounting.sanity import ENCODE_ERRORS
from llm_sessions.core.safeio import read_regular_stat

log = logging.getLogger(__name__)

# Bump whenever the parsers change what they derive from a line: old caches are then ignored.
FORMAT = 11  # 7: price groups, drift; 8: call stamps, limits; 9-10: checksum, lazy states; 11: heads, built sessions, cross-file index
MAGIC = b"llm-session scan cache\n"
MAX_CACHE_BYTES = 4 * 1024**3
_TMP_PREFIX = ".scan-"
_JOURNAL_PREFIX = ".scanj-"


class CacheData(msgspec.Struct):
    format: int
    roots: list[str]
    # Claude: per file a head and its partial result (decoded only for files that change),
    # per session the built Session, across files the index of shared responses and errors.
    claude: ClaudeState = msgspec.field(default_factory=ClaudeState)
    # Codex: path -> that file's state, kept encoded until it is used
    codex: dict[str, msgspec.Raw] = {}
    # Names this base to its journal (scanjournal): a journal naming another token is not
    # this base's. 0 (a base written before journals existed) has no journal.
    token: int = 0


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(CacheData)
_MISSING = object()


class LazyStates(dict):
    """path -> per-file state, each decoded from the cache the first time it is used.

    `list` with a few sessions running reads a handful of a history's files: decoding the
    states of all 100,000 (and holding them, about 4 KB each) would be most of its work.
    Entries stay `msgspec.Raw` (a view into the cache bytes) until looked up; `values()`
    and `items()` decode the rest at once; saving writes undecoded entries back as they were.
    """

    def __init__(self, raw: dict, kind: type) -> None:
        super().__init__(raw)
        self._decode_one: Callable[[msgspec.Raw], Any] = msgspec.msgpack.Decoder(kind).decode

    def _ready(self, key, value):
        if isinstance(value, msgspec.Raw):
            value = self._decode_one(value)
            dict.__setitem__(self, key, value)
        return value

    def __getitem__(self, key):
        return self._ready(key, dict.__getitem__(self, key))

    def get(self, key, default=None):
        value = dict.get(self, key, _MISSING)
        return default if value is _MISSING else self._ready(key, value)

    def _all(self) -> None:
        pending = [(k, v) for k, v in dict.items(self) if isinstance(v, msgspec.Raw)]
        if pending:
            with _no_gc():
                for key, value in pending:
                    dict.__setitem__(self, key, self._decode_one(value))

    def values(self):
        self._all()
        return dict.values(self)

    def items(self):
        self._all()
        return dict.items(self)

    def encoded(self) -> dict:
        """Entries as they are (decoded or still raw), for `save`."""
        return dict(dict.items(self))


def restore(data: CacheData) -> tuple[ClaudeState, LazyStates]:
    """The Claude state (its files decoded lazily by the provider) and the Codex per-file
    states of a loaded cache, decoded lazily."""
    return data.claude, LazyStates(data.codex, CodexFile)


def decode_all(*states) -> None:
    """Decode every entry still encoded (one by one, with the collector on, costs 5x more)."""
    for each in states:
        if isinstance(each, LazyStates):
            each._all()


def as_entries(states) -> dict:
    """A provider's `files` (a LazyStates or a plain dict) as CacheData entries."""
    return states.encoded() if isinstance(states, LazyStates) else dict(states)


def cache_file(cache_dir: Path, roots: list[str], scoped: bool = False) -> Path:
    """One cache per set of roots, so tests and the demo never clobber the real cache.

    `scoped`: the cache of runs limited to running sessions (`list`): only the files their
    scope read, so a history of 100,000 transcripts is not loaded whole to answer for a few
    (see Monitor.save_cache). Same format, journal and locking as the full one.
    """
    digest = hashlib.sha1("\0".join(roots).encode()).hexdigest()[:12]
    return cache_dir / f"scan-{digest}{'.live' if scoped else ''}.msgpack"


@contextmanager
def _no_gc():
    """Decode without the cycle collector, then exempt what was decoded from later passes.

    A cache of 100,000 files is a few million small containers, none in a cycle; with the
    collector on, decoding it took 4 s instead of 0.7 s, and every later full collection
    walked them all again. `gc.freeze()` moves them out of the collector's sight.
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was:
            gc.enable()


def _frame(payload: bytes) -> bytes:
    return MAGIC + zlib.crc32(payload).to_bytes(4, "little") + payload


def _unframe(raw: bytes) -> memoryview | None:
    head = len(MAGIC) + 4
    if len(raw) < head or not raw.startswith(MAGIC):
        return None
    payload = memoryview(raw)[head:]  # no copy: a big cache would be held twice
    return payload if zlib.crc32(payload).to_bytes(4, "little") == raw[len(MAGIC) : head] else None


def _read(path: Path) -> tuple[bytes, os.stat_result] | None:
    """(content, fstat of what was read) of a cache file, None if it is missing or unreadable."""
    try:
        return read_regular_stat(path, MAX_CACHE_BYTES)
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("ignoring unreadable scan cache %s: %s", path, exc)
        return None


def _identity(st: os.stat_result) -> tuple[int, int, int]:
    """What tells one file written to a path from the next (each is a new inode, renamed in)."""
    return st.st_ino, st.st_size, st.st_mtime_ns


def _stat(path: Path) -> tuple[int, int, int] | None:
    try:
        return _identity(os.stat(path))
    except OSError:
        return None


class ScanCache:
    """The scan cache of one set of roots: a base file and its journal (see scanjournal).

    `load` reads the base and replays the journal; `save` appends the difference from what
    this object last read or wrote, or writes a whole new base when the journal has grown
    past 1/COMPACT_SHARE of the base, when another process wrote in between, or when the
    difference cannot be a patch. Both are cheap to call on a cache that does not exist.
    """

    COMPACT_SHARE = 4
    MIN_JOURNAL = 64 * 1024  # a small base still gets a journal of this size

    def __init__(self, path: Path, roots: list[str]) -> None:
        self.path = path
        self.roots = roots
        self.journal = path.with_name(path.name + ".journal")
        self.lock = path.with_name(path.name + ".lock")
        # What base + journal hold, as this process last read or wrote them (None: unknown,
        # the next save writes a whole base), and the files it saw then.
        self._known: CacheData | None = None
        self._base: tuple[int, int, int] | None = None
        self._tail: tuple[tuple[int, int, int] | None, int, int] | None = None  # journal identity, end, chain
        self.journal_records = 0  # records replayed or appended since the base (for tests, benchmarks)

    def written_ns(self) -> int:
        """When base or journal was last written (0: no base): which of two caches is newer."""
        try:
            base = os.stat(self.path).st_mtime_ns
        except OSError:
            return 0
        try:
            return max(base, os.stat(self.journal).st_mtime_ns)
        except OSError:
            return base

    def load(self) -> CacheData | None:
        self._known = self._base = self._tail = None
        got = _read(self.path)
        if got is None:
            return None
        raw, st = got
        payload = _unframe(raw)
        if payload is None:
            log.warning("ignoring damaged scan cache %s (bad checksum or header)", self.path)
            return None
        try:
            with _no_gc():
                data = _decoder.decode(payload)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            log.warning("ignoring unreadable scan cache %s: %s", self.path, exc)
            return None
        if data.format != FORMAT or data.roots != self.roots:
            return None
        self._base = _identity(st)
        self._tail = self._replay(data)
        self._known = data  # restoring a provider copies what it changes later
        return data

    def _replay(self, data: CacheData) -> tuple[tuple[int, int, int] | None, int, int] | None:
        """Apply the journal to `data`; (its identity, where its valid records end, the chain
        CRC there), or None when there is no journal of this base."""
        if not data.token:
            return None
        got = _read(self.journal)
        if got is None:
            return None
        raw, st = got
        with _no_gc():
            end, chain, records = scanjournal.replay(raw, data.token, data)
        if not end:
            return None
        self.journal_records = records
        return _identity(st), end, chain

    def save(self, data: CacheData, codex_unchanged: bool = False) -> None:
        """Append what changed to the journal, or write a whole base (see the class).

        `codex_unchanged`: no Codex state was read further since this cache was loaded or
        saved. Codex states are changed in place, so only encoding them all tells otherwise
        (8 ms for d1g's 136 rollouts, on every save); an older state of a rollout would in
        any case be a true one, re-read from its cursor next run.
        """
        known = self._known
        if codex_unchanged and known is not None and known.codex.keys() == data.codex.keys():
            data = msgspec.structs.replace(data, codex=known.codex)
        try:
            codex = {p: v if isinstance(v, msgspec.Raw) else msgspec.Raw(_encoder.encode(v)) for p, v in data.codex.items()}
        except ENCODE_ERRORS:
            self._write_base(data)  # leaves out what cannot be encoded
            return
        data = msgspec.structs.replace(data, codex=codex)
        with scanjournal.locked(str(self.lock)) as got:
            if not (got and self._append(data)):
                self._write_base(data)

    def _append(self, data: CacheData) -> bool:
        """Append `data`'s difference from the known state; False when only a base will do."""
        known, tail = self._known, self._tail
        if known is None or not known.token or self._base is None or _stat(self.path) != self._base:
            return False
        if tail is not None and _stat(self.journal) != tail[0]:
            return False  # another process appended or compacted since
        patch = scanjournal.diff(known, data)
        if patch is None:
            return False
        if patch.empty():
            return True
        try:
            payload = scanjournal.encode(patch)
        except ENCODE_ERRORS:
            return False
        end = tail[1] if tail is not None else scanjournal.HEADER
        if end + len(payload) + scanjournal.RECORD_HEAD > max(self._base[1] // self.COMPACT_SHARE, self.MIN_JOURNAL):
            return False  # compaction: the journal has grown past its share of the base
        try:
            if tail is None:
                head = scanjournal.header(known.token)
                rec, chain = scanjournal.record(payload, zlib.crc32(head))
                # a new journal replaces whatever stale one was there, whole or not at all
                _write_new(self.journal, head + rec, _JOURNAL_PREFIX)
            else:
                rec, chain = scanjournal.record(payload, tail[2])
                fd = os.open(self.journal, os.O_WRONLY)
                try:
                    if os.fstat(fd).st_size != end:
                        os.truncate(fd, end)  # a torn record a crash left: never trusted, now gone
                    os.lseek(fd, end, os.SEEK_SET)
                    _write_all(fd, rec)
                finally:
                    os.close(fd)
        except OSError as exc:
            log.warning("cannot append to scan cache journal %s: %s", self.journal, exc)
            self._known = None  # what the journal now holds is unsure: the next save writes a base
            return True
        self._tail = (_stat(self.journal), end + len(rec), chain)
        self._known = scanjournal.settled(msgspec.structs.replace(data, token=known.token))
        self.journal_records += 1
        return True

    def _write_base(self, data: CacheData) -> None:
        """A whole new base under a new token, then the old journal removed (a crash between
        the two leaves a journal naming the old token: ignored)."""
        self._known = self._base = self._tail = None
        data = msgspec.structs.replace(data, token=_new_token())
        try:
            payload, whole = _encode(data)
            identity = _write_new(self.path, _frame(payload), _TMP_PREFIX)
        except OSError as exc:
            # A full disk or a read-only cache folder costs the next run a cold scan, nothing more.
            log.warning("cannot write scan cache %s: %s", self.path, exc)
            return
        with contextlib.suppress(OSError):
            os.unlink(self.journal)
        self.journal_records = 0
        if whole:  # else what was left out makes the file differ from `data`: next time a base again
            self._base = identity
            self._known = scanjournal.settled(data)


def _new_token() -> int:
    return int.from_bytes(os.urandom(8), "little") or 1


def _write_all(fd: int, blob: bytes) -> None:
    view = memoryview(blob)
    while view:
        view = view[os.write(fd, view) :]


def _write_new(path: Path, blob: bytes, prefix: str) -> tuple[int, int, int]:
    """Write atomically: a crash mid-write leaves the previous file, never half of one.
    Returns the identity of the file written."""
    import tempfile  # here: a warm run with nothing changed never saves

    from llm_sessions.paths import clean_debris

    path.parent.mkdir(parents=True, exist_ok=True)
    clean_debris(path.parent, prefix)
    fd, tmp = tempfile.mkstemp(prefix=prefix, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
            fh.flush()
            identity = _identity(os.fstat(fh.fileno()))
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return identity


def load(path: Path, roots: list[str]) -> CacheData | None:
    """The cache at `path` with its journal replayed (see ScanCache)."""
    return ScanCache(path, roots).load()


def _encode(data: CacheData) -> tuple[bytes, bool]:
    """(msgpack of `data`, whether all of it); files that cannot be encoded are left out
    (and re-read next run)."""
    try:
        return _encoder.encode(data), True
    except ENCODE_ERRORS:
        pass

    def encodable(path: str, f) -> bool:
        try:
            _encoder.encode(path)
            _encoder.encode(f)
            return True
        except ENCODE_ERRORS:
            log.info("not caching %r: cannot be encoded", path)
            return False

    claude = data.claude
    keep = [i for i, h in enumerate(claude.heads) if encodable(h.path, h)]
    # A file left out is read again next run as a new file (a new id in the indexes); its
    # session is left out too and rebuilt then.
    kept = msgspec.structs.replace(
        data,
        claude=msgspec.structs.replace(
            claude,
            heads=[claude.heads[i] for i in keep],
            files=[claude.files[i] for i in keep],
            sessions=[s for s in claude.sessions if encodable(s.id, s)],
        ),
        codex={p: f for p, f in data.codex.items() if encodable(p, f)},
    )
    return _encoder.encode(kept), False


def save(path: Path, data: CacheData) -> None:
    """Write `data` as a whole new base at `path` (a process that keeps a ScanCache saves
    through it instead, and appends to the journal)."""
    ScanCache(path, data.roots).save(data)
