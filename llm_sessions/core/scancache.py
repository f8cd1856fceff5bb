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

import hashlib
import logging
import os
import tempfile
import zlib
from pathlib import Path

import msgspec

from llm_sessions.core.providers.claude_parse import ClaudeFile
from llm_sessions.core.providers.codex import CodexFile

log = logging.getLogger(__name__)

# Bump whenever the parsers change what they derive from a line: old caches are then ignored.
FORMAT = 7
MAGIC = b"llm-session scan cache\n"
_TMP_PREFIX = ".scan-"


class CacheData(msgspec.Struct):
    format: int
    roots: list[str]
    claude: list[ClaudeFile] = []
    codex: list[CodexFile] = []
    # Cross-file duplicate corrections and the fingerprint of the files they were made for.
    settled: tuple[str, list[tuple[str, str, int, list[int]]]] | None = None


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(CacheData)


def cache_file(cache_dir: Path, roots: list[str]) -> Path:
    """One cache per set of roots, so tests and the demo never clobber the real cache."""
    digest = hashlib.sha1("\0".join(roots).encode()).hexdigest()[:12]
    return cache_dir / f"scan-{digest}.msgpack"


def _frame(payload: bytes) -> bytes:
    return MAGIC + zlib.crc32(payload).to_bytes(4, "little") + payload


def _unframe(raw: bytes) -> bytes | None:
    head = len(MAGIC) + 4
    if len(raw) < head or not raw.startswith(MAGIC):
        return None
    payload = raw[head:]
    return payload if zlib.crc32(payload).to_bytes(4, "little") == raw[len(MAGIC) : head] else None


def load(path: Path, roots: list[str]) -> CacheData | None:
    try:
        raw = path.read_bytes()
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

    def encodable(f) -> bool:
        try:
            _encoder.encode(f)
            return True
        except (UnicodeEncodeError, OverflowError, TypeError, ValueError, msgspec.EncodeError):
            log.info("not caching %r: cannot be encoded", f.path)
            return False

    kept = msgspec.structs.replace(
        data,
        claude=[f for f in data.claude if encodable(f)],
        codex=[f for f in data.codex if encodable(f)],
        settled=None,  # computed over every file; recomputed next run
    )
    return _encoder.encode(kept)


def save(path: Path, data: CacheData) -> None:
    """Write atomically: a crash mid-write leaves the previous cache, never half of one."""
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
