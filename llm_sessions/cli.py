"""The `llm-session` command.

Start-up time is part of every answer, so this module imports only Typer at the top; each
command imports the parts of the core it needs, and only the dashboard imports Textual and
only commands that keep history import SQLModel. Every failure the user can cause (a broken
config, an unknown session id, an unreadable database) ends in one line on stderr and a
non-zero exit code, never a traceback; unexpected errors are logged with their traceback to
the log file, whose path the one-line message names. With `--json` the same failure is
`{"ok": false, "error": ..., "exit_code": N}` on stdout (and the same exit code), usage
errors included, so a script never has to parse stderr.

`list`, `health` and the dashboard ask discovery which sessions run and score them with the
same poll (core.monitor) and the same clock, so they show the same state, duration and
health; `--no-processes` skips the process scan, and then every state is `unknown` and the
JSON says so (`"running": null`, `state_note`).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from llm_sessions import __version__

app = typer.Typer(
    name="llm-session",
    help="Every AI coding session on this machine: exact tokens, context fill, cost and health.",
    no_args_is_help=False,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
config_app = typer.Typer(help="Show or create the configuration file.", no_args_is_help=True)
app.add_typer(config_app, name="config")

log = logging.getLogger("llm_sessions")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
NoProcOpt = Annotated[
    bool, typer.Option("--no-processes", help="Do not scan processes (faster; every state is then unknown).")
]
DbOpt = Annotated[
    Optional[str],
    typer.Option("--db", help="Store URL (sqlite:///FILE or postgresql://USER@HOST/DB) for every command that uses the store; may also follow the command."),
]
# Global options, set by the root callback before any command runs (`--db` is one of them).
_global: dict[str, Optional[str]] = {"db": None}


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

    def _open(self):
        Path(self.baseFilename).parent.mkdir(parents=True, exist_ok=True)
        return super()._open()

    def emit(self, record):
        if self.broken:
            return
        try:
            super().emit(record)  # opening the file happens here, outside logging's own guard
        except Exception:  # noqa: BLE001
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


def _snapshot(processes: bool = True, progress: bool = True, learn_limits: bool = False, only_running: bool = False):
    """One poll, as the dashboard makes it: with discovery unless `processes` is False.
    `only_running`: the answer shows running sessions only, so transcripts that cannot be
    running are not read (see core.scope)."""
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
    out = text.decode()
    del text
    sys.stdout.write(out)
    sys.stdout.write("\n")


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
    from llm_sessions.core.health import span

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


# -- commands ------------------------------------------------------------------------------


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    demo: Annotated[bool, typer.Option("--demo", help="Open the dashboard on simulated sessions.")] = False,
    team: Annotated[bool, typer.Option("--team", help="Open the dashboard over the shared store: every host's sessions.")] = False,
    db: DbOpt = None,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    """With no command: open the dashboard."""
    if version:
        sys.stdout.write(f"llm-session {__version__}\n")
        raise typer.Exit(0)
    _global["db"] = db
    if ctx.invoked_subcommand is None:
        _dashboard(demo=demo, team=team)


@app.command()
def monitor(
    demo: Annotated[bool, typer.Option("--demo", help="Simulated sessions.")] = False,
    team: Annotated[bool, typer.Option("--team", help="Every host's sessions from the shared store.")] = False,
) -> None:
    """Open the live dashboard (the same as running llm-session with no command)."""
    _dashboard(demo=demo, team=team)


@app.command()
def demo() -> None:
    """Open the dashboard on simulated sessions that write real transcripts."""
    _dashboard(demo=True)


def _dashboard(demo: bool, team: bool = False) -> None:
    from llm_sessions.dashboard import run_dashboard

    paths, settings = _context()
    if not sys.stdout.isatty():
        hint = "llm-session team --json" if team else "llm-session list --json"
        raise UserError(f"the dashboard needs a terminal; for scripts use `{hint}`", code=2)
    if demo and team:
        raise UserError("--demo and --team cannot be combined", code=2)
    from llm_sessions.core.store.errors import StoreError

    try:
        run_dashboard(paths, settings, demo=demo, team=team, db_url=store_url(settings), open_store=open_store)
    except StoreError as exc:
        raise UserError(str(exc), code=3) from None


@app.command("list")
def list_(
    all_: Annotated[bool, typer.Option("--all", "-a", help="Every session in the transcripts, running or not.")] = False,
    no_processes: NoProcOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Running sessions (with --all: every session found in the transcripts)."""
    from llm_sessions.core.report import session_dict

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


