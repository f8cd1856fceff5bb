"""The Typer-free half of the command line: plumbing every command shares, and `list`.

`llm-session list --all --json` is what scripts and benchmarks run, and Typer's import
plus its parsing cost ~50 ms, a fifth of a warm answer over a gigabyte of history. So the
executable (`entry.py`) runs `list` with plain flags straight from here, and the Typer app
in `cli.py` uses the same functions for everything else, `list --help` included. Nothing
here imports Typer.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("llm_sessions")



class UserError(Exception):
    """A problem to report in one line with exit code `code`."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


# -- shared plumbing ---------------------------------------------------------------------


class _LazyFileHandler(logging.FileHandler):
    """Creates the log folder on the first record, so read-only runs leave nothing behind."""

    def _open(self):
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()


def _setup_logging(paths) -> Path:
    logfile = paths.log_dir / "llm-session.log"
    if not any(isinstance(h, _LazyFileHandler) for h in log.handlers):
        handler = _LazyFileHandler(logfile, delay=True, encoding="utf-8")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    return logfile


def _context():
    from llm_sessions.config import ConfigError, load_settings
    from llm_sessions.paths import app_paths, secure_app_dirs

    paths = app_paths()
    secure_app_dirs(paths)
    _setup_logging(paths)
    try:
        settings = load_settings(paths.config_file)
    except ConfigError as exc:
        raise UserError(str(exc), code=2) from None
    return paths, settings


class _Progress:
    """A one-line progress meter on stderr for long scans, only when stderr is a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self.start = time.monotonic()
        self.last = 0.0
        self.shown = False

    def __call__(self, done: int, _total: int) -> None:
        now = time.monotonic()
        if not self.enabled or now - self.last < 0.2 or now - self.start < 0.5:
            return
        self.last = now
        self.shown = True
        rate = done / max(now - self.start, 1e-6) / 1e6
        err = getattr(sys.stderr, "raw", sys.stderr)  # our own \r, past the InertStream
        err.write(f"\rreading transcripts: {done / 1e6:,.0f} MB ({rate:,.0f} MB/s)   ")
        err.flush()

    def close(self) -> None:
        if self.shown:
            err = getattr(sys.stderr, "raw", sys.stderr)
            err.write("\r" + " " * 60 + "\r")
            err.flush()


def _monitor(paths, settings, *, discovery: bool):
    from llm_sessions.core.monitor import Monitor
    from llm_sessions.core.statusline_state import path_in

    disc = None
    if discovery:
        disc = _discovery(settings)
    return Monitor(settings, os.environ, cache_dir=paths.cache_dir, discovery=disc, limits_state=path_in(paths.data_dir))


def _discovery(settings):
    try:
        from llm_sessions.core.discovery import Discovery
    except ImportError:
        return None
    return Discovery(os.environ)


def _snapshot(running_only: bool, progress: bool = True, learn_limits: bool = False):
    paths, settings = _context()
    mon = _monitor(paths, settings, discovery=running_only)
    mon.learn_limits = learn_limits  # only `limits` shows used % of estimates; shares need no history
    meter = _Progress(progress)
    try:
        snap = mon.poll(progress=meter) if running_only else mon.scan_files(progress=meter)
    finally:
        meter.close()
    for problem in snap.problems:
        log.info("scan: %s", problem)
    return snap, settings


def _emit_json(data) -> None:
    import msgspec

    sys.stdout.write(msgspec.json.format(msgspec.json.encode(data), indent=2).decode() + "\n")


# -- formatting for people -----------------------------------------------------------------


def _k(n: int | None) -> str:
    if n is None:
        return "-"
    for unit, size in (("M", 1_000_000), ("k", 1_000)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)


def _short_path(p: str | None, width: int = 28) -> str:
    if not p:
        return "-"
    home = os.path.expanduser("~")
    if p.startswith(home):
        p = "~" + p[len(home) :]
    return p if len(p) <= width else "…" + p[-(width - 1) :]


def _table(sessions) -> str:
    header = f"{'ID':<9} {'TOOL':<7} {'STATE':<8} {'CONTEXT':>15} {'TOKENS':>8} {'COST':>9} {'HEALTH':>12} {'MODEL':<20} CWD"
    rows = [header]
    for s in sessions:
        ctx = f"{_k(s.context.used)}/{_k(s.context.window)} {s.context.percent:>3.0f}%" if s.context else "-"
        cost = f"${s.cost_usd:,.2f}" if s.cost_usd is not None else "-"
        health = f"{s.health.score} {s.health.status}" if s.health else "-"
        tokens = _k(s.usage.total) + ("" if s.usage.exact else "~")
        rows.append(
            f"{s.id[:8]:<9} {s.tool:<7} {s.state:<8} {ctx:>15} {tokens:>8} {cost:>9} {health:>12} {(s.model or '-')[:20]:<20} {_short_path(s.cwd)}"
        )
    return "\n".join(rows)


# -- commands ------------------------------------------------------------------------------


def list_sessions(all_: bool, as_json: bool) -> None:
    """`llm-session list`: running sessions (with all_: every session in the transcripts)."""
    from llm_sessions.core.report import session_dict

    snap, _ = _snapshot(running_only=not all_)
    sessions = [s for s in snap.sessions if all_ or s.process is not None]
    if as_json:
        _emit_json([session_dict(s) for s in sessions])
        return
    if not sessions:
        where = ", ".join(snap.searched) or "nowhere"
        hint = "" if all_ else " (try --all for sessions that are not running)"
        sys.stdout.write(f"No {'running ' if not all_ else ''}session found{hint}. Looked in: {where}\n")
        return
    sys.stdout.write(_table(sessions) + "\n")


LIST_FLAGS = {"--all": "all_", "-a": "all_", "--json": "as_json"}


def run_list(args: list[str]) -> int | None:
    """`list` from the dispatcher, when every argument is one of LIST_FLAGS (else None:
    the Typer app handles it, with its help and its errors)."""
    if not set(args) <= LIST_FLAGS.keys():
        return None
    chosen = {LIST_FLAGS[a] for a in args}
    start()
    return run_guarded(lambda: list_sessions("all_" in chosen, "as_json" in chosen))


def _private_and_inert() -> None:
    """Everything we create is the user's alone (umask 077), and everything we print passes
    through InertStream, so no string from a transcript can drive the terminal."""
    from llm_sessions.core.inert import InertStream
    from llm_sessions.paths import private_umask

    private_umask()
    if not isinstance(sys.stdout, InertStream):
        sys.stdout = InertStream(sys.stdout)  # type: ignore[assignment]
    if not isinstance(sys.stderr, InertStream):
        sys.stderr = InertStream(sys.stderr)  # type: ignore[assignment]


def start() -> None:
    """What every command does first."""
    # A command runs for a second at most and builds many objects but no garbage cycles
    # worth collecting: the cyclic collector only costs time (~15% of a warm `list`). The
    # dashboard, which runs for hours, turns it back on.
    import gc

    gc.disable()
    _private_and_inert()


def run_guarded(command: Callable[[], object]) -> int:
    """Run a command, turning user errors into one line and an exit code."""
    try:
        command()
    except UserError as exc:
        sys.stderr.write(f"llm-session: {exc}\n")
        return exc.code
    except KeyboardInterrupt:
        sys.stderr.write("llm-session: interrupted\n")
        return 130
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except Exception as exc:  # last resort: keep the traceback in the log, not on screen
        log.exception("unexpected error")
        sys.stderr.write(f"llm-session: unexpected error: {exc} (details in the log file)\n")
        return 1
    return 0
