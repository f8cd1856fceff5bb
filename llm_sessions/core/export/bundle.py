"""The bundle: its JSON schema, and its files, written atomically and read back validated.

A bundle is JSON (`"schema": "llm-session.bundle/1"`) that `read_bundle` round-trips exactly,
so `import` can relaunch the same assistant in the same folder, plus the Markdown brief
beside it. A file is written atomically (temp file in the same folder, fsync, then a hard
link that fails if the name exists, or os.replace when overwriting was asked for) with mode
0600, so a crash leaves either nothing or the whole file and an existing file is never
replaced by accident, not even by one that appears between a check and the write.
"""

from __future__ import annotations

import errno
import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

SCHEMA = "llm-session.bundle/1"
SCHEMA_PREFIX = "llm-session.bundle/"
MAX_BUNDLE_BYTES = 5 * 1024 * 1024

Format = Literal["md", "json", "both"]
FORMATS: tuple[str, ...] = ("md", "json", "both")


Recorder = Callable[[str, Path, str, int, int], None]
_C1 = re.compile(r"[\x80-\x9f]")


class BundleError(Exception):
    """A bundle problem worth one clear line to the user: bad file, wrong schema, clobber."""


@dataclass(frozen=True)
class Bundle:
    """One exported brief: machine-readable content plus the Markdown rendered from it.

    Everything is JSON-native (dicts, lists, str, int, float, bool, None) or a tuple of str,
    so `Bundle.from_dict(b.to_dict()) == b` holds exactly.
    """

    session: dict[str, Any]
    content: dict[str, Any]
    markdown: str
    sections: tuple[str, ...]
    dropped: tuple[str, ...] = ()
    budget_tokens: int = 0
    estimated_tokens: int = 0
    redactions: int = 0
    redacted: bool = True
    created_at: str = ""
    schema: str = SCHEMA

    @property
    def tool(self) -> str:
        return str(self.session.get("tool") or "")

    @property
    def session_id(self) -> str:
        return str(self.session.get("id") or "")

    @property
    def cwd(self) -> str | None:
        cwd = self.session.get("cwd")
        return cwd if isinstance(cwd, str) else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "created_at": self.created_at,
            "session": self.session,
            "sections": list(self.sections),
            "dropped": list(self.dropped),
            "budget_tokens": self.budget_tokens,
            "estimated_tokens": self.estimated_tokens,
            "redacted": self.redacted,
            "redactions": self.redactions,
            "content": self.content,
            "markdown": self.markdown,
        }

    def to_json(self) -> str:
        # C1 controls (U+0080-U+009F) are the one kind json.dumps leaves raw with
        # ensure_ascii=False; some terminals act on them, so they become \u00XX escapes.
        text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False)
        return _C1.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n"

    @classmethod
    def from_dict(cls, data: Any) -> Bundle:
        """Validate a decoded bundle; every problem becomes one BundleError line."""
        if not isinstance(data, dict):
            raise BundleError("not an llm-session bundle (the JSON is not an object)")
        schema = data.get("schema")
        if not isinstance(schema, str) or not schema.startswith(SCHEMA_PREFIX):
            raise BundleError(f"not an llm-session bundle (schema is {schema!r}, expected {SCHEMA!r})")
        if schema != SCHEMA:
            raise BundleError(f"unsupported bundle version {schema!r}; this llm-session reads {SCHEMA!r}")

        def need(key: str, kind: type | tuple[type, ...]) -> Any:
            value = data.get(key)
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise BundleError(f"invalid bundle: {key!r} is missing or has the wrong type")
            return value

        session = need("session", dict)
        for key in ("tool", "id"):
            if not isinstance(session.get(key), str) or not session[key]:
                raise BundleError(f"invalid bundle: session.{key} is missing")
        sections = need("sections", list)
        dropped = need("dropped", list)
        if not all(isinstance(s, str) for s in sections + dropped):
            raise BundleError("invalid bundle: sections must be names")
        return cls(
            session=session,
            content=need("content", dict),
            markdown=need("markdown", str),
            sections=tuple(sections),
            dropped=tuple(dropped),
            budget_tokens=need("budget_tokens", int),
            estimated_tokens=need("estimated_tokens", int),
            redactions=need("redactions", int),
            redacted=need("redacted", bool),
            created_at=need("created_at", str),
            schema=schema,
        )


