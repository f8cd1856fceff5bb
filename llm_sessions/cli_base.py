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
    """Creates the log folder on the first record, so read-only runs leave nothing behind.

    A log that cannot be written (disk full, read-only folder) is said once, in one line,
    and logging stops: logging's default is a traceback on stderr for every record.
    """

    broken = False
    #: Past this size the log is moved to `<name>.1` (one earlier log kept) when a process
    #: first writes to it: every command logs its scan problems, so an unbounded log would
    #: grow by a few kilobytes a run forever. Checked once per process, at open, because
    #: logging.handlers' rotating handler costs its import (socket, pickle) on every start.
    max_bytes = 4 * 1024 * 1024

    def _open(self):
        path = Path(self.baseFilename)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            if path.stat().st_size > self.max_bytes:
                os.replace(path, path.with_name(path.name + ".1"))
        except OSError:  # no log yet, or another process rotated it first
            pass
        return super()._open()

    def emit(self, record):
        if self.broken:
            return
        try:
            super().emit(record)  # opening the file happens here, outside logging's own guard
        except Exception:
            self.handleError(record)

    def handleError(self, record):
        if self.broken:
            return
        self.broken = True
        exc = sys.exc_info()[1]
        reason = getattr(exc, "strerror", None) or exc
        sys.stderr.write(f"llm-session: warning: cannot write the log {self.baseFilename}: {reason}; logging is off\n")


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
    for warning in settings.warnings:
        sys.stderr.write(f"llm-session: warning: {warning}\n")
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
    from llm_sessions.core.accounting.statusline_state import path_in
    from llm_sessions.core.live.monitor import Monitor

    disc = None
    if discovery:
        disc = _discovery(settings)
    return Monitor(settings, os.environ, cache_dir=paths.cache_dir, discovery=disc, limits_state=path_in(paths.data_dir))


def _discovery(settings):
    try:
        from llm_sessions.core.live.discovery import Discovery
    except ImportError:
        return None
    return Discovery(os.environ)


def _snapshot(processes: bool = True, progress: bool = True, learn_limits: bool = False, only_running: bool = False):
    """One poll, as the dashboard makes it: with discovery unless `processes` is False.
    `only_running`: the answer shows running sessions only, so transcripts that cannot be
    running are not read (see core.live.scope)."""
    paths, settings = _context()
    mon = _monitor(paths, settings, discovery=processes)
    mon.learn_limits = learn_limits  # only `limits` shows used % of estimates; shares need no history
    meter = _Progress(progress)
    try:
        snap = mon.poll(progress=meter, only_running=only_running) if processes else mon.scan_files(progress=meter)
    finally:
        meter.close()
    for problem in snap.problems:
        log.info("scan: %s", problem)
    return snap, settings


def _emit_json(data) -> None:
    import msgspec

    try:
        raw = msgspec.json.encode(data)
    except UnicodeEncodeError:  # a file name that is not UTF-8: show its bytes as \xNN
        from llm_sessions.core.safeio import printable_tree

        raw = msgspec.json.encode(printable_tree(data))
    # A listing of 100,000 sessions is 140 MB of text: drop each copy once the next exists
    text = msgspec.json.format(raw, indent=2)
    del raw
    if _write_inert_utf8(text):
        return
    out = text.decode()
    del text
    sys.stdout.write(out)
    sys.stdout.write("\n")


