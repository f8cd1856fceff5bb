"""Building the App over fake data and waiting for it to settle, shared by the Pilot tests."""

from __future__ import annotations

from textual.coordinate import Coordinate

from llm_sessions.config import load_settings
from llm_sessions.ui.app import LLMSessionApp
from llm_sessions.ui.screens.sessions import SessionsScreen
from tests.fakes import FakeMonitor, frozen_clock, linear_predictor


def quiet_settings(tmp_path, **env):
    """Settings whose timer never fires during a test: polls happen only when a test asks."""
    values = {"LLM_SESSION_GENERAL_REFRESH_SECONDS": "3600", **{k: str(v) for k, v in env.items()}}
    return load_settings(tmp_path / "none.toml", env=values)


def make_app(tmp_path, monitor: FakeMonitor | None = None, **kwargs) -> LLMSessionApp:
    settings = kwargs.pop("settings", None) or quiet_settings(tmp_path)
    kwargs.setdefault("predictor", linear_predictor)
    return LLMSessionApp(monitor or FakeMonitor(), settings, clock=frozen_clock, **kwargs)


async def settle(pilot) -> None:
    """Let queued messages run, every worker finish, then the resulting messages run.

    Only for apps whose monitor has no watch paths: the watcher never completes.
    """
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


async def next_snapshot(pilot, monitor: FakeMonitor, snap) -> None:
    monitor.push(snap)
    pilot.app.request_poll()
    await settle(pilot)


def sessions_screen(app) -> SessionsScreen:
    return next(s for s in app.screen_stack if isinstance(s, SessionsScreen))


def row_keys(app) -> list[str]:
    table = sessions_screen(app).table
    return [str(table.coordinate_to_cell_key(Coordinate(i, 0)).row_key.value) for i in range(table.row_count)]


def cursor_key(app) -> str:
    table = sessions_screen(app).table
    return str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)


def cell_text(app, session_id: str, column: str) -> str:
    return sessions_screen(app).table.get_cell(session_id, column).plain


def record_notifications(app) -> list[tuple[str, str]]:
    seen: list[tuple[str, str]] = []
    original = app.notify

    def notify(message, *args, severity="information", **kwargs):
        seen.append((str(message), severity))
        return original(message, *args, severity=severity, **kwargs)

    app.notify = notify
    return seen


async def pause_until(pilot, predicate, limit: float = 10.0):
    """Let the app run until predicate() is truthy (or `limit` seconds); returns its value.

    For effects driven by real file events, whose arrival time is not ours to choose; the
    test asserts on the returned value, never on how long it took.
    """
    for _ in range(int(limit / 0.05)):
        value = predicate()
        if value:
            return value
        await pilot.pause(0.05)
    return predicate()


async def write_and_wait_for_poll(pilot, monitor, path) -> bool:
    """Write `path` once the watcher had time to start; True when a poll followed."""
    await pilot.pause(0.5)  # set-up: let awatch start before the write
    polls = monitor.polls
    path.write_text("{}\n")
    return await pause_until(pilot, lambda: monitor.polls > polls)
