"""Usage-limit windows from every source: status line, Codex readings, refusals, estimates."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from llm_sessions.config import load_settings
from llm_sessions.core.accounting import statusline_state
from llm_sessions.core.accounting.activity import Call
from llm_sessions.core.accounting.blocks import Learned
from llm_sessions.core.accounting.limits import Sources, build_windows, kind_for_minutes, projected, tightest
from llm_sessions.core.live.monitor import Monitor
from tests.limit_fixtures import NOW, api_limit_line, claude_turns, codex_rollout, env_for, window

S = NOW.timestamp()


def ms(dt) -> int:
    return int(dt.timestamp() * 1000)


def call(minutes_ago: float, tokens: int = 1000, session: str = "s1", model: str = "claude-sonnet-4-5") -> Call:
    return Call(ms(NOW - timedelta(minutes=minutes_ago)), session, model, tokens, 0, 0, 0)


class Prices:
    def charge(self, model, usage, **kw):
        per = 0.005 if "opus" in model else 0.001  # opus five times the price
        return usage.total * per


cost = Prices()


def by_key(windows):
    return {w.key: w for w in windows}


def reading(pct, resets_in_h, seen_ago_min=0.0, samples=()):
    entry = {"pct": pct, "resets_at": int(S + resets_in_h * 3600), "seen": S - seen_ago_min * 60}
    entry["samples"] = [[S - m * 60, p] for m, p in samples] or [[entry["seen"], pct]]
    return entry


def test_fresh_status_line_reading_is_the_window():
    src = Sources(claude=[call(5)], statusline={"five_hour": reading(70.0, 2, samples=[(40, 40.0), (30, 45.0), (0, 70.0)])})
    w = by_key(build_windows(src, NOW, cost))["claude/five_hour"]
    assert (w.source, w.exact, w.used_percent) == ("statusline", True, 70.0)
    assert w.starts_at == NOW + timedelta(hours=2) - timedelta(hours=5)
    assert w.burn_per_hour == 50.0  # 45% -> 70% over the last 30 minutes
    assert w.eta == NOW + timedelta(minutes=36)  # 30 points left at 50 points an hour


def test_burn_rate_from_a_run_of_equal_readings():
    from llm_sessions.core.accounting.limits import Reading, burn_from_readings

    # 40% from -60 to -10 min (only the run's ends are kept), then 41% at -5 min
    rs = [Reading(S - 3600, 40.0, None), Reading(S - 600, 40.0, None), Reading(S - 300, 41.0, None)]
    assert burn_from_readings(rs, S) == 2.4  # 1 point over the 25 minutes since the cutoff
    assert burn_from_readings(rs[:1], S) is None


def test_projection_is_none_when_the_window_resets_first_or_does_not_grow():
    assert projected(50.0, 10.0, NOW, NOW + timedelta(hours=1)) is None  # would need 5 h
    assert projected(50.0, 0.0, NOW, None) is None
    assert projected(100.0, 0.0, NOW, None) == NOW


def test_stale_or_reset_readings_give_way_to_an_estimate():
    calls = [call(90), call(5)]
    stale = Sources(claude=calls, statusline={"five_hour": reading(40.0, 2, seen_ago_min=60)})
    w = by_key(build_windows(stale, NOW, cost))["claude/five_hour"]
    assert (w.source, w.exact) == ("estimate", False)
    assert "status line said 40% 60 min ago" in w.basis
    reset = Sources(claude=calls, statusline={"five_hour": reading(90.0, -0.5, seen_ago_min=1)})
    assert by_key(build_windows(reset, NOW, cost))["claude/five_hour"].source == "estimate"
    # an old reading with no activity since is still the truth
    quiet = Sources(claude=[call(200)], statusline={"five_hour": reading(40.0, 2, seen_ago_min=60)})
    assert by_key(build_windows(quiet, NOW, cost))["claude/five_hour"].source == "statusline"


def test_estimate_prices_the_current_block_against_the_known_limit():
    calls = [call(400, 9000), call(100, 2000), call(20, 3000)]  # the first is an older block
    src = Sources(claude=calls, learned={"claude/five_hour": Learned(10.0, "plan preset 'max5'")})
    w = by_key(build_windows(src, NOW, cost))["claude/five_hour"]
    assert w.spend_usd == 5.0 and w.limit_usd == 10.0 and w.used_percent == 50.0
    assert w.starts_at == (NOW - timedelta(minutes=100)).replace(minute=0, second=0)
    assert w.resets_at == w.starts_at + timedelta(hours=5)
    assert w.burn_per_hour == 60.0  # $3 in the last 30 min = $6/h = 60% of $10 per hour
    assert "plan preset 'max5'" in w.basis and "estimate" in w.basis
    week = by_key(build_windows(src, NOW, cost))["claude/seven_day"]
    assert week.spend_usd == 14.0 and week.used_percent is None  # no weekly limit known


def test_a_refused_turn_pins_its_window_until_the_reset():
    hit = (int(S - 600), int(S + 3600), "five_hour")
    src = Sources(claude=[call(15)], statusline={"five_hour": reading(80.0, 1, seen_ago_min=20)}, claude_hits=[hit])
    w = by_key(build_windows(src, NOW, cost))["claude/five_hour"]
    assert (w.source, w.limit_hit, w.used_percent, w.eta) == ("api-error", True, 100.0, NOW)
    assert w.resets_at == NOW + timedelta(hours=1)
    expired = Sources(claude=[call(15)], claude_hits=[(int(S - 7200), int(S - 60), "seven_day")])
    assert not any(x.limit_hit for x in build_windows(expired, NOW, cost))


def test_shares_by_tokens_and_by_price_within_a_model_scope():
    calls = [call(30, 3000, "a", "claude-sonnet-4-5"), call(20, 1000, "b", "claude-opus-4-1"), call(10, 1000, "c", "claude-opus-4-1")]
    src = Sources(claude=calls, statusline={"five_hour": reading(10, 3), "seven_day_opus": reading(30, 48)})
    got = by_key(build_windows(src, NOW, cost))
    five = {s.session_id: s.share for s in got["claude/five_hour"].shares}
    assert five == {"a": 0.6, "b": 0.2, "c": 0.2}
    opus = got["claude/seven_day_opus"].shares
    assert {s.session_id: s.share for s in opus} == {"b": 0.5, "c": 0.5}  # sonnet is out of scope
    assert all(s.cost_usd == 5.0 for s in opus)


@pytest.mark.parametrize("minutes, kind", [(300, "five_hour"), (10080, "seven_day"), (1440, "daily"), (120, "2h"), (0, "window")])
def test_windows_are_named_by_length(minutes, kind):
    assert kind_for_minutes(minutes) == kind


def test_codex_windows_by_length_whatever_the_slot():
    ts = int((NOW - timedelta(minutes=2)).timestamp())
    samples = [
        (ts, "codex", 10080, 81.0, int(S + 86400)),  # the weekly window, in `primary` (2026)
        (ts, "codex", 300, 12.0, int(S + 3600)),
        (ts, "codex_other", 300, 5.0, int(S + 3600)),
    ]
    got = by_key(build_windows(Sources(codex_samples=samples, codex_plan="plus"), NOW, cost))
    assert got["codex/seven_day"].used_percent == 81.0
    assert got["codex/five_hour"].used_percent == 12.0
    assert got["codex/five_hour:codex_other"].used_percent == 5.0
    assert "plan plus" in got["codex/seven_day"].basis


def test_tightest_prefers_a_hit_then_the_soonest_end_then_the_fullest():
    src = Sources(claude=[call(5)], statusline={"five_hour": reading(50, 3), "seven_day": reading(90, 40)})
    ws = build_windows(src, NOW, cost)
    assert tightest(ws)["claude"].kind == "seven_day"
    hit = Sources(claude=[call(5)], statusline={"seven_day": reading(90, 40)}, claude_hits=[(int(S - 60), int(S + 600), "five_hour")])
    assert tightest(build_windows(hit, NOW, cost))["claude"].kind == "five_hour"


# -- end to end: transcripts, rollouts and the state file through the Monitor ----------------


def monitor(tmp_path: Path, home: Path) -> Monitor:
    settings = load_settings(tmp_path / "none.toml", env={})
    return Monitor(settings, env_for(home), clock=lambda: NOW, limits_state=tmp_path / "data" / "statusline.json")


def test_monitor_snapshot_carries_windows_and_session_shares(tmp_path):
    home = tmp_path / "home"
    claude_turns(home, "sess-a", [(NOW - timedelta(minutes=50), 3000, 100), (NOW - timedelta(minutes=10), 3000, 100)])
    claude_turns(home, "sess-b", [(NOW - timedelta(minutes=20), 1000, 100)], project="-w-other", cwd="/w/other")
    rates = {"primary": window(81.0, 10080, NOW + timedelta(days=2)), "secondary": window(12.0, 300, NOW + timedelta(hours=3))}
    codex_rollout(home, "cx-1", [(NOW - timedelta(minutes=30), 1000, 100), (NOW - timedelta(minutes=5), 3000, 300)], rates=rates)
    statusline_state.record(tmp_path / "data" / "statusline.json", now=S - 60, windows={"five_hour": (42.0, int(S + 7200))},
                            session_id="sess-a", session={"pid": 1})
    snap = monitor(tmp_path, home).scan_files()
    got = by_key(snap.limits)
    assert got["claude/five_hour"].source == "statusline" and got["claude/five_hour"].used_percent == 42.0
    assert got["claude/seven_day"].source == "estimate"
    assert got["codex/seven_day"].used_percent == 81.0 and got["codex/five_hour"].used_percent == 12.0
    sessions = snap.by_id()
    a = {s.window: s.share for s in sessions["sess-a"].limit_shares}
    assert a["claude/five_hour"] == round(6200 / 7300, 4)
    assert {s.window for s in sessions["cx-1"].limit_shares} == {"codex/five_hour", "codex/seven_day"}


def test_monitor_marks_a_limit_from_an_api_error_line(tmp_path):
    home = tmp_path / "home"
    refusal = api_limit_line(NOW - timedelta(minutes=3), "sess-a", "5-hour limit reached ∙ resets 4pm (UTC)")
    claude_turns(home, "sess-a", [(NOW - timedelta(minutes=30), 3000, 100)], extra=[refusal])
    snap = monitor(tmp_path, home).scan_files()
    w = by_key(snap.limits)["claude/five_hour"]
    assert w.limit_hit and w.resets_at == NOW.replace(hour=16)
    assert snap.by_id()["sess-a"].limit_resets_at == NOW.replace(hour=16)


def test_spend_past_a_learned_limit_without_a_refusal_drops_that_limit():
    calls = [call(20, 20_000)]  # $20 in the current block
    learned = Sources(claude=calls, learned={"claude/five_hour": Learned(18.0, "P90 of 9 past blocks")})
    w = by_key(build_windows(learned, NOW, cost))["claude/five_hour"]
    assert w.used_percent is None and w.limit_usd is None and "without a refusal" in w.basis
    chosen = Sources(claude=calls, learned={"claude/five_hour": Learned(18.0, "plan preset 'pro'", False)})
    assert by_key(build_windows(chosen, NOW, cost))["claude/five_hour"].used_percent == round(100 * 20 / 18, 2)
