"""Builds and runs the dashboard: the one place that wires the core into the UI.

The App receives a ready monitor (providers, discovery, store, scan cache) instead of
building one, so tests construct the same App over fake data (architecture habit 7). Demo
mode swaps the environment for a temporary home written by simulated sessions, and keeps
their history in that home too, so a demo never touches the user's store or caches.
"""

from __future__ import annotations

import logging
import os
from contextlib import ExitStack

from llm_sessions.paths import AppPaths, app_paths

log = logging.getLogger(__name__)


def build_monitor(paths: AppPaths, settings, env, store=None, *, demo=None, pids=None):
    """`demo`, a running `Demo`, seals discovery: only its children, and no tmux. `pids`
    replaces the machine's process table as discovery's source (tests)."""
    from llm_sessions.core.accounting.statusline_state import path_in
    from llm_sessions.core.live.discovery import Discovery
    from llm_sessions.core.live.monitor import Monitor

    if demo is not None:
        discovery = Discovery(env, tmux=False, pids=demo.process_tree)
    else:
        discovery = Discovery(env, pids=pids)
    return Monitor(
        settings, env, cache_dir=paths.cache_dir, store=store, discovery=discovery, limits_state=path_in(paths.data_dir)
    )


def build_app(paths: AppPaths, settings, env, store=None, *, demo=None, pids=None):
    """The dashboard App over a real monitor, with export, restart and transcript sections.

    `demo` is the running `Demo` in demo mode (None otherwise)."""
    from llm_sessions.ui.app import LLMSessionApp

    monitor = build_monitor(paths, settings, env, store, demo=demo, pids=pids)
    return LLMSessionApp(
        monitor,
        settings,
        demo=demo is not None,
        # app.py's TranscriptReader type leaves out the None the drilldown handles (no
        # transcript sections for this session); fix that type once the speed branch lands
        transcript_reader=TranscriptSections(),  # type: ignore[arg-type]
        # our own store, cache and logs may lie inside a watched folder (a home directory);
        # their writes must not wake the watcher, or every poll would trigger the next
        watch_ignore=(paths.data_dir, paths.cache_dir, paths.log_dir),
        session_actions=session_actions(
            paths.exports_dir, settings.export_budget_tokens, store.record_export if store is not None else None
        ),
    )


def run_dashboard(
    paths: AppPaths, settings, *, demo: bool = False, team: bool = False, db_url: str | None = None, open_store=None
) -> None:
    """Run the app until the user quits; stops demo children, flushes and closes the store on any exit.

    The dashboard writes to its store through a `BackgroundWriter`: a busy file or a server
    that went away delays history, never the UI. With a shared `--db` this is publishing.
    `team=True` opens the same dashboard over the shared store instead (`TeamMonitor`).
    """

    with ExitStack() as stack:
        env = dict(os.environ)
        sim = None
        if demo:
            from llm_sessions.demo import Demo

            sim = stack.enter_context(Demo())
            env = sim.start()
            paths = app_paths(env)
            db_url = f"sqlite:///{paths.db_file}"  # never the user's store, even when one is configured
        store, warnings = open_for_dashboard(open_store, paths, settings, db_url) if open_store else (None, [])
        warnings = [*getattr(settings, "warnings", ()), *warnings]
        if store is not None:
            stack.callback(store.close)
        holder: dict = {}  # the writer's callback needs the app, which needs the writer
        if team:
            if store is None:
                raise ValueError("the team dashboard needs a store")
            app = build_team_app(paths, settings, store)
        else:
            writer = None
            if store is not None:
                from llm_sessions.core.store.writer import BackgroundWriter

                writer = BackgroundWriter(
                    store, on_problem=lambda problem: _toast_store(holder.get("app"), problem), check_first=True
                )
                stack.callback(writer.close)  # runs before store.close (last in, first out)
            app = build_app(paths, settings, env, writer, demo=sim)
        holder["app"] = app
        for warning in warnings:
            app.call_later(app.notify, warning, severity="warning", timeout=10, markup=False)
        app.run()
        app.monitor.save_cache()


