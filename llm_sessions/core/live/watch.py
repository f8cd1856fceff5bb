"""File-change notifications for the dashboard, over watchfiles.

The UI must not import watchfiles (it stays a thin layer over the core), so the async
iterator lives here. A yielded value is one *batch* of changed paths: watchfiles already
debounces a burst of writes (an assistant appending many JSONL lines) into a single set, and
the UI turns each batch into at most one poll.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path


async def changes(
    paths: Sequence[Path],
    *,
    stop: asyncio.Event | None = None,
    debounce_ms: int = 400,
    step_ms: int = 200,
    ignore: Sequence[Path] = (),
) -> AsyncIterator[set[str]]:
    """Yield the set of changed paths per batch; returns at once when no path exists.

    Changes under `ignore` are dropped, and a batch left empty is not yielded: llm-session's
    own store, cache and logs may sit inside a watched folder (a home directory), and a poll
    that writes the store must not wake the watcher that triggered it.

    `step_ms`: how often the watching thread wakes to look for changes and for `stop`.
    watchfiles' 50 ms woke an idle dashboard 20 times a second (0.17% of a core measured,
    a sixth of the idle budget); 200 ms adds at most 150 ms to a change's poll, which the
    dashboard throttles to half its refresh anyway.
    """
    existing = [str(p) for p in paths if Path(p).exists()]  # noqa: ASYNC240 - one stat per root, once
    if not existing:
        return
    from watchfiles import awatch

    skip = tuple(str(Path(p)).rstrip("/") + "/" for p in ignore)
    async for batch in awatch(*existing, stop_event=stop, debounce=debounce_ms, step=step_ms, recursive=True):
        changed = {path for _change, path in batch if not path.startswith(skip) and path + "/" not in skip}
        if changed:
            yield changed


__all__ = ["changes"]
