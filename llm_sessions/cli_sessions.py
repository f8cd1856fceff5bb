"""The commands about sessions: the dashboard (`monitor`, `demo`), `list`, `health` and `history`.

`list`, `health` and the dashboard ask discovery which sessions run and score them with the
same poll (core.live.monitor) and the same clock, so they show the same state, duration and
health; `--no-processes` skips the process scan, and then every state is `unknown` and the
JSON says so (`"running": null`, `state_note`). `history` reads what the store kept, in the
same JSON shape as `list --json`. Each command imports the core it needs when it runs.
"""

from __future__ import annotations

import gc
import os
import sys
from typing import Annotated, Any

import typer

from llm_sessions.cli_base import (
    UserError,
    _context,
    _cost,
    _emit_json,
    _emit_listing,
    _k,
    _short_path,
    _snapshot,
    _span,
    _tell_problems,
    list_sessions,
)
from llm_sessions.cli_options import JsonOpt, NoProcOpt
from llm_sessions.cli_store import open_store, store_url


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app, in the order `--help` lists them."""
    app.command()(monitor)
    app.command()(demo)
    app.command("list")(list_)
    app.command()(health)


def register_history(app: typer.Typer) -> None:
    """`history` comes later in `--help`, after the accounting reports."""
    app.command()(history)


def monitor(
    demo: Annotated[bool, typer.Option("--demo", help="Simulated sessions.")] = False,
    team: Annotated[bool, typer.Option("--team", help="Every host's sessions from the shared store.")] = False,
) -> None:
    """Open the live dashboard (the same as running llm-session with no command)."""
    dashboard(demo=demo, team=team)


def demo() -> None:
    """Open the dashboard on simulated sessions that write real transcripts."""
    dashboard(demo=True)


def dashboard(demo: bool, team: bool = False) -> None:
    """Open the dashboard: a one-line error when there is no terminal or the store cannot open."""
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


def list_(
    all_: Annotated[bool, typer.Option("--all", "-a", help="Every session in the transcripts, running or not.")] = False,
    no_processes: NoProcOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """Running sessions (with --all: every session found in the transcripts)."""
    list_sessions(all_, no_processes, as_json)


def health(
    session_id: Annotated[
        str | None, typer.Argument(metavar="[ID]", help="A session id or a unique prefix of one.")
    ] = None,
    all_: Annotated[bool, typer.Option("--all", "-a", help="Every session, not only running ones.")] = False,
    no_processes: NoProcOpt = False,
    as_json: JsonOpt = False,
) -> None:
    """The health score of a session (or of every running session), with each component's reason."""
    from llm_sessions.core.accounting.report import Ambiguous, NotFound, find_session, session_dict
    from llm_sessions.core.ids import display_ids

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
        head = f"{label}  {s.tool}  {s.state}  {_span(s, snap.taken_at)}  {_short_path(s.cwd)}"
        sys.stdout.write(printable(head) + "\n")
        if h is None:
            sys.stdout.write("  no health score\n\n")
            continue
        sys.stdout.write(f"  health {h.score}/100  {h.status}\n")
        for c in h.components:
            sys.stdout.write(printable(f"  {c.name:<9} {c.score:>3}  (weight {c.weight:g})  {c.reason}") + "\n")
        sys.stdout.write("\n")


def history(
    session_id: Annotated[str | None, typer.Argument(metavar="[ID]", help="Show the samples of one session.")] = None,
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
            else:
                sys.stdout.write(_history_table(rows) + "\n")
            return
        try:
            sid = find_session(list(snap.sessions), session_id).id
        except NotFound:
            found = [r["id"] for r in store.known_sessions() if r["id"].startswith(session_id)]
            if len(found) != 1:
                why = f"no session id starts with '{session_id}'" if not found else f"session id '{session_id}' is ambiguous"
                raise UserError(why, code=2) from None
            sid = found[0]
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


def _history_table(rows: list[dict[str, Any]]) -> str:
    """The stored sessions as `history` prints them for people."""
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
    return render(cols, table)


def _history_row(r: dict[str, Any]) -> dict[str, Any]:
    """A stored session in the `list --json` shape: the same `tokens{}` and `context{}`."""
    from llm_sessions.core.models import ContextFill, Usage
    from llm_sessions.core.timeparse import iso

    usage = Usage(r.get("input_tokens") or 0, r.get("output_tokens") or 0, r.get("cache_creation_tokens") or 0,
                  r.get("cache_read_tokens") or 0, bool(r.get("tokens_exact", True)))
    used, window = r.get("context_used"), r.get("context_window")
    context = ContextFill(used, window).as_dict() if used is not None and window else None
    health = {"score": r["health_score"], "status": r.get("status")} if r.get("health_score") is not None else None
    return {
        "id": r["id"], "tool": r.get("tool"), "state": r.get("state"), "cwd": r.get("cwd"),
        "transcript": r.get("transcript"), "model": r.get("model"), "git_branch": r.get("git_branch"),
        "title": r.get("title"), "started_at": iso(r.get("started_at")), "last_activity": iso(r.get("last_activity")),
        "tokens": usage.as_dict(), "context": context, "cost_usd": r.get("cost_usd"), "health": health,
        "updated_at": iso(r.get("updated_at")),
    }
