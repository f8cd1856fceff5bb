"""`llm-session agent` (publish this machine's sessions) and `llm-session team` (read every host's).

Both use the store named by `--db` (a global option) or `general.db_url`. Registered on the
main Typer app by `register(app)`; this module imports only Typer and the Typer-free
CLI plumbing at the top, and each
command imports what it needs when it runs, so other commands do not pay for the store.

Exit codes: 0 done; 2 a wrong request; 3 the store cannot be used (unreachable, locked,
driver missing), in one line.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from llm_sessions.cli_base import UserError, _context, _emit_json, _table
from llm_sessions.cli_options import JsonOpt
from llm_sessions.cli_store import open_store


def register(app: typer.Typer) -> None:
    app.command(help=agent.__doc__)(agent)
    app.command(help=team.__doc__)(team)


def _say(line: str) -> None:
    sys.stderr.write(f"llm-session agent: {line}\n")
    sys.stderr.flush()


def agent(
    once: Annotated[bool, typer.Option("--once", help="Publish one snapshot and exit (for cron or a test).")] = False,
    interval: Annotated[
        float | None, typer.Option("--interval", help="Seconds between publishes (default: general.refresh_seconds).")
    ] = None,
    no_processes: Annotated[
        bool,
        typer.Option("--no-processes", help="Publish what the transcripts say without scanning processes (every state is then 'unknown')."),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Publish this machine's sessions to the store headless (for a server or a systemd user unit).

    Polls like the dashboard and writes what the dashboard would: metadata and numbers only,
    never transcript text. Keeps running (and retrying) while the store is unreachable;
    SIGTERM or Ctrl-C stop it after the current publish.
    """
    import signal
    import threading

    from llm_sessions.core.store import StoreError
    from llm_sessions.dashboard import build_monitor

    paths, settings = _context()
    every = settings.general_refresh_seconds if interval is None else interval
    if not every > 0:
        raise UserError("--interval must be a positive number of seconds", code=2)
    store = open_store(paths, settings, lazy=not once)
    if no_processes:
        from llm_sessions.core.live.monitor import Monitor

        monitor = Monitor(settings, dict(os.environ), cache_dir=paths.cache_dir)
    else:
        monitor = build_monitor(paths, settings, dict(os.environ), store=None)
    who = str(store.identity)
    try:
        if once:
            snap = monitor.poll()
            try:
                written = store.record_snapshot(snap)
            except StoreError as exc:
                raise UserError(str(exc), code=3) from None
            if as_json:
                _emit_json({"ok": True, "host": store.identity.host, "os_user": store.identity.os_user,
                                "store": store.url, "sessions": len(snap.sessions), "samples": written})
            else:
                sys.stdout.write(f"published {len(snap.sessions)} session(s), {written} new sample(s), as {who} to {store.url}\n")
            return
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        _say(f"publishing {who}'s sessions to {store.url} every {every:g} s (Ctrl-C or SIGTERM stops)")
        failing = False
        published = 0
        while not stop.is_set():
            snap = monitor.poll()
            try:
                store.record_snapshot(snap)
                published += 1
                if failing:
                    _say("the store works again")
                failing = False
            except StoreError as exc:
                if not failing:  # once when it starts failing, once when it recovers
                    _say(f"{exc}; retrying until it answers")
                failing = True
            stop.wait(every)
        _say(f"stopped after {published} publish(es)")
    finally:
        monitor.save_cache()
        store.close()


def team(
    all_: Annotated[bool, typer.Option("--all", "-a", help="Also ended sessions (still in their host's latest publish).")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Every host's current sessions from the shared store; hosts that stopped publishing are marked stale."""
    from llm_sessions.core.accounting.report import session_dict
    from llm_sessions.core.store import StoreError
    from llm_sessions.core.store.team import team_view
    from llm_sessions.core.timeparse import iso

    paths, settings = _context()
    store = open_store(paths, settings)
    try:
        view = team_view(store)
    except StoreError as exc:
        raise UserError(str(exc), code=3) from None
    finally:
        store.close()
    from llm_sessions.core.accounting.health import is_live

    # By default the sessions that may still run: known to run, or of a stale host (nobody
    # knows any more). An 'unknown' published by `agent --no-processes` is not known to run.
    sessions = [s for s in view.sessions if all_ or is_live(s) or (s.state == "unknown" and view.is_stale(s.host, s.os_user))]
    if as_json:
        _emit_json({
            "store": store.url,
            "taken_at": iso(view.taken_at),
            "hosts": [
                {"host": h.host, "os_user": h.os_user, "last_seen_at": iso(h.last_seen_at), "stale": view.is_stale(h.host, h.os_user),
                 "sessions": h.sessions, "heartbeat_seconds": h.heartbeat_seconds, "version": h.version}
                for h in view.hosts
            ],
            "sessions": [
                {"host": s.host, "os_user": s.os_user, "stale": view.is_stale(s.host, s.os_user), **session_dict(s)}
                for s in sessions
            ],
            "limits": [
                {"host": w["host"], "os_user": w["os_user"], "assistant": w["tool"], "window": w["name"],
                 "used_percent": w["used_percent"], "resets_at": iso(w["resets_at"]), "window_minutes": w["window_minutes"],
                 "source": w["source"], "exact": w["exact"], "burn_per_hour": w["burn_per_hour"], "eta": iso(w["eta"]),
                 "limit_hit": w["limit_hit"], "updated_at": iso(w["updated_at"])}
                for w in view.limits
            ],
        })
        return
    if not view.hosts:
        sys.stdout.write(f"No host has published to {store.url} yet (run `llm-session agent` on each machine).\n")
        return
    out = [f"{'HOST':<20} {'USER':<12} {'LAST PUBLISH':<14} SESSIONS"]
    for h in view.hosts:
        stale = "  stale" if view.is_stale(h.host, h.os_user) else ""
        out.append(f"{h.host[:20]:<20} {h.os_user[:12]:<12} {_ago(view.taken_at, h.last_seen_at):<14} {h.sessions}{stale}")
    out.append("")
    if not sessions:
        out.append("No running session on any host" + ("" if all_ else " (try --all for ended ones)") + ".")
    else:
        table = _table(sessions, view.taken_at).splitlines()
        out.append(f"{'HOST':<16} " + table[0])
        rows = table[1:]
        out.extend(f"{(s.host or '-')[:16]:<16} {row}" for s, row in zip(sessions, rows, strict=True))
    sys.stdout.write("\n".join(out) + "\n")


def _ago(now, then) -> str:
    from llm_sessions.core.store.team import ago

    return ago(now - then)


__all__ = ["agent", "register", "team"]
