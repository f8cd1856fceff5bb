"""Limit alerts fire on the crossing: hit, projected to run out soon, past 80% and 95%."""

from __future__ import annotations

from datetime import timedelta

from llm_sessions.core.accounting.limit_report import urgency
from llm_sessions.core.live.limit_alerts import detect_limit_alerts
from llm_sessions.core.models import LimitWindow, Snapshot, WindowShare
from tests.limit_fixtures import NOW


def w(used, *, eta_min=None, hit=False, exact=True, resets_h=2.0, kind="five_hour"):
    return LimitWindow(
        "claude", kind, used, resets_at=NOW + timedelta(hours=resets_h), source="statusline" if exact else "estimate",
        exact=exact, eta=NOW + timedelta(minutes=eta_min) if eta_min is not None else None, limit_hit=hit,
        shares=(WindowShare(f"claude/{kind}", "sess-aaaaaaaa", 0.7, 1000), WindowShare(f"claude/{kind}", "sess-b", 0.3, 400)),
    )


def snap(*windows, minutes_later=0):
    return Snapshot(taken_at=NOW + timedelta(minutes=minutes_later), limits=tuple(windows))


def alerts(before, after, minutes=30.0):
    return detect_limit_alerts(before, after, limit_minutes=minutes)


def test_nothing_on_the_first_snapshot():
    assert alerts(None, snap(w(99, hit=True))) == []


def test_crossing_80_and_95_fires_once_each():
    a = alerts(snap(w(70)), snap(w(82), minutes_later=1))
    assert [(x.kind, x.severity) for x in a] == [("limit", "warning")]
    assert "passed 80%" in a[0].message and "sess-aaa used 70% of it" in a[0].message
    assert alerts(snap(w(82)), snap(w(90), minutes_later=1)) == []  # still above 80: no repeat
    b = alerts(snap(w(90)), snap(w(96), minutes_later=1))
    assert [(x.kind, x.severity) for x in b] == [("limit_critical", "error")]
    jump = alerts(snap(w(50)), snap(w(97), minutes_later=1))
    assert len(jump) == 1 and "passed 95%" in jump[0].message  # the highest crossing only


def test_projected_exhaustion_within_limit_minutes():
    soon = alerts(snap(w(60, eta_min=50)), snap(w(62, eta_min=25), minutes_later=1))
    # 25 min from NOW, seen a minute later
    assert len(soon) == 1 and "full in ~24 min" in soon[0].message and soon[0].session_id == "limit:claude/five_hour"
    assert alerts(snap(w(62, eta_min=25)), snap(w(63, eta_min=20), minutes_later=1)) == []
    assert alerts(snap(w(60, eta_min=50)), snap(w(62, eta_min=40), minutes_later=1), minutes=30) == []


def test_hit_fires_with_the_reset_time_and_estimates_say_so():
    hit = alerts(snap(w(97)), snap(w(100, hit=True), minutes_later=1))
    assert [x.kind for x in hit] == ["limit_critical"] and "reached; resets" in hit[0].message
    est = alerts(snap(w(70, exact=False)), snap(w(85, exact=False), minutes_later=1))
    assert "(estimate)" in est[0].message


def test_a_new_window_starts_from_zero():
    before = snap(w(90, resets_h=0.1))
    after = snap(w(85, resets_h=5.0), minutes_later=10)  # the old window reset; the new one is at 85%
    assert [x.kind for x in alerts(before, after)] == ["limit"]


def test_urgency_colours():
    assert urgency(w(10), NOW, 30) == "ok"
    assert urgency(w(82), NOW, 30) == "warn"
    assert urgency(w(40, eta_min=50), NOW, 30) == "warn"
    assert urgency(w(40, eta_min=20), NOW, 30) == "bad"
    assert urgency(w(100, hit=True), NOW, 30) == "bad"
    assert urgency(w(None), NOW, 30) == "unknown"
