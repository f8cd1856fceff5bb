"""The main screen: one row per session, diffed in place on every snapshot.

Rows are keyed by session id. Applying a snapshot removes rows that are gone, updates only
the cells whose rendered value changed, adds new rows, then sorts; the table is never
cleared per tick, so the cursor stays on the same *session* while rows move around it.
The columns follow the terminal width (`LAYOUTS`): all of them from 120 columns, fewer
below, and under 80 only id / tool / state / context / health, so it works in a tmux side
pane. The tool is never dropped: a Claude and a Codex row must not look alike.

Keys: the table owns focus whenever it is shown (`FocusRules`); arrows or j/k move, g/G go
to the top or bottom, Enter opens the highlighted row, s cycles the sort (its column
header carries ▼ or ▲) and S reverses it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, Static
from textual.widgets.data_table import RowDoesNotExist

from llm_sessions.core.inert import inert
from llm_sessions.core.models import Session, Snapshot
from llm_sessions.core.problems import summary_lines
from llm_sessions.ui.focus import FocusRules
from llm_sessions.ui.layout import NARROW_BELOW
from llm_sessions.ui.screens.session_columns import (
    ASCENDING,
    COLUMNS,
    COMPACT,
    LAYOUTS,
    MEDIUM,
    NARROW,
    SORTABLE,
    SORTS,
    WIDE,
    columns_for,
    matches,
)
from llm_sessions.ui.screens.session_keys import SESSION_BINDINGS, SessionKeys
from llm_sessions.ui.screens.session_rows import SessionRows, View
from llm_sessions.ui.status import StatusArea
from llm_sessions.ui.widgets.cells import Palette
from llm_sessions.ui.widgets.limits import LimitsBar
from llm_sessions.ui.widgets.session_table import SessionTable
from llm_sessions.ui.widgets.summary import SummaryBar, summary_markup

if TYPE_CHECKING:
    from llm_sessions.ui.app import LLMSessionApp


class SessionsScreen(FocusRules, SessionKeys, Screen):
    if TYPE_CHECKING:
        app: LLMSessionApp  # Textual types it as any App; this one lives only in ours

    AUTO_FOCUS = "#table"
    BINDINGS = [
        Binding("enter", "open_detail", "Details"),
        Binding("j", "cursor('down')", "Cursor down", show=False),
        Binding("k", "cursor('up')", "Cursor up", show=False),
        Binding("g", "cursor('top')", "Top", show=False),
        Binding("G", "cursor('bottom')", "Bottom", show=False),
        Binding("s", "cycle_sort", "Sort"),
        Binding("S", "reverse_sort", "Reverse sort", show=False),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("x", "dismiss_ended", "Dismiss ended", show=False),
        *SESSION_BINDINGS,
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(id="sessions")
        self.sort_index = 0
        self.sort_reverse = False
        self.filter_text = ""
        self.columns: tuple[str, ...] = ()
        self.rows = SessionRows()  # what the table holds, diffed per snapshot
        self._empty_key: tuple | None = None  # what the empty-state message was made from
        self._cursor_key: str | None = None
        self._palette: Palette | None = None

    def compose(self) -> ComposeResult:
        yield SummaryBar(id="summary")
        yield LimitsBar(id="limits")
        yield StatusArea("header", id="status-header")
        yield Input(placeholder="filter: id, tool, folder, branch, model, state", id="filter")
        with Vertical(id="body"):
            yield SessionTable(id="table", cursor_type="row", zebra_stripes=True)
            yield Static(id="empty")
        yield StatusArea("footer", id="status-footer")
        yield Footer()

    def first_focus(self):
        """The table whenever it is shown; the filter box only while it is open and typed in."""
        return self.table if self.table.display else None

    def on_mount(self) -> None:
        self.watch(self.app, "snapshot", self._on_snapshot, init=False)
        self.watch(self.app, "theme", self._on_theme, init=False)
        self._set_layout(columns_for(self.app.size.width, self.app.team))

    # ---- data --------------------------------------------------------------------------

    @property
    def table(self) -> SessionTable:
        return self.query_one("#table", SessionTable)

    @property
    def palette(self) -> Palette:
        if self._palette is None:
            self._palette = Palette.from_app(self.app)
        return self._palette

    @property
    def current_session(self) -> Session | None:
        """The session of the highlighted row: what Enter and every session key act on."""
        snap = self.app.snapshot
        key = self._key_at_cursor() if self.table.display else None
        if snap is None or key is None:
            return None
        return snap.by_id().get(key)

    def visible_sessions(self, snap: Snapshot) -> list[Session]:
        app = self.app
        show_all = app.show_all

        def shown(s: Session) -> bool:
            if s.state != "ended" or show_all:
                return True
            return s.id in app.seen_live and s.id not in app.dismissed

        return [s for s in snap.sessions if shown(s) and matches(s, self.filter_text)]

    def action_dismiss_ended(self) -> None:
        """Hide the ended session under the cursor (it stays under `a`, all sessions)."""
        session = self.current_session
        if session is None:
            self.app.cannot("x: no session is selected")
            return
        if session.state != "ended":
            self.app.cannot(f"x: only ended rows can be dismissed ({session.state})")
            return
        self.app.dismissed.add(session.id)
        self.refresh_rows()

    def _on_snapshot(self, _snap: Snapshot | None) -> None:
        self.refresh_rows()

    def _on_theme(self, _theme: str) -> None:
        self._palette = None
        self._rebuild()

    def refresh_rows(self) -> None:
        """Bring the table in line with the app's snapshot by key, keeping the cursor's session."""
        snap = self.app.snapshot
        self._update_summary()
        if snap is None:
            return
        table = self.table
        view = View(self.columns, self.palette, self.app.clock(), frozenset(self.app.flagged),
                    self.app.size.width >= NARROW_BELOW, SORTS[self.sort_index][1], self.sort_reverse)
        changes = self.rows.diff(self.visible_sessions(snap), view)
        keep = self._cursor_key
        for gone in changes.gone:
            table.remove_session_row(gone)
        for sid, cells in changes.added.items():
            table.add_session_row(sid, cells)
        table.set_cells(changes.changed)
        if changes.gone or changes.added:
            table.fit_columns()
        if changes.reorder:
            table.reorder(self.rows.order)
        self._restore_cursor(keep)
        self._show_empty(snap, bool(self.rows.cells))

    def _restore_cursor(self, key: str | None) -> None:
        table = self.table
        if not table.row_count:
            self._cursor_key = None
            return
        if key is not None and key in self.rows.cells:
            index = table.get_row_index(key)
            if table.cursor_row != index:
                table.move_cursor(row=index, animate=False)
        self._cursor_key = self._key_at_cursor()

    def _key_at_cursor(self) -> str | None:
        table = self.table
        if not table.row_count:
            return None
        try:
            return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        except RowDoesNotExist:
            return None

    def _show_empty(self, snap: Snapshot, has_rows: bool) -> None:
        empty = self.query_one("#empty", Static)
        self.table.display = has_rows
        empty.display = not has_rows
        if has_rows:
            # the first rows after the empty state: the table takes focus now, before the
            # frame that shows them, so the very next key already moves the cursor
            self.ensure_focus()
            return
        # The message is updated only when it changes: Static.update lays the screen out
        # again, which on an idle dashboard would be most of a poll's work.
        key = (bool(snap.sessions), self.filter_text, () if snap.sessions else (snap.searched, snap.problems[:5]))
        if key == self._empty_key:
            return
        self._empty_key = key
        if snap.sessions and self.filter_text:
            empty.update(Content.from_markup(
                "No session matches [b]$needle[/b]. Press escape to clear the filter.", needle=inert(self.filter_text)
            ))
            return
        if snap.sessions:
            empty.update("Only ended sessions were found. Press [b]a[/b] to show them.")
            return
        # paths and problems come from outside: dropped in as $variables, never parsed as markup
        found = {f"s{i}": inert(p) for i, p in enumerate(snap.searched)}
        bad = {f"p{i}": inert(p) for i, p in enumerate(summary_lines(snap.problems))}
        where = "\n".join(f"  ${k}" for k in found) or "  (no assistant folders exist)"
        problems = "".join(f"\n[$text-warning]! ${k}[/]" for k in bad)
        empty.update(Content.from_markup(
            "[b]No AI coding session was found.[/b]\n\nLooked in:\n"
            f"{where}{problems}\n\n"
            "Start Claude Code, Codex CLI, Gemini CLI, Cursor, Aider or Copilot CLI, "
            "or try [b]llm-session --demo[/b] to see simulated sessions.",
            **found, **bad,
        ))

    def _update_summary(self) -> None:
        self.query_one("#summary", SummaryBar).show(
            summary_markup(
                self.app.summary, paused=self.app.paused, demo=self.app.demo, narrow=self.columns == NARROW,
                sort=f"{self.sort_name} {self.sort_arrow}",
            )
        )

    # ---- layout ------------------------------------------------------------------------

    def on_resize(self) -> None:
        self._set_layout(columns_for(self.app.size.width, self.app.team))

    def _set_layout(self, columns: tuple[str, ...]) -> None:
        if columns == self.columns:
            return
        self.columns = columns
        self._rebuild()

    def _rebuild(self) -> None:
        """Re-create the columns (layout or theme change only, never per tick)."""
        table = self.table
        table.clear(columns=True)
        table.forget_rows()
        for key in self.columns:
            table.add_column(COLUMNS[key].label + (" " if key in SORTABLE else ""), key=key)
        self._mark_sort()
        self.rows.reset()
        self.refresh_rows()

    # ---- events and actions ------------------------------------------------------------

    @on(DataTable.RowHighlighted, "#table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        """Track the session under the cursor.

        The event's key is where the cursor was when it was *posted*; adding the first row
        posts one before the table is sorted, so a late event can name a row the cursor has
        since left. Trust only an event that still agrees with the table.
        """
        key = self._key_at_cursor()
        if key is None or event.row_key.value != key:
            return
        self._cursor_key = key
        if key in self.app.flagged:
            self.app.mark_seen(key)

    @on(DataTable.RowSelected, "#table")
    def _selected(self, event: DataTable.RowSelected) -> None:
        self._cursor_key = event.row_key.value
        self.action_open_detail()

    def action_open_detail(self) -> None:
        session = self.current_session
        if session is None:
            self.app.cannot("enter: no session is shown")
            return
        self.app.open_detail(session.id)

    def action_cursor(self, where: str) -> None:
        """j/k/g/G: the same moves as the arrows, Home and End, on the table."""
        table = self.table
        if not table.display or not table.row_count:
            self.app.cannot("no rows to move through")
            return
        self.set_focus(table)
        if where == "down":
            table.action_cursor_down()
        elif where == "up":
            table.action_cursor_up()
        else:
            table.move_cursor(row=0 if where == "top" else table.row_count - 1, animate=False)

    def action_cycle_sort(self) -> None:
        self.sort_index = (self.sort_index + 1) % len(SORTS)
        self.sort_reverse = False
        self._sort_changed()

    def action_reverse_sort(self) -> None:
        self.sort_reverse = not self.sort_reverse
        self._sort_changed()

    def _sort_changed(self) -> None:
        """Move the marker to the sorted column's header and re-sort (a key press, never a tick)."""
        self._mark_sort()
        self.rows.resort()  # sort even if the order happens to be the same: it repaints the header
        self.refresh_rows()

    def _mark_sort(self) -> None:
        marked = SORTS[self.sort_index][2]
        # every sortable header keeps one cell for the marker, so moving it never changes a
        # column's width
        self.table.set_labels({
            name: Text(COLUMNS[name].label + (self.sort_arrow if name in marked else " "))
            for name in self.columns if name in SORTABLE
        })

    @property
    def sort_name(self) -> str:
        return SORTS[self.sort_index][0]

    @property
    def sort_arrow(self) -> str:
        ascending = (self.sort_name in ASCENDING) != self.sort_reverse
        return "▲" if ascending else "▼"

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        self.set_focus(box)  # at once: "/pid" typed fast must land in the box, not on `p`

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self.set_focus(self.table)

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        self.refresh_rows()

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        box = self.query_one("#filter", Input)
        box.display = bool(box.value)
        self.set_focus(self.table)


__all__ = ["COLUMNS", "COMPACT", "LAYOUTS", "MEDIUM", "NARROW", "SORTS", "SessionsScreen", "WIDE", "columns_for", "matches"]
