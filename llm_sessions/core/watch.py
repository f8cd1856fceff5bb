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
) -> AsyncIterator[set[str]]:
    """Yield the set of changed paths per batch; returns at once when no path exists."""
    existing = [str(p) for p in paths if Path(p).exists()]
    if not existing:
        return
    from watchfiles import awatch

    async for batch in awatch(*existing, stop_event=stop, debounce=debounce_ms, recursive=True):
        yield {path for _change, path in batch}


__all__ = ["changes"]
