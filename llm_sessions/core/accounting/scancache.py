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

from llm_sessions.core.accounting.providers.claude import ClaudeState
from llm_sessions.core.accounting.providers.codex import CodexFile
from llm_sessions.core.safeio import read_regular

log = logging.getLogger(__name__)

# Bump whenever the parsers change what they derive from a line: old caches are then ignored.
FORMAT = 11  # 7: price groups, drift; 8: call stamps, limits; 9-10: checksum, lazy states; 11: heads, built sessions, cross-file index
MAGIC = b"llm-session scan cache\n"
MAX_CACHE_BYTES = 4 * 1024**3
_TMP_PREFIX = ".scan-"


class CacheData(msgspec.Struct):
    format: int
    roots: list[str]
    # Claude: per file a head and its partial result (decoded only for files that change),
    # per session the built Session, across files the index of shared responses and errors.
    claude: ClaudeState = msgspec.field(default_factory=ClaudeState)
    # Codex: path -> that file's state, kept encoded until it is used
    codex: dict[str, msgspec.Raw] = {}


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


def cache_file(cache_dir: Path, roots: list[str]) -> Path:
    """One cache per set of roots, so tests and the demo never clobber the real cache."""
    digest = hashlib.sha1("\0".join(roots).encode()).hexdigest()[:12]
    return cache_dir / f"scan-{digest}.msgpack"


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


def load(path: Path, roots: list[str]) -> CacheData | None:
    try:
        raw = read_regular(path, MAX_CACHE_BYTES)
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("ignoring unreadable scan cache %s: %s", path, exc)
        return None
    payload = _unframe(raw)
    if payload is None:
        log.warning("ignoring damaged scan cache %s (bad checksum or header)", path)
        return None
    try:
        with _no_gc():
            data = _decoder.decode(payload)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        log.warning("ignoring unreadable scan cache %s: %s", path, exc)
        return None
    if data.format != FORMAT or data.roots != roots:
        return None
    return data


def _encode(data: CacheData) -> bytes:
    """msgpack of `data`; files that cannot be encoded are left out (and re-read next run)."""
    try:
        return _encoder.encode(data)
    except (UnicodeEncodeError, OverflowError, TypeError, ValueError, msgspec.EncodeError):
        pass

    def encodable(path: str, f) -> bool:
        try:
            _encoder.encode(path)
            _encoder.encode(f)
            return True
        except (UnicodeEncodeError, OverflowError, TypeError, ValueError, msgspec.EncodeError):
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
    return _encoder.encode(kept)


def save(path: Path, data: CacheData) -> None:
    """Write atomically: a crash mid-write leaves the previous cache, never half of one."""
    import tempfile  # here: a warm run with nothing changed never saves

    from llm_sessions.paths import clean_debris

    try:
        blob = _frame(_encode(data))
        path.parent.mkdir(parents=True, exist_ok=True)
        clean_debris(path.parent, _TMP_PREFIX)
        fd, tmp = tempfile.mkstemp(prefix=_TMP_PREFIX, dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(blob)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as exc:
        # A full disk or a read-only cache folder costs the next run a cold scan, nothing more.
        log.warning("cannot write scan cache %s: %s", path, exc)
