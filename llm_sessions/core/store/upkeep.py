"""Housekeeping of the store: pruning past the horizon and thinning older samples.

The policy and the SQL are `retention`'s; this is when they run and what the repository
forgets afterwards (its caches of the newest samples), so a writer never skips a sample
because it remembers one that was pruned. A writer maintains every `policy.every`, never
in its first period, so a short-lived command never pays for it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.engine import Connection

from llm_sessions.core.store import retention
from llm_sessions.core.store.connection import StoreBase, log
from llm_sessions.core.store.errors import StoreError
from llm_sessions.core.store.statements import aware, utc_now
from llm_sessions.core.store.tables import hosts


class StoreUpkeep(StoreBase):
    """Retention on top of the connection: `prune`, `maintain`, and the writer's schedule."""

    def prune(self, older_than_days: float, now: datetime | None = None) -> dict[str, int]:
        """Delete history older than the cutoff (export records stay: they name the user's files)."""
        cutoff = (now or utc_now()) - timedelta(days=older_than_days)
        with self._lock:
            result = self._run(lambda conn: retention.prune(conn, cutoff), write=True)
            self._forget_written()  # the newest sample may have been pruned; re-read lazily
        return result

    def maintain(self, now: datetime | None = None) -> dict[str, int]:
        """Prune past the horizon and thin this host's older samples (what a writer runs every 10 min)."""
        at = now or utc_now()
        cutoff = at - timedelta(days=self.policy.keep_days)

        def work(conn: Connection) -> dict[str, int]:
            since = conn.execute(select(hosts.c.maintained_at).where(self._own(hosts))).scalar()
            thinned = retention.downsample(conn, self.identity, at, aware(since) if since else None, self.policy)
            result = retention.prune(conn, cutoff)
            retention.mark_maintained(conn, self.identity, at)
            return {**result, "thinned": thinned}

        with self._lock:
            result = self._run(work, write=True)
            if result["samples"] or result["sessions"] or result["thinned"]:
                self._forget_written()
        return result

    def _forget_written(self) -> None:
        self._last_sample = None
        self._row_sig.clear()
        self._settled = {}

    def _maybe_maintain(self, now: datetime) -> None:
        if self._next_maintenance is None:
            # the first run waits one period too: a short-lived command never pays for it
            self._next_maintenance = now + self.policy.every
            return
        if now < self._next_maintenance:
            return
        self._next_maintenance = now + self.policy.every
        try:
            result = self.maintain(now)
            log.info("store maintenance: %s", result)
        except StoreError as exc:
            log.warning("store maintenance failed: %s", exc)
