from datetime import timedelta

from llm_sessions.core.live.alerts import detect_alerts
from tests.fakes import health, session, snapshot

SID = "a1b2c3d4-0000-4000-8000-000000000001"


def kinds(alerts):
    return sorted((a.session_id, a.kind) for a in alerts)


def test_first_snapshot_is_a_baseline():
    assert detect_alerts(None, snapshot([session(SID, score=10)])) == []


def test_crossing_into_warning_and_then_critical_fires_once_each():
    a = snapshot([session(SID, score=90)])
    b = snapshot([session(SID, score=50)])
    c = snapshot([session(SID, score=20)])
    assert kinds(detect_alerts(a, b)) == [(SID, "warning")]
    assert kinds(detect_alerts(b, b)) == []
    alerts = detect_alerts(b, c)
    assert kinds(alerts) == [(SID, "critical")]
    assert alerts[0].severity == "error" and "critical" in alerts[0].message


def test_recovering_does_not_alert():
    assert detect_alerts(snapshot([session(SID, score=20)]), snapshot([session(SID, score=60)])) == []


def test_healthy_straight_to_critical_is_one_critical_alert():
    assert kinds(detect_alerts(snapshot([session(SID, score=90)]), snapshot([session(SID, score=10)]))) == [(SID, "critical")]


def test_first_sight_of_a_session_is_its_baseline_and_later_changes_alert():
    other = "ffff0000-0000-4000-8000-00000000000f"
    before = snapshot([session(SID)])
    after = snapshot([session(SID), session(other, score=45, state="waiting")])
    assert detect_alerts(before, after) == []  # a demo's children appearing is not a burst
    worse = snapshot([session(SID), session(other, score=20, state="waiting")])
    assert kinds(detect_alerts(after, worse)) == [(other, "critical")]


def test_waiting_fires_when_it_starts():
    a = snapshot([session(SID, state="working")])
    b = snapshot([session(SID, state="waiting")])
    alerts = detect_alerts(a, b)
    assert kinds(alerts) == [(SID, "waiting")]
    assert alerts[0].severity == "information"
    assert detect_alerts(b, b) == []


def test_ended_sessions_never_alert():
    a = snapshot([session(SID, score=90)])
    b = snapshot([session(SID, score=10, state="ended")])
    assert detect_alerts(a, b) == []


def test_compaction_alert_on_entering_the_window():
    s = snapshot([session(SID)])
    far, near = {SID: timedelta(minutes=30)}, {SID: timedelta(minutes=4)}
    alerts = detect_alerts(s, s, previous_eta=far, current_eta=near, compaction_minutes=10)
    assert kinds(alerts) == [(SID, "compaction")]
    assert "~4 min" in alerts[0].message
    assert detect_alerts(s, s, previous_eta=near, current_eta=near, compaction_minutes=10) == []
    assert detect_alerts(s, s, previous_eta=far, current_eta={SID: None}, compaction_minutes=10) == []
    assert detect_alerts(s, s, previous_eta={}, current_eta={SID: timedelta(minutes=11)}, compaction_minutes=10) == []
    # the first forecast (two samples in the store) is a baseline, not a crossing
    assert detect_alerts(s, s, previous_eta={}, current_eta=near, compaction_minutes=10) == []
    assert kinds(detect_alerts(s, s, previous_eta={SID: None}, current_eta=near, compaction_minutes=10)) == [(SID, "compaction")]


def test_health_none_is_ignored_and_the_first_score_is_a_baseline():
    s = session(SID).with_(health=None)
    assert detect_alerts(snapshot([s]), snapshot([s.with_(health=health(10))])) == []
    assert detect_alerts(snapshot([s]), snapshot([s])) == []
    assert detect_alerts(snapshot([s.with_(health=health(10))]), snapshot([s])) == []


def test_throttle_rations_repeats_per_session_and_kind():
    from datetime import UTC, datetime, timedelta

    from llm_sessions.core.live.alerts import Alert, AlertThrottle

    t = AlertThrottle(timedelta(seconds=120))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    a, b = Alert("s1", "waiting", "s1 waits"), Alert("s2", "waiting", "s2 waits")
    assert t.filter([a, b], now) == ([a, b], [])
    assert t.filter([a], now + timedelta(seconds=30)) == ([], [a])
    assert t.filter([Alert("s1", "critical", "x")], now + timedelta(seconds=30))[0]  # another kind is news
    assert t.filter([a], now + timedelta(seconds=121)) == ([a], [])


def test_awaiting_user_counts_as_waiting():
    a = snapshot([session(SID)])
    b = snapshot([session(SID).with_(awaiting_user=True)])
    assert kinds(detect_alerts(a, b)) == [(SID, "waiting")]
    both = snapshot([session(SID, state="waiting").with_(awaiting_user=True)])
    assert detect_alerts(b, both) == []


def test_a_burst_of_alerts_becomes_one_toast_with_the_worst_severity():
    from llm_sessions.core.live.alerts import Alert, toasts

    one = Alert("a", "waiting", "a is waiting for input")
    two = Alert("b", "critical", "b: health critical (20)")
    three = Alert("c", "compaction", "c: auto-compaction in ~3 min")
    assert toasts([one, two]) == [(one.message, "information"), (two.message, "error")]
    [(message, severity)] = toasts([one, two, three])
    assert severity == "error"
    assert message.startswith("3 alerts") and all(a.message in message for a in (one, two, three))
    assert toasts([]) == []