def open_for_dashboard(open_store, paths: AppPaths, settings, db_url: str | None):
    """The store, opened so that an unreachable server does not stop the dashboard.

    A server that does not answer gives a lazily connected store (each write retries, with
    a back-off) and a warning; anything else wrong (driver missing, bad URL, a newer
    schema) is raised as StoreError for the CLI to print in one line.
    """
    from llm_sessions.core.store import StoreUnavailable

    store = open_store(paths, settings, db_url, lazy=True)
    warnings = list(store.warnings)
    try:
        store.ensure_ready()
    except StoreUnavailable as exc:
        warnings.append(f"{exc}; the dashboard keeps running and retries")
    warnings.extend(w for w in store.warnings if w not in warnings)
    return store, warnings


def _toast_store(app, problem: str | None) -> None:
    """Say once when the store stops working and once when it works again (from the writer thread)."""
    if app is None or not app.is_running:
        return
    if problem:
        app.call_from_thread(app.notify, f"history not saved: {problem} (retrying)", severity="warning", timeout=8, markup=False)
    else:
        app.call_from_thread(app.notify, "the store works again", timeout=4)


def build_team_app(paths: AppPaths, settings, store):
    """The dashboard over a shared store: every host's sessions, grouped by host.

    Actions that touch a session's process or pane are refused (the app checks `host`);
    export builds a brief from the stored numbers only, never reading local files.
    """
    from llm_sessions.core.store.team import TeamMonitor
    from llm_sessions.ui.app import LLMSessionApp

    return LLMSessionApp(
        TeamMonitor(store),
        settings,
        session_actions={"export": stored_numbers_export(paths.exports_dir, settings.export_budget_tokens)},
        team=True,
    )


def stored_numbers_export(exports_dir, budget_tokens: int):
    """The export wizard over a session's stored numbers: no transcript, no git status."""
    from llm_sessions.ui.screens.export import ExportWizard

    def export(app, session) -> None:
        app.push_screen(ExportWizard(session.with_(transcript=None), None, exports_dir=exports_dir, budget_tokens=budget_tokens))

    return export


class TranscriptSections:
    """The drilldown's transcript sections: last turns, recent errors, files touched.

    Reading a digest parses the whole transcript, and the drilldown asks on every poll, so
    the answer is kept per (path, size, mtime) and a growing file is re-read at most every
    `min_interval` seconds.
    """

    def __init__(self, min_interval: float = 10.0) -> None:
        self.min_interval = min_interval
        self._cache: dict[str, tuple[tuple, float, dict]] = {}

    def __call__(self, session) -> dict[str, list[str]] | None:
        import time

        from llm_sessions.core.export.transcript import read_digest

        path = session.transcript
        if not path or session.tool not in ("claude", "codex"):
            return None
        try:
            st = os.stat(path)
        except OSError:
            return None
        key = (st.st_ino, st.st_size, st.st_mtime_ns)
        hit = self._cache.get(path)
        now = time.monotonic()
        if hit is not None and (hit[0] == key or now - hit[1] < self.min_interval):
            return hit[2]
        d = read_digest(path)
        sections = {
            "Last turns": [f"{t.role:<9} {t.text}" for t in d.turns[-8:]],
            "Recent errors": [f"{e.kind:<7} {e.message}" for e in d.errors[-5:]],
            "Files touched": [f"{f.edits:>3}x {f.path}" for f in d.files[:10]],
        }
        self._cache[path] = (key, now, sections)
        return sections


def session_actions(exports_dir, budget_tokens: int, record) -> dict:
    """Handlers for the dashboard's `e` (export wizard) and `r` (restart) keys."""
    from llm_sessions.core.actions.restart import restart_planner
    from llm_sessions.ui.screens.export import ExportWizard
    from llm_sessions.ui.screens.restart import RestartScreen

    def open_restart(app, session, bundle) -> None:
        planner = restart_planner(session, exports_dir=exports_dir, budget_tokens=budget_tokens, bundle=bundle, record=record)
        app.push_screen(RestartScreen(session, planner), callback=lambda _outcome: app.request_poll())

    def export(app, session) -> None:
        wizard = ExportWizard.for_session(session, exports_dir=exports_dir, budget_tokens=budget_tokens, record=record)

        def done(result) -> None:
            if result is not None and result.restart:
                open_restart(app, session, result.bundle)

        app.push_screen(wizard, callback=done)

    return {"export": export, "restart": lambda app, session: open_restart(app, session, None)}


__all__ = ["build_monitor", "build_team_app", "open_for_dashboard", "run_dashboard"]
