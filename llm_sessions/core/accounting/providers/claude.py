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
from pathlib import Path

import msgspec

from llm_sessions.core.accounting import tailer
from llm_sessions.core.accounting.crossfile import ItemIndex
from llm_sessions.core.accounting.dirtree import DirTree
from llm_sessions.core.accounting.providers.base import ScanResult
from llm_sessions.core.accounting.providers.claude_file import ClaudeFile
from llm_sessions.core.accounting.providers.claude_listing import (
    _in_scope,
    _is_transcript,
    classify,
    list_transcripts,
    parse_file,
    parse_one,
    project_dirs,
)
from llm_sessions.core.accounting.providers.claude_merge import WINDOW, WINDOW_1M, Merge, _decode_file, _encode
from llm_sessions.core.accounting.providers.claude_state import ClaudeState, Group, Head
from llm_sessions.core.accounting.roots import claude_roots
from llm_sessions.core.accounting.sanity import ENCODE_ERRORS
from llm_sessions.core.models import Session
from llm_sessions.core.problems import not_a_file, unreadable_file
from llm_sessions.core.safeio import is_regular

__all__ = ["WINDOW", "WINDOW_1M", "ClaudeProvider", "ClaudeState", "Head", "classify", "list_transcripts", "parse_file", "parse_one"]

log = logging.getLogger(__name__)

FULL_EVERY_S = 600  # a light-scanning dashboard still lists everything this often
HOT_S = 3600  # a file changed within this is stat-ed on every light scan
COLD_SHARE = 30  # the other files and folders: one share per light scan
MIN_SHARE_FILES = 32  # ... but at least this many files
MIN_SHARE_DIRS = 16  # ... and folders
RECENT_SLACK_MS = 3_600_000  # file_views re-finds its recently active files this often


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


