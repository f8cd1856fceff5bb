"""Snapshot tests of every screen at 120x36 and 40x20 with a frozen clock and fixed data.

Regenerate the baselines with `pytest tests/snapshots --snapshot-update` after a deliberate
visual change, and look at the SVG diff before committing.
"""

from __future__ import annotations

import pytest

from tests.fakes import FakeMonitor, fleet, health, ramp, snapshot
from tests.ui.helpers import make_app, next_snapshot, settle

SIZES = [pytest.param((120, 36), id="wide"), pytest.param((40, 20), id="narrow")]
B = fleet()[1].id


def _app(tmp_path, snapshots=None, **kwargs):
    monitor = FakeMonitor(snapshots, history={B: ramp(180_000)})
    return make_app(tmp_path, monitor, **kwargs)


def _press_then_settle(*keys):
    async def run_before(pilot):
        await settle(pilot)
        if keys:
            await pilot.press(*keys)
            await settle(pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_sessions(snap_compare, tmp_path, size):
    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=_press_then_settle())


@pytest.mark.parametrize("size", SIZES)
def test_sessions_with_ended(snap_compare, tmp_path, size):
    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=_press_then_settle("a", "down"))


@pytest.mark.parametrize("size", SIZES)
def test_empty_state(snap_compare, tmp_path, size):
    empty = [snapshot([], searched=("/home/dev/.claude/projects", "/home/dev/.codex/sessions", "/home/dev/.gemini/tmp"))]
    assert snap_compare(_app(tmp_path, empty), terminal_size=size, run_before=_press_then_settle())


@pytest.mark.parametrize("size", SIZES)
def test_detail(snap_compare, tmp_path, size):
    def reader(session):
        return {"Last turns": ["user: add retries to the gateway", "assistant: added exponential backoff"], "Recent errors": []}

    app = _app(tmp_path, transcript_reader=reader)
    assert snap_compare(app, terminal_size=size, run_before=_press_then_settle("down", "enter"))


@pytest.mark.parametrize("size", SIZES)
def test_confirm_terminate(snap_compare, tmp_path, size):
    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=_press_then_settle("K"))


@pytest.mark.parametrize("size", SIZES)
def test_help_lists_every_key(snap_compare, tmp_path, size):
    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=_press_then_settle("question_mark"))


@pytest.mark.parametrize("size", SIZES)
def test_an_alert_goes_to_the_notice_line_not_over_the_table(snap_compare, tmp_path, size):
    monitor = FakeMonitor(history={B: ramp(180_000)})
    app = make_app(tmp_path, monitor)
    worse = [s.with_(health=health(45)) if s.id == fleet()[0].id else s for s in fleet()]

    async def run_before(pilot):
        await settle(pilot)
        await next_snapshot(pilot, monitor, snapshot(worse))

    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_sorted_by_context_reversed(snap_compare, tmp_path, size):
    assert snap_compare(_app(tmp_path), terminal_size=size, run_before=_press_then_settle("s", "S"))
