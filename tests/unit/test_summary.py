from datetime import timedelta

from llm_sessions.core.live.summary import TokenRate, cost_today, summarize
from llm_sessions.core.models import Usage
from tests.fakes import NOW, fleet, session, snapshot

SID = "a1b2c3d4-0000-4000-8000-000000000001"


def test_summary_counts_states_in_a_fixed_order():
    s = summarize(snapshot(), NOW, None)
    assert s.by_state == (("working", 2), ("waiting", 1), ("idle", 1), ("ended", 1))


def test_cost_today_counts_sessions_active_today_only():
    old = session(SID, cost=5.0).with_(last_activity=NOW - timedelta(days=2))
    new = session("x", cost=1.5)
    unpriced = session("y", cost=None)
    assert cost_today(snapshot([old, new, unpriced]), NOW) == 1.5
    assert cost_today(snapshot(fleet()), NOW) == sum(s.cost_usd or 0 for s in fleet())


def test_token_rate_over_the_window_ignores_shrinking_and_new_sessions():
    rate = TokenRate(window=timedelta(minutes=5))
    s = session(SID)
    assert rate.add(snapshot([s], at=NOW)) is None
    grown = s.with_(usage=s.usage + Usage(input=6_000))
    newcomer = session("n").with_(usage=Usage(input=1_000_000))
    assert rate.add(snapshot([grown, newcomer], at=NOW + timedelta(minutes=2))) == 3_000
    shrunk = s.with_(usage=Usage(input=10))
    assert rate.add(snapshot([shrunk], at=NOW + timedelta(minutes=3))) == 0


def test_token_rate_forgets_points_older_than_the_window():
    rate = TokenRate(window=timedelta(minutes=1))
    s = session(SID)
    for minute in range(10):
        rate.add(snapshot([s.with_(usage=Usage(input=1000 * minute))], at=NOW + timedelta(minutes=minute)))
    assert rate.add(snapshot([s.with_(usage=Usage(input=10_000))], at=NOW + timedelta(minutes=10))) == 1000
