"""The sessions DataTable, with cell updates that cost what changed, not what is listed.

Textual's `DataTable.update_cell` bumps one table-wide counter that every render cache is
keyed on, so changing one cell re-renders every visible cell; with `update_width=True` a cell
that got narrower than its column re-measures the whole column (every row of the history).
Over ~780 rows with 20 live sessions that was ~50 ms of UI thread per snapshot.

`SessionTable.set_cells` changes a batch of cells and then drops only those rows' cached
renders; column widths come from a per-column tally of cell widths kept here, so a cell
that shrinks costs one counter update. Re-ordering moves only rows whose index changed, and a row's
render no longer depends on where the cursor is unless it is on that row. Only when a
column's width really changes (or rows are added or removed) does the table re-render all.
These lean on DataTable's private caches; textual is pinned exactly, and
tests/ui/test_sessions.py compares every in-place step with a freshly built table.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from rich.style import Style
from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual._types import SegmentLines
from textual.cache import LRUCache
from textual.coordinate import Coordinate
from textual.render import measure
from textual.widgets import DataTable
from textual.widgets._data_table import default_cell_formatter
from textual.widgets.data_table import ColumnKey, RowKey

NOWHERE = Coordinate(-2, -2)
"""A cursor position on no row, not even the header (-1)."""


class SessionTable(DataTable[Any]):
    """A DataTable whose rows are diffed in place by `SessionsScreen`."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        # column key -> Counter(cell width -> how many cells have it)
        self._widths: dict[str, Counter[int]] = {}
        self._cell_width: dict[tuple[str, str], int] = {}

    def _measure(self, value: object) -> int:
        # the same measure DataTable applies when it sizes new rows, so the two agree
        return measure(self.app.console, default_cell_formatter(value), 1)

    def _tally(self, row: str, column: str, value: object | None) -> None:
        """Move one cell's width in its column's tally (`value` None: the cell is gone)."""
        tally = self._widths.setdefault(column, Counter())
        old = self._cell_width.pop((row, column), None)
        if old is not None:
            tally[old] -= 1
            if not tally[old]:
                del tally[old]
        if value is not None:
            width = self._measure(value)
            self._cell_width[(row, column)] = width
            tally[width] += 1

    def add_session_row(self, key: str, cells: Mapping[str, object]) -> None:
        for column, value in cells.items():
            self._tally(key, column, value)
        self.add_row(*cells.values(), key=key)

    def remove_session_row(self, key: str) -> None:
        for column in self._widths:
            self._tally(key, column, None)
        self.remove_row(key)

    def forget_rows(self) -> None:
        """After `clear()`: no cell is counted any more."""
        self._widths.clear()
        self._cell_width.clear()

    def set_cells(self, changes: Mapping[str, Mapping[str, object]]) -> None:
        """Set changed cells ({row key: {column key: value}}) and re-render only their rows."""
        if not changes:
            return
        for row, cells in changes.items():
            data = self._data[RowKey(row)]
            for column, value in cells.items():
                data[ColumnKey(column)] = value
                self._tally(row, column, value)
        if self._fit_columns():
            self._update_count += 1  # widths moved: every row renders differently
        else:
            changed = {(RowKey(r), ColumnKey(c)) for r, row in changes.items() for c in row}
            for key in [k for k in self._cell_render_cache.keys() if (k[0], k[1]) in changed]:
                self._cell_render_cache.discard(key)  # only the cells that changed render again
            self._forget_renders({RowKey(r) for r in changes}, cells=False)
        self.refresh()

    def reorder(self, order: Sequence[str]) -> None:
        """Put the rows in `order` (every row key once); re-render only rows whose index moved.

        A row's render carries its index (zebra stripe, the mouse's row meta), so a row that
        kept its place keeps its render: a live session moving up three places re-renders
        those four rows, where `DataTable.sort` re-renders the whole screen.
        """
        old = self._row_locations
        new = TwoWayDict({RowKey(key): index for index, key in enumerate(order)})
        moved = {key for key in new if old.get(key) != new.get(key)}
        if not moved:
            return
        self._row_locations = new
        self._offset_cache.clear()
        self._ordered_row_cache.clear()
        self._forget_renders(moved)
        self.refresh()

    def set_labels(self, labels: Mapping[str, Text]) -> None:
        """New header labels (the sort marker moved): the header renders again."""
        for key, column in self.columns.items():
            label = labels.get(str(key.value))
            if label is not None:
                column.label = label
        self._update_count += 1
        self.refresh()

    def _render_line_in_row(
        self,
        row_key: RowKey,
        line_no: int,
        base_style: Style,
        cursor_location: Coordinate,
        hover_location: Coordinate,
    ) -> tuple[SegmentLines, SegmentLines]:
        """A row render depends on the cursor only if the cursor is on that row.

        DataTable keys every row's cached render on the cursor's position, so the cursor
        following its session by one place re-rendered every visible row; with a row cursor,
        rows it is not on are rendered (and cached) as if it were nowhere.
        """
        if self.cursor_type == "row":
            index = self._row_locations.get(row_key)
            if index is None or cursor_location.row != index:
                cursor_location = NOWHERE
            if index is None or hover_location.row != index:
                hover_location = NOWHERE
        return super()._render_line_in_row(row_key, line_no, base_style, cursor_location, hover_location)

    def _forget_renders(self, rows: set[RowKey], *, cells: bool = True) -> None:
        """Drop the cached renders of `rows` (their cells too unless `cells` is False)."""
        caches: list[LRUCache[Any, Any]] = [self._row_render_cache]
        if cells:
            caches.append(self._cell_render_cache)
        for cache in caches:
            for key in [k for k in cache.keys() if k[0] in rows]:
                cache.discard(key)
        # rows' formatted values are cached by index, lines are joined from row renders:
        # both cheap to redo
        self._row_renderable_cache.clear()
        self._line_cache.clear()

    def _fit_columns(self) -> bool:
        """Each column as wide as its widest cell or label; True when one changed."""
        changed = False
        console = self.app.console
        for key, column in self.columns.items():
            tally = self._widths.get(str(key.value))
            label = measure(console, column.label, 1)
            width = max(label, max(tally) if tally else 0)
            if width != column.content_width:
                column.content_width = width
                changed = True
        if changed:
            self._require_update_dimensions = True
        return changed

    def fit_columns(self) -> None:
        """After rows were added or removed: shrink or widen columns to what they hold."""
        if self._fit_columns():
            self._update_count += 1
            self.refresh()


__all__ = ["SessionTable"]
