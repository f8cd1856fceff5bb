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

from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual._two_way_dict import TwoWayDict
from textual._types import SegmentLines
from textual.cache import LRUCache
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.render import measure
from textual.renderables.styled import Styled
from textual.widgets import DataTable
from textual.widgets._data_table import default_cell_formatter
from textual.widgets.data_table import ColumnKey, RowKey

NOWHERE = Coordinate(-2, -2)
"""A cursor position on no row, not even the header (-1)."""


class SessionTable(DataTable[Any]):
    """A DataTable whose rows are diffed in place by `SessionsScreen`."""

    def __init__(self, **kwargs: object) -> None:
        # a body cell's render by what it shows, wherever it is: see `_render_cell`
        # (made first: DataTable's constructor already clears caches)
        self._renders_by_content: LRUCache[tuple[object, ...], SegmentLines] = LRUCache(4096)
        self._row_styles: LRUCache[tuple[object, ...], Style] = LRUCache(16)
        # renders are keyed on these (and the row's index), so a changed cell or row simply
        # misses the cache instead of its old renders being searched for and dropped
        self._stamp = 0
        self._cell_stamps: dict[tuple[str, str], int] = {}  # (row, column) keys as strings: C-speed hashing
        self._row_stamps: dict[str, int] = {}
        self._foreign_renders = False  # DataTable rendered a body row or cell, keyed its own way
        self._body_rows: LRUCache[tuple[object, ...], tuple[Any, Any]] = LRUCache(1000)
        self._body_cells: LRUCache[tuple[object, ...], SegmentLines] = LRUCache(10000)
        super().__init__(**kwargs)  # type: ignore[arg-type]
        # column key -> Counter(cell width -> how many cells have it)
        self._widths: dict[str, Counter[int]] = {}
        self._cell_width: dict[tuple[str, str], int] = {}

    def _measure(self, value: object) -> int:
        # the same measure DataTable applies when it sizes new rows, so the two agree; for a
        # one-line Text (no line-breaking character) that is its cell length
        if isinstance(value, Text) and value.plain.isprintable():
            return value.cell_len
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
            self._cell_stamps.pop((key, column), None)
        self._row_stamps.pop(key, None)
        self.remove_row(key)

    def forget_rows(self) -> None:
        """After `clear()`: no cell is counted any more."""
        self._widths.clear()
        self._cell_width.clear()
        self._cell_stamps.clear()
        self._row_stamps.clear()

    def set_cells(self, changes: Mapping[str, Mapping[str, object]]) -> None:
        """Set changed cells ({row key: {column key: value}}) and re-render only their rows."""
        if not changes:
            return
        self._stamp += 1
        for row, cells in changes.items():
            row_key = RowKey(row)
            data = self._data[row_key]
            self._row_stamps[row] = self._stamp
            for column, value in cells.items():
                data[ColumnKey(column)] = value
                self._cell_stamps[(row, column)] = self._stamp  # only these cells render again
                self._tally(row, column, value)
        if self._fit_columns():
            self._update_count += 1  # widths moved: every row renders differently
            self.refresh()
            return
        changed = {(RowKey(r), ColumnKey(c)) for r, row in changes.items() for c in row}
        if self._foreign_renders:
            for key in [k for k in self._cell_render_cache.keys() if (k[0], k[1]) in changed]:
                self._cell_render_cache.discard(key)
        self._forget_renders({RowKey(r) for r in changes})

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
        """One body row's line: its cells, then the blank that fills the rest of the width.

        The same segments as DataTable's own row rendering (tests/ui/test_session_table.py
        compares the two on every row), for this table's shape only: a row cursor, no row
        labels, no fixed columns (anything else goes to DataTable). Two differences in cost:

        - a row's render depends on the cursor only if the cursor is on that row.
          DataTable keys every row's cached render on the cursor's position, so the cursor
          following its session by one place re-rendered every visible row; rows the cursor
          is not on are rendered (and cached) as if it were nowhere;
        - the row's component style (zebra stripe) is looked up once per stripe, where
          DataTable resolves it and the header's through the CSS tree on every row it
          renders, most of a changed row's cost once its cells are cached.
        """
        if self.cursor_type == "row":
            index = self._row_locations.get(row_key)
            if index is None or cursor_location.row != index:
                cursor_location = NOWHERE
            if index is None or hover_location.row != index:
                hover_location = NOWHERE
        row_index = self._row_locations.get(row_key)
        if (
            row_index is None
            or self.cursor_type != "row"
            or self.fixed_columns
            or row_index < self.fixed_rows
            or (self._labelled_row_exists and self.show_row_labels)
        ):
            self._foreign_renders = self._foreign_renders or row_index is not None  # the header is no body row
            return super()._render_line_in_row(row_key, line_no, base_style, cursor_location, hover_location)
        state = self._render_state()
        row = row_key.value or ""
        cursor = cursor_location.row == row_index
        hover = hover_location.row == row_index
        cache_key = (row, self._row_stamps.get(row, 0), row_index, line_no, base_style, cursor, hover, state)
        done = self._body_rows.get(cache_key)
        if done is not None:
            return done
        row_style = self._get_row_style(row_index, base_style)
        cells: list[list[Segment]] = []
        table_width = 0
        for column_index, column in enumerate(self.ordered_columns):
            width = column.get_render_width(self)
            table_width += width
            lines = self._body_cell(row_key, row_index, column.key, column_index, row_style, width, cursor, hover, state)
            cells.append(lines[line_no])
        extend_style, _ = self._get_styles_to_render_cell(
            False, False, False, hover, cursor, state[0], state[1], False, False
        )
        extend_style = row_style + extend_style + Style.from_meta({"row": row_index, "column": 0, "out_of_bounds": True})
        cells.append([Segment(" " * max(0, self.size.width - table_width), extend_style)])
        rendered: tuple[Any, Any] = ([], cells)
        self._body_rows[cache_key] = rendered
        return rendered

    def _get_row_style(self, row_index: int, base_style: Style) -> Style:
        """DataTable's row style (header, fixed, zebra stripe or `base_style`), resolved
        through the CSS tree once per kind and kept until the styles or the focus change."""
        if row_index == -1:
            kind = "datatable--header"
        elif row_index < self.fixed_rows:
            kind = "datatable--fixed"
        elif self.zebra_stripes:
            kind = "datatable--odd-row" if row_index % 2 else "datatable--even-row"
        else:
            return base_style
        key = (kind, self._pseudo_class_state, self._update_count)
        style = self._row_styles.get(key)
        if style is None:
            style = self._row_styles[key] = self.get_component_styles(kind).rich_style
        return style

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> SegmentLines:
        """A body cell renders once per content, not once per place.

        DataTable renders a cell again whenever its row changes or moves: each poll, the
        live sessions' token, cost, health and time cells, most of which show a value some
        row showed before (`working`, a score of 42, `3m`). A one-line Text cell's render is
        kept by what decides it (text, spans, styles, width, cursor, hover) without the
        row/column mouse metadata DataTable adds to its styles, which is added back to
        each segment: the same segments, and styles equal to the ones DataTable makes, as
        tests/ui/test_session_table.py checks against DataTable's own rendering.
        """
        if row_index < max(0, self.fixed_rows) or column_index < max(0, self.fixed_columns):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        row_key = self._row_locations.get_key(row_index)
        column_key = self._column_locations.get_key(column_index)
        if row_key is None or column_key is None:
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        state = self._render_state()
        return self._body_cell(row_key, row_index, column_key, column_index, base_style, width, cursor, hover, state)

    def _render_state(self) -> tuple[object, ...]:
        """What every body render depends on besides its row, cell and place (read once per
        row: these are reactives, each read costs a lookup through the DOM)."""
        return (self.show_cursor, self._show_hover_cursor, self.cursor_foreground_priority, self.cursor_background_priority,
                self.cell_padding, self._update_count, self._pseudo_class_state)

    def _body_cell(
        self,
        row_key: RowKey,
        row_index: int,
        column_key: ColumnKey,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool,
        hover: bool,
        state: tuple[Any, ...],
    ) -> SegmentLines:
        row, column = row_key.value or "", column_key.value or ""
        place = (row, column, self._cell_stamps.get((row, column), 0), row_index, base_style, width, cursor, hover, state)
        done = self._body_cells.get(place)
        if done is not None:
            return done
        value = self._data[row_key][column_key]
        if not isinstance(value, Text) or self.rows[row_key].height != 1 or "\n" in value.plain:
            self._foreign_renders = True
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        content = (value.plain, value.style, tuple(value.spans), value.justify, value.overflow, value.no_wrap, value.end,
                   width, base_style, cursor, hover, state)
        lines = self._renders_by_content.get(content)
        if lines is None:
            # DataTable's own rendering of a body cell of height 1, less the metadata
            show_cursor, show_hover, foreground, background, padding = state[:5]
            component_style, post_style = self._get_styles_to_render_cell(
                False, False, False, hover, cursor, show_cursor, show_hover, foreground == "css", background == "css",
            )
            options = self.app.console_options.update_dimensions(width, 1).update(no_wrap=True)
            lines = self.app.console.render_lines(
                Styled(Padding(value, (0, padding)), pre_style=base_style + component_style, post_style=post_style),
                options,
            )
            self._renders_by_content[content] = lines
        meta = Style.from_meta({"row": row_index, "column": column_index})
        placed = [
            [Segment(text, None if control else (style + meta if style else meta), control) for text, style, control in line]
            for line in lines
        ]
        self._body_cells[place] = placed
        return placed

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._clear_own_renders()

    def _clear_caches(self) -> None:
        super()._clear_caches()
        self._clear_own_renders()

    def _clear_own_renders(self) -> None:
        """Drop this table's own renders, whenever DataTable drops its (styles or data changed)."""
        for cache in (self._renders_by_content, self._row_styles, self._body_rows, self._body_cells):
            cache.clear()

    def _forget_renders(self, rows: set[RowKey]) -> None:
        """Repaint only the lines of `rows`, whose cells changed or who moved.

        `rows` are where they are now (after a re-order: the rows that moved, so their
        places are exactly the lines whose content changed). A whole-widget refresh would
        make the compositor draw every visible line again, changed or not. Their renders
        need no dropping: they are keyed on the row's index and its cells' stamps. Lines
        and formatted rows are cached by position: cleared, since only repainted lines
        are asked for again.
        """
        if self._foreign_renders:  # renders DataTable keyed without stamps: drop them
            caches: tuple[LRUCache[Any, Any], ...] = (self._row_render_cache, self._cell_render_cache)
            for cache in caches:
                for key in [k for k in cache.keys() if k[0] in rows]:
                    cache.discard(key)
        self._row_renderable_cache.clear()
        self._line_cache.clear()
        # DataTable.refresh_row, without its walk over every row above (rows here are one
        # line high) and with the window computed once
        window = self.window_region
        top = self.header_height if self.show_header else 0
        width = max(self.size.width, self.virtual_size.width)
        for row in rows:
            index = self._row_locations.get(row)
            if index is None:
                continue
            if self.rows[row].height != 1:
                self.refresh_row(index)
                continue
            region = Region(0, top + index, width, 1)
            if window.overlaps(region):  # rows out of view are drawn when scrolled to
                self.refresh(region.translate(-self.scroll_offset))

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
