"""Health score: components, weights, status boundaries, reasons and the compaction forecast."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from llm_sessions.config import Settings
from llm_sessions.core.accounting.compaction_eta import predict_compaction
from llm_sessions.core.accounting.health import (
    combine,
    compaction_point,
    health_report,
    status_for,
)
from llm_sessions.core.models import ContextFill, HealthComponent, Session, TurnMark

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
S = Settings()


def session(**kw) -> Session:
    base: dict[str, Any] = dict(
        id="s1",
        tool="claude",
        started_at=NOW - timedelta(minutes=30),
        last_activity=NOW - timedelta(minutes=1),
        context=ContextFill(used=20_000, window=200_000),
        recent=tuple(TurnMark(NOW - timedelta(minutes=10 - i), "assistant") for i in range(5)),
        state="working",
    )
    base.update(kw)
    return Session(**base)


def test_compaction_point_default_is_167k():
    assert compaction_point(200_000, S.health_reserved_output_tokens, S.health_compact_buffer_tokens) == 167_000
    assert compaction_point(10_000, 20_000, 13_000) == 0


def test_fresh_session_is_fully_healthy_with_reasons():
    r = health_report(session(), S, NOW)
    assert r.score == 100 and r.status == "healthy"
    assert [c.name for c in r.components] == ["tokens", "duration", "activity", "errors"]
    assert all(c.reason.strip() for c in r.components)
    assert r.component("tokens").reason == "context 20k of 167k auto-compact point (12%)"
    assert "running for 30 min" in r.component("duration").reason
    assert "last activity 1 min ago" in r.component("activity").reason
    assert r.component("errors").reason == "no API errors or failed tool calls in the last 5 turns"


def test_tokens_falls_steeply_near_the_compaction_point():
    def tok(used):
        return health_report(session(context=ContextFill(used=used, window=200_000)), S, NOW).component("tokens")

    assert tok(80_000).score == 100  # under half of 167k
    assert 80 <= tok(117_000).score <= 90  # ~70%
    assert 40 <= tok(142_000).score <= 55  # ~85%
    assert tok(160_000).score <= 20  # ~96%
    assert tok(167_000).score == 0
    assert tok(190_000).score == 0
    assert tok(142_000).reason == "context 142k of 167k auto-compact point (85%)"
    assert "compaction due now" in tok(170_000).reason


def test_tokens_prefers_the_providers_compact_point_and_marks_estimates():
    ctx = ContextFill(used=50_000, window=128_000, compact_at=100_000, exact=False)
    c = health_report(session(context=ctx), S, NOW).component("tokens")
    assert c.score == 100  # exactly half of the provider's 100k point: still comfortable
    assert c.reason == "context 50k of 100k auto-compact point (50%) (estimated)"


def test_unknown_context_is_neutral_and_says_so():
    c = health_report(session(context=None), S, NOW).component("tokens")
    assert c.score == 50
    assert "unknown" in c.reason


def test_duration_grace_then_linear_to_zero():
    def dur(hours):
        return health_report(session(started_at=NOW - timedelta(hours=hours)), S, NOW).component("duration")

    assert dur(1.9).score == 100
    assert dur(2).score == 100
    assert dur(7).score == 50  # halfway between 2h and 12h
    assert dur(12).score == 0
    assert dur(30).score == 0
    assert "running for 7h 00m (full score until 2h, 0 at 12h)" == dur(7).reason
    assert health_report(session(started_at=None), S, NOW).component("duration").score == 50


def test_ended_session_stops_ageing_at_its_last_activity():
    s = session(state="ended", started_at=NOW - timedelta(days=3), last_activity=NOW - timedelta(days=3) + timedelta(hours=1))
    c = health_report(s, S, NOW).component("duration")
    assert c.score == 100 and c.reason.startswith("ran for 1h 00m")


def test_idle_lowers_activity():
    def act(idle_min, **kw):
        s = session(last_activity=NOW - timedelta(minutes=idle_min), recent=(), **kw)
        return health_report(s, S, NOW).component("activity")

    assert act(5).score == 100
    assert act(30).score == 100
    assert act(75).score == 60  # halfway from 30 to 120 min
    assert act(120).score == 20
    assert act(600).score == 20
    assert act(75).reason.startswith("idle for 1h 15m")
    assert "waiting for your reply" in act(75, awaiting_user=True).reason


def test_activity_counts_recent_turns():
    c = health_report(session(), S, NOW).component("activity")
    assert c.reason.endswith("5 turns in the last 30 min")


@pytest.mark.parametrize(
    ("last", "score", "words"),
    [
        (TurnMark(NOW, "assistant"), 100, "ended normally"),
        (TurnMark(NOW, "user"), 60, "ended mid-turn"),
        (TurnMark(NOW, "assistant", api_error=True), 25, "ended right after an API error"),
        (TurnMark(NOW, "tool_result", tool_error=True), 25, "ended right after a failed tool call"),
    ],
)
def test_ended_session_is_scored_on_how_it_ended(last, score, words):
    s = session(state="ended", last_activity=NOW - timedelta(days=2), recent=(TurnMark(NOW - timedelta(hours=1), "user"), last))
    c = health_report(s, S, NOW).component("activity")
    assert c.score == score
    assert words in c.reason


def test_errors_among_recent_turns():
    marks = [TurnMark(NOW - timedelta(minutes=30 - i), "assistant") for i in range(25)]
    marks[0] = TurnMark(marks[0].at, "assistant", api_error=True)  # outside the last 20
    marks[-1] = TurnMark(marks[-1].at, "assistant", api_error=True)
    marks[-2] = TurnMark(marks[-2].at, "tool_result", tool_error=True)
    c = health_report(session(recent=tuple(marks)), S, NOW).component("errors")
    assert c.score == 100 - 25 - 12
    assert c.reason == "1 API error and 1 failed tool call in the last 20 turns"
    many = tuple(TurnMark(NOW - timedelta(seconds=i), "assistant", api_error=True) for i in range(5))
    assert health_report(session(recent=many), S, NOW).component("errors").score == 0


def test_errors_fall_back_to_session_totals_without_marks():
    c = health_report(session(recent=(), api_errors=2), S, NOW).component("errors")
    assert c.score == 50
    assert c.reason == "2 API errors in the whole session"


def test_status_boundaries():
    assert status_for(100, S) == "healthy"
    assert status_for(70, S) == "healthy"
    assert status_for(69, S) == "warning"
    assert status_for(40, S) == "warning"
    assert status_for(39, S) == "critical"
    assert status_for(0, S) == "critical"
    custom = replace(S, health_healthy_min=90, health_warning_min=10)
    assert status_for(89, custom) == "warning" and status_for(9, custom) == "critical"


def _weights_only(tokens, duration, activity, errors):
    return replace(
        S,
        health_weight_tokens=tokens,
        health_weight_duration=duration,
        health_weight_activity=activity,
        health_weight_errors=errors,
    )


@pytest.mark.parametrize(("used", "expected_status"), [(0, "healthy"), (167_000, "critical")])
def test_status_boundaries_through_the_report(used, expected_status):
    # only the tokens component counts: its score decides the status alone
    only_tokens = _weights_only(1, 0, 0, 0)
    r = health_report(session(context=ContextFill(used=used, window=200_000)), only_tokens, NOW)
    assert r.status == expected_status


def test_report_reaches_exact_boundary_scores():
    # duration alone: 2h grace, 12h zero -> score 70 at 5h, 69 at 5.1h, 40 at 8h, 39 at 8.1h
    only_duration = _weights_only(0, 1, 0, 0)
    for hours, score, status in [(5, 70, "healthy"), (5.1, 69, "warning"), (8, 40, "warning"), (8.1, 39, "critical")]:
        r = health_report(session(started_at=NOW - timedelta(hours=hours)), only_duration, NOW)
        assert (r.score, r.status) == (score, status), hours


def test_weights_are_respected():
    s = session(context=ContextFill(used=142_000, window=200_000))  # 85% of 167k: tokens 51, the rest 100
    assert health_report(s, S, NOW).component("tokens").score == 51
    assert health_report(s, S, NOW).score == 80  # (51*40 + 100*60) / 100
    assert health_report(s, _weights_only(1, 1, 1, 1), NOW).score == 88
    assert health_report(s, _weights_only(0, 1, 1, 1), NOW).score == 100
    assert health_report(s, _weights_only(9, 1, 0, 0), NOW).score == 56
    r = health_report(s, _weights_only(9, 1, 0, 0), NOW)
    assert r.component("tokens").weight == 9.0


@pytest.mark.parametrize(
    ("used", "status", "words"),
    [
        (149_000, "healthy", None),  # 89%: the weighted mean (85) decides
        (150_300, "warning", "past 90%, so never healthy"),  # 90% of 167k: the mean (74) is capped to 69
        (160_000, "warning", "past 90%, so never healthy"),  # the mean (66) is below the cap anyway
        (167_000, "critical", "compaction due now, so critical"),  # at the point
        (190_000, "critical", "compaction due now, so critical"),
    ],
)
def test_near_the_compaction_point_a_session_is_never_healthy_and_at_it_critical(used, status, words):
    """The documented rule: everything else perfect, the context alone caps the status."""
    r = health_report(session(context=ContextFill(used=used, window=200_000)), S, NOW)
    assert r.status == status
    if words:
        assert words in r.component("tokens").reason
    if used == 150_300:
        assert r.score == S.health_healthy_min - 1


def test_caps_follow_the_configured_boundaries_and_a_zero_weight():
    s = session(context=ContextFill(used=150_300, window=200_000))
    custom = replace(S, health_healthy_min=60, health_warning_min=10)
    assert health_report(s, custom, NOW).score == 59 and health_report(s, custom, NOW).status == "warning"
    assert health_report(s, _weights_only(0, 1, 1, 1), NOW).status == "healthy"  # context ignored by choice


def test_a_session_that_is_not_running_is_judged_as_of_its_last_activity():
    """`health` and the drilldown once disagreed: `running for 290d, waiting for your reply`."""
    last = NOW - timedelta(days=290)
    s = session(state="ended", started_at=last - timedelta(hours=1, minutes=12), last_activity=last,
                awaiting_user=True, recent=(TurnMark(last, "assistant"),))
    r = health_report(s, S, NOW)
    assert r.component("duration").reason.startswith("ran for 1h 12m")
    assert r.component("activity").reason.startswith("ended normally")
    assert "waiting" not in r.component("activity").reason and "290" not in r.component("activity").reason
    unknown = health_report(s.with_(state="unknown"), S, NOW)  # processes not scanned: same judgement
    assert unknown.score == r.score and unknown.component("activity").reason.startswith("stopped normally")
    assert health_report(s, S, NOW + timedelta(days=30)) == r  # nothing about it changes with the clock


def test_span_is_the_one_duration_every_view_shows():
    from llm_sessions.core.accounting.health import span

    live = session(started_at=NOW - timedelta(hours=2), last_activity=NOW - timedelta(hours=1))
    assert span(live, NOW) == timedelta(hours=2)
    assert span(live.with_(state="ended"), NOW) == timedelta(hours=1)
    assert span(live.with_(started_at=None), NOW) is None


def test_combine_with_all_zero_weights_is_the_plain_mean():
    comps = [HealthComponent("tokens", 0, 0, "x"), HealthComponent("errors", 100, 0, "y")]
    assert combine(comps) == 50


marks_st = st.lists(
    st.tuples(st.integers(0, 600), st.sampled_from(["assistant", "user", "tool_result"]), st.booleans(), st.booleans()),
    max_size=30,
)
session_st = st.builds(
    lambda used, window, age_min, idle_min, marks, state, w: (
        session(
            context=ContextFill(used=used, window=window) if window else None,
            started_at=NOW - timedelta(minutes=age_min),
            last_activity=NOW - timedelta(minutes=idle_min),
            recent=tuple(TurnMark(NOW - timedelta(minutes=m), k, a, t) for m, k, a, t in marks),
            state=state,
        ),
        _weights_only(*w),
    ),
    st.integers(0, 2_000_000),
    st.sampled_from([0, 128_000, 200_000, 1_000_000]),
    st.integers(0, 3000),
    st.integers(0, 3000),
    marks_st,
    st.sampled_from(["working", "waiting", "idle", "ended", "unknown"]),
    st.tuples(*[st.floats(0, 100)] * 4).filter(lambda w: sum(w) > 0),
)


@hsettings(max_examples=300, deadline=None)
@given(session_st)
def test_score_always_in_range_with_reasons(pair):
    s, cfg = pair
    r = health_report(s, cfg, NOW)
    assert 0 <= r.score <= 100
    assert all(0 <= c.score <= 100 and c.reason for c in r.components)
    assert r.status == status_for(r.score, cfg)


@hsettings(max_examples=300, deadline=None)
@given(session_st, st.data())
def test_more_errors_never_raise_the_score(pair, data):
    s, cfg = pair
    if not s.recent:
        return
    i = data.draw(st.integers(0, len(s.recent) - 1))
    flag = data.draw(st.sampled_from(["api_error", "tool_error"]))
    worse = list(s.recent)
    worse[i] = replace(worse[i], **{flag: True})
    before = health_report(s, cfg, NOW)
    after = health_report(s.with_(recent=tuple(worse)), cfg, NOW)
    assert after.score <= before.score
    assert after.component("errors").score <= before.component("errors").score


@hsettings(max_examples=300, deadline=None)
@given(session_st, st.integers(0, 500_000))
def test_more_context_never_raises_the_score(pair, extra):
    s, cfg = pair
    if s.context is None:
        return
    fuller = s.with_(context=replace(s.context, used=s.context.used + extra))
    assert health_report(fuller, cfg, NOW).score <= health_report(s, cfg, NOW).score


def test_predict_compaction_from_a_steady_burn():
    samples = [(NOW - timedelta(minutes=10 - i), 100_000 + 5_000 * i) for i in range(11)]  # 5k/min, at 150k now
    eta = predict_compaction(samples, 167_000, NOW)
    assert eta == timedelta(minutes=17000 / 5000)


def test_predict_compaction_moves_forward_with_the_clock():
    samples = [(NOW - timedelta(minutes=10 - i), 100_000 + 5_000 * i) for i in range(11)]
    later = predict_compaction(samples, 167_000, NOW + timedelta(minutes=2))
    assert later == timedelta(minutes=17000 / 5000 - 2)
    assert predict_compaction(samples, 167_000, NOW + timedelta(hours=1)) == timedelta(0)


def test_predict_compaction_ignores_history_before_a_compaction():
    before = [(NOW - timedelta(minutes=60 - i), 160_000 - 1000 * i) for i in range(3)]  # shrinking, old
    after = [(NOW - timedelta(minutes=4 - i), 40_000 + 10_000 * i) for i in range(5)]  # 10k/min, at 80k
    eta = predict_compaction(before + [(NOW - timedelta(minutes=5), 150_000)] + after, 167_000, NOW)
    assert eta == timedelta(minutes=8.7)


@pytest.mark.parametrize(
    "samples",
    [
        [],
        [(NOW, 100_000)],
        [(NOW - timedelta(minutes=1), 100_000), (NOW, 100_000)],
        [(NOW, 100_000), (NOW, 120_000)],  # no time passed: no rate
    ],
)
def test_predict_compaction_none_when_not_growing(samples):
    assert predict_compaction(samples, 167_000, NOW) is None


def test_predict_compaction_zero_when_already_past():
    assert predict_compaction([(NOW, 170_000)], 167_000, NOW) == timedelta(0)


def test_health_imports_no_heavy_modules():
    code = (
        "import sys; import llm_sessions.core.accounting.health;"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'sqlmodel', 'textual')];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_predict_compaction_skips_samples_with_unknown_context():
    from datetime import UTC, datetime, timedelta

    from llm_sessions.core.accounting.compaction_eta import predict_compaction

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    samples = [(t0, 100_000), (t0 + timedelta(minutes=1), None), (t0 + timedelta(minutes=2), 110_000)]
    eta = predict_compaction(samples, 130_000, t0 + timedelta(minutes=2))
    assert eta is not None and timedelta(minutes=3) <= eta <= timedelta(minutes=5)
