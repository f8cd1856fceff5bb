"""Parallel cold scans: parse many transcript files in worker processes.

Only worth it for big first scans (hundreds of megabytes); a live poll parses a few
kilobytes and stays in-process. Files are dealt to workers largest first so the workers
finish together, and results come back msgpack-encoded, which pickles much faster than
nested Python objects.
"""

from __future__ import annotations

import os
import sys

import msgspec

from llm_sessions.core.providers.claude_parse import ClaudeFile

MIN_BYTES = 48 * 1024 * 1024

_enc = msgspec.msgpack.Encoder()
_dec = msgspec.msgpack.Decoder(ClaudeFile)


def _work(batch: list[bytes]) -> tuple[list[bytes], list[str]]:
    """Parse a batch of files; each comes back encoded on its own, which is also how the
    scan cache keeps it, so the parent never encodes a result a second time."""
    import gc

    # A worker allocates millions of short-lived objects and no cycles worth collecting:
    # the collector's passes over the growing heap cost a fifth of a parse.
    gc.disable()
    from llm_sessions.core import tailer
    from llm_sessions.core.providers.claude import parse_file

    out, problems = [], []
    for raw in batch:
        f = msgspec.msgpack.decode(raw, type=ClaudeFile)
        try:
            # Stat again here: the file may have grown since the parent listed it.
            st = os.stat(f.path)
            if tailer.needs_reset(f.cursor, st):
                f.reset()
            out.append(parse_file(f, st))
        except OSError as exc:
            problems.append(f"cannot read {f.path}: {exc.strerror or exc}")
            out.append(f)
    return [_enc.encode(f) for f in out], problems


class ParsePool:
    """A process pool used for one scan; `workers` 0 means one per core."""

    def __init__(self, workers: int = 0) -> None:
        self.workers = workers or os.cpu_count() or 1

    def wanted(self, todo_bytes: int) -> bool:
        return self.workers > 1 and todo_bytes >= MIN_BYTES

    def parse(self, todo, progress, problems: list[str], meanwhile=None) -> list[tuple[ClaudeFile, bytes]]:
        """(parsed file, its encoding) for each file of `todo`."""
        # Many small batches, largest files first: the workers finish within a batch of each other.
        chunks = max(self.workers * 16, 1)
        batches: list[list] = [[] for _ in range(chunks)]
        loads = [0] * chunks
        for f, st in sorted(todo, key=lambda t: t[1].st_size - t[0].cursor.offset, reverse=True):
            i = loads.index(min(loads))
            batches[i].append(_enc.encode(f))
            loads[i] += st.st_size - f.cursor.offset
        # Imported here: a warm run never starts workers and should not pay for the import.
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        method = "fork" if sys.platform.startswith("linux") else "spawn"
        out: list[tuple[ClaudeFile, bytes]] = []
        with ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context(method)) as ex:
            futures = {ex.submit(_work, b): load for b, load in zip(batches, loads) if b}
            if meanwhile is not None:
                meanwhile()  # the workers are forked by now; this process would only wait
            for fut in as_completed(futures):
                raws, probs = fut.result()
                out.extend((_dec.decode(raw), raw) for raw in raws)
                problems.extend(probs)
                if progress:
                    progress(futures[fut])
        return out
