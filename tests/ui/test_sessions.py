"""Pilot tests of the sessions table: the keyed diff, the cursor, sort, filter, layouts."""

from __future__ import annotations

from textual.widgets.data_table import ColumnKey

from llm_sessions.core.models import Usage
from llm_sessions.ui.screens.detail import DetailScreen
from llm_sessions.ui.screens.sessions import NARROW, SORTS, WIDE
from tests.fakes import FakeMonitor, fleet, health, session, snapshot
from tests.ui.helpers import (
    cell_text,
    cursor_key,
    make_app,
    next_snapshot,
    row_keys,
    sessions_screen,
    settle,
)

A, B, C, D, E = (s.id for s in fleet())


async def test_rows_show_live_sessions_sorted_worst_health_first(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert row_keys(app) == [C, B, D, A]  # scores 31, 62, 75, 88; the ended E is hidden
        assert cell_text(app, B, "state") == "waiting"
        assert cell_text(app, B, "context").endswith("66%")
        assert cell_text(app, C, "cost") == "$7.95"
        assert cell_text(app, C, "health").strip() == "31"
        assert cell_text(app, C, "uptime") == "6h 40m"
        assert sessions_screen(app).table.virtual_size.width <= 120  # no sideways scrolling


async def test_a_toggles_ended_sessions(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert E not in row_keys(app)
        await pilot.press("a")
        assert E in row_keys(app)
        await pilot.press("a")
        assert E not in row_keys(app)


async def test_new_snapshot_is_diffed_in_place_and_cursor_follows_the_session(tmp_path):
    monitor = FakeMonitor()
    app = make_app(tmp_path, monitor)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = sessions_screen(app)
        clears = []
        original_clear = screen.table.clear
        screen.table.clear = lambda *a, **k: (clears.append(1), original_clear(*a, **k))[1]
        await pilot.press("down", "down", "down")
        assert cursor_key(app) == A  # last row
        by_id = {s.id: s for s in fleet()}
        newcomer = session("f0f0f0f0-0000-4000-8000-00000000000f", score=50)
        a_worse = by_id[A].with_(health=health(10), usage=by_id[A].usage + Usage(output=1_000_000))
        await next_snapshot(pilot, monitor, snapshot([a_worse, by_id[B], by_id[D], newcomer]))

        assert row_keys(app) == [A, newcomer.id, B, D]  # C gone, A now worst, newcomer added
        assert cursor_key(app) == A  # the cursor moved with its session to row 0
        assert screen.table.cursor_row == 0
        assert cell_text(app, A, "health").strip() == "10"
        assert cell_text(app, A, "tokens") == "1.1M"
        assert clears == []


async def test_unchanged_cells_are_not_rewritten(tmp_path):
    monitor = FakeMonitor()
    app = make_app(tmp_path, monitor)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        table = sessions_screen(app).table
        updates: list[tuple[str, str]] = []
        original = table.set_cells
        table.set_cells = lambda changes: (updates.extend((r, c) for r, cells in changes.items() for c in cells), original(changes))[1]
        by_id = {s.id: s for s in fleet()}
        await next_snapshot(pilot, monitor, snapshot([by_id[A].with_(cost_usd=9.99), by_id[B], by_id[C], by_id[D], by_id[E]]))
        assert updates == [(A, "cost")]
        assert cell_text(app, A, "cost") == "$9.99"


async def test_s_cycles_through_every_sort(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = sessions_screen(app)
        seen = []
        for _ in SORTS:
            seen.append((screen.sort_name, row_keys(app)))
            assert f"by {screen.sort_name}" in str(screen.query_one("#summary").render())
            await pilot.press("s")
        assert [name for name, _ in seen] == [sort[0] for sort in SORTS]
        assert screen.sort_name == SORTS[0][0]
        orders = dict(seen)
        assert orders["context"] == [C, B, A, D]  # 80%, 66%, 21%, 2%
        assert orders["cost"] == [C, B, A, D]  # D has no price: last
        assert orders["time"][0] == C  # the 400-minute session


async def test_sort_marks_its_column_and_shift_s_reverses_it(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = sessions_screen(app)
        labels = lambda: {k.value: c.label.plain for k, c in screen.table.columns.items()}  # noqa: E731
        assert labels()["health"] == "Health▲" and labels()["context"] == "Context "  # worst (lowest) first
        widths = [c.get_render_width(screen.table) for c in screen.table.ordered_columns]
        await pilot.press("s")
        await settle(pilot)
        assert labels()["health"] == "Health " and labels()["context"] == "Context▼"
        assert row_keys(app) == [C, B, A, D]
        await pilot.press("S")
        await settle(pilot)
        assert labels()["context"] == "Context▲" and row_keys(app) == [D, A, B, C]
        assert "by context ▲" in str(screen.query_one("#summary").render())
        assert [c.get_render_width(screen.table) for c in screen.table.ordered_columns] == widths  # no column moved
        await pilot.press("s")  # the next sort starts in its own default direction
        await settle(pilot)
        assert labels()["cost"] == "Cost▼" and row_keys(app)[0] == C


async def test_slash_filters_and_escape_clears(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("slash", "c", "o", "d", "e", "x")
        assert row_keys(app) == [B]
        await pilot.press("enter")  # back to the table, filter kept
        assert row_keys(app) == [B]
        assert app.focused is sessions_screen(app).table
        await pilot.press("escape")
        assert row_keys(app) == [C, B, D, A]


async def test_filter_with_no_match_says_so(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("slash", "z", "z", "z")
        empty = sessions_screen(app).query_one("#empty")
        assert empty.display and "zzz" in str(empty.render())


async def test_empty_state_says_where_it_looked_and_suggests_demo(tmp_path):
    monitor = FakeMonitor([snapshot([], searched=("/tmp/fakehome/.claude/projects", "/tmp/fakehome/.codex/sessions"))])
    app = make_app(tmp_path, monitor)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        screen = sessions_screen(app)
        text = str(screen.query_one("#empty").render())
        assert not screen.table.display
        assert "No AI coding session was found" in text
        assert "/tmp/fakehome/.claude/projects" in text and "/tmp/fakehome/.codex/sessions" in text
        assert "--demo" in text


async def test_narrow_layout_keeps_essential_columns_and_switches_back(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(40, 20)) as pilot:
        await settle(pilot)
        table = sessions_screen(app).table
        assert [c.value for c in table.columns] == list(NARROW)
        assert row_keys(app) == [C, B, D, A]
        await pilot.press("down")
        await pilot.resize_terminal(120, 36)
        await settle(pilot)
        assert [c.value for c in table.columns] == list(WIDE)
        assert cursor_key(app) == B
        assert cell_text(app, B, "tool") == "codex"


async def test_enter_opens_the_drilldown_and_escape_returns(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.session_id == B
        await pilot.press("escape")
        assert app.screen is sessions_screen(app)
        assert cursor_key(app) == B


async def test_theme_change_recolours_cells_and_keeps_rows_and_cursor(tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("down")
        table = sessions_screen(app).table
        before = table.get_cell(C, "health").style
        app.theme = "textual-light"
        await settle(pilot)
        assert table.get_cell(C, "health").style != before
        assert row_keys(app) == [C, B, D, A]
        assert cursor_key(app) == B


async def test_ids_sharing_a_prefix_are_told_apart_and_columns_widen(tmp_path):
    one, two = "d3m0c1a0-0000-4000-8000-000000000001", "d3m0c1a0-0000-4000-8000-000000000002"
    monitor = FakeMonitor([snapshot([session(one, minutes=0), session(two, minutes=0)])])
    app = make_app(tmp_path, monitor)
    async with app.run_test(size=(160, 36)) as pilot:
        await settle(pilot)
        assert cell_text(app, one, "id").strip() == one
        assert cell_text(app, two, "id").strip() == two
        table = sessions_screen(app).table
        narrow_width = table.columns[ColumnKey("uptime")].content_width
        await next_snapshot(pilot, monitor, snapshot([session(one, minutes=400), session(two, minutes=0)]))
        assert cell_text(app, one, "uptime") == "6h 40m"
        assert table.columns[ColumnKey("uptime")].content_width >= len("6h 40m") > narrow_width


async def test_middle_widths_drop_columns_instead_of_scrolling(tmp_path):
    from llm_sessions.ui.screens.sessions import COMPACT, MEDIUM

    app = make_app(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        table = sessions_screen(app).table
        assert [c.value for c in table.columns] == list(MEDIUM)
        assert table.virtual_size.width <= 100
        await pilot.resize_terminal(85, 30)
        await settle(pilot)
        assert [c.value for c in table.columns] == list(COMPACT)
        assert table.virtual_size.width <= 85
        assert row_keys(app) == [C, B, D, A]


async def test_a_session_that_ends_stays_until_dismissed(tmp_path):
    monitor = FakeMonitor([snapshot(fleet())])
    app = make_app(tmp_path, monitor)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert A in row_keys(app) and E not in row_keys(app)  # E ended before we started
        ended = [s.with_(state="ended", process=None) if s.id == A else s for s in fleet()]
        await next_snapshot(pilot, monitor, snapshot(ended))
        assert A in row_keys(app) and cell_text(app, A, "state") == "ended"
        table = sessions_screen(app).table
        table.move_cursor(row=table.get_row_index(A))
        await pilot.press("x")
        await settle(pilot)
        assert A not in row_keys(app)
        await pilot.press("a")  # still there among all sessions
        await settle(pilot)
        assert A in row_keys(app) and E in row_keys(app)


def _shown(app) -> list[str]:
    """The table's lines as a terminal would show them (through its render caches)."""
    from textual.geometry import Region

    table = sessions_screen(app).table
    return [strip.text for strip in table.render_lines(Region(0, 0, table.size.width, table.size.height))]


async def test_rows_changed_in_place_render_as_a_fresh_table_would(tmp_path):
    """Cells that narrow, rows that move and rows that go re-render only themselves, yet the
    screen must read exactly as a table built from the final snapshot."""
    by_id = {s.id: s for s in fleet()}
    steps = [
        [by_id[A].with_(cost_usd=1234.5), by_id[B], by_id[C], by_id[D]],  # a wide cost cell
        [by_id[A].with_(cost_usd=1.0), by_id[B], by_id[C], by_id[D]],  # narrows: widths move
        [by_id[A].with_(cost_usd=2.0, health=health(70)), by_id[B], by_id[C], by_id[D]],  # same width, moves up
        [by_id[A].with_(cost_usd=3.0, health=health(5)), by_id[B], by_id[D]],  # moves to the top, C gone
    ]
    monitor = FakeMonitor()
    app = make_app(tmp_path, monitor)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        for step in steps:
            snap = snapshot(step)
            await next_snapshot(pilot, monitor, snap)
            while app.snapshot is not snap:  # a poll already under way served the one before
                app.request_poll()
                await settle(pilot)
            incremental = _shown(app)
            fresh = await _fresh(tmp_path, snap)
            # header and rows, past the flag column (a drop in health raises an alert)
            assert [line[2:] for line in incremental[:5]] == [line[2:] for line in fresh[:5]]
        assert row_keys(app) == [A, B, D]
        assert "$3.00" in incremental[1]


async def _fresh(tmp_path, snap) -> list[str]:
    app = make_app(tmp_path, FakeMonitor([snap]))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        return _shown(app)