class ClaudeProvider(Merge):
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
        self._members: dict[str, set[str]] | None = {}
        self._by_fid: dict[int, str] | None = {}
        self.keys = ItemIndex()
        self.errors = ItemIndex()
        self.corrections: dict[int, list[tuple[str, Group, list[int]]]] = {}
        self.error_owners: dict[int, int] = {}
        self.next_fid = 1
        self._shared_keys: dict[int, list[int]] = {}
        self._shared_errors: dict[int, list[int]] = {}
        self._arrays: dict[str, tuple[array, array, array]] = {}
        self._early: dict = {}  # see Merge._arrived
        self.parsed_bytes = 0
        self.changed = False
        self.rebuilt = 0  # sessions rebuilt by the last scan
        self._marks: dict = {}  # parsed turn marks, see Merge._turn_marks
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
        # after a scan limited to live sessions: every file it listed (what a scoped cache keeps)
        self.scope_listing: list[str] | None = None
        # what file_views and usage_drift keep between polls (see there)
        self._touched: set[str] = set()
        self._recent: tuple[dict, int, dict[str, None]] | None = None
        self._version = 0
        self._drift: tuple[dict, int, int] | None = None

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
                except ENCODE_ERRORS:
                    continue  # a name that is not UTF-8: not cached, read again next run
            heads.append(h)
            files.append(raw)
        return ClaudeState(heads, files, list(self.sessions.values()), self.built_with, self.keys.data(),
                           self.errors.data(), self.corrections, self.error_owners, self.next_fid)

    def restore(self, state: ClaudeState) -> None:
        self.heads = {h.path: h for h in state.heads}
        self.raw = {h.path: raw for h, raw in zip(state.heads, state.files, strict=True)}
        self.files = {}
        # by_fid and members serve merges only: built on first use (a warm run with nothing
        # changed never asks, and at 100,000 files they were half of restoring)
        self._by_fid = self._members = None
        self.keys = ItemIndex(state.keys)
        self.errors = ItemIndex(state.errors)
        self.corrections = dict(state.corrections)
        self.error_owners = dict(state.error_owners)
        self.next_fid = state.next_fid
        # Sessions built with other prices or settings are rebuilt from the partials.
        self.sessions = {s.id: s for s in state.sessions} if state.built_with == self.built_with else {}

    @property
    def by_fid(self) -> dict[int, str]:
        if self._by_fid is None:
            self._by_fid = {h.fid: h.path for h in self.heads.values()}
        return self._by_fid

    @by_fid.setter
    def by_fid(self, value: dict[int, str]) -> None:
        self._by_fid = value

    @property
    def members(self) -> dict[str, set[str]]:
        if self._members is None:
            members: dict[str, set[str]] = {}
            for h in self.heads.values():
                members.setdefault(h.session, set()).add(h.path)
            self._members = members
        return self._members

    @members.setter
    def members(self, value: dict[str, set[str]]) -> None:
        self._members = value

    def scan(self, pool=None, progress=None, meanwhile=None, light: bool = False, scope=None) -> ScanResult:
        """`meanwhile()` runs while pool workers parse (a big cold scan), if they do.

        `light` (a dashboard poll): look only where a change is likely, see `_light_listing`;
        a full listing still runs every FULL_EVERY_S. A one-shot command lists everything.
        With `scope` (a core.live.scope.LiveScope) only the project folders that may hold a
        running session are read and answered for (plus the files the usage limits need);
        what is known of the others is kept.
        """
        result = ScanResult(searched=[str(r / "projects") for r in self.roots()])
        self.limit_paths = self.scope_listing = None
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
                wanted, recent = _in_scope(self.tree, scope)
                self.limit_paths = recent
                chosen = set(wanted)
                listing = self.scope_listing = wanted + [p for p in recent if p not in chosen]
        todo = self._plan(listing, result.problems, gone)
        gone = {p for p in gone if p in self.heads}  # only files that were read can leave
        self.parsed_bytes = sum(st.st_size - f.cursor.offset for f, st in todo)
        self.changed = bool(todo or gone)
        parsed = self._parse_all(todo, pool, progress, result.problems, meanwhile) if todo else []
        dirty = self._update(parsed, gone)
        if parsed or gone:
            self._version += 1
            self._touched.update(f.path for f, _ in parsed)
            self._touched.update(gone)
        if not self.sessions and self.heads:
            dirty = set(self.members)  # nothing built yet, or built with other prices
        self._rebuild(dirty)
        self._early = {}
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
            parsed = pool.parse(todo, progress, problems, meanwhile, each=self._arrived)
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

        heads = self._recent_heads(since_ms) if paths is None else [self.heads[p] for p in paths if p in self.heads]
        return [FileView(self, h) for h in heads if active_since(h.last_ts, since_ms)]

    def _recent_heads(self, since_ms: int) -> list[Head]:
        """The heads that may be active since `since_ms`: a superset kept between polls and
        corrected by the files scans touched since, so a poll filters what changed and the
        recently active files, not every file of the history (re-found hourly)."""
        from llm_sessions.core.accounting.activity import active_since

        heads = self.heads
        c = self._recent
        if c is None or c[0] is not heads or not since_ms or since_ms < c[1] or since_ms - c[1] > RECENT_SLACK_MS:
            c = self._recent = (heads, since_ms, dict.fromkeys(h.path for h in heads.values() if active_since(h.last_ts, since_ms)))
        else:
            for path in self._touched:
                h = heads.get(path)
                if h is not None and active_since(h.last_ts, c[1]):
                    c[2][path] = None
                else:
                    c[2].pop(path, None)
        self._touched = set()
        return [heads[p] for p in c[2] if p in heads]

    # -- format drift ------------------------------------------------------------------
    def usage_drift(self) -> int:
        """Usage records of an unknown shape over every file (summed again only after a scan changed a file)."""
        d = self._drift
        if d is None or d[0] is not self.heads or d[1] != self._version:
            d = self._drift = (self.heads, self._version, sum(h.usage_drift for h in self.heads.values()))
        return d[2]

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
