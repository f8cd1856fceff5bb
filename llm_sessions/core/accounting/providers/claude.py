"""Claude Code: transcripts under `<root>/projects/<encoded cwd>/`, exact token counts.

The provider keeps one `ClaudeFile` per transcript (see claude_parse), re-reads only bytes
appended since the last scan, and merges the files into sessions:
- a session is a main file `<sessionId>.jsonl` plus its subagent files (the nested
  `<sessionId>/subagents/agent-*.jsonl` and the older flat `agent-*.jsonl`, whose records
  name the parent in `sessionId`): subagent usage counts toward the parent's totals, never
  toward its context fill, and subagents are never sessions of their own;
- a (message.id, requestId) key seen in several files is counted once, with its largest
  usage, for the file that wrote it first (files ordered by first, then last timestamp), so
  a resumed session's copied lines stay with the original session.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, cast

import msgspec

from llm_sessions.core.accounting import tailer
from llm_sessions.core.accounting.crossfile import IndexData, ItemIndex
from llm_sessions.core.accounting.dirtree import DirTree
from llm_sessions.core.accounting.health import compaction_point_for
from llm_sessions.core.accounting.pricing import Bill
from llm_sessions.core.accounting.providers.base import ScanResult
from llm_sessions.core.accounting.providers.claude_parse import NCOLS, ClaudeFile, FileParser, key_hash
from llm_sessions.core.accounting.roots import claude_roots, existing_dir
from llm_sessions.core.models import ContextFill, Session, TurnMark, Usage
from llm_sessions.core.problems import cannot_parse, not_a_file, unreadable_file
from llm_sessions.core.safeio import is_regular, printable
from llm_sessions.core.timeparse import parse_ts

_TurnKind = Literal["assistant", "user", "tool_result"]  # TurnMark.kind: what ClaudeFile.recent holds
log = logging.getLogger(__name__)

WINDOW = 200_000
WINDOW_1M = 1_000_000
FULL_EVERY_S = 600  # a light-scanning dashboard still lists everything this often
HOT_S = 3600  # a file changed within this is stat-ed on every light scan
COLD_SHARE = 30  # the other files and folders: one share per light scan
MIN_SHARE_FILES = 32  # ... but at least this many files
MIN_SHARE_DIRS = 16  # ... and folders

Group = tuple[str, int, str, str, bool]  # model, prompt-size bucket, speed, day, advisor call


def classify(path: str) -> tuple[bool, str]:
    """(is a subagent file, session id guess) from where a transcript sits: nested
    `<sessionId>/subagents/agent-*.jsonl`, legacy flat `agent-*.jsonl` (named inside), or
    `<sessionId>.jsonl`."""
    folder, name = os.path.split(path)
    stem = name[:-6]
    # A session id comes from a file name, which may not be UTF-8: ids are shown, stored
    # and printed as JSON, so they hold the name escaped; the path stays raw.
    if os.path.basename(folder) == "subagents":
        return True, printable(os.path.basename(os.path.dirname(folder)))
    if stem.startswith("agent-"):
        return True, ""
    return False, printable(stem)


def project_dirs(roots: Iterable[Path], problems: list) -> list[str]:
    """Each root's projects/ folder that exists, once per real folder (two configured roots
    that are one folder are scanned once)."""
    out: list[str] = []
    seen: set[str] = set()
    for root in roots:
        projects = os.path.join(root, "projects")
        real = os.path.realpath(projects)
        if real not in seen and existing_dir(projects, problems):
            seen.add(real)
            out.append(projects)
    return out


def _is_transcript(name: str) -> bool:
    return name.endswith(".jsonl")


def list_transcripts(roots: Iterable[Path], problems: list) -> list[tuple[str, bool, str]]:
    """(path, is_subagent, session id guess) for every .jsonl under each root's projects/."""
    tree = DirTree(_is_transcript)
    tree.full(project_dirs(roots, problems), problems)
    return [(path, *classify(path)) for path in tree.files()]


