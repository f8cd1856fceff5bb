"""Monitor.poll() -> Snapshot: the one entry point the CLI and the UI call.

A poll asks every provider for its sessions (each re-reads only what changed), attaches the
live process found by discovery, derives the state and the health score, and freezes the
lot into a Snapshot. The monitor owns the scan cache, so a new process (the next CLI run)
starts from the previous run's offsets instead of from byte zero.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path

from llm_sessions.core import scancache
from llm_sessions.core.health import health_report
from llm_sessions.core.models import Session, Snapshot
from llm_sessions.core.pool import ParsePool
from llm_sessions.core.providers.claude import ClaudeProvider
from llm_sessions.core.providers.codex import CodexProvider

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (bytes done, bytes to do)


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
    ) -> None:
        self.settings = settings
        self.env = dict(os.environ if env is None else env)
        self.store = store
        self.discovery = discovery
        self.clock = clock
        self._lock = threading.Lock()
        if prices is None:
            from llm_sessions.core.pricing import PriceTable

            prices = PriceTable.load(settings.price_overrides, settings.pricing_file or None)
        self.prices = prices
        cost = prices.cost
        self.claude = ClaudeProvider(self.env, settings, cost)
        self.codex = CodexProvider(self.env, settings, cost)
        self.providers = [self.claude, self.codex]
        self._cache_path: Path | None = None
        self._roots = [str(p) for prov in self.providers for p in prov.roots()]
        if cache_dir is not None:
            self._cache_path = scancache.cache_file(cache_dir, self._roots)
            data = scancache.load(self._cache_path, self._roots)
            if data is not None:
                self.claude.restore(data.claude, data.settled)
                self.codex.restore(data.codex)
        self.parsed_bytes = 0
        self._saved_settled = self.claude.settled

    def watch_paths(self) -> list[Path]:
        """Existing folders worth watching; watchfiles cannot watch what does not exist."""
        out = []
        for prov in self.providers:
            for root in prov.roots():
                p = Path(root)
                while not p.exists() and p != p.parent:
                    p = p.parent
                if p.exists() and p not in out and p != Path(p.anchor):
                    out.append(p)
        return out

    def scan_files(self, progress: Progress | None = None, workers: int | None = None) -> Snapshot:
        """Sessions from the transcripts only (no process table): what `list --all` needs."""
        with self._lock:
            return self._poll(progress, workers, live=False)

    def poll(self, progress: Progress | None = None, workers: int | None = None) -> Snapshot:
        with self._lock:
            return self._poll(progress, workers, live=True)

    def _poll(self, progress: Progress | None, workers: int | None, live: bool) -> Snapshot:
        pool = ParsePool(self.settings.general_workers if workers is None else workers)
        now = self.clock()
        sessions: list[Session] = []
        problems: list[str] = []
        searched: list[str] = []
        done = [0]

        def tick(n: int) -> None:
            done[0] += n
            if progress:
                progress(done[0], 0)

        for prov in self.providers:
            res = prov.scan(pool=pool, progress=tick if progress else None)
            sessions.extend(res.sessions)
            problems.extend(res.problems)
            searched.extend(res.searched)
        self.parsed_bytes = sum(prov.parsed_bytes for prov in self.providers)
        if live and self.discovery is not None:
            sessions, more = self.discovery.attach(sessions, now)
            problems.extend(more)
        sessions = [s.with_(health=health_report(s, self.settings, now)) for s in sessions]
        sessions.sort(key=lambda s: s.last_activity or datetime.min.replace(tzinfo=UTC), reverse=True)
        snap = Snapshot(taken_at=now, sessions=tuple(sessions), problems=tuple(problems), searched=tuple(searched))
        if any(prov.changed for prov in self.providers) or self.claude.settled is not self._saved_settled:
            self.save_cache()
        if self.store is not None:
            try:
                self.store.record_snapshot(snap)
            except Exception as exc:  # the store is history, never a reason to fail a poll
                log.warning("cannot record snapshot: %s", exc)
        return snap

    def save_cache(self) -> None:
        if self._cache_path is None:
            return
        self._saved_settled = self.claude.settled
        scancache.save(
            self._cache_path,
            scancache.CacheData(scancache.FORMAT, self._roots, self.claude.state(), self.codex.state(), self.claude.settled),
        )

    def history(self, session_id: str) -> list:
        if self.store is None:
            return []
        return self.store.samples(session_id)
