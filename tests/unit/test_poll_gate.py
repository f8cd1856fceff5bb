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