def parse_file(f: ClaudeFile, st: os.stat_result) -> ClaudeFile:
    """Read what was appended to one file since its cursor and fold it into `f`."""
    name, folder = os.path.basename(f.path), os.path.basename(os.path.dirname(f.path))
    parser = FileParser(f, legacy_agent=f.subagent and name.startswith("agent-") and folder != "subagents")
    failed = 0
    for block, lines in tailer.read_blocks(f.path, f.cursor, st):
        try:
            parser.feed_block(block, lines)
        except Exception:  # a bug in one line must cost that line only
            failed += _feed_lines(parser, bytes(block))
    f.malformed += failed
    return parser.finish()


def _feed_lines(parser: FileParser, block: bytes) -> int:
    """A block the block parser raised on, line by line: how many lines raised too."""
    failed = 0
    for line in block.split(b"\n"):
        if line:
            try:
                parser.feed(line)
            except Exception:  # the same, line by line
                failed += 1
    return failed


def parse_one(f: ClaudeFile, st: os.stat_result, problems: list) -> ClaudeFile:
    """`parse_file` isolated per file: a file that cannot be read or parsed is one problem.

    A parse that fails outright (a bug, since lines are isolated) forgets what the file gave
    and is not retried until the file changes, so the others and later polls go on.
    """
    try:
        return parse_file(f, st)
    except OSError as exc:
        problems.append(unreadable_file(f.path, exc))
    except Exception as exc:  # a bug: this file is one problem, the others go on
        log.exception("cannot parse %s", f.path)
        problems.append(cannot_parse(f.path, exc))
        f.reset()
        f.cursor = tailer.Cursor(dev=st.st_dev, ino=st.st_ino, size=st.st_size, mtime_ns=st.st_mtime_ns)
    return f


def _in_scope(found: list[str], roots: Iterable[Path], scope) -> tuple[list[str], list[str]]:
    """(files of the project folders that may hold a running session, files active within
    the usage-limit windows): see core.live.scope."""
    tops = [os.path.join(r, "projects") + os.sep for r in roots]
    folders: dict[str, list[str]] = {}
    for path in found:
        top = next((t for t in tops if path.startswith(t)), "")
        folder = path[: len(top)] + path[len(top) :].split(os.sep, 1)[0]
        folders.setdefault(folder, []).append(path)
    live, recent = [], []
    for folder, items in folders.items():
        hot = scope.wants_claude_dir(os.path.basename(folder))
        for path in items:
            try:
                st = os.stat(path)
            except OSError:
                continue
            if scope.for_limits(st):
                recent.append(path)
            hot = hot or scope.wants_file(os.path.basename(path), st)
        if hot:
            live.extend(items)
    return live, recent


class Head(msgspec.Struct, array_like=True):
    """What the merge needs of one file without decoding its partial result (`ClaudeFile`)."""

    path: str
    fid: int  # this content's id in the cross-file indexes
    generation: int
    session: str
    subagent: bool
    first_ts: str
    last_ts: str
    nkeys: int
    nerrors: int
    malformed: int
    usage_drift: int
    convo: bool
    limit_hits: list[tuple[int, int, str]]
    cursor: tailer.Cursor


class ClaudeState(msgspec.Struct):
    """The provider's state between runs (in the scan cache): enough for a warm run that
    changed nothing to answer without decoding a single file's partial result, and for an
    append to re-read one file and rebuild one session."""

    heads: list[Head] = []
    files: list[msgspec.Raw] = []  # each head's encoded ClaudeFile, decoded when needed
    sessions: list[Session] = []
    built_with: str = ""  # fingerprint of what `sessions` depend on besides files (prices, settings)
    keys: IndexData | None = None
    errors: IndexData | None = None
    # Shared response key -> corrections to its holders' sessions: (session, price group, deltas).
    corrections: dict[int, list[tuple[str, Group, list[int]]]] = {}
    error_owners: dict[int, int] = {}  # shared error line -> the file id that counts it
    next_fid: int = 1


