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


def build_monitor(paths: AppPaths, settings, env, store=None):
    from llm_sessions.core.discovery import Discovery
    from llm_sessions.core.monitor import Monitor

    return Monitor(settings, env, cache_dir=paths.cache_dir, store=store, discovery=Discovery(env))


def run_dashboard(paths: AppPaths, settings, *, demo: bool = False, db_url: str | None = None, open_store=None) -> None:
    """Run the app until the user quits; stops demo children and closes the store on any exit."""
    from llm_sessions.ui.app import LLMSessionApp

    with ExitStack() as stack:
        env = dict(os.environ)
        if demo:
            from llm_sessions.demo import Demo

            sim = stack.enter_context(Demo())
            env = sim.start()
            paths = app_paths(env)
            db_url = None
        store = open_store(paths, settings, db_url) if open_store else None
        if store is not None:
            stack.callback(store.close)
        monitor = build_monitor(paths, settings, env, store)
        app = LLMSessionApp(
            monitor,
            settings,
            demo=demo,
            transcript_reader=_transcript_reader(),
            # our own store, cache and logs may lie inside a watched folder (a home directory);
            # their writes must not wake the watcher, or every poll would trigger the next
            watch_ignore=(paths.data_dir, paths.cache_dir, paths.log_dir),
        )
        for warning in getattr(store, "warnings", []):
            app.call_later(app.notify, warning, severity="warning", timeout=10)
        app.run()
        monitor.save_cache()


def _transcript_reader():
    """Last turns, recent errors and files touched for the drilldown, when available."""
    try:
        from llm_sessions.core.transcript import drilldown_sections
    except ImportError:
        return None
    return drilldown_sections


__all__ = ["run_dashboard", "build_monitor"]
