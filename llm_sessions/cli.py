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
same poll (core.live.monitor) and the same clock, so they show the same state, duration and
health; `--no-processes` skips the process scan, and then every state is `unknown` and the
JSON says so (`"running": null`, `state_note`).
"""

from __future__ import annotations

import gc
import os
import sys
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


from llm_sessions.cli_base import (  # noqa: E402,F401  (shared with the Typer-free fast path)
    _context,
    _cost,
    _discovery,
    _emit_json,
    _emit_listing,
    _tell_problems,
    _fail,
    _k,
    _LazyFileHandler,
    _monitor,
    _private_and_inert,
    _Progress,
    _setup_logging,
    _short_path,
    _snapshot,
    _span,
    _table,
    json_error,
    list_sessions,
    log,
    run_guarded,
    start,
    UserError,
)


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

    gc.enable()  # commands run with the collector off (cli_base.start); the dashboard runs for hours
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
    list_sessions(all_, no_processes, as_json)


@app.command()
def health(
    session_id: Annotated[Optional[str], typer.Argument(metavar="[ID]", help="A session id or a unique prefix of one.")] = None,
    all_: Annotated[bool, typer.Option("--all", "-a", help="Every session, not only running ones.")] = False,
    no_processes: NoProcOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """The health score of a session (or of every running session), with each component's reason."""
    from llm_sessions.core.ids import display_ids
    from llm_sessions.core.accounting.report import Ambiguous, NotFound, find_session, session_dict

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
    from llm_sessions.core.actions import statusline_install as si

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
    from llm_sessions.core.accounting.limit_report import text_report, window_dict

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
    from llm_sessions.core.accounting.price_report import price_report

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
    from llm_sessions.core.accounting.report import Ambiguous, NotFound, find_session
    from llm_sessions.core.store import StoreError
    from llm_sessions.core.timeparse import iso

    paths, settings = _context()
    store = open_store(paths, settings)
    try:
        from llm_sessions.core.live.monitor import Monitor

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
    from llm_sessions.core.accounting.report import find_session

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


def main() -> None:
    """Entry point: run Typer, turning every failure into one line (or one JSON object) and an exit code."""
    start()
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
        if getattr(exc, "signum", None):  # core.accounting.pool.Terminated: SIGTERM/SIGHUP during a scan
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