def _write_inert_utf8(data: bytes) -> bool:
    """Write encoded JSON to stdout's byte stream, inert, without the text layer.

    The encoder escapes every C0 control; DEL and the C1 range (U+0080-U+009F, in UTF-8
    `\\xc2\\x80`-`\\xc2\\x9f`, only ever inside strings) become JSON escapes here, so the
    text is inert and still JSON (InertStream would spell DEL `\\x7f`, which JSON rejects).
    Decoding, running InertStream's pattern and encoding again took 1.6 s for the 147 MB of
    a `list --all --json` of 100,000 sessions, the two byte searches 0.1 s (load 5). False:
    no UTF-8 byte stream to write to, so the caller writes text.
    """
    stream = getattr(sys.stdout, "raw", sys.stdout)
    buffer = getattr(stream, "buffer", None)
    encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "").replace("_", "")
    if buffer is None or encoding != "utf8":
        return False
    if b"\x7f" in data or b"\xc2" in data:
        import re

        data = re.sub(rb"\x7f|\xc2[\x80-\x9f]", lambda m: b"\\u%04x" % ord(m.group().decode()), data)
    stream.flush()
    buffer.write(data)
    buffer.write(b"\n")
    buffer.flush()
    return True


def _emit_listing(key: str, items: list, problems) -> None:
    """A collection answer: `{"ok": true, <key>: [...], "problems": [...]}`.

    `problems` lists what could not be read while answering (folders, files, malformed
    lines), so a script can tell "no session" from "could not look".
    """
    from llm_sessions.core.problems import problem_dicts

    _emit_json({"ok": True, key: items, "problems": problem_dicts(problems)})


def _tell_problems(problems) -> None:
    """Say on stderr what could not be read, and where the details are."""
    from llm_sessions.core.problems import summary_lines

    lines = summary_lines(problems)
    if not lines:
        return
    for line in lines:
        sys.stderr.write(f"llm-session: {line}\n")
    logfile = next((h.baseFilename for h in log.handlers if isinstance(h, _LazyFileHandler) and not h.broken), None)
    where = f"; log: {logfile}" if logfile else ""
    sys.stderr.write(f"llm-session: details: --json (\"problems\"){where}\n")


def json_error(message: str, code: int) -> None:
    """The one error shape of every `--json` command (cli_export's too): ok, error, exit_code."""
    import json

    sys.stdout.write(json.dumps({"ok": False, "error": message, "exit_code": code}, ensure_ascii=False) + "\n")


# -- formatting for people -----------------------------------------------------------------


