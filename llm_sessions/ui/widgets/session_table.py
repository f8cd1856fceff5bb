"""The sessions DataTable, with cell updates that cost what changed, not what is listed.

Textual's `DataTable.update_cell` bumps one table-wide counter that every render cache is
keyed on, so changing one cell re-renders every visible cell; with `update_width=True` a cell
that got narrower than its column re-measures the whole column (every row of the history).
Over ~780 rows with 20 live sessions that was ~50 ms of UI thread per snapshot.

`SessionTable.set_cells` changes a batch of cells and then drops only those rows' cached
renders; column widths come from a per-column tally of cell widths kept here, so a cell
that shrinks costs one counter update. Only when a column's width really changes (or rows
are added, removed or re-ordered, all rare) does the table fall back to a full re-render.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual.render import measure
from textual.widgets import DataTable
from textual.widgets._data_table import default_cell_formatter
from textual.widgets.data_table import ColumnKey, RowKey


class SessionTable(DataTable[object]):
    """A DataTable whose rows are diffed in place by `SessionsScreen`."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        # column key -> Counter(cell width -> how many cells have it)
        self._widths: dict[str, Counter[int]] = {}
        self._cell_width: dict[tuple[str, str], int] = {}

    def _measure(self, value: object) -> int:
        # the same measure DataTable applies when it sizes new rows, so the two agree
        return measure(self.app.console, default_cell_formatter(value), 1)  # type: ignore[arg-type]

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
            self._forget_renders({RowKey(r) for r in changes})
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

    def _forget_renders(self, rows: set[RowKey]) -> None:
        for cache in (self._row_render_cache, self._cell_render_cache):
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