def default_name(bundle: Bundle) -> str:
    """`<tool>-<id8>-<UTC time>`: sorts by time, says whose it is, never collides in practice."""
    try:
        when = datetime.fromisoformat(bundle.created_at)
    except ValueError:
        when = datetime.now(UTC)
    safe_id = "".join(c for c in bundle.session_id if c.isalnum() or c in "-_")[:8] or "session"
    return f"{bundle.tool or 'session'}-{safe_id}-{when.strftime('%Y%m%d-%H%M%S')}"


def target_paths(
    bundle: Bundle, dest: Path | str, fmt: Format, folder: bool | None = None, unique: bool = False
) -> list[tuple[str, Path]]:
    """Where `write_bundle` will write: (fmt, path) pairs, md first.

    `dest` is a folder -> default names inside; otherwise a file path whose suffix is replaced
    by .md/.json as the format needs. `folder=None` guesses: an existing folder, or a string
    ending in a slash (the way a user types a folder that does not exist yet).
    """
    if fmt not in FORMATS:
        raise BundleError(f"unknown format {fmt!r}; choose md, json or both")
    kinds = ["md", "json"] if fmt == "both" else [fmt]
    text = str(dest)
    dest = Path(text).expanduser()
    if folder is None:
        folder = dest.is_dir() or text.endswith(os.sep) or text.endswith("/")
    if folder:
        name = default_name(bundle)
        base = dest / name
        # `unique`: a second export within the same second gets "-2", never an error
        n = 2
        while unique and any(base.with_name(base.name + "." + k).exists() for k in kinds):
            base, n = dest / f"{name}-{n}", n + 1
        return [(k, base.with_name(base.name + "." + k)) for k in kinds]
    if fmt != "both" and dest.suffix == "." + fmt:
        return [(fmt, dest)]
    stem = dest.with_suffix("") if dest.suffix in (".md", ".json") else dest
    return [(k, stem.with_name(stem.name + "." + k)) for k in kinds]


def _fsync_dir(folder: Path) -> None:
    try:
        dfd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass  # some filesystems cannot fsync a directory; the file itself is on disk


def _place(tmp: str, path: Path) -> None:
    """Give the finished temp file its name, failing if the name exists.

    A hard link is atomic and refuses an existing name, so there is no moment between a
    check and the write in which another file could appear and be replaced. Where links are
    not supported, an exclusive create is the fallback (still never replacing anything).
    """
    try:
        os.link(tmp, path)
        return
    except FileExistsError:
        raise BundleError(f"{path} exists; use --force to overwrite it") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK, errno.ENOSYS):
            raise
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    except FileExistsError:
        raise BundleError(f"{path} exists; use --force to overwrite it") from None
    with os.fdopen(fd, "wb") as out, open(tmp, "rb") as src:
        out.write(src.read())
        out.flush()
        os.fsync(out.fileno())


def _atomic_write(path: Path, data: bytes, force: bool) -> None:
    """Write `data` to `path` via a same-folder temp file and fsync, mode 0600; then link it
    into place (never over an existing file), or os.replace it when `force`."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if force:
            os.replace(tmp, path)
        else:
            _place(tmp, path)
    finally:
        try:
            os.unlink(tmp)
        except OSError:
            pass  # already renamed into place
    _fsync_dir(path.parent)


def write_new(path: Path, data: bytes, attempts: int = 100) -> Path:
    """Write `data` under `path`, or `name-2.ext`, `name-3.ext` ... if taken; never replaces
    a file. A candidate that already holds exactly `data` is reused. Returns the path."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    for i in range(1, attempts + 1):
        candidate = path if i == 1 else path.with_name(f"{path.stem}-{i}{path.suffix}")
        try:
            if candidate.read_bytes() == data:
                return candidate
        except OSError:
            pass
        try:
            _atomic_write(candidate, data, force=False)
            return candidate
        except BundleError:
            continue
    raise BundleError(f"{path} and {attempts - 1} numbered names beside it exist; clean up {path.parent}")