def _k(n: int | None) -> str:
    if n is None:
        return "-"
    for unit, size in (("M", 1_000_000), ("k", 1_000)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return str(n)


def _short_path(p: str | None) -> str:
    if not p:
        return "-"
    home = os.path.expanduser("~")
    return "~" + p[len(home) :] if home != "/" and p.startswith(home) else p


def _cost(usd: float | None) -> str:
    return f"${usd:,.2f}" if usd is not None else "-"


def _span(s, now) -> str:
    from llm_sessions.core.accounting.health import span

    d = span(s, now)
    if d is None:
        return "-"
    minutes = int(d.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours < 48 else f"{hours // 24}d{hours % 24}h"


def _table(sessions, now=None) -> str:
    """The `list` table: the ids the dashboard shows (unique prefixes, `pid N`), aligned."""
    from llm_sessions.cli_table import Col, render
    from llm_sessions.core.ids import display_ids

    if now is None:
        from datetime import UTC, datetime

        now = datetime.now(UTC)
    ids = display_ids(sessions)
    cols = [
        Col("ID"), Col("TOOL"), Col("STATE"), Col("CONTEXT", right=True), Col("TOKENS", right=True),
        Col("COST", right=True), Col("HEALTH", right=True), Col("TIME", right=True),
        Col("MODEL", limit=22), Col("CWD", limit=36, keep="end"),
    ]
    rows = []
    for s in sessions:
        ctx = f"{_k(s.context.used)}/{_k(s.context.window)} {s.context.percent:.0f}%" if s.context else "-"
        health = f"{s.health.score} {s.health.status}" if s.health else "-"
        tokens = _k(s.usage.total) + ("" if s.usage.exact else "~")
        rows.append([ids[s.id], s.tool, s.state, ctx, tokens, _cost(s.cost_usd), health, _span(s, now), s.model or "-", _short_path(s.cwd)])
    return render(cols, rows)


def list_sessions(all_: bool = False, no_processes: bool = False, as_json: bool = False) -> None:
    """Running sessions (with --all: every session found in the transcripts)."""
    from llm_sessions.core.accounting.report import session_dict

    if no_processes and not all_:
        raise UserError("--no-processes needs --all: without a process scan nothing is known to run", code=2)
    snap, _ = _snapshot(processes=not no_processes, only_running=not all_)
    sessions = [s for s in snap.sessions if all_ or s.process is not None]
    if as_json:
        _emit_listing("sessions", [session_dict(s) for s in sessions], snap.problems)
        return
    if not sessions:
        where = ", ".join(snap.searched) or "nowhere"
        hint = "" if all_ else " (try --all for sessions that are not running)"
        sys.stdout.write(f"No {'running ' if not all_ else ''}session found{hint}. Looked in: {where}\n")
    else:
        sys.stdout.write(_table(sessions, snap.taken_at) + "\n")
    _tell_problems(snap.problems)


#: `list` flags the dispatcher handles itself; anything else (help, a typo) goes to Typer.
LIST_FLAGS = {"--all": "all_", "-a": "all_", "--no-processes": "no_processes", "--json": "as_json"}


def run_list(args: list[str]) -> None:
    """`llm-session list` with plain flags, for the dispatcher (see `LIST_FLAGS`)."""
    chosen = {LIST_FLAGS[a]: True for a in args}
    start()  # as every Typer command: collector off, private umask, inert output
    run_guarded(lambda: list_sessions(**chosen), as_json="as_json" in chosen)


def _private_and_inert() -> None:
    """Everything we create is the user's alone (umask 077), and everything we print passes
    through InertStream, so no string from a transcript can drive the terminal."""
    from llm_sessions.core.inert import InertStream
    from llm_sessions.paths import private_umask

    private_umask()
    if not isinstance(sys.stdout, InertStream):
        sys.stdout = InertStream(sys.stdout)
    if not isinstance(sys.stderr, InertStream):
        sys.stderr = InertStream(sys.stderr)


def _fail(message: str, code: int, as_json: bool) -> None:
    if as_json:
        json_error(message, code)
    else:
        sys.stderr.write(f"llm-session: {message}\n")
    sys.exit(code)


def start() -> None:
    """What every command does first."""
    # A command runs for a second at most and builds many objects but no garbage cycles
    # worth collecting: the cyclic collector only costs time (~15% of a warm `list`). The
    # dashboard, which runs for hours, turns it back on.
    import atexit
    import gc

    gc.disable()
    # Even disabled, the collector makes one full pass at interpreter exit: over a cold
    # scan's heap that is ~50 ms of a `list` (65 -> 17 ms from the last atexit hook to the
    # process's end, r1g). Frozen objects are left out of that pass; nothing runs after it.
    atexit.register(gc.freeze)
    for stream in (sys.stdout, sys.stderr):
        # Names that are not UTF-8 reach us as lone surrogates: print them escaped, never fail.
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    _private_and_inert()


def run_guarded(command: Callable[[], object], as_json: bool) -> None:
    """Run a command, turning every failure into one line (or one JSON object) and an exit code."""
    try:
        command()
    except UserError as exc:
        _fail(str(exc), exc.code, as_json)
    except KeyboardInterrupt:
        _fail("interrupted", 130, as_json)
    except SystemExit as exc:
        if getattr(exc, "signum", None):  # core.accounting.pool.Terminated: SIGTERM/SIGHUP during a scan
            _fail("interrupted", exc.code if isinstance(exc.code, int) else 1, as_json)
        raise
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except Exception as exc:
        from llm_sessions.config import ConfigError

        if isinstance(exc, ConfigError):  # e.g. a price table found bad while building the monitor
            _fail(str(exc), 2, as_json)
        log.exception("unexpected error")  # last resort: keep the traceback in the log, not on screen
        _fail(f"unexpected error: {exc} (details in the log file)", 1, as_json)
    sys.exit(0)
