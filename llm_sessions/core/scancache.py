"""The scan cache: every file's cursor and partial sums, kept between runs.

A second `llm-session list` must read only the bytes appended since the first, so the
providers' per-file state (byte offsets and the partial sums derived from the bytes before
them) is written here after a scan and read back before the next one.

It is a msgpack file rather than rows in the SQLModel store on purpose: the warm `list`
path has to answer in a fraction of a second, and importing SQLAlchemy alone costs about
0.2-0.3 s here, while decoding this file with msgspec costs milliseconds. The store keeps
what has to be queried (sessions, samples, exports); this file keeps what is only ever
loaded whole. Losing it costs one cold scan, never data: it is rebuilt from the transcripts.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path

import msgspec

from llm_sessions.core.providers.claude import ClaudeState
from llm_sessions.core.providers.codex import CodexFile

log = logging.getLogger(__name__)

# Bump whenever the parsers change what they derive from a line: old caches are then ignored.
FORMAT = 9  # 7: price groups, drift counts; 8: call stamps, limits; 9: per-file heads, built sessions, cross-file index


class CacheData(msgspec.Struct):
    format: int
    roots: list[str]
    # Per file: cursor and partial sums (decoded only for files that changed); per session:
    # the built Session; across files: the index of shared responses and errors.
    claude: ClaudeState = msgspec.field(default_factory=ClaudeState)
    codex: list[CodexFile] = []


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(CacheData)


def cache_file(cache_dir: Path, roots: list[str]) -> Path:
    """One cache per set of roots, so tests and the demo never clobber the real cache."""
    digest = hashlib.sha1("\0".join(roots).encode()).hexdigest()[:12]
    return cache_dir / f"scan-{digest}.msgpack"


def load(path: Path, roots: list[str]) -> CacheData | None:
    try:
        data = _decoder.decode(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, msgspec.DecodeError, msgspec.ValidationError) as exc:
        log.warning("ignoring unreadable scan cache %s: %s", path, exc)
        return None
    if data.format != FORMAT or data.roots != roots:
        return None
    return data


def save(path: Path, data: CacheData) -> None:
    """Write atomically: a crash mid-write leaves the previous cache, never half of one."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".scan-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(_encoder.encode(data))
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as exc:
        log.warning("cannot write scan cache %s: %s", path, exc)
