"""The main screen: one row per session, diffed in place on every snapshot.

Rows are keyed by session id. Applying a snapshot removes rows that are gone, updates only
the cells whose rendered value changed, adds new rows, then sorts; the table is never
cleared per tick, so the cursor stays on the same *session* while rows move around it.
The columns follow the terminal width (`LAYOUTS`): all of them from 120 columns, fewer
below, and under 80 only id / state / context / health, so it works in a tmux side pane.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

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
from llm_sessions.ui.format import (
    clip,
    human_cost,
    human_duration,
    human_tokens,
    short_folder,
    short_model,
    unique_prefixes,
    uptime,
)
from llm_sessions.ui.layout import NARROW_BELOW
from llm_sessions.ui.screens.session_keys import SESSION_BINDINGS, SessionKeys
from llm_sessions.ui.widgets.cells import (
    KeyedText,
    Palette,
    context_cell,
    health_cell,
    id_cell,
    plain,
    state_cell,
)
from llm_sessions.ui.widgets.summary import SummaryBar, summary_markup
from llm_sessions.ui.widgets.limits import LimitsBar

@dataclass(frozen=True, slots=True)
class Row:
    """What a cell needs besides the session: colours, the clock, the alert flag, the short id."""

    palette: Palette
    now: datetime
    flagged: bool
    short: str


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    render: Callable[[Session, Row], object]


def _ctx(width: int):
    return lambda s, r: context_cell(s.context, r.palette, width)


COLUMNS: dict[str, Column] = {
    c.key: c
    for c in (
        Column("id", "ID", lambda s, r: id_cell(s.id, r.short, r.flagged, r.palette)),
        Column("tool", "Tool", lambda s, r: plain(s.tool)),
        Column("folder", "Folder", lambda s, r: plain(short_folder(s.cwd, 15))),
        Column("branch", "Branch", lambda s, r: plain(clip(s.git_branch or "-", 11), r.palette, muted=not s.git_branch)),
        Column("model", "Model", lambda s, r: plain(clip(short_model(s.model, s.tool), 14), r.palette, muted=not s.model)),
        Column("state", "State", lambda s, r: state_cell(s.state, r.palette)),
        Column("context", "Context", _ctx(5)),
        Column("tokens", "Tokens", lambda s, r: plain(human_tokens(s.usage.total) + ("" if s.usage.exact else "~"), right=True)),
        Column("cost", "Cost", lambda s, r: plain(human_cost(s.cost_usd), r.palette, muted=s.cost_usd is None, right=True)),
        Column("health", "Health", lambda s, r: health_cell(s.health, r.palette)),
        Column("uptime", "Up", lambda s, r: plain(human_duration(uptime(s.started_at, r.now)), right=True)),
        Column("ctx", "Ctx", _ctx(0)),
        Column("hp", "HP", lambda s, r: health_cell(s.health, r.palette)),
    )
}
WIDE = ("id", "tool", "folder", "branch", "model", "state", "context", "tokens", "cost", "health", "uptime")
MEDIUM = ("id", "tool", "folder", "state", "context", "tokens", "cost", "health", "uptime")
COMPACT = ("id", "folder", "state", "context", "tokens", "cost", "health")
NARROW = ("id", "state", "ctx", "hp")
# (minimum terminal width, columns): the widest set that fits without scrolling sideways
LAYOUTS = ((120, WIDE), (100, MEDIUM), (NARROW_BELOW, COMPACT), (0, NARROW))


def columns_for(width: int) -> tuple[str, ...]:
    return next(cols for min_width, cols in LAYOUTS if width >= min_width)

def _ts(value: datetime | None) -> float:
    return value.timestamp() if value else 0.0


# Each sort is "most in need of attention first"; ties fall back to the id so order is stable.
SORTS: tuple[tuple[str, Callable[[Session], tuple]], ...] = (
    ("health", lambda s: (s.health.score if s.health else 101,)),
    ("context", lambda s: (-(s.context.percent if s.context else -1),)),
    ("cost", lambda s: (-(s.cost_usd if s.cost_usd is not None else -1),)),
    ("uptime", lambda s: (_ts(s.started_at) or float("inf"),)),
    ("activity", lambda s: (-_ts(s.last_activity),)),
)


def matches(session: Session, needle: str) -> bool:
    """Case-insensitive substring over the fields a user would type: id, tool, folder, branch, model, state."""
    if not needle:
        return True
    hay = " ".join(filter(None, (session.id, session.tool, session.cwd, session.git_branch, session.model, session.state, session.title)))
    return needle.lower() in hay.lower()


class SessionsScreen(SessionKeys, Screen):
    AUTO_FOCUS = "#table"
    BINDINGS = [
        Binding("enter", "open_detail", "Details"),
        Binding("s", "cycle_sort", "Sort"),
        Binding("slash", "filter", "Filter", key_display="/"),
        Binding("x", "dismiss", "Dismiss ended", show=False),
        *SESSION_BINDINGS,
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self) -> None:
        super().__init__(id="sessions")
        self.sort_index = 0
        self.filter_text = ""
        self.columns: tuple[str, ...] = ()
        self._cells: dict[str, dict[str, object]] = {}
        self._sort_keys: dict[str, tuple] = {}
        self._order: list[str] = []
        self._cursor_key: str | None = None
        self._palette: Palette | None = None

    def compose(self) -> ComposeResult:
        yield SummaryBar(id="summary")
        yield LimitsBar(id="limits")
        yield Input(placeholder="filter: id, tool, folder, branch, model, state", id="filter")
        with Vertical(id="body"):
            yield DataTable(id="table", cursor_type="row", zebra_stripes=True)
            yield Static(id="empty")
        yield Footer()

    def on_mount(self) -> None:
        self.watch(self.app, "snapshot", self._on_snapshot, init=False)
        self.watch(self.app, "theme", self._on_theme, init=False)
        self._set_layout(columns_for(self.app.size.width))

    # ---- data --------------------------------------------------------------------------

    @property
    def table(self) -> DataTable:
        return self.query_one("#table", DataTable)

    @property
    def palette(self) -> Palette:
        if self._palette is None:
            self._palette = Palette.from_app(self.app)
        return self._palette

    @property
    def current_session(self) -> Session | None:
        snap = self.app.snapshot
        if snap is None or self._cursor_key is None:
            return None
        return snap.by_id().get(self._cursor_key)

    def visible_sessions(self, snap: Snapshot) -> list[Session]:
        app = self.app
        show_all = app.show_all

        def shown(s: Session) -> bool:
            if s.state != "ended" or show_all:
                return True
            return s.id in app.seen_live and s.id not in app.dismissed

        return [s for s in snap.sessions if shown(s) and matches(s, self.filter_text)]

    def action_dismiss(self) -> None:
        """Hide the ended session under the cursor (it stays under `a`, all sessions)."""
        session = self.current_session
        if session is None or session.state != "ended":
            self.app.bell()
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
        now = self.app.clock()
        flagged = self.app.flagged
        columns = self.columns
        palette = self.palette
        sessions = self.visible_sessions(snap)
        sort_fn = SORTS[self.sort_index][1]
        desired: dict[str, dict[str, object]] = {}
        self._sort_keys = {}
        shorts = unique_prefixes([s.id for s in sessions])
        for s in sessions:
            row = Row(palette, now, s.id in flagged, shorts[s.id])
            desired[s.id] = {key: COLUMNS[key].render(s, row) for key in columns}
            self._sort_keys[s.id] = (*sort_fn(s), s.id)

        keep = self._cursor_key
        for gone in self._cells.keys() - desired.keys():
            table.remove_row(gone)
        for sid, cells in desired.items():
            old = self._cells.get(sid)
            if old is None:
                table.add_row(*cells.values(), key=sid)
            else:
                for key, value in cells.items():
                    if old[key] != value:
                        # update_width: "59s" -> "1h 05m" must widen the column, not be cut
                        table.update_cell(sid, key, value, update_width=True)
        self._cells = desired
        order = sorted(desired, key=self._sort_keys.__getitem__)
        if order != self._order:
            # sort() repaints the whole table, so only when the order really changed
            table.sort("id", key=self._sort_key)
            self._order = order
        self._restore_cursor(keep)
        self._show_empty(snap, bool(desired))

    def _sort_key(self, cell: KeyedText) -> tuple:
        return self._sort_keys[cell.session_id]

    def _restore_cursor(self, key: str | None) -> None:
        table = self.table
        if not table.row_count:
            self._cursor_key = None
            return
        if key is not None and key in self._cells:
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
            return
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
        bad = {f"p{i}": inert(p) for i, p in enumerate(snap.problems[:5])}
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
                self.app.summary, paused=self.app.paused, demo=self.app.demo, narrow=self.columns == NARROW, sort=self.sort_name
            )
        )

    # ---- layout ------------------------------------------------------------------------

    def on_resize(self) -> None:
        self._set_layout(columns_for(self.app.size.width))

    def _set_layout(self, columns: tuple[str, ...]) -> None:
        if columns == self.columns:
            return
        self.columns = columns
        self._rebuild()

    def _rebuild(self) -> None:
        """Re-create the columns (layout or theme change only, never per tick)."""
        table = self.table
        table.clear(columns=True)
        for key in self.columns:
            table.add_column(COLUMNS[key].label, key=key)
        self._cells = {}
        self._order = []
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
            self.app.bell()
            return
        self.app.open_detail(session.id)

    def action_cycle_sort(self) -> None:
        self.sort_index = (self.sort_index + 1) % len(SORTS)
        self.refresh_rows()

    @property
    def sort_name(self) -> str:
        return SORTS[self.sort_index][0]

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.value = ""
        box.display = False
        self.table.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value.strip()
        self.refresh_rows()

    @on(Input.Submitted, "#filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        box = self.query_one("#filter", Input)
        box.display = bool(box.value)
        self.table.focus()


__all__ = ["COLUMNS", "COMPACT", "LAYOUTS", "MEDIUM", "NARROW", "SORTS", "SessionsScreen", "WIDE", "columns_for", "matches"]
