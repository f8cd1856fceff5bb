"""Parallel cold scans: parse many transcript files in worker processes.

Only worth it for big first scans (hundreds of megabytes); a live poll parses a few
kilobytes and stays in-process. Files go to the workers largest first in batches that
shrink as the work left shrinks (guided scheduling: each batch a share of what is left),
so the workers finish within a small batch of each other, and results come back
msgpack-encoded, which pickles much faster than nested Python objects. The parent hands
each result on as it arrives (`each`), so the per-file part of the merge runs while the
workers still parse, and only the cross-file part is left once the last batch is in.

Workers never outlive the scan, whatever ends it:
- the scan finishes or raises (Ctrl-C included): the pool is shut down, and on an error
  its workers are terminated rather than waited for;
- SIGTERM or SIGHUP (`timeout`, systemd, a closed terminal) while the workers run: the
  signal is turned into `Terminated` (a SystemExit) in the parent, which then ends the
  same way;
- the parent is killed outright (kill -9): each worker asked the kernel to kill it when
  its parent dies (Linux), or notices the parent is gone within half a second (elsewhere).
Workers ignore SIGINT: Ctrl-C reaches the whole process group, and only the parent should
decide what happens next (otherwise every worker prints its own traceback).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from contextlib import contextmanager

import msgspec

from llm_sessions.core.accounting.providers.claude_file import ClaudeFile
from llm_sessions.core.problems import Problem

log = logging.getLogger(__name__)

MIN_BYTES = 48 * 1024 * 1024
SHARE = 3  # a batch is 1 / (SHARE * workers) of the bytes not yet dealt ...
MIN_BATCH = 2 * 1024 * 1024  # ... but at least this much
FILE_COST = 16 * 1024  # a file's fixed cost (open, stat, its result) in bytes of parsing

_enc = msgspec.msgpack.Encoder()
_dec = msgspec.msgpack.Decoder(ClaudeFile)


class Terminated(SystemExit):
    """SIGTERM or SIGHUP arrived during a parallel scan: exit 128 + `signum`, as the shell
    reports a process killed by it, after the workers are stopped on the way out."""

    def __init__(self, signum: int) -> None:
        super().__init__(128 + signum)
        self.signum = signum


def _die_with_parent(parent: int) -> None:
    """Worker initializer: never outlive the process that started the scan."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            PR_SET_PDEATHSIG = 1
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the parent died before the request above was made
        os._exit(1)

    def watch() -> None:
        import time

        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _work(batch: list[bytes]) -> tuple[list[bytes], list[Problem]]:
    """Parse a batch of files; each comes back encoded on its own, which is also how the
    scan cache keeps it, so the parent never encodes a result a second time."""
    import gc

    # A worker allocates millions of short-lived objects and no cycles worth collecting:
    # the collector's passes over the growing heap cost a fifth of a parse.
    gc.disable()
    from llm_sessions.core.accounting import tailer
    from llm_sessions.core.accounting.providers.claude import parse_one

    out, problems = [], []
    for raw in batch:
        f = msgspec.msgpack.decode(raw, type=ClaudeFile)
        try:
            # Stat again here: the file may have grown since the parent listed it.
            st = os.stat(f.path)
        except OSError as exc:
            from llm_sessions.core.problems import unreadable_file

            problems.append(unreadable_file(f.path, exc))
            out.append(f)
            continue
        if tailer.needs_reset(f.cursor, st, f.path):
            f.reset()
        out.append(parse_one(f, st, problems))
    return [_enc.encode(f) for f in out], problems


@contextmanager
def _signals_raise():
    """In the main thread, turn SIGTERM and SIGHUP into `Terminated` for the duration."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, _frame):
        raise Terminated(signum)

    wanted = [s for s in (getattr(signal, "SIGTERM", None), getattr(signal, "SIGHUP", None)) if s is not None]
    old = {s: signal.signal(s, handler) for s in wanted}
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)


def _terminate(ex) -> None:
    """Stop a ProcessPoolExecutor now: cancel what is queued and kill running workers."""
    ex.shutdown(wait=False, cancel_futures=True)
    stop = getattr(ex, "terminate_workers", None)  # Python 3.14+
    if stop is not None:
        stop()
        return
    procs = list((getattr(ex, "_processes", None) or {}).values())
    for proc in procs:
        try:
            proc.terminate()
        except (OSError, AttributeError):
            pass
    for proc in procs:
        try:
            proc.join(2)
            if proc.is_alive():
                proc.kill()
                proc.join(1)
        except (OSError, AttributeError, ValueError, AssertionError):
            pass


def _batches(todo, workers: int) -> tuple[list[list[bytes]], list[int]]:
    """`todo` in batches (encoded files) with their bytes to read, in the order they are
    handed out: largest files first, each batch 1 / (SHARE * workers) of the work left, so
    the last batches are small and no worker waits long for another at the end."""
    items = sorted(((st.st_size - f.cursor.offset, f) for f, st in todo), key=lambda t: t[0], reverse=True)
    left = sum(n + FILE_COST for n, _ in items)
    batches: list[list[bytes]] = []
    sizes: list[int] = []
    batch: list[bytes] = []
    cost = size = 0
    target = max(left // (SHARE * workers), MIN_BATCH)
    for n, f in items:
        batch.append(_enc.encode(f))
        size += n
        cost += n + FILE_COST
        if cost >= target:
            batches.append(batch)
            sizes.append(size)
            left -= cost
            batch, cost, size = [], 0, 0
            target = max(left // (SHARE * workers), MIN_BATCH)
    if batch:
        batches.append(batch)
        sizes.append(size)
    return batches, sizes


class ParsePool:
    """A process pool used for one scan; `workers` 0 means one per core."""

    def __init__(self, workers: int = 0) -> None:
        self.workers = workers or os.cpu_count() or 1

    def wanted(self, todo_bytes: int) -> bool:
        return self.workers > 1 and todo_bytes >= MIN_BYTES

    def parse(self, todo, progress, problems: list, meanwhile=None, each=None) -> list[tuple[ClaudeFile, bytes]] | None:
        """(parsed file, its encoding) for each file of `todo`; None when the pool broke (a
        worker was killed, say by the OOM killer): the caller then parses in-process.
        `each(file, encoding)` is called for every result as it arrives (the parent would
        otherwise wait), before `parse` returns."""
        batches, loads = _batches(todo, self.workers)
        # Imported here: a warm run never starts workers and should not pay for the import.
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed
        from concurrent.futures.process import BrokenProcessPool

        method = "fork" if sys.platform.startswith("linux") else "spawn"
        out: list[tuple[ClaudeFile, bytes]] = []
        ex = ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context(method),
            initializer=_die_with_parent,
            initargs=(os.getpid(),),
        )
        try:
            with _signals_raise():
                futures = {ex.submit(_work, b): load for b, load in zip(batches, loads, strict=True) if b}
                if meanwhile is not None:
                    meanwhile()  # the workers are forked by now; this process would only wait
                for fut in as_completed(futures):
                    raws, probs = fut.result()
                    for raw in raws:
                        f = _dec.decode(raw)
                        out.append((f, raw))
                        if each is not None:
                            each(f, raw)
                    problems.extend(probs)
                    if progress:
                        progress(futures[fut])
        except BrokenProcessPool as exc:
            log.warning("parse pool broke (%s); parsing in this process instead", exc)
            _terminate(ex)
            return None
        except BaseException:
            _terminate(ex)
            raise
        ex.shutdown(wait=True)
        return out