def write_bundle(
    bundle: Bundle,
    dest: Path | str,
    fmt: Format = "md",
    force: bool = False,
    record: Recorder | None = None,
    folder: bool | None = None,
) -> list[Path]:
    """Write the bundle as Markdown, JSON or both; return the paths written.

    Every target is checked before anything is written, so `both` never leaves one file
    without the other because the second already existed. If a later write fails, files this
    call created are removed again. `record(session_id, path, fmt, redactions, tokens)` is
    called once per file written (the integrator wires it to the store). `folder=True`
    says `dest` is a folder even when it does not exist yet (see `target_paths`).
    """
    targets = target_paths(bundle, dest, fmt, folder, unique=not force)
    if not force:
        for _kind, path in targets:
            if path.exists():
                raise BundleError(f"{path} exists; use --force to overwrite it")
    for _kind, path in targets:
        try:
            # Briefs describe private work: a folder we create is the user's alone.
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise BundleError(f"cannot create {path.parent}: {exc.strerror or exc}") from None
    written: list[Path] = []
    created: list[Path] = []
    try:
        for kind, path in targets:
            data = (bundle.markdown if kind == "md" else bundle.to_json()).encode("utf-8")
            existed = force and path.exists()
            _atomic_write(path, data, force)
            written.append(path)
            if not existed:
                created.append(path)
    except BaseException as exc:
        for path in created:
            try:
                path.unlink()
            except OSError:
                pass
        if isinstance(exc, OSError):
            raise BundleError(f"cannot write {exc.filename or dest}: {exc.strerror or exc}") from None
        raise
    if record is not None:
        for (kind, _), path in zip(targets, written, strict=True):
            record(bundle.session_id, path, kind, bundle.redactions, bundle.estimated_tokens)
    return written


def read_bundle(path: Path | str, max_bytes: int = MAX_BUNDLE_BYTES) -> Bundle:
    """Read and validate a JSON bundle; every problem is a BundleError with one clear line."""
    from llm_sessions.core.safeio import FileTooLarge, read_regular

    path = Path(path).expanduser()
    if path.is_dir():
        raise BundleError(f"{path} is a folder, not a bundle file")
    try:
        # Only a regular file, and never more than max_bytes of it: a FIFO or /dev/zero
        # passed as a bundle used to hang the command or fill the memory.
        raw = read_regular(path, max_bytes)
    except FileNotFoundError:
        raise BundleError(f"{path}: no such file") from None
    except FileTooLarge as exc:
        raise BundleError(f"{path} is {exc.size} bytes; bundles are at most {max_bytes} bytes") from None
    except OSError as exc:
        raise BundleError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        hint = ""
        if path.suffix == ".md" and path.with_suffix(".json").exists():
            hint = f"; the JSON bundle is {path.with_suffix('.json')}"
        elif path.suffix == ".md":
            hint = "; import needs the JSON bundle (export with --format json or both)"
        raise BundleError(f"{path} is not an llm-session bundle (not JSON){hint}") from None
    try:
        return Bundle.from_dict(data)
    except BundleError as exc:
        raise BundleError(f"{path}: {exc}") from None


__all__ = [
    "FORMATS",
    "MAX_BUNDLE_BYTES",
    "SCHEMA",
    "Bundle",
    "BundleError",
    "Format",
    "Recorder",
    "default_name",
    "read_bundle",
    "target_paths",
    "write_bundle",
    "write_new",
]
