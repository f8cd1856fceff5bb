"""The limits header line, the drilldown's usage-limit section, and limit toasts."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from textual.widgets import Static

from llm_sessions.core.models import Snapshot
from llm_sessions.ui.widgets.limits import LimitsBar, SessionLimits, limits_markup
from tests.fakes import NOW, FakeMonitor, fleet, limits, snapshot
from tests.ui.helpers import make_app, next_snapshot, record_notifications, settle


def plain(widget: Static) -> str:
    return str(widget.render())


async def test_header_shows_the_tightest_window_per_assistant(tmp_path):
    app = make_app(tmp_path, FakeMonitor([snapshot()]))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        text = plain(app.screen.query_one(LimitsBar))
        assert "claude 5h 64% full in 45m" in text  # projected out first
        assert "codex 7d 83%" in text  # nothing projected: the fullest
        assert "$" not in text


async def test_header_colour_follows_projected_time_to_the_limit():
    ws = limits()
    assert "[$text-warning]claude 5h 64% full in 45m[/]" in limits_markup(ws, NOW, 30.0, narrow=False)
    soon = (replace(ws[0], eta=NOW + timedelta(minutes=20)), *ws[1:])
    assert "[$text-error]claude 5h 64% full in 20m[/]" in limits_markup(soon, NOW, 30.0, narrow=False)
    calm = (replace(ws[0], used_percent=10.0, eta=None), replace(ws[1], used_percent=5.0))
    assert "[$text-success]claude 5h 10%" in limits_markup(calm, NOW, 30.0, narrow=False)
    hit = (replace(ws[0], limit_hit=True, used_percent=100.0, eta=NOW),)
    at = ws[0].resets_at.astimezone().strftime("%H:%M")  # the user's clock
    assert f"[$text-error]claude 5h LIMIT {at}[/]" in limits_markup(hit, NOW, 30.0, narrow=True)
    assert f"[$text-error]claude 5h LIMIT until {at}[/]" in limits_markup(hit, NOW, 30.0, narrow=False)
    assert "no window known yet" in limits_markup((), NOW, 30.0, narrow=False)


async def test_narrow_header_fits_a_side_pane(tmp_path):
    app = make_app(tmp_path, FakeMonitor([snapshot()]))
    async with app.run_test(size=(40, 20)) as pilot:
        await settle(pilot)
        text = plain(app.screen.query_one(LimitsBar))
        assert text.strip() == "claude 5h 64% · codex 7d 83%"


async def test_drilldown_shows_the_sessions_share_of_each_window(tmp_path):
    app = make_app(tmp_path, FakeMonitor([snapshot()]))
    c = fleet()[2].id
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.open_detail(c)
        await settle(pilot)
        text = plain(app.screen.query_one(SessionLimits))
        assert "claude 5-hour: 64% (statusline)" in text and "this session 72% of it" in text
        assert "claude weekly: 41%" in text and "this session 60% of it" in text


async def test_drilldown_says_when_a_hit_limit_resets(tmp_path):
    c = fleet()[2]
    hit = c.with_(limit_resets_at=NOW + timedelta(hours=1, minutes=10))
    snap = Snapshot(taken_at=NOW, sessions=(hit,), limits=())
    app = make_app(tmp_path, FakeMonitor([snap]))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.open_detail(c.id)
        await settle(pilot)
        assert "usage limit hit; resets" in plain(app.screen.query_one(SessionLimits))
        assert "(in 1h 10m)" in plain(app.screen.query_one(SessionLimits))


async def test_crossing_95_percent_alerts_once(tmp_path):
    monitor = FakeMonitor([snapshot()])
    app = make_app(tmp_path, monitor)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        ws = limits()
        fuller = replace(snapshot(), limits=(ws[0], ws[1], ws[2], replace(ws[3], used_percent=96.0)))
        await next_snapshot(pilot, monitor, fuller)
        await next_snapshot(pilot, monitor, fuller)
        hits = [n for n in app.notices.log if "codex weekly limit passed 95%" in n.text]  # the notice line's log
        assert len(hits) == 1 and hits[0].alert and hits[0].severity == "error"


def _refused_session():
    c = fleet()[0]  # a Claude session in tmux pane %3
    reset = NOW - timedelta(minutes=5)
    return c.with_(limit_resets_at=reset, awaiting_user=True, state="waiting", last_activity=reset - timedelta(minutes=30))


async def _run_with(tmp_path, monkeypatch, auto: bool):
    from llm_sessions.core.actions.pane import ActionResult
    from tests.ui.helpers import quiet_settings

    calls = []

    def fake_send(target, **kwargs):
        calls.append((target, kwargs))
        return ActionResult(True, f"typed continue into {target.pane}")

    monkeypatch.setattr("llm_sessions.ui.app.send_continue", fake_send)
    settings = quiet_settings(tmp_path, LLM_SESSION_LIMITS_AUTO_CONTINUE=str(auto).lower())
    monitor = FakeMonitor([Snapshot(taken_at=NOW, sessions=(_refused_session(),))])
    app = make_app(tmp_path, monitor, settings=settings, tmux_args=("-L", "nowhere"))
    async with app.run_test(size=(120, 36)) as pilot:
        seen = record_notifications(app)
        await settle(pilot)
        app.request_poll()
        await settle(pilot)
    return calls, seen


async def test_auto_continue_types_once_after_the_reset_when_enabled(tmp_path, monkeypatch):
    calls, seen = await _run_with(tmp_path, monkeypatch, auto=True)
    assert len(calls) == 1  # two polls, one reset: once
    target, kwargs = calls[0]
    assert (target.pane, target.process.pid, target.session_id) == ("%3", 4242, fleet()[0].id)
    assert kwargs == {"tmux_args": ("-L", "nowhere")}


async def test_auto_continue_is_off_by_default(tmp_path, monkeypatch):
    calls, _ = await _run_with(tmp_path, monkeypatch, auto=False)
    assert calls == []
