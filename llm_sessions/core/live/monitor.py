"""Monitor.poll() -> Snapshot: the one entry point the CLI and the UI call.

A poll asks every provider for its sessions (each re-reads only what changed), attaches the
live process found by discovery, derives the state and the health score, and freezes the
lot into a Snapshot. The monitor owns the scan cache, so a new process (the next CLI run)
starts from the previous run's offsets instead of from byte zero.
"""

from __future__ import annotations

import logging
import operator
import os
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import compress
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from llm_sessions.core.accounting import scancache
from llm_sessions.core.accounting.health import depends_on_now, health_report
from llm_sessions.core.accounting.pool import ParsePool
from llm_sessions.core.accounting.providers.base import ScanResult
from llm_sessions.core.accounting.providers.claude import ClaudeProvider
from llm_sessions.core.accounting.providers.codex import CodexProvider
from llm_sessions.core.ids import pid_session_id
from llm_sessions.core.models import Session, Snapshot
from llm_sessions.core.problems import Problem, malformed_lines, scan_failed
from llm_sessions.core.safeio import printable

if TYPE_CHECKING:
    from llm_sessions.core.accounting.providers.claude_state import ClaudeState

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (bytes done, bytes to do)
CACHE_EVERY = timedelta(seconds=60)
#: A scoped run that read the full cache writes a scoped cache when its scope listed at most
#: 1/SCOPED_SHARE of the files; a scoped cache is cut back to its scope past twice its
#: scope's files plus SCOPED_SLACK (files a scope read once stay known until then).
SCOPED_SHARE = 4
SCOPED_SLACK = 256


def _moved(now: list, before: list) -> set[int] | None:
    """Positions where `now` holds another object than `before` (C-speed), None when the
    lengths differ. Providers hand their sessions on in a stable order, a rebuilt session
    in its old place, so a poll re-does only these positions and those that move with the clock."""
    if len(now) != len(before):
        return None
    return set(compress(range(len(now)), map(operator.is_not, now, before)))


class _Pass(NamedTuple):
    """One per-session pass of the last poll: its inputs, outputs, where each id sat, the
    positions that must be done again next poll whatever happens (live ones), and the
    extra input it depended on (processes, limit shares)."""

    inputs: list
    out: list
    where: dict[str, int]
    again: set[int]
    extra: Mapping


def _redo(last: _Pass | None, sessions: list, extra: Mapping, make, live) -> tuple[list, _Pass]:
    """`make(session)` for every session, or only for those `_patch` says changed; `live(made
    input)` marks the positions to do again next poll whatever happens."""
    patched = _patch(last, sessions, extra, make)
    if patched is None:
        out = [make(s) for s in sessions]
        index = {s.id: i for i, s in enumerate(sessions)}
        todo: Iterable[int] = range(len(sessions))
    else:
        (out, todo), index = patched, last.where  # type: ignore[union-attr]
    again = {i for i in todo if live(sessions[i])}
    return out, _Pass(list(sessions), list(out), index, again, dict(extra))


def _patch(last: _Pass | None, sessions: list, extra: Mapping, make) -> tuple[list, set[int]] | None:
    """Last poll's output with only the positions whose session, or extra input, changed
    (plus last poll's live ones) made again by `make(session)`; None when ids moved (then
    the caller walks everything). Returns (output, positions made again)."""
    if last is None:
        return None
    todo = _moved(sessions, last.inputs)
    if todo is None:
        return None
    todo |= last.again
    for sid in extra.keys() | last.extra.keys():
        if extra.get(sid) != last.extra.get(sid):
            pos = last.where.get(sid)
            if pos is None:
                return None
            todo.add(pos)
    out = list(last.out)
    for i in todo:
        s = sessions[i]
        if s.id != last.inputs[i].id:
            return None
        out[i] = make(s)
    return out, todo


def _fingerprint(settings, prices) -> str:
    """What built sessions depend on besides the transcripts: the settings and the prices.

    Cached sessions built under another fingerprint are rebuilt from the cached partials.
    """
    import hashlib

    import msgspec

    table = [getattr(prices, n, None) for n in getattr(type(prices), "__slots__", ())] or vars(prices)
    raw = msgspec.msgpack.encode([settings, table], enc_hook=repr)
    return hashlib.blake2b(raw, digest_size=16).hexdigest()


