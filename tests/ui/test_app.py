"""Pilot tests of the App: polling, pause, alerts, the palette, the drilldown, quitting."""

from __future__ import annotations

import threading

from textual.widgets import Static

from llm_sessions.ui.screens.detail import DetailScreen
from llm_sessions.ui.widgets.chart import ContextChart
from tests.fakes import NOW, FakeMonitor, fleet, health, ramp, session, snapshot
from tests.ui.helpers import (
    cell_text,
    cursor_key,
    make_app,
    next_snapshot,
    pause_until,
    quiet_settings,
    row_keys,
    sessions_screen,
    settle,
    write_and_wait_for_poll,
)

A, B, C, D, E = (s.id for s in fleet())


async def test_q_quits(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test() as pilot:
        await settle(pilot)
        await pilot.press("q")
        await pilot.pause()
        assert app._exit  # set by App.exit(), the quit action
    assert app.return_code == 0


async def test_p_pauses_and_resumes_updates(tmp_path):
    monitor = FakeMonitor()
    app = make_app(tmp_path, monitor)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("p")
        assert app.paused
        assert "PAUSED" in str(sessions_screen(app).query_one("#summary").render())
        polls = monitor.polls
        monitor.push(snapshot([session(A, cost=42.0)]))
        app.request_poll()
        await settle(pilot)
        assert monitor.polls == polls
        assert cell_text(app, A, "cost") == "$0.84"
        await pilot.press("p")
        await settle(pilot)
        assert not app.paused
        assert monitor.polls == polls + 1
        assert cell_text(app, A, "cost") == "$42.00"


async def test_health_crossing_goes_to_the_notice_line_flags_the_row_and_rings_the_bell(tmp_path):
    monitor = FakeMonitor()
    app = make_app(tmp_path, monitor, settings=quiet_settings(tmp_path, LLM_SESSION_ALERTS_BELL="true"))
    bells = []
    app.bell = lambda: bells.append(1)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert cursor_key(app) == C
        sessions = [s.with_(health=health(45)) if s.id == A else s for s in fleet()]
        await next_snapshot(pilot, monitor, snapshot(sessions))
        notice = app.status.get("notice")
        assert notice is not None and notice.text == f"▲1 health warning (45): claude {A[:8]} (webshop)"
        assert notice.severity == "warning"
        footer = sessions_screen(app).query_one("#status-footer")
        assert "health warning" in str(footer.render())
        assert not app._notifications  # no toast: at 120 columns it would cover the table
        assert bells == [1]
        assert A in app.flagged
        assert cell_text(app, A, "id").startswith("!")
        # the row stays flagged across ticks until the user selects it
        await next_snapshot(pilot, monitor, snapshot(sessions))
        assert cell_text(app, A, "id").startswith("!")
        while cursor_key(app) != A:
            await pilot.press("down")
        assert A not in app.flagged
        assert cell_text(app, A, "id") == " " + A[:8]


async def test_no_bell_unless_configured(tmp_path):
    monitor = FakeMonitor()
    app = make_app(tmp_path, monitor)
    bells = []
    app.bell = lambda: bells.append(1)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        sessions = [s.with_(state="waiting") if s.id == A else s for s in fleet()]
        await next_snapshot(pilot, monitor, snapshot(sessions))
        assert A in app.flagged
        assert bells == []


async def test_compaction_prediction_alerts(tmp_path):
    near = session(A, used=160_000, window=200_000)  # compact_at 167k, climbing 2k/min -> 3.5 min
    far = session(A, used=160_000, window=300_000)  # compact_at 267k: 53 min away
    unknown_fill = session(A, window=0)  # no context fill yet, so nothing to predict
    monitor = FakeMonitor([snapshot([unknown_fill]), snapshot([far]), snapshot([near])], history={A: ramp(160_000)})
    app = make_app(tmp_path, monitor)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.request_poll()
        await settle(pilot)
        assert app.status.get("notice") is None  # the first forecast is a baseline, not news
        app.request_poll()
        await settle(pilot)
        assert app.etas[A] is not None and app.etas[A].total_seconds() == 210
        assert "auto-compaction in ~4 min" in app.status.get("notice").text
        assert A in app.flagged


async def test_toasts_only_where_they_fit_beside_the_table(tmp_path):
    monitor = FakeMonitor()
    app = make_app(tmp_path, monitor)
    async with app.run_test(size=(200, 40)) as pilot:  # the widest table leaves 70 columns free
        await settle(pilot)
        sessions = [s.with_(health=health(45)) if s.id == A else s for s in fleet()]
        await next_snapshot(pilot, monitor, snapshot(sessions))
        assert [n.message for n in app._notifications] == [f"health warning (45): claude {A[:8]} (webshop)"]
        assert "health warning" in app.status.get("notice").text  # and the notice line, as always
    narrow = FakeMonitor()
    app = make_app(tmp_path, narrow)
    async with app.run_test(size=(40, 20)) as pilot:
        await settle(pilot)
        sessions = [s.with_(health=health(45)) if s.id == A else s for s in fleet()]
        await next_snapshot(pilot, narrow, snapshot(sessions))
        assert not app._notifications
        assert "health warning" in app.status.get("notice").text


async def test_poll_error_keeps_the_last_snapshot_and_recovers(tmp_path):
    class Flaky(FakeMonitor):
        fail = False

        def poll(self):
            if self.fail:
                self.fail = False
                raise OSError("disk on fire")
            return super().poll()

    monitor = Flaky()
    app = make_app(tmp_path, monitor)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        monitor.fail = True
        app.request_poll()
        await settle(pilot)
        notice = app.status.get("notice")
        assert "disk on fire" in notice.text and notice.severity == "error"
        assert row_keys(app) == [C, B, D, A]
        await next_snapshot(pilot, monitor, snapshot([session(A)]))
        assert row_keys(app) == [A]
        assert app.last_error is None


async def test_requests_during_a_poll_coalesce_into_one_more(tmp_path):
    release = threading.Event()

    class Slow(FakeMonitor):
        def poll(self):
            release.wait(10)
            return super().poll()

    monitor = Slow()
    app = make_app(tmp_path, monitor)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        for _ in range(20):
            app.request_poll()
        release.set()
        await settle(pilot)
        assert monitor.polls == 2


async def test_file_changes_trigger_a_poll(tmp_path):
    watched = tmp_path / "projects"
    watched.mkdir()
    monitor = FakeMonitor(watch=[watched])
    app = make_app(tmp_path, monitor)
    async with app.run_test(size=(120, 36)) as pilot:
        assert await pause_until(pilot, lambda: app._watching == (watched,))
        assert await write_and_wait_for_poll(pilot, monitor, watched / "s.jsonl")


async def test_palette_lists_every_binding_and_runs_it(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        from llm_sessions.ui.commands import SessionCommands

        provider = SessionCommands(sessions_screen(app))
        titles = [title for title, _help, _run in provider._commands()]
        for wanted in ("Details", "Sort", "Filter", "tmux", "/compact", "Kill", "Quit", "Pause", "All"):
            assert wanted in titles
        screen = sessions_screen(app)
        await pilot.press("ctrl+p")
        await pilot.pause()
        for ch in "Sort":
            await pilot.press(ch)
        for _ in range(20):
            await pilot.pause(0.05)
        await pilot.press("enter")
        await settle(pilot)
        assert screen.sort_name == "context"


async def test_drilldown_shows_components_history_eta_and_transcript_section(tmp_path):
    monitor = FakeMonitor(history={B: ramp(180_000)})
    reader_calls = []

    def reader(s):
        reader_calls.append(s.id)
        return {
            "Last turns": ["user: fix the rate limiter", "assistant: done [tests pass]"],
            "Files touched": [],
        }

    app = make_app(tmp_path, monitor, transcript_reader=reader)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        health_text = " ".join(str(w.render()) for w in screen.query("HealthBar"))
        reasons = (("tokens", "context 10% used"), ("duration", "running 1h 20m"), ("activity", "last turn"), ("errors", "no errors"))
        for name, reason in reasons:
            assert name in health_text and reason in health_text
        assert "w 40" in health_text
        chart = screen.query_one("#context-chart", ContextChart)
        assert [p.used for p in chart.history.points] == [s.context_used for s in ramp(180_000)]  # live samples
        assert chart.history.sampled == len(ramp(180_000))  # (the fake transcript does not exist)
        assert "auto-compaction in ~29m" in str(screen.query_one("#eta", Static).render())
        where = str(screen.query_one("#where", Static).render())
        assert "%7" in where and "5151, 5152" in where and "/home/dev/src/api-gateway" in where
        transcript = str(screen.query_one("#transcript", Static).render())
        assert "fix the rate limiter" in transcript and "[tests pass]" in transcript
        assert reader_calls and set(reader_calls) == {B}


async def test_drilldown_without_reader_has_no_transcript_section(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        assert not app.screen.query("#transcript")
        assert "not enough history" in str(app.screen.query_one("#eta", Static).render())


async def test_drilldown_follows_updates_and_marks_a_gone_session(tmp_path):
    monitor = FakeMonitor()
    app = make_app(tmp_path, monitor)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("enter")  # C, worst first
        await settle(pilot)
        await next_snapshot(pilot, monitor, snapshot([s.with_(health=health(12)) if s.id == C else s for s in fleet()]))
        assert "critical 12" in str(app.screen.query_one("#title", Static).render())
        await next_snapshot(pilot, monitor, snapshot([s for s in fleet() if s.id != C]))
        assert "(gone)" in str(app.screen.query_one("#title", Static).render())


async def test_summary_counts_cost_and_rate(tmp_path):
    from datetime import timedelta

    from llm_sessions.core.models import Usage

    monitor = FakeMonitor()
    app = make_app(tmp_path, monitor)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        later = [s.with_(usage=s.usage + Usage(output=6_000)) if s.id == A else s for s in fleet()]
        await next_snapshot(pilot, monitor, snapshot(later, at=NOW + timedelta(minutes=2)))
        text = str(sessions_screen(app).query_one("#summary").render())
        assert "2 working" in text and "1 waiting" in text
        assert "$12.01 today" in text
        assert "3.0k tok/min" in text


async def test_a_folder_that_appears_later_is_watched_too(tmp_path):
    later = tmp_path / "codex-sessions"
    monitor = FakeMonitor()
    app = make_app(tmp_path, monitor)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert app._watching == ()
        later.mkdir()
        monitor._watch.append(later)
        app.request_poll()
        assert await pause_until(pilot, lambda: app._watching == (later,))
        assert await write_and_wait_for_poll(pilot, monitor, later / "rollout.jsonl")


async def test_demo_flag_is_shown_in_the_header(tmp_path):
    app = make_app(tmp_path, demo=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert "DEMO" in str(sessions_screen(app).query_one("#summary").render())


def test_eta_text_says_why_there_is_no_number():
    from datetime import timedelta

    from llm_sessions.ui.screens.detail import eta_text

    assert "no auto-compaction point" in eta_text(None, compacts=False, predicting=True, has_history=True)
    assert "not available" in eta_text(None, compacts=True, predicting=False, has_history=True)
    assert "not enough history" in eta_text(None, compacts=True, predicting=True, has_history=False)
    assert "no auto-compaction predicted" in eta_text(None, compacts=True, predicting=True, has_history=True)
    assert "now" in eta_text(timedelta(0), compacts=True, predicting=True, has_history=True)
    assert "~12m" in eta_text(timedelta(minutes=12), compacts=True, predicting=True, has_history=True)


async def test_samples_without_context_fill_are_skipped(tmp_path):
    from dataclasses import replace

    history = ramp(160_000)
    history[5] = replace(history[5], context_used=None)  # the store keeps None when fill was unknown
    near = session(A, used=160_000, window=200_000)
    monitor = FakeMonitor([snapshot([near])], history={A: history})
    app = make_app(tmp_path, monitor)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert app.last_error is None
        assert app.etas[A] is not None
        await pilot.press("enter")
        await settle(pilot)
        chart = app.screen.query_one("#context-chart", ContextChart)
        assert len(chart.history.points) == len(history) - 1


async def test_export_and_restart_keys_exist_only_with_a_handler(tmp_path):
    from llm_sessions.ui.commands import SessionCommands

    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        titles = [t for t, _h, _r in SessionCommands(sessions_screen(app))._commands()]
        assert "Export" not in titles and "Restart" not in titles
        assert "e" not in {key for key, active in app.active_bindings.items() if active.enabled}
        bells = []
        app.bell = lambda: bells.append(1)
        await pilot.press("e", "r")
        assert bells == []  # a hidden key is simply not bound


async def test_session_action_handlers_get_the_selected_session(tmp_path):
    from llm_sessions.ui.commands import SessionCommands

    calls = []
    handlers = {
        "export": lambda app, s: calls.append(("export", s.id)),
        "restart": lambda app, s: calls.append(("restart", s.id)),
    }
    app = make_app(tmp_path, session_actions=handlers)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        titles = [t for t, _h, _r in SessionCommands(sessions_screen(app))._commands()]
        assert "Export" in titles and "Restart" in titles
        assert app.active_bindings["e"].enabled and app.active_bindings["r"].enabled
        await pilot.press("down", "e")
        await pilot.press("r")
        assert calls == [("export", B), ("restart", B)]
        await pilot.press("enter")
        await settle(pilot)
        await pilot.press("e")
        assert calls[-1] == ("export", B)


async def test_usage_records_of_a_newer_format_warn_once_per_increase(tmp_path):
    from dataclasses import replace

    monitor = FakeMonitor()
    app = make_app(tmp_path, monitor)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        drifted = replace(snapshot(), format_drift=3)
        await next_snapshot(pilot, monitor, drifted)
        await next_snapshot(pilot, monitor, drifted)
        line = app.status.get("drift")
        assert line.text == "3 usage records of a newer format were skipped: costs may be low (run `llm-session doctor`)"
        assert line.place == "header" and line.severity == "warning"  # under the summary, never over the table
        assert "newer format" in str(sessions_screen(app).query_one("#status-header").render())
        await next_snapshot(pilot, monitor, replace(snapshot(), format_drift=5))
        assert app.status.get("drift").text.startswith("5 usage records")
        await next_snapshot(pilot, monitor, replace(snapshot(), format_drift=0))
        assert app.status.get("drift") is None


async def test_a_snapshot_arriving_while_the_app_quits_is_dropped(tmp_path):
    """A poll can finish after quitting began and its screens are being removed: the
    snapshot is dropped instead of reaching a table that is gone (a traceback on exit)."""
    from llm_sessions.ui.messages import SnapshotReady

    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        shown = app.snapshot
        late = snapshot(fleet()[:2])
        app._running = False  # what App._shutdown sets first
        try:
            app.on_snapshot_ready(SnapshotReady(late, {}, (), 1.0, ()))
        finally:
            app._running = True
        assert app.snapshot is shown
        app.on_snapshot_ready(SnapshotReady(late, {}, (), 1.0, ()))
        assert app.snapshot is late
