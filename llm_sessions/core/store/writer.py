"""A background writer: the dashboard hands snapshots and export records over and never waits.

Why: a busy SQLite file (another writer holding the lock) or an unreachable server used to
block whoever wrote for the busy timeout; when that was the export wizard on the UI thread,
the UI froze for 5 s and the app died. Now one thread owns the writes:
- snapshots: only the newest pending one is kept (a later poll supersedes an unwritten one);
- export records: kept in order until written (they are few and the user asked for them);
- with `check_first`, the SQLite file is checked for damage first (any size), off the UI
  thread; a damaged file is moved aside and rebuilt and `on_problem` says where it went;
- a failure is retried with a growing pause (1 s .. 30 s); `on_problem(text)` is called when
  the store goes bad and `on_problem(None)` when it works again, so the UI can say so once.
Reads (`samples`) go straight to the store from the caller's thread (a worker, never the
UI), and answer `[]` while the store is unavailable, so a poll never fails for history.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

from llm_sessions.core.models import Snapshot
from llm_sessions.core.store.errors import StoreError

log = logging.getLogger("llm_sessions.core.store")


class BackgroundWriter:
    def __init__(
        self,
        store,
        *,
        on_problem: Callable[[str | None], None] | None = None,
        min_pause_s: float = 1.0,
        max_pause_s: float = 30.0,
        check_first: bool = False,
    ) -> None:
        self.store = store
        self.on_problem = on_problem
        self.min_pause_s = min_pause_s
        self.max_pause_s = max_pause_s
        self.problem: str | None = None
        self.written = 0  # snapshots written (for tests and the soak benchmark)
        self._cond = threading.Condition()
        self._snapshot: tuple[Snapshot, float] | None = None
        self._exports: deque[tuple] = deque()
        self._closing = False
        self._busy = False
        self._check_first = check_first
        self._thread = threading.Thread(target=self._loop, name="llm-session-store-writer", daemon=True)
        self._thread.start()

    # -- what callers use -------------------------------------------------------------------
    def record_snapshot(self, snapshot: Snapshot, min_interval_s: float = 0) -> int:
        with self._cond:
            self._snapshot = (snapshot, min_interval_s)
            self._cond.notify()
        return 0

    def record_export(self, session_id, path, format, redactions=0, tokens_estimate=0) -> None:
        with self._cond:
            self._exports.append((session_id, path, format, redactions, tokens_estimate))
            self._cond.notify()

    def samples(self, session_id: str, since=None, **kw) -> list:
        try:
            return self.store.samples(session_id, since=since, **kw)
        except StoreError as exc:
            log.info("history unavailable: %s", exc)
            return []

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything handed over so far is written (or `timeout` passes)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._snapshot is not None or self._exports or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(min(left, 0.1))
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Write what is pending (within `timeout`), then stop the thread."""
        self.flush(timeout)
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._thread.join(timeout=1.0)

    # -- the thread -----------------------------------------------------------------------------
    def _loop(self) -> None:
        pause = self.min_pause_s
        if self._check_first:
            self._integrity()
        while True:
            with self._cond:
                while not self._closing and self._snapshot is None and not self._exports:
                    self._cond.wait()
                if self._closing:
                    return
                job = self._exports[0] if self._exports else None
                snap = None if job is not None else self._snapshot
                self._busy = True
            try:
                if job is not None:
                    self.store.record_export(*job)
                else:
                    self.store.record_snapshot(snap[0], min_interval_s=snap[1])
            except StoreError as exc:
                self._report(str(exc))
                with self._cond:
                    self._busy = False
                    self._cond.wait(pause)  # close() or new work may wake us early; the retry still waits its turn
                pause = min(self.max_pause_s, pause * 2)
                continue
            except Exception:  # a bug must not kill the writer thread: log it, drop that item
                log.exception("store write failed")
            with self._cond:
                if job is not None:
                    self._exports.popleft()
                elif self._snapshot is snap:
                    self._snapshot = None
                    self.written += 1
                self._busy = False
                self._cond.notify_all()
            pause = self.min_pause_s
            self._report(None)

    def _integrity(self) -> None:
        """A damaged file of any size is found here, once, without holding up the UI."""
        check = getattr(self.store, "check_integrity", None)
        if check is None:
            return
        try:
            moved = check()
        except StoreError as exc:
            log.info("integrity check skipped: %s", exc)
            return
        if moved:
            self._report(moved)

    def _report(self, problem: str | None) -> None:
        if problem == self.problem:
            return
        self.problem = problem
        if problem:
            log.warning("store: %s", problem)
        if self.on_problem is not None:
            try:
                self.on_problem(problem)
            except Exception:  # the UI may be gone already
                log.debug("on_problem callback failed", exc_info=True)


__all__ = ["BackgroundWriter"]