class FileView:
    """A file's head standing in for its ClaudeFile: a poll filters thousands of files by
    their times without decoding one, and decodes only those it reads further."""

    __slots__ = ("_provider", "_head", "_file")

    def __init__(self, provider: ClaudeProvider, head: Head) -> None:
        self._provider = provider
        self._head = head
        self._file: ClaudeFile | None = None

    path = property(lambda self: self._head.path)
    first_ts = property(lambda self: self._head.first_ts)
    last_ts = property(lambda self: self._head.last_ts)
    cursor = property(lambda self: self._head.cursor)
    limit_hits = property(lambda self: self._head.limit_hits)
    subagent = property(lambda self: self._head.subagent)

    def __getattr__(self, name: str):
        f = self._file
        if f is None:
            # Decoded for this view only: the hourly pass over 8 weeks of files must not
            # leave every partial result decoded in the provider.
            p = self._provider
            f = self._file = p.files.get(self._head.path) or _decode_file(p.raw[self._head.path])
        return getattr(f, name)


def error_item(uuid: str) -> int:
    return key_hash(uuid, "\x01error")


@dataclass(slots=True)
class _Acc:
    """Per-session accumulator while merging files."""

    sums: dict[Group, list[int]] = field(default_factory=dict)
    main: ClaudeFile | None = None
    files: list[ClaudeFile] = field(default_factory=list)
    api_errors: int = 0
    tool_errors: int = 0

    def add(self, group: Group, vals: Iterable[int]) -> None:
        s = self.sums.setdefault(group, [0] * (NCOLS + 1))
        for i, v in enumerate(vals):
            s[i] += v


_encode = msgspec.msgpack.Encoder().encode
_decode_file = msgspec.msgpack.Decoder(ClaudeFile).decode


def _order(h: Head) -> tuple[str, str, str]:
    """Files in the order that decides who owns a copied line: copied lines keep their
    timestamps, so a resumed file starts at the same instant as the original; the original
    is the one whose history ends first."""
    return (h.first_ts or "~", h.last_ts, h.path)


def _total(vals: list[int]) -> int:
    """A key's size for "the largest copy wins": the 1-hour column is part of the writes."""
    return sum(vals) - vals[3]


