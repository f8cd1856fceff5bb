"""core.live.watch over a real temporary folder: batches arrive, ignored folders stay silent."""

from __future__ import annotations

import asyncio

from llm_sessions.core.live.watch import changes


async def first_batch(paths, ignore, writes):
    """Start watching, perform the writes, return the first batch yielded (or None)."""
    stop = asyncio.Event()
    stream = changes(paths, stop=stop, debounce_ms=50, ignore=ignore)
    task = asyncio.ensure_future(anext(stream, None))
    await asyncio.sleep(0.3)  # set-up: let the watcher start before writing
    for write in writes:
        write()
        await asyncio.sleep(0.2)
    try:
        return await asyncio.wait_for(task, 20)
    finally:
        stop.set()


async def test_changes_yield_paths_and_skip_ignored_folders(tmp_path):
    own = tmp_path / ".llm-session"
    own.mkdir()
    real = tmp_path / "projects"
    real.mkdir()
    batch = await first_batch(
        [tmp_path],
        [own],
        [lambda: (own / "llm-session.db").write_text("x"), lambda: (real / "s.jsonl").write_text("{}\n")],
    )
    assert batch == {str(real / "s.jsonl")}


async def test_no_existing_path_ends_at_once(tmp_path):
    assert [b async for b in changes([tmp_path / "missing"])] == []