@app.command()
def health(
    session_id: Annotated[Optional[str], typer.Argument(metavar="[ID]", help="A session id or a unique prefix of one.")] = None,
    all_: Annotated[bool, typer.Option("--all", "-a", help="Every session, not only running ones.")] = False,
    no_processes: NoProcOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """The health score of a session (or of every running session), with each component's reason."""
    from llm_sessions.core.ids import display_ids
    from llm_sessions.core.report import Ambiguous, NotFound, find_session, session_dict

    if no_processes and session_id is None and not all_:
        raise UserError("--no-processes needs an ID or --all: without a process scan nothing is known to run", code=2)
    snap, _ = _snapshot(processes=not no_processes, only_running=session_id is None and not all_)
    if session_id is not None:
        try:
            sessions = [find_session(snap.sessions, session_id)]
        except (Ambiguous, NotFound) as exc:
            _tell_problems(snap.problems)  # the session may be in what could not be read
            raise UserError(str(exc), code=2) from None
    else:
        sessions = [s for s in snap.sessions if all_ or s.process is not None]
    if as_json:
        keep = ("state", "running", "state_note", "context", "last_activity", "started_at", "limit_shares")
        out = [
            {"id": s.id, "tool": s.tool, "health": s.health.as_dict(reasons=True) if s.health else None}
            | {k: v for k, v in session_dict(s).items() if k in keep}
            for s in sessions
        ]
        if session_id is not None:
            _emit_json(out[0])
        else:
            _emit_listing("sessions", out, snap.problems)
        return
    _tell_problems(snap.problems)
    if not sessions:
        sys.stdout.write("No running session found (try --all, or give a session id).\n")
        return
    from llm_sessions.cli_table import printable

    labels = display_ids(sessions)
    for s in sessions:
        h = s.health
        # a process-only session is named as the tables name it (`pid 17436`), its id beside
        label = f"{labels[s.id]} ({s.id})" if labels[s.id].startswith("pid ") else s.id
        sys.stdout.write(printable(f"{label}  {s.tool}  {s.state}  {_span(s, snap.taken_at)}  {_short_path(s.cwd)}") + "\n")
        if h is None:
            sys.stdout.write("  no health score\n\n")
            continue
        sys.stdout.write(f"  health {h.score}/100  {h.status}\n")
        for c in h.components:
            sys.stdout.write(printable(f"  {c.name:<9} {c.score:>3}  (weight {c.weight:g})  {c.reason}") + "\n")
        sys.stdout.write("\n")


def _program() -> list[str]:
    """How Claude Code should start us: this executable's absolute path when we run as
    `llm-session`, else `llm-session` from PATH, else this Python with `-m llm_sessions`."""
    import shutil

    argv0 = os.path.abspath(sys.argv[0])
    if os.path.basename(argv0) == "llm-session" and os.access(argv0, os.X_OK):
        return [argv0]
    found = shutil.which("llm-session")
    return [found] if found else [sys.executable, "-m", "llm_sessions"]


@app.command(context_settings={"ignore_unknown_options": True})
def statusline(
    install: Annotated[bool, typer.Option("--install", help="Add the status line to Claude Code's settings.json.")] = False,
    uninstall: Annotated[bool, typer.Option("--uninstall", help="Take it out again (restores a chained command).")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the change and stop.")] = False,
    chain: Annotated[Optional[str], typer.Option("--chain", help="A status line command to run first (set by --install).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Claude Code's status line: reads its JSON on stdin and prints context, tokens, cost,
    health and the 5-hour limit in one line. --install adds it to Claude Code."""
    if not install and not uninstall:
        from llm_sessions.cli_statusline import run

        raise typer.Exit(run(["--chain", chain] if chain else []))
    if install and uninstall:
        raise UserError("choose one of --install and --uninstall", code=2)
    from llm_sessions.core import statusline_install as si

    path = si.settings_path(os.environ)
    try:
        plan = si.plan_install(path, _program()) if install else si.plan_uninstall(path)
    except si.InstallError as exc:
        raise UserError(str(exc), code=2) from None
    out = {"settings": str(path), "change": plan.message, "before": plan.before, "after": plan.after,
           "applied": False, "backup": None}
    if not plan.changes or dry_run:
        _emit_json(out) if as_json else sys.stdout.write(si.describe(plan) + "\n")
        return
    if not as_json:
        sys.stdout.write(si.describe(plan) + "\n")
    if not yes:
        if not sys.stdin.isatty():
            raise UserError("not applied: confirm with --yes (stdin is not a terminal to ask on)", code=2)
        if not typer.confirm("Apply this change?", default=False):
            raise UserError("not applied", code=1)
    try:
        backup = si.apply(plan)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc}", code=3) from None
    out.update(applied=True, backup=str(backup) if backup else None)
    if as_json:
        _emit_json(out)
        return
    sys.stdout.write(f"wrote {path}" + (f" (backup: {backup})" if backup else "") + "\n")
    if install:
        sys.stdout.write("Claude Code shows it from its next status update.\n")


@app.command()
def limits(as_json: JsonOpt = False) -> None:
    """Usage-limit windows: used %, reset, source, burn rate, time to 100% and who used them."""
    from llm_sessions.core.ids import unique_prefixes
    from llm_sessions.core.limit_report import text_report, window_dict

    snap, _ = _snapshot(processes=False, learn_limits=True)
    if as_json:
        _emit_json({"taken_at": snap.taken_at.isoformat().replace("+00:00", "Z"),
                    "windows": [window_dict(w, snap.taken_at) for w in snap.limits]})
        return
    ids = unique_prefixes(list(dict.fromkeys(s.session_id for w in snap.limits for s in w.shares)))
    sys.stdout.write(text_report(snap.limits, snap.taken_at, ids) + "\n")


@app.command()
def prices(
    all_: Annotated[bool, typer.Option("--all", "-a", help="Also list every model in the table.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """The price table in use (date, source, overrides) and the models in your transcripts without a price."""
    from llm_sessions.cli_reports import prices_text
    from llm_sessions.core.price_report import price_report

    snap, mon = _scan_for_report()
    report = price_report(mon.prices, snap.sessions, all_models=all_)
    if as_json:
        _emit_json(report)
    else:
        sys.stdout.write(prices_text(report) + "\n")


@app.command()
def doctor(as_json: JsonOpt = False) -> None:
    """Format drift: per assistant and version, what was read and what was not understood."""
    from dataclasses import replace

    from llm_sessions.cli_reports import doctor_text

    snap, mon = _scan_for_report()
    report = replace(mon.drift_report(), problems=snap.problems)
    if as_json:
        _emit_json(report.as_dict())
    else:
        sys.stdout.write(doctor_text(report.as_dict()) + "\n")


def _scan_for_report():
    """Every session in the transcripts, and the monitor that read them (prices, drift)."""
    from llm_sessions.config import ConfigError

    paths, settings = _context()
    try:
        mon = _monitor(paths, settings, discovery=False)
    except ConfigError as exc:  # a broken pricing.file or [pricing.models] table
        raise UserError(str(exc), code=2) from None
    meter = _Progress(True)
    try:
        snap = mon.scan_files(progress=meter)
    finally:
        meter.close()
    return snap, mon


def store_url(settings, db: str | None = None) -> str | None:
    """The store's URL: `--db` (global), else `general.db_url`, else None (SQLite in the data dir)."""
    return db or _global["db"] or settings.general_db_url or None


def open_store(paths, settings, db: str | None = None, *, lazy: bool = False):
    """The store for this machine's identity, or a one-line error (exit 3: locked, unreachable, ...)."""
    from llm_sessions.core.store import Retention, Store, StoreBusy, StoreError, local_identity
    from llm_sessions.config import check_db_url

    given = db or _global["db"]
    bad = check_db_url(given) if given else None
    if bad:
        raise UserError(f"--db: {bad}", code=2)
    try:
        store = Store.open(
            store_url(settings, db),
            paths.data_dir,
            identity=local_identity(settings),
            connect_timeout_s=settings.store_connect_timeout_seconds,
            statement_timeout_s=settings.store_statement_timeout_seconds,
            share_cwd=settings.team_share_cwd,
            policy=Retention(keep_days=settings.store_keep_days),
            lazy=lazy,
        )
    except StoreBusy as exc:
        raise UserError(f"{exc} (another llm-session may be writing; try again)", code=3) from None
    except StoreError as exc:
        raise UserError(str(exc), code=3) from None
    except OSError as exc:  # the data folder cannot be created (read-only or full disk)
        raise UserError(f"cannot open the store in {exc.filename or paths.data_dir}: {exc.strerror or exc}", code=3) from None
    for warning in store.warnings:
        sys.stderr.write(f"llm-session: warning: {warning}\n")
    return store


@app.command()
def history(
    session_id: Annotated[Optional[str], typer.Argument(metavar="[ID]", help="Show the samples of one session.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """This machine's sessions and samples kept in the store (refreshed from the transcripts first)."""
    from llm_sessions.core.report import Ambiguous, NotFound, find_session
    from llm_sessions.core.store import StoreError
    from llm_sessions.core.timeparse import iso

    paths, settings = _context()
    store = open_store(paths, settings)
    try:
        from llm_sessions.core.monitor import Monitor

        mon = Monitor(settings, os.environ, cache_dir=paths.cache_dir, store=store)
        snap = mon.scan_files()
        if not as_json:
            _tell_problems(snap.problems)
        if session_id is None:
            rows = [_history_row(r) for r in store.known_sessions()]
            if as_json:
                _emit_json(rows)
                return
            from llm_sessions.cli_table import Col, render
            from llm_sessions.core.ids import unique_prefixes

            ids = unique_prefixes([r["id"] for r in rows])
            cols = [Col("ID"), Col("TOOL"), Col("LAST ACTIVITY"), Col("TOKENS", right=True), Col("COST", right=True),
                    Col("CWD", limit=40, keep="end")]
            table = [
                [ids[r["id"]], r["tool"] or "-", (r["last_activity"] or "-")[:19].replace("T", " "),
                 _k(r["tokens"]["total"]) + ("" if r["tokens"]["exact"] else "~"), _cost(r["cost_usd"]), _short_path(r["cwd"])]
                for r in rows
            ]
            sys.stdout.write(render(cols, table) + "\n")
            return
        known = list(snap.sessions)
        try:
            sid = find_session(known, session_id).id
        except NotFound:
            ids = [r["id"] for r in store.known_sessions() if r["id"].startswith(session_id)]
            if len(ids) != 1:
                raise UserError(f"no session id starts with '{session_id}'" if not ids else f"session id '{session_id}' is ambiguous", code=2) from None
            sid = ids[0]
        except Ambiguous as exc:
            raise UserError(str(exc), code=2) from None
        samples = store.samples(sid)
        if as_json:
            row = next((r for r in store.known_sessions() if r["id"] == sid), None)
            _emit_json({"id": sid, "session": _history_row(row) if row else None, "samples": [
                {"at": iso(x.at), "context_used": x.context_used, "tokens_total": x.tokens_total, "cost_usd": x.cost_usd}
                for x in samples]})
            return
        sys.stdout.write(f"{sid}: {len(samples)} sample(s)\n")
        for x in samples:
            cost = f"${x.cost_usd:,.4f}" if x.cost_usd is not None else "-"
            sys.stdout.write(f"  {iso(x.at)}  context {_k(x.context_used):>7}  tokens {_k(x.tokens_total):>8}  {cost}\n")
    except StoreError as exc:
        raise UserError(str(exc), code=3) from None
    finally:
        store.close()


def _history_row(r: dict) -> dict:
    """A stored session in the `list --json` shape: the same `tokens{}` and `context{}`."""
    from llm_sessions.core.models import ContextFill, Usage
    from llm_sessions.core.timeparse import iso

    usage = Usage(r.get("input_tokens") or 0, r.get("output_tokens") or 0, r.get("cache_creation_tokens") or 0,
                  r.get("cache_read_tokens") or 0, bool(r.get("tokens_exact", True)))
    used, window = r.get("context_used"), r.get("context_window")
    context = ContextFill(used, window).as_dict() if used is not None and window else None
    health = {"score": r["health_score"], "status": r.get("status")} if r.get("health_score") is not None else None
    return {
        "id": r["id"], "tool": r.get("tool"), "state": r.get("state"), "cwd": r.get("cwd"), "transcript": r.get("transcript"),
        "model": r.get("model"), "git_branch": r.get("git_branch"), "title": r.get("title"),
        "started_at": iso(r.get("started_at")), "last_activity": iso(r.get("last_activity")),
        "tokens": usage.as_dict(), "context": context, "cost_usd": r.get("cost_usd"), "health": health,
        "updated_at": iso(r.get("updated_at")),
    }


@config_app.command("init")
def config_init(
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Write config.toml with every default, commented."""
    from llm_sessions.config import ConfigError, write_default_config
    from llm_sessions.paths import app_paths

    path = app_paths().config_file
    try:
        wrote = write_default_config(path, force=force)
    except ConfigError as exc:  # a read-only or full disk
        raise UserError(str(exc), code=1) from None
    if wrote:
        if as_json:
            _emit_json({"wrote": str(path)})
        else:
            sys.stdout.write(f"wrote {path}\n")
    else:
        raise UserError(f"{path} exists; use --force to overwrite it", code=1)


@config_app.command("show")
def config_show(as_json: JsonOpt = False) -> None:
    """The effective settings and where each value came from."""
    from llm_sessions.config import settings_rows

    paths, settings = _context()
    rows = settings_rows(settings)
    if as_json:
        _emit_json({"file": str(paths.config_file), "exists": paths.config_file.exists(), "settings": rows})
        return
    sys.stdout.write(f"config file: {paths.config_file}{'' if paths.config_file.exists() else ' (not created; defaults apply)'}\n")
    width = max(len(r["key"]) for r in rows)
    for r in rows:
        sys.stdout.write(f"{r['key']:<{width}}  {r['value']!r:<12}  {r['source']}\n")


@config_app.command("path")
def config_path(as_json: JsonOpt = False) -> None:
    """Print where the config file lives."""
    from llm_sessions.paths import app_paths

    path = app_paths().config_file
    if as_json:
        _emit_json({"path": str(path), "exists": path.exists()})
    else:
        sys.stdout.write(f"{path}\n")


def _export_deps():
    """What `export` and `import` need, built only when one of them runs."""
    from llm_sessions.cli_export import ExportDeps
    from llm_sessions.core.report import find_session

    paths, settings = _context()
    state: dict = {}

    def find(prefix: str):
        if "snap" not in state:
            state["snap"], _ = _snapshot(processes=True, progress=False)
        return find_session(state["snap"].sessions, prefix)

    def record(session_id, path, fmt, redactions, tokens) -> None:
        # History is a bonus: a finished export never fails because the store is busy or down.
        from llm_sessions.core.store import StoreError

        try:
            store = open_store(paths, settings)
        except UserError as exc:
            _not_recorded(path, exc)
            return
        try:
            store.record_export(session_id, path, fmt, redactions, tokens)
        except StoreError as exc:
            _not_recorded(path, exc)
        finally:
            store.close()

    return ExportDeps(find_session=find, exports_dir=paths.exports_dir, budget_tokens=settings.export_budget_tokens, record=record)


def _not_recorded(path, exc) -> None:
    log.warning("export %s not recorded in the store: %s", path, exc)
    sys.stderr.write(f"llm-session: warning: {path} was written but not recorded in history: {exc}\n")


def _register_export() -> None:
    from llm_sessions.cli_export import register

    register(app, _export_deps)


def hoist_global_options(argv: list[str]) -> list[str]:
    """Move `--db URL` / `--db=URL` given after the command to before it.

    `--db` is a global option (the root callback reads it), so every command that touches
    the store honours it, yet users type it after the command too: `history --db URL`.
    Arguments after `--` are left alone.
    """
    head: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i:])
            break
        if arg == "--db" and i + 1 < len(argv):
            head += argv[i : i + 2]
            i += 2
            continue
        if arg.startswith("--db="):
            head.append(arg)
        else:
            rest.append(arg)
        i += 1
    return head + rest


def _command_name(argv: list[str]) -> str | None:
    """The first word that is not an option or an option's value (after hoisting)."""
    i = 0
    while i < len(argv):
        if argv[i] == "--db":
            i += 2
            continue
        if not argv[i].startswith("-"):
            return argv[i]
        if argv[i] in ("--help", "-h"):
            return argv[i]
        i += 1
    return None


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


def _fail(message: str, code: int, as_json: bool) -> None:
    if as_json:
        json_error(message, code)
    else:
        sys.stderr.write(f"llm-session: {message}\n")
    sys.exit(code)


def main() -> None:
    """Entry point: run Typer, turning every failure into one line (or one JSON object) and an exit code."""
    for stream in (sys.stdout, sys.stderr):
        # Names that are not UTF-8 reach us as lone surrogates: print them escaped, never fail.
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    _private_and_inert()
    sys.argv[1:] = hoist_global_options(sys.argv[1:])
    if _command_name(sys.argv[1:]) in ("export", "import", "--help", "-h"):
        _register_export()  # only these pay for importing the export code
    as_json = "--json" in sys.argv[1:]
    try:
        code = app(standalone_mode=False)
    except UserError as exc:
        _fail(str(exc), exc.code, as_json)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, typer.Abort):
        _fail("interrupted", 130, as_json)
    except SystemExit as exc:
        if getattr(exc, "signum", None):  # core.pool.Terminated: SIGTERM/SIGHUP during a scan
            _fail("interrupted", exc.code, as_json)
        raise
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    except Exception as exc:
        from llm_sessions.config import ConfigError

        if isinstance(exc, ConfigError):  # e.g. a price table found bad while building the monitor
            _fail(str(exc), 2, as_json)
        if hasattr(exc, "format_message") and hasattr(exc, "show"):  # click's usage errors
            code = getattr(exc, "exit_code", 2)
            if as_json:
                _fail(exc.format_message(), code, True)
            exc.show()
            sys.exit(code)
        log.exception("unexpected error")  # last resort: keep the traceback in the log, not on screen
        _fail(f"unexpected error: {exc} (details in the log file)", 1, as_json)
    sys.exit(code if isinstance(code, int) else 0)


def _register_team() -> None:
    from llm_sessions.cli_team import register

    register(app)


_register_team()  # `agent` and `team`: their module imports only Typer at the top