def _storable(snap: Snapshot) -> Snapshot:
    """`snap` with transcript paths the store can hold as text.

    A file name that is not UTF-8 keeps its raw form in `Session.transcript` (it must still
    open), but a database text column cannot take it: the store gets it escaped (`\\xNN`).
    """
    if all(s.transcript is None or s.transcript.isascii() or printable(s.transcript) == s.transcript for s in snap.sessions):
        return snap
    return replace(snap, sessions=tuple(s.with_(transcript=printable(s.transcript)) if s.transcript else s for s in snap.sessions))


class Monitor:
    """Builds Snapshots. One poll at a time (a lock guards it); safe to call from a worker."""

    def __init__(
        self,
        settings,
        env: Mapping[str, str] | None = None,
        *,
        cache_dir: Path | None = None,
        store=None,
        discovery=None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        prices=None,
        limits_state: Path | None = None,
    ) -> None:
        self.settings = settings
        self.env = dict(os.environ if env is None else env)
        self.store = store
        self.discovery = discovery
        self.clock = clock
        self._lock = threading.Lock()
        if prices is None:
            from llm_sessions.core.accounting.pricing import PriceTable

            prices = PriceTable.load(settings.price_overrides, settings.pricing_file or None)
        self.prices = prices
        self.claude = ClaudeProvider(self.env, settings, prices, built_with=_fingerprint(settings, prices))
        self.codex = CodexProvider(self.env, settings, prices)
        self.providers = [self.claude, self.codex, *self._other_providers(prices)]
        self._cache_path: Path | None = None
        self._roots = [str(p) for prov in (self.claude, self.codex) for p in prov.roots()]
        if cache_dir is not None:
            self._cache_path = scancache.cache_file(cache_dir, self._roots)
            self._cache = scancache.ScanCache(self._cache_path, self._roots)  # saves append to its journal
            # runs limited to running sessions keep their own, smaller cache (see save_cache)
            self._live_cache = scancache.ScanCache(scancache.cache_file(cache_dir, self._roots, scoped=True), self._roots)
        self._cache_loaded = self._cache_path is None
        # the providers know every file (the full cache was read, or a full scan ran), not
        # only those of a scope: what the full cache may be given
        self._full_state = False
        self._seed_live = False
        self.parsed_bytes = 0
        self._unsaved = False
        self._codex_dirty = False  # a Codex state changed since the cache was read or written
        self._saved_at: datetime | None = None  # when this monitor last wrote the cache
        self._attached: dict[str, tuple] = {}
        self._seen_activity: dict[str, datetime | None] = {}
        # last poll's per-session passes: the next poll re-does only what changed (see _patch)
        self._attach_last: _Pass | None = None
        self._provided: list[Session] = []  # last poll's sessions from the providers
        self._scored_last: _Pass | None = None
        from llm_sessions.core.accounting.limit_tracker import LimitTracker

        # usage-limit windows; `learn_limits = False` spares a one-shot CLI view the history pass
        self.limits = LimitTracker(settings, limits_state, prices, cache_dir)
        self.learn_limits = True

    def _other_providers(self, prices) -> list:
        """Gemini, Aider, Cursor and Copilot: smaller histories, re-read per changed file."""
        from llm_sessions.core.accounting.providers.aider import AiderProvider
        from llm_sessions.core.accounting.providers.copilot import CopilotProvider
        from llm_sessions.core.accounting.providers.cursor import CursorProvider
        from llm_sessions.core.accounting.providers.gemini import GeminiProvider

        window = prices.window
        self.aider = AiderProvider(self.env, self.settings, context_window=window)
        return [
            GeminiProvider(self.env, self.settings, context_window=window, prices=prices),
            self.aider,
            CursorProvider(self.env, self.settings, context_window=window),
            CopilotProvider(self.env, self.settings, context_window=window, prices=prices),
        ]

    def watch_paths(self) -> list[Path]:
        """The assistants' folders that exist now (watchfiles cannot watch what does not).

        Never a parent of a missing root: that would be HOME, watched recursively, where
        our own store lives, so every write would wake the watcher. The UI asks again after
        each poll and restarts the watcher when a folder appears.
        """
        out: list[Path] = []
        for prov in self.providers:
            for root in prov.roots():
                p = Path(root)
                if p.is_dir() and p not in out:
                    out.append(p)
        return out

    def scan_files(self, progress: Progress | None = None, workers: int | None = None) -> Snapshot:
        """Sessions from the transcripts only (no process table): what `list --all` needs."""
        with self._lock:
            return self._poll(progress, workers, live=False)

    def poll(self, progress: Progress | None = None, workers: int | None = None, *, only_running: bool = False) -> Snapshot:
        """Every session with its process and state. `only_running`: the caller shows only
        running sessions (`list`), so only transcripts that can be theirs are read (see
        core.live.scope); when nothing runs, nothing is read."""
        with self._lock:
            return self._poll(progress, workers, live=True, only_running=only_running)

    def _load_cache(self, scoped: bool) -> None:
        """The scan cache, read on the first scan that needs it (not when nothing runs).

        A `scoped` scan (`list`) reads the scoped cache when it is at least as new as the
        full one; else (none yet, or a dashboard or `list --all` saved since) the full one,
        whose state holds every file's and so answers any scope."""
        if self._cache_loaded:
            return
        self._cache_loaded = True
        if self._cache_path is None:
            return
        data = None
        if scoped and self._live_cache.written_ns() >= self._cache.written_ns():
            data = self._live_cache.load()
        if data is None:
            data = self._cache.load()
            self._full_state = data is not None
            # seeded from the full cache: this run writes the scoped one even if nothing changed
            self._seed_live = scoped and data is not None
        if data is not None:
            claude, codex = scancache.restore(data)
            self.claude.restore(claude)
            self.codex.restore(codex)

    def _live_scope(self):
        """(scope, skip): the LiveScope of the running assistants; skip when none runs."""
        from llm_sessions.core.live.scope import LiveScope

        running = self.discovery.scan(())  # no sessions yet: every assistant is unmatched
        procs = [*running.matches.values(), *running.unmatched]
        if not procs:
            return None, True
        named = getattr(self.discovery, "named_sessions", None)
        return LiveScope.of(procs, named(procs) if named else set(), now=self.clock().timestamp()), False

    def _poll(self, progress: Progress | None, workers: int | None, live: bool, only_running: bool = False) -> Snapshot:
        pool = ParsePool(self.settings.general_workers if workers is None else workers)
        now = self.clock()
        sessions: list[Session] = []
        problems: list[str | Problem] = []
        searched: list[str] = []
        done = [0]
        scope, skip = self._live_scope() if (live and only_running and self.discovery is not None) else (None, False)
        if not skip:
            self._load_cache(scope is not None)
            self._full_state = self._full_state or scope is None
            if scope is None:  # every state is needed: decode them in one pass, off the collector
                scancache.decode_all(self.claude.files, self.codex.files)

        def tick(n: int) -> None:
            done[0] += n
            if progress:
                progress(done[0], 0)

        def scan(prov):
            if skip:
                return ScanResult(searched=[str(r) for r in prov.roots()])
            try:
                if prov is self.codex:
                    # Codex pages, resumes and forks tie files across days together: read all
                    return prov.scan(progress=tick if progress else None)
                return prov.scan()
            except Exception as exc:  # one broken provider must not hide the others
                log.exception("%s provider failed", prov.tool)
                return ScanResult(problems=[scan_failed(prov.tool, exc)])

        # A big Claude scan runs in worker processes; the other providers are scanned here
        # meanwhile (after the workers are forked, so no thread is running at fork time).
        others: list[ScanResult] = []

        def meanwhile() -> None:
            others.extend(scan(p) for p in self.providers if p is not self.claude)

        try:
            if skip:
                first = ScanResult(searched=[str(r / "projects") for r in self.claude.roots()])
            else:
                # A dashboard poll looks only where changes are likely (hot files, watcher hints,
                # live sessions, a rotating share of the rest); a one-shot command lists everything.
                first = self.claude.scan(pool=pool, progress=tick if progress else None, meanwhile=meanwhile,
                                         light=live and scope is None, scope=scope)
        except Exception as exc:
            log.exception("claude provider failed")
            first = ScanResult(problems=[scan_failed("claude", exc)])
        if not others:
            meanwhile()
        for res in (first, *others):
            sessions.extend(res.sessions)
            problems.extend(res.problems)
            searched.extend(res.searched)
        # Finished Aider runs are found in the folders other assistants worked in (the cwds
        # of sessions that changed since last poll: the others were noted then).
        moved = _moved(sessions, self._provided)
        self._provided = list(sessions)
        fresh = sessions if moved is None else [sessions[i] for i in moved]
        if self.aider.note_cwds(s.cwd for s in fresh if s.tool != "aider"):
            again = scan(self.aider)
            sessions = [s for s in sessions if s.tool != "aider"] + again.sessions
            problems.extend(again.problems)
        problems.extend(malformed_lines(s.transcript or s.id, s.malformed_lines) for s in sessions if s.malformed_lines)
        self.parsed_bytes = sum(getattr(prov, "parsed_bytes", 0) for prov in self.providers)
        if live and self.discovery is not None:
            sessions, more = self._attach_processes(sessions, now)
            problems.extend(more)
        # Without discovery the state stays "unknown": whether a session runs was not asked,
        # and calling it "ended" would be a guess the JSON could not tell from a fact.
        windows, shares = self._limits(now, problems) if not skip else ((), {})
        sessions = self._scored(sessions, shares, now)
        sessions.sort(key=lambda s: s.last_activity or datetime.min.replace(tzinfo=UTC), reverse=True)
        # drift is counted over every file's state: only a full scan has them all decoded
        drift = sum(p.usage_drift() for p in self.providers if hasattr(p, "usage_drift")) if scope is None and not skip else 0
        snap = Snapshot(taken_at=now, sessions=tuple(sessions), problems=tuple(problems), searched=tuple(searched),
                        format_drift=drift, limits=windows)
        if live:
            self.claude.live_sessions = {s.id for s in sessions if s.tool == "claude" and s.process is not None}
        if not skip and (self.claude.changed or self.codex.changed or self.claude.rebuilt or self._seed_live):
            self._unsaved = True
            self._codex_dirty = self._codex_dirty or self.codex.changed
        # The first poll saves (a one-shot command has only that one); after it a dashboard
        # rewrites the cache at most once a minute (and when it closes): a crash then costs
        # re-reading what was appended since, never a wrong figure. After a scan limited to
        # live transcripts too: a save appends only what changed (scancache's journal).
        if self._unsaved and (
            not live or self._saved_at is None or self.clock() - self._saved_at >= CACHE_EVERY
        ):
            self.save_cache()
        if self.store is not None:
            try:
                self.store.record_snapshot(_storable(snap))
            except Exception as exc:  # the store is history, never a reason to fail a poll
                log.warning("cannot record snapshot: %s", exc)
        return snap

    def _limits(self, now: datetime, problems: list[str | Problem]) -> tuple[tuple, dict]:
        try:
            from llm_sessions.core.accounting.limit_tracker import LEARN_DAYS

            # The tracker looks back LEARN_DAYS at most: older files would only be filtered out.
            since = int(now.timestamp() * 1000) - (LEARN_DAYS + 1) * 86_400_000
            # after a live-only scan, only what the windows need
            claude = self.claude.file_views(since, self.claude.limit_paths)
            return self.limits.report(claude, self.codex.files.values(), now, learn_limits=self.learn_limits)
        except Exception as exc:  # limits are an extra view; a bug there must not stop the poll
            log.exception("usage limits failed")
            problems.append(f"usage limits: {exc}")
            return (), {}

    def _scored(self, sessions: list[Session], shares: dict, now: datetime) -> list[Session]:
        """Each session with its health and limit shares. Only sessions that changed since
        last poll, whose shares changed, or whose health moves with the clock (they run)
        are scored again: a poll over a long history scores what is live or changed."""

        def make(s: Session) -> Session:
            return s.with_(health=health_report(s, self.settings, now), limit_shares=shares.get(s.id, ()))

        out, self._scored_last = _redo(self._scored_last, sessions, shares, make, depends_on_now)
        return out

    def _attach_processes(self, sessions: list[Session], now: datetime) -> tuple[list[Session], list[str]]:
        """Give each session its live process (if any) and a state; add running assistants
        that have not written a transcript yet, so a fresh session shows at once."""
        from llm_sessions.core.live.session_state import session_state

        result = self.discovery.scan(sessions)
        cwds = [p.cwd for p in (*result.matches.values(), *result.unmatched) if p.tool == "aider"]
        if cwds:
            self.aider.note_cwds(cwds)
        matches = result.matches

        def make(s: Session) -> Session:
            proc = matches.get(s.id)
            prev = self._seen_activity.get(s.id)
            grew = prev is not None and s.last_activity is not None and s.last_activity != prev
            self._seen_activity[s.id] = s.last_activity
            state = session_state(s, proc, now, grew)
            # The same session with the same process and state as last poll: the same object,
            # so the steps after this (health, the store, the UI) can see it did not change.
            memo = self._attached.get(s.id)
            if memo is not None and memo[0] is s and memo[1] == state and memo[2] == proc:
                return memo[3]
            made = s.with_(process=proc, state=state)
            self._attached[s.id] = (s, state, proc, made)
            return made

        out, self._attach_last = _redo(self._attach_last, sessions, matches, make, lambda s: s.id in matches)
        if len(self._attached) > len(sessions):  # some session is gone (a deleted transcript): forget it
            ids = {s.id for s in sessions}
            self._attached = {k: v for k, v in self._attached.items() if k in ids}
            self._seen_activity = {k: v for k, v in self._seen_activity.items() if k in ids}
        out.extend(Session(id=pid_session_id(p.tool or "unknown", p.pid), tool=p.tool or "claude", cwd=p.cwd,
                           started_at=p.started_at, process=p, state="idle") for p in result.unmatched)
        return out, list(result.problems)

    def drift_report(self):
        """What the readers did not understand, per assistant (after a scan)."""
        from llm_sessions.core.accounting.drift import DriftReport, Tally

        tools = []
        for prov in self.providers:
            if hasattr(prov, "drift"):
                tools.append(prov.drift())
            else:
                tools.append(Tally(prov.tool, [str(r) for r in prov.roots()]).done())
        return DriftReport(tuple(tools))

    def note_changes(self, paths) -> None:
        """Paths a file watcher saw change (thread-safe): the next poll looks at them first."""
        self.claude.note_changes(paths)

    def save_cache(self) -> None:
        """Write what the providers know to the cache it belongs in.

        After a full scan, or with the full cache loaded, the providers know every file: the
        full cache gets it (a journal record of what changed). A scan limited to running
        sessions that started from the scoped cache (or from nothing) knows only its scope's
        files: that goes to the scoped cache only, so it never replaces the full one. A scoped
        run that read the full cache also writes the scoped cache, holding only the files its
        scope listed (built again from their partial results), when that is a small part of
        the history: the next `list` then loads megabytes, not the whole history's cache.
        """
        if self._cache_path is None or not self._cache_loaded:
            return
        self._unsaved = False
        self._saved_at = self.clock()
        codex = scancache.as_entries(self.codex.files)
        listing = self.claude.scope_listing
        if self._full_state:
            self._cache.save(scancache.CacheData(scancache.FORMAT, self._roots, self.claude.state(), codex),
                             codex_unchanged=not self._codex_dirty)
            seed, self._seed_live = self._seed_live, False
            if not (seed and listing is not None and len(listing) * SCOPED_SHARE <= len(self.claude.heads)):
                self._codex_dirty = False
                return
        # from the full cache: only the scope; from the scoped one: cut back once it has drifted far
        cut = listing is not None and (self._full_state or len(self.claude.heads) > 2 * len(listing) + SCOPED_SLACK)
        state = self._scoped_state(listing) if cut and listing is not None else self.claude.state()
        self._live_cache.save(scancache.CacheData(scancache.FORMAT, self._roots, state, codex),
                              codex_unchanged=not self._codex_dirty and not self._full_state)
        self._codex_dirty = False

    def _scoped_state(self, listing: list[str]) -> ClaudeState:
        """The Claude state of a provider that read only `listing`'s files: the same merge
        as a cold scan of them, from the partial results already read (no file is re-read)."""
        heads, raw = self.claude.heads, self.claude.raw
        kept = [p for p in listing if p in heads]
        fresh = ClaudeProvider(self.env, self.settings, self.prices, built_with=self.claude.built_with)
        fresh.merge_files([self.claude._file(p) for p in kept])
        fresh.raw.update((p, raw[p]) for p in kept if p in raw)  # still the file's encoding: not encoded again
        return fresh.state()

    def history(self, session_id: str, since: datetime | None = None) -> list:
        """Samples of one session from the store, oldest first (empty without a store)."""
        if self.store is None:
            return []
        return self.store.samples(session_id, since=since)