class ClaudeProvider:
    tool = "claude"

    def __init__(self, env: Mapping[str, str], settings=None, prices=None, built_with: str = "") -> None:
        self.env = env
        self.settings = settings
        self.prices = prices
        self.built_with = built_with
        self.heads: dict[str, Head] = {}
        self.raw: dict[str, msgspec.Raw] = {}
        self.files: dict[str, ClaudeFile] = {}
        self.sessions: dict[str, Session] = {}
        self.members: dict[str, set[str]] = {}
        self.by_fid: dict[int, str] = {}
        self.keys = ItemIndex()
        self.errors = ItemIndex()
        self.corrections: dict[int, list[tuple[str, Group, list[int]]]] = {}
        self.error_owners: dict[int, int] = {}
        self.next_fid = 1
        self._shared_keys: dict[int, list[int]] = {}
        self._shared_errors: dict[int, list[int]] = {}
        self._arrays: dict[str, tuple[array, array, array]] = {}
        self.parsed_bytes = 0
        self.changed = False
        self.rebuilt = 0  # sessions rebuilt by the last scan
        # Light scans (see _light_listing): the folder tree, files changed lately, sessions
        # with a live process (set by the monitor), watcher hints, the rotation through the rest.
        self.tree = DirTree(_is_transcript)
        self._full_at = 0.0
        self._hot: set[str] = set()
        self.live_sessions: set[str] = set()
        self._hints: set[str] = set()
        self._hints_lock = threading.Lock()
        self._cold: list[str] = []
        self._cold_pos = 0
        self._dir_pos = 0
        # after a scan limited to live sessions: the files the usage limits need (else None)
        self.limit_paths: list[str] | None = None

    def roots(self) -> list[Path]:
        return claude_roots(self.env)

    # -- persistence (the scan cache keeps this state between runs) ---------------------
    def state(self) -> ClaudeState:
        heads, files = [], []
        for h in self.heads.values():
            raw = self.raw.get(h.path)
            if raw is None:
                try:
                    raw = msgspec.Raw(_encode(self.files[h.path]))
                except (UnicodeEncodeError, OverflowError, TypeError, ValueError, msgspec.EncodeError):
                    continue  # a name that is not UTF-8: not cached, read again next run
            heads.append(h)
            files.append(raw)
        return ClaudeState(heads, files, list(self.sessions.values()), self.built_with, self.keys.data(),
                           self.errors.data(), self.corrections, self.error_owners, self.next_fid)

    def restore(self, state: ClaudeState) -> None:
        self.heads = {h.path: h for h in state.heads}
        self.raw = {h.path: raw for h, raw in zip(state.heads, state.files, strict=True)}
        self.files = {}
        self.by_fid = {h.fid: h.path for h in state.heads}
        self.members = {}
        for h in state.heads:
            self.members.setdefault(h.session, set()).add(h.path)
        self.keys = ItemIndex(state.keys)
        self.errors = ItemIndex(state.errors)
        self.corrections = dict(state.corrections)
        self.error_owners = dict(state.error_owners)
        self.next_fid = state.next_fid
        # Sessions built with other prices or settings are rebuilt from the partials.
        self.sessions = {s.id: s for s in state.sessions} if state.built_with == self.built_with else {}

    def _file(self, path: str) -> ClaudeFile:
        """A file's partial result, decoded from the cache the first time it is needed."""
        f = self.files.get(path)
        if f is None:
            f = self.files[path] = _decode_file(self.raw[path])
        return f

    # -- scanning ----------------------------------------------------------------------
    def scan(self, pool=None, progress=None, meanwhile=None, light: bool = False, scope=None) -> ScanResult:
        """`meanwhile()` runs while pool workers parse (a big cold scan), if they do.

        `light` (a dashboard poll): look only where a change is likely, see `_light_listing`;
        a full listing still runs every FULL_EVERY_S. A one-shot command lists everything.
        With `scope` (a core.live.scope.LiveScope) only the project folders that may hold a
        running session are read and answered for (plus the files the usage limits need);
        what is known of the others is kept.
        """
        result = ScanResult(searched=[str(r / "projects") for r in self.roots()])
        self.limit_paths = None
        wanted: list[str] | None = None
        now = time.monotonic()
        if scope is None and light and self.tree.dirs and now - self._full_at < FULL_EVERY_S:
            listing, gone = self._light_listing(result.problems)
        else:
            self.tree.full(project_dirs(self.roots(), result.problems), result.problems)
            listing = list(self.tree.files())
            gone = set(self.heads).difference(listing)
            if scope is None:
                self._full_at = now
                self._cold = listing[:]
                self._cold_pos = 0
            else:
                wanted, recent = _in_scope(listing, self.roots(), scope)
                self.limit_paths = recent
                chosen = set(wanted)
                listing = wanted + [p for p in recent if p not in chosen]
        todo = self._plan(listing, result.problems, gone)
        gone = {p for p in gone if p in self.heads}  # only files that were read can leave
        self.parsed_bytes = sum(st.st_size - f.cursor.offset for f, st in todo)
        self.changed = bool(todo or gone)
        parsed = self._parse_all(todo, pool, progress, result.problems, meanwhile) if todo else []
        dirty = self._update(parsed, gone)
        if not self.sessions and self.heads:
            dirty = set(self.members)  # nothing built yet, or built with other prices
        self._rebuild(dirty)
        if wanted is None:
            result.sessions = list(self.sessions.values())
        else:
            sids = {self.heads[p].session for p in wanted if p in self.heads}
            result.sessions = [self.sessions[sid] for sid in sids if sid in self.sessions]
        return result

    def note_changes(self, paths: Iterable[str]) -> None:
        """Paths a file watcher saw change (any thread): the next light scan looks at them first."""
        with self._hints_lock:
            self._hints.update(paths)

    def _light_listing(self, problems: list) -> tuple[list[str], set[str]]:
        """The files a dashboard poll stats, and the files known to be gone.

        Folders: each projects/ folder and its project folders (a new session appears
        there), the folders of hot files, and a rotating share of all other folders; only
        those whose mtime moved are listed again (DirTree). Files: hot ones (changed in the
        last HOT_S, of a session with a live process, or named by the file watcher), new
        ones, and a rotating share of the rest, so every file is still looked at once every
        COLD_SHARE polls. A poll's work follows what is active, not the size of the history.
        """
        tree = self.tree
        with self._hints_lock:
            hints, self._hints = self._hints, set()
        hot = self._hot
        hot.update(p for p in hints if p in self.heads)
        for sid in self.live_sessions:
            hot.update(self.members.get(sid, ()))
        folders = set(tree.tops)
        for top in tree.tops:
            d = tree.dirs.get(top)
            if d is not None:
                folders.update(d.subdirs)
        for path in hot:
            folder = os.path.dirname(path)
            folders.add(folder)
            base = path[:-6]  # <sessionId>/ and <sessionId>/subagents/ of a main file
            folders.add(base)
            folders.add(os.path.join(base, "subagents"))
        folders.update(os.path.dirname(p) for p in hints)
        names = list(tree.dirs)
        share = max(MIN_SHARE_DIRS, len(names) // COLD_SHARE)
        start = self._dir_pos % max(len(names), 1)
        folders.update(names[start : start + share])
        self._dir_pos = start + share
        added, removed = tree.refresh(folders, problems)
        cold = self._cold
        share = max(MIN_SHARE_FILES, len(cold) // COLD_SHARE)
        start = self._cold_pos
        if start >= len(cold):
            # a new round: forget files that went quiet, re-read the list of all files
            horizon = time.time_ns() - int(HOT_S * 1e9)
            self._hot = hot = {p for p in hot if p in self.heads and self.heads[p].cursor.mtime_ns > horizon}
            self._cold = cold = list(self.heads)
            start = 0
        self._cold_pos = start + share
        listing = list(hot.union(added, cold[start : start + share]).difference(removed))
        return listing, removed

    def merge_files(self, files: Iterable[ClaudeFile]) -> list[Session]:
        """The sessions of a set of already parsed files (the status line keeps its own
        small set per transcript): the same merge as a scan. Call it on a new provider."""
        if self.heads:
            raise ValueError("merge_files needs a provider that has not scanned")
        self._rebuild(self._update([(f, None) for f in files], set()))
        return list(self.sessions.values())

    def _plan(self, listing: Iterable[str], problems: list, gone: set[str]) -> list[tuple[ClaudeFile, os.stat_result]]:
        """Which of `listing`'s files have bytes to read (a stat against each file's cursor).
        A file that vanished since it was listed joins `gone` (a light scan lists from memory)."""
        heads = self.heads
        todo = []
        for path in listing:
            try:
                st = os.stat(path)
            except FileNotFoundError as exc:
                if os.path.lexists(path):  # a dangling link: there, but unreadable
                    problems.append(unreadable_file(path, exc))
                else:
                    gone.add(path)
                continue
            except OSError as exc:
                problems.append(unreadable_file(path, exc))
                continue
            head = heads.get(path)
            if head is not None and tailer.unchanged(head.cursor, st):
                continue
            if not is_regular(st):
                # A FIFO or a symlink to /dev/zero would hang the read or never end.
                problems.append(not_a_file(path, st))
                gone.add(path)
                continue
            if head is None:
                todo.append((ClaudeFile(path=path, subagent=(c := classify(path))[0], session=c[1]), st))
                continue
            self._hot.add(path)
            f = self._file(path)
            if tailer.needs_reset(f.cursor, st, path):
                f.reset()
            todo.append((f, st))
        return todo

    def _parse_all(self, todo, pool, progress, problems: list, meanwhile=None) -> list[tuple[ClaudeFile, bytes | None]]:
        """(parsed file, its encoding when a worker made one) for each file of `todo`."""
        if pool is not None and len(todo) > 1 and pool.wanted(self.parsed_bytes):
            parsed = pool.parse(todo, progress, problems, meanwhile)
            if parsed is not None:
                return parsed
        out: list[tuple[ClaudeFile, bytes | None]] = []
        for f, st in todo:
            out.append((parse_one(f, st, problems), None))
            if progress:
                progress(st.st_size)
        return out

    def file_views(self, since_ms: int = 0, paths: Iterable[str] | None = None) -> list[FileView]:
        """The files active since `since_ms` (all by default), or of `paths` only, as the
        limit tracker reads them: what the heads hold (times, offsets, limit hits) answers
        at once; anything else decodes that file's partial result."""
        from llm_sessions.core.accounting.activity import active_since

        heads = self.heads.values() if paths is None else [self.heads[p] for p in paths if p in self.heads]
        return [FileView(self, h) for h in heads if active_since(h.last_ts, since_ms)]

    # -- format drift ------------------------------------------------------------------
    def usage_drift(self) -> int:
        return sum(h.usage_drift for h in self.heads.values())

    def drift(self):
        from llm_sessions.core.accounting.drift import Tally

        t = Tally(self.tool, [str(r / "projects") for r in self.roots()])
        for f in (self._file(path) for path in self.heads):  # the doctor's path: decodes every file
            t.file(f.path, lines=f.lines, malformed=f.malformed, versions=f.versions, unknown=f.drift,
                   usage_unknown=f.usage_drift)
            if not f.convo and not f.subagent:
                t.skip(f.path, "empty file" if not f.lines else "no conversation record (ghost stub or junk)")
        return t.done()

    # -- merging -----------------------------------------------------------------------
    def _update(self, parsed: list[tuple[ClaudeFile, bytes | None]], gone: set[str]) -> set[str]:
        """Fold re-read and vanished files into the indexes; return the sessions to rebuild.

        A changed file's new keys are looked up in the key index: a key some other file
        holds too (a resumed session's copy) is settled again, as is every shared key the
        file held before (its usage or its place in the order may have moved). Work is
        proportional to what changed, never to the size of the history.
        """
        dirty: set[str] = set()
        touched_keys: set[int] = set()
        touched_errors: set[int] = set()
        cold = not self.heads
        fresh: list[tuple[int, array]] = []
        fresh_errors: list[tuple[int, list[int]]] = []
        self._arrays = {}
        if not cold and (parsed or gone):
            # Which shared items each file holds: those are settled again when it changes.
            self._shared_keys = self._by_holder(self.keys, self.corrections)
            self._shared_errors = self._by_holder(self.errors, self.error_owners)
        for path in gone:
            head = self.heads.pop(path)
            self.raw.pop(path, None)
            self.files.pop(path, None)
            self._retire(head, touched_keys, touched_errors)
            self._leave(head, dirty)
        for f, encoded in parsed:
            self.files[f.path] = f
            if encoded is None:
                self.raw.pop(f.path, None)
            else:
                self.raw[f.path] = msgspec.Raw(encoded)
            old = self.heads.get(f.path)
            sid = f.session or Path(f.path).stem
            if old is None or old.generation != f.generation:
                if old is not None:
                    self._retire(old, touched_keys, touched_errors)
                fid, nkeys, nerrors = self.next_fid, 0, 0
                self.next_fid += 1
            else:
                fid, nkeys, nerrors = old.fid, old.nkeys, old.nerrors
                touched_keys.update(self._shared_keys.get(fid, ()))
                touched_errors.update(self._shared_errors.get(fid, ()))
            if old is not None:
                self._leave(old, dirty)
            keys = array("Q", f.keys)
            head = Head(f.path, fid, f.generation, sid, f.subagent, f.first_ts, f.last_ts, len(keys), len(f.errors),
                        f.malformed, f.usage_drift, f.convo, f.limit_hits, f.cursor)
            self.heads[f.path] = head
            self.by_fid[fid] = f.path
            self.members.setdefault(sid, set()).add(f.path)
            dirty.add(sid)
            new_errors = [error_item(uuid) for uuid, _, _ in f.errors[nerrors:]]
            if cold:
                fresh.append((fid, keys))
                fresh_errors.append((fid, new_errors))
            else:
                touched_keys.update(self.keys.add(fid, keys[nkeys:]))
                touched_errors.update(self.errors.add(fid, new_errors))
        if cold:
            self.keys = ItemIndex.build(fresh)
            self.errors = ItemIndex.build(fresh_errors)
            touched_keys.update(self.keys.shared())
            touched_errors.update(self.errors.shared())
        for key in touched_keys:
            self._settle_key(key, dirty)
        for item in touched_errors:
            self._settle_error(item, dirty)
        return dirty

    def _retire(self, head: Head, touched_keys: set[int], touched_errors: set[int]) -> None:
        """A file's old content is gone: its shared items need settling without it."""
        fid = head.fid
        touched_keys.update(self._shared_keys.get(fid, ()))
        touched_errors.update(self._shared_errors.get(fid, ()))
        self.keys.drop(fid)
        self.errors.drop(fid)
        self.by_fid.pop(fid, None)

    def _leave(self, head: Head, dirty: set[str]) -> None:
        members = self.members.get(head.session)
        if members is not None:
            members.discard(head.path)
            if not members:
                del self.members[head.session]
        dirty.add(head.session)

    @staticmethod
    def _by_holder(index: ItemIndex, items) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for item in items:
            for fid in index.holders(item):
                out.setdefault(fid, []).append(item)
        return out

    def _holders(self, index: ItemIndex, item: int) -> list[Head]:
        heads = [self.heads[self.by_fid[fid]] for fid in index.holders(item) if fid in self.by_fid]
        heads.sort(key=_order)
        return heads

    def _settle_key(self, key: int, dirty: set[str]) -> None:
        """Count a key found in several files once: the first file owns it at its max usage.

        The corrections (session, price group, deltas) take each copy out of its own
        session and, when a later copy is larger, give the owner that larger figure.
        """
        for sid, *_ in self.corrections.pop(key, ()):
            dirty.add(sid)
        holders = self._holders(self.keys, key)
        if len(holders) < 2:
            return
        copies = []
        for h in holders:
            f = self._file(h.path)
            arrays = self._arrays.get(h.path)
            if arrays is None:
                arrays = self._arrays[h.path] = (array("Q", f.keys), array("q", f.cols), array("I", f.meta))
            keys, cols, metas = arrays
            pos = keys.index(key)
            copies.append((h.session, f.groups[metas[pos]], list(cols[pos * NCOLS : (pos + 1) * NCOLS])))
        owner = copies[0]
        best = max(copies, key=lambda c: _total(c[2]))  # the first of the largest
        out = [(sid, group, [-v for v in vals] + [-1]) for sid, group, vals in copies[1:]]
        if _total(best[2]) > _total(owner[2]):
            out.append((owner[0], owner[1], [-v for v in owner[2]] + [0]))
            out.append((owner[0], best[1], best[2] + [0]))
        self.corrections[key] = out
        dirty.update(c[0] for c in out)

    def _settle_error(self, item: int, dirty: set[str]) -> None:
        """An error line found in several files counts once, for the first of them."""
        self.error_owners.pop(item, None)
        holders = self._holders(self.errors, item)
        dirty.update(h.session for h in holders)
        if len(holders) > 1:
            self.error_owners[item] = holders[0].fid

    def _rebuild(self, dirty: set[str]) -> None:
        """Build the Session of each dirty session id from its files and the corrections."""
        self.rebuilt = len(dirty)
        if not dirty:
            return
        by_sid: dict[str, list] = {}
        for corrections in self.corrections.values():
            for c in corrections:
                if c[0] in dirty:
                    by_sid.setdefault(c[0], []).append(c)
        for sid in dirty:
            paths = self.members.get(sid)
            heads = sorted((self.heads[p] for p in paths), key=_order) if paths else []
            # A file with no conversation record (empty, only garbage, or a ghost stub holding
            # only ai-title/agent-name lines that background sessions leave) is not a session.
            if not any(h.convo and h.first_ts for h in heads):
                self.sessions.pop(sid, None)
                continue
            acc = _Acc()
            for h in heads:
                f = self._file(h.path)
                acc.files.append(f)
                if not f.subagent and (acc.main is None or f.last_ts > acc.main.last_ts):
                    acc.main = f
                for k, s in f.sums.items():
                    acc.add(f.groups[k], s)
                counted: set[str] = set()
                for uuid, api, tool in f.errors:
                    if uuid in counted:
                        continue
                    counted.add(uuid)
                    owner = self.error_owners.get(error_item(uuid))
                    if owner is None or owner == h.fid:
                        acc.api_errors += api
                        acc.tool_errors += tool
            for _, group, deltas in by_sid.get(sid, ()):
                acc.add(tuple(group), deltas)
            self.sessions[sid] = self._session(sid, acc)

    def _session(self, sid: str, acc: _Acc) -> Session:
        main = acc.main
        files = acc.files
        usage = Usage()
        bill = Bill()
        responses = 0
        models: dict[str, None] = {}
        for (model, bucket, speed, day, advisor), s in acc.sums.items():
            part = Usage(s[0], s[1], s[2], s[4])
            if not advisor:
                responses += s[NCOLS]
            usage = usage + part
            if part.total:
                models.setdefault(model)
                bill.add(self.prices, model, part, bucket=bucket, cache_1h=s[3], speed=speed, day=day or None)
        first = min((f.first_ts for f in files if f.first_ts), default="")
        last = max((f.last_ts for f in files), default="")
        context = None
        recent: tuple[TurnMark, ...] = ()
        if main is not None:
            window = WINDOW_1M if (main.model or "").endswith("[1m]") or main.ctx_max > WINDOW else WINDOW
            if main.ctx >= 0:
                context = ContextFill(main.ctx, window, compaction_point_for(window, self.settings), True, main.ctx_source)
            recent = tuple(
                TurnMark(at, cast(_TurnKind, kind), api, tool)
                for ts, kind, api, tool in main.recent
                if (at := parse_ts(ts)) is not None
            )
        src = main or files[0]
        return Session(
            id=sid,
            tool="claude",
            transcript=main.path if main else None,
            cwd=src.cwd,
            model=src.model,
            git_branch=src.branch,
            title=src.title,
            started_at=parse_ts(first),
            last_activity=parse_ts(last),
            turns=responses,
            usage=usage,
            context=context,
            cost_usd=bill.rounded,
            models_used=tuple(models),
            unpriced=tuple(sorted(bill.unpriced)),
            api_errors=acc.api_errors,
            tool_errors=acc.tool_errors,
            compactions=main.compactions if main else 0,
            limit_resets_at=datetime.fromtimestamp(reset, UTC) if (reset := max(f.limit_reset for f in files)) else None,
            recent=recent,
            subagent_files=sum(1 for f in files if f.subagent),
            malformed_lines=sum(f.malformed for f in files),
            awaiting_user=bool(main and main.awaiting),
        )
