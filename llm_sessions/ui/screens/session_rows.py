"""The sessions table as data: each snapshot turned into the few row changes it brings.

A poll over a long history hands on the same Session object for every session that did not
change (core.live.monitor), so a snapshot is diffed by identity: a row is re-rendered only
when its session object, its context (flag, short id, width, palette, columns) or the clock
(running sessions: `depends_on_now`) moved, and only cells whose value differs are sent to
the table; a row whose session object is the same renders only the cells that read the
clock (`Column.clock`). Sort keys are kept per row and the order is recomputed only when a key or the
set of rows changed; unique-prefix labels only when the set of ids changed. A snapshot
with 20 live sessions among ~780 rows then costs the 20 rows, not the 780.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from llm_sessions.core.accounting.health import depends_on_now
from llm_sessions.core.ids import display_ids
from llm_sessions.core.models import Session
from llm_sessions.ui.screens.session_columns import COLUMNS, Row, SortKey
from llm_sessions.ui.widgets.cells import Palette

Cells = dict[str, object]


@dataclass(slots=True)
class RowChanges:
    """What one snapshot changes in the table."""

    gone: list[str] = field(default_factory=list)
    added: dict[str, Cells] = field(default_factory=dict)
    changed: dict[str, Cells] = field(default_factory=dict)  # only the cells that differ
    reorder: bool = False  # the rows' order is not `SessionRows.order` any more


@dataclass(frozen=True, slots=True)
class View:
    """Everything besides the sessions that a row's cells or place depend on."""

    columns: tuple[str, ...]
    palette: Palette
    now: datetime
    flagged: frozenset[str]
    wide: bool
    sort_key: SortKey
    reverse: bool


class SessionRows:
    """The rows the table holds, their sort keys and order, kept between snapshots."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        """The table was emptied (layout or theme): every row is new again."""
        self.cells: dict[str, Cells] = {}
        self.sort_keys: dict[str, tuple[object, ...]] = {}
        self.order: list[str] = []
        self._memo: dict[str, tuple[Session, tuple[object, ...]]] = {}
        self._ids: frozenset[str] = frozenset()
        self._shorts: dict[str, str] = {}
        self._sorted_by: tuple[SortKey, bool] | None = None

    def resort(self) -> None:
        """Sort again on the next diff even if nothing moved (the sort's header changed)."""
        self._sorted_by = None
        self.order = []

    def diff(self, sessions: Sequence[Session], view: View) -> RowChanges:
        out = RowChanges()
        ids = frozenset(s.id for s in sessions)
        if ids != self._ids:
            self._ids = ids
            self._shorts = display_ids(sessions)
        sorted_by = (view.sort_key, view.reverse)
        keys_moved = sorted_by != self._sorted_by or ids != self.cells.keys()
        self._sorted_by = sorted_by
        memo: dict[str, tuple[Session, tuple[object, ...]]] = {}
        clock_columns = [key for key in view.columns if COLUMNS[key].clock]
        for s in sessions:
            context = (s.id in view.flagged, self._shorts[s.id], view.wide, view.palette, view.columns, view.sort_key)
            seen = self._memo.get(s.id)
            memo[s.id] = (s, context)
            same = seen is not None and seen[0] is s and seen[1] == context
            if same and not (clock_columns and depends_on_now(s)):
                continue  # the same session, not running: its cells and its place cannot have moved
            row = Row(view.palette, view.now, s.id in view.flagged, self._shorts[s.id], view.wide)
            # the same session object: only cells that read the clock can differ, and no sort
            # key reads it
            keys = clock_columns if same else view.columns
            cells = {key: COLUMNS[key].render(s, row) for key in keys}
            old = self.cells.get(s.id)
            if old is None:
                out.added[s.id] = cells
                self.cells[s.id] = cells
            else:
                delta = {key: value for key, value in cells.items() if old.get(key) != value}
                if delta:
                    out.changed[s.id] = delta
                    self.cells[s.id] = {**old, **delta}
            if same:
                continue
            group = (s.host or "", s.os_user or "")  # the team view: grouped by host, then sorted
            key = (*group, *view.sort_key(s), s.id)
            if self.sort_keys.get(s.id) != key:
                self.sort_keys[s.id] = key
                keys_moved = True
        self._memo = memo
        for gone in self.cells.keys() - ids:
            out.gone.append(gone)
            del self.cells[gone]
            del self.sort_keys[gone]
        if keys_moved:
            order = sorted(self.cells, key=self.sort_keys.__getitem__, reverse=view.reverse)
            if order != self.order:
                self.order = order
                out.reorder = True
        return out


__all__ = ["RowChanges", "SessionRows", "View"]
