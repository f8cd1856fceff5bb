from llm_sessions.ui.messages import PollGate


def test_burst_while_running_costs_one_more_poll():
    gate = PollGate()
    assert gate.request() is True
    assert [gate.request() for _ in range(50)] == [False] * 50
    assert gate.finished() is True  # the one owed poll starts
    assert gate.running
    assert gate.finished() is False
    assert not gate.running


def test_idle_gate_starts_at_once():
    gate = PollGate()
    assert gate.request() and gate.finished() is False and gate.request()


def test_throttle_spaces_change_triggered_polls():
    from llm_sessions.ui.messages import Throttle

    t = Throttle(min_gap=1.0)
    assert t.delay(100.0) == 0.0  # nothing ran yet
    t.started(100.0)
    assert t.delay(100.25) == 0.75
    assert t.delay(101.0) == 0.0
    assert t.delay(250.0) == 0.0
