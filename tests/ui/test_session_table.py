"""SessionTable renders exactly what DataTable would, through its own cheaper paths.

`SessionTable` renders a body row and its one-line Text cells itself (cells kept by content,
row styles resolved once per stripe) and repaints only the rows a snapshot changed. These
tests hold it to DataTable's output: segment by segment (text and style, the mouse metadata
included) for every row with the cursor and the mouse on it or not, and line by line on
screen after in-place updates against a table built from the final snapshot.
"""

from __future__ import annotations

from functools import partial

from textual.geometry import Region
from textual.widgets import DataTable

from llm_sessions.ui.widgets.session_table import NOWHERE, SessionTable
from tests.fakes import FakeMonitor, fleet, health, session, snapshot
from tests.ui.helpers import cell_text, make_app, next_snapshot, sessions_screen, settle

A, B, C, D, E = (s.id for s in fleet())


def _many() -> list:
    """The fleet and 30 more rows: every state, tool, colour and both zebra stripes."""
    extra = [
        session(f"{i:08x}-0000-4000-8000-{i:012x}", state=("working", "waiting", "idle", "ended")[i % 4],
                score=(i * 37) % 100, used=10_000 + i * 5_000, cost=None if i % 7 == 0 else 0.37 * i,
                branch=None if i % 5 == 0 else "main", tool=("claude", "codex", "gemini")[i % 3])
        for i in range(30)
    ]
    return [*fleet(), *extra]


def _flat(rendered) -> list[tuple[str, object, object]]:
    fixed, scrollable = rendered
    return [(seg.text, seg.style, seg.control) for cell in [*fixed, *scrollable] for seg in cell]


async def test_rows_and_cells_render_as_datatable_renders_them(tmp_path):
    app = make_app(tmp_path, FakeMonitor([snapshot(_many())]))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("a")  # ended sessions too
        await settle(pilot)
        table = sessions_screen(app).table
        assert table.row_count == 35
        base = table.rich_style
        checked = 0
        for key in list(table.rows):
            index = table.get_row_index(key)
            for cursor in (NOWHERE, table.cursor_coordinate.__class__(index, 0)):
                for hover in (NOWHERE, table.cursor_coordinate.__class__(index, 1)):
                    table._clear_caches()
                    ours = _flat(SessionTable._render_line_in_row(table, key, 0, base, cursor, hover))
                    table._clear_caches()
                    # DataTable's own path, with its own cell rendering and row style
                    table._render_cell = partial(DataTable._render_cell, table)
                    table._get_row_style = partial(DataTable._get_row_style, table)
                    try:
                        theirs = _flat(DataTable._render_line_in_row(table, key, 0, base, cursor, hover))
                    finally:
                        del table._render_cell, table._get_row_style
                    assert ours == theirs, (key, cursor, hover)
                    checked += 1
        assert checked == 35 * 4
        # a cell kept by content is reused by another row showing the same thing, with that
        # row's own mouse metadata
        tools = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        one, other = [i for i, tool in enumerate(tools) if tool == tools[0] and i % 2 == 0][:2]  # same stripe
        table._clear_caches()
        first = table._render_cell(one, 1, base, 10)
        kept = len(table._renders_by_content)
        again = table._render_cell(other, 1, base, 10)
        assert len(table._renders_by_content) == kept  # rendered once
        assert [s.text for s in first[0]] == [s.text for s in again[0]]
        assert {s.style.meta["row"] for s in again[0]} == {other}


def _screen_lines(app) -> list[list[tuple[str, object]]]:
    """The table as the compositor gets it (through the widget's line cache), past the id column."""
    table = sessions_screen(app).table
    skip = table.ordered_columns[0].get_render_width(table)
    strips = table.render_lines(Region(0, 0, table.size.width, table.size.height))
    return [[(seg.text, seg.style) for seg in strip.crop(skip)] for strip in strips]


async def _shown_step(pilot, monitor, snap) -> list[list[tuple[str, object]]]:
    """Apply `snap` in place; the table's lines once it is shown."""
    app = pilot.app
    await next_snapshot(pilot, monitor, snap)
    while app.snapshot is not snap:  # a poll already under way served the one before
        app.request_poll()
        await settle(pilot)
    return _screen_lines(app)


async def _fresh_lines(tmp_path, snap, size: tuple[int, int], cursor_row: int = 0) -> list[list[tuple[str, object]]]:
    """The lines of a table built from `snap` alone (ended sessions shown), cursor on `cursor_row`."""
    app = make_app(tmp_path, FakeMonitor([snap]))
    async with app.run_test(size=size) as pilot:
        await pilot.press("a")
        await settle(pilot)
        sessions_screen(app).table.move_cursor(row=cursor_row, animate=False)
        await settle(pilot)
        return _screen_lines(app)


async def test_in_place_updates_paint_what_a_fresh_table_paints(tmp_path):
    """Only changed rows are repainted: every other line must still be right, styles included."""
    rows = _many()[:5] + _many()[5:25:2]
    by_id = {s.id: s for s in rows}
    steps = [
        [s.with_(cost_usd=(s.cost_usd or 0) + 1) if s.id in (A, B) else s for s in rows],  # two cells change
        [s.with_(health=health(99)) if s.id == C else s for s in rows],  # C moves to the bottom
        [s.with_(health=health(1)) if s.id == D else s for s in rows if s.id != B],  # D to the top, B gone
        [*[s for s in rows if s.id != B], by_id[B].with_(cost_usd=1234.5)],  # back, wider cost column
    ]
    monitor = FakeMonitor([snapshot(rows)])
    app = make_app(tmp_path, monitor)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("down", "down")  # the cursor on a row that moves
        for step in steps:
            snap = snapshot(step)
            incremental = await _shown_step(pilot, monitor, snap)
            fresh = await _fresh_lines(tmp_path, snap, (120, 36), sessions_screen(app).table.cursor_row)
            assert incremental == fresh


async def test_rows_changed_out_of_view_are_right_when_scrolled_to(tmp_path):
    """A changed row outside the window is not repainted; scrolling to it must show it changed."""
    rows = _many()
    monitor = FakeMonitor([snapshot(rows)])
    app = make_app(tmp_path, monitor)
    async with app.run_test(size=(120, 16)) as pilot:
        await pilot.press("a")
        await settle(pilot)
        await pilot.press("G")  # the bottom rows in view, the top ones scrolled away
        await settle(pilot)
        table = sessions_screen(app).table
        top = str(table.coordinate_to_cell_key(table.cursor_coordinate.__class__(0, 0)).row_key.value)
        snap = snapshot([s.with_(cost_usd=(s.cost_usd or 0) + 100) if s.id == top else s for s in rows])
        await _shown_step(pilot, monitor, snap)
        await pilot.press("g")
        await settle(pilot)
        incremental = _screen_lines(app)
        assert incremental == await _fresh_lines(tmp_path, snap, (120, 16))
        cost = cell_text(app, top, "cost")
        assert cost.startswith("$1") and len(cost) >= 7  # the new cost ($100 and more) ...
        assert any(cost in "".join(t for t, _ in line) for line in incremental)  # ... on screen
