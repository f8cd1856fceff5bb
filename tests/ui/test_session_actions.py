"""t / c / k from the dashboard against a real private tmux server and a real `sleep`.

Only the tmux server and the process started here are touched.
"""

from __future__ import annotations

import shutil
import signal
from datetime import UTC, datetime

import psutil
import pytest

from llm_sessions.core.models import ProcessInfo
from llm_sessions.ui.screens.confirm import ConfirmScreen
from tests.actions_support import wait_for
from tests.fakes import FakeMonitor, session, snapshot
from tests.ui.helpers import make_app, settle

needs_tmux = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux not installed")
SID = "a1b2c3d4-0000-4000-8000-000000000001"


def pane_process(run, pane: str) -> ProcessInfo:
    """The pane's own process as discovery would report it: pid, start time, `%id`."""
    pid = int(run("display", "-p", "-t", pane, "#{pane_pid}"))
    started = datetime.fromtimestamp(psutil.Process(pid).create_time(), UTC)
    return ProcessInfo(pid=pid, pids=(pid,), started_at=started, tmux_pane=pane, tool="claude")


def app_with_pane(tmp_path, run, pane: str, args) -> tuple:
    monitor = FakeMonitor([snapshot([session(SID).with_(process=pane_process(run, pane))])])
    return make_app(tmp_path, monitor, tmux_args=args), monitor


@needs_tmux
async def test_t_jumps_to_the_sessions_pane(tmp_path, tmux_server, monkeypatch):
    args, env, run = tmux_server
    monkeypatch.delenv("TMUX", raising=False)
    pane = run("new-window", "-P", "-F", "#{pane_id}", "-t", "t:")
    run("select-window", "-t", "t:0")
    app, _ = app_with_pane(tmp_path, run, pane, args)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("t")
        await settle(pilot)
    assert run("display", "-p", "-t", pane, "#{window_active}#{pane_active}") == "11"


@needs_tmux
async def test_c_asks_first_and_sends_compact_only_on_yes(tmp_path, tmux_server, monkeypatch):
    args, env, run = tmux_server
    out = tmp_path / "typed.txt"
    pane = run("new-window", "-P", "-F", "#{pane_id}", "-t", "t:", f"cat > {out}")
    app, _ = app_with_pane(tmp_path, run, pane, args)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert pane in str(app.screen.question)
        await pilot.press("n")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        await pilot.press("c")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
    assert wait_for(lambda: out.exists() and out.read_text()) == "/compact\n"


async def test_c_without_a_pane_explains_instead_of_asking(tmp_path):
    monitor = FakeMonitor([snapshot([session(SID, pane=None)])])
    app = make_app(tmp_path, monitor)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        notice = app.status.get("notice")
        assert notice is not None and notice.text.startswith("c: no tmux pane") and notice.severity == "warning"
        assert notice.place == "footer"  # the bottom line, never a toast over the table


async def test_k_is_a_cursor_key_not_a_kill(tmp_path, sleeper):
    s = session(SID).with_(process=ProcessInfo(pid=sleeper.pid, pids=(sleeper.pid,)))
    app = make_app(tmp_path, FakeMonitor([snapshot([s])]))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("k")
        await settle(pilot)
        assert not isinstance(app.screen, ConfirmScreen)
        assert sleeper.poll() is None


async def test_shift_k_asks_first_and_terminates_only_on_yes(tmp_path, sleeper):
    started = datetime.fromtimestamp(psutil.Process(sleeper.pid).create_time())
    s = session(SID).with_(process=ProcessInfo(pid=sleeper.pid, pids=(sleeper.pid,), started_at=started))
    app = make_app(tmp_path, FakeMonitor([snapshot([s])]))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("K")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        assert str(sleeper.pid) in app.screen.question
        await pilot.press("escape")
        await settle(pilot)
        assert sleeper.poll() is None
        await pilot.press("K")
        await pilot.pause()
        await pilot.press("y")
        await settle(pilot)
    assert sleeper.wait(timeout=10) == -signal.SIGTERM


async def test_shift_k_in_the_drilldown_acts_on_the_shown_session(tmp_path, sleeper):
    started = datetime.fromtimestamp(psutil.Process(sleeper.pid).create_time())
    s = session(SID).with_(process=ProcessInfo(pid=sleeper.pid, pids=(sleeper.pid,), started_at=started))
    app = make_app(tmp_path, FakeMonitor([snapshot([s])]))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("K")
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
    assert sleeper.wait(timeout=10) == -signal.SIGTERM
