"""The sessions table's columns, layouts and sorts: pure data, no widget.

Each column renders one cell from a Session and a `Row` (colours, clock, alert flag, short
id); `LAYOUTS` picks the widest set that fits the terminal (under 80 columns only id / tool /
state / context / health, so the table works in a tmux side pane; the tool is never dropped:
a Claude and a Codex row must not look alike). `SORTS` are "most in need of attention first".
Kept apart from the screen so the row diff (`session_rows`) and tests can use them alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from llm_sessions.core.accounting.health import span
from llm_sessions.core.models import Session
from llm_sessions.ui.format import (
    clip,
    human_cost,
    human_duration,
    human_tokens,
    short_folder,
    short_model,
)
from llm_sessions.ui.layout import NARROW_BELOW
from llm_sessions.ui.widgets.cells import (
    Palette,
    context_cell,
    health_cell,
    id_cell,
    plain,
    state_cell,
)


@dataclass(frozen=True, slots=True)
class Row:
    """What a cell needs besides the session: colours, the clock, the alert flag, the short id."""

    palette: Palette
    now: datetime
    flagged: bool
    short: str
    wide: bool = True


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    render: Callable[[Session, Row], object]
    clock: bool = False  # reads `Row.now`: may change while the session itself does not


def _ctx(width: int) -> Callable[[Session, Row], object]:
    return lambda s, r: context_cell(s.context, r.palette, width)


COLUMNS: dict[str, Column] = {
    c.key: c
    for c in (
        Column("id", "ID", lambda s, r: id_cell(s.id, r.short, r.flagged, r.palette)),
        Column("tool", "Tool", lambda s, r: plain(s.tool)),
        Column("folder", "Folder", lambda s, r: plain(short_folder(s.cwd, 15))),
        Column("dir", "Folder", lambda s, r: plain(short_folder(s.cwd, 12))),
        Column("branch", "Branch", lambda s, r: plain(clip(s.git_branch or "-", 11), r.palette, muted=not s.git_branch)),
        Column("model", "Model", lambda s, r: plain(clip(short_model(s.model, s.tool), 14), r.palette, muted=not s.model)),
        Column("state", "State", lambda s, r: state_cell(s.state, r.palette)),
        Column("st", "State", lambda s, r: state_cell(s.state, r.palette, short=True)),
        Column("context", "Context", _ctx(5)),
        Column("tokens", "Tokens", lambda s, r: plain(human_tokens(s.usage.total) + ("" if s.usage.exact else "~"), right=True)),
        Column("cost", "Cost", lambda s, r: plain(human_cost(s.cost_usd), r.palette, muted=s.cost_usd is None, right=True)),
        Column("health", "Health", lambda s, r: health_cell(s.health, r.palette)),
        # how long it has run (live) or ran, first to last activity (ended): core.accounting.health.span
        Column("uptime", "Time", lambda s, r: plain(human_duration(span(s, r.now)), right=True), clock=True),
        Column("ctx", "Ctx", _ctx(0)),
        Column("hp", "HP", lambda s, r: health_cell(s.health, r.palette)),
        # the team view (`--team`): sessions of many machines, grouped by host
        Column("host", "Host", lambda s, r: plain(clip(s.host or "-", 12 if r.wide else 8), r.palette, muted=not s.host)),
    )
}
WIDE = ("id", "tool", "folder", "branch", "model", "state", "context", "tokens", "cost", "health", "uptime")
MEDIUM = ("id", "tool", "folder", "state", "context", "tokens", "cost", "health", "uptime")
COMPACT = ("id", "tool", "dir", "state", "context", "tokens", "cost", "hp")
NARROW = ("id", "tool", "st", "ctx", "hp")
# (minimum terminal width, columns): the widest set that fits without scrolling sideways
LAYOUTS = ((120, WIDE), (100, MEDIUM), (NARROW_BELOW, COMPACT), (0, NARROW))


# The team view (`--team`) gives the host the room of columns that matter less there
TEAM_LAYOUTS = (
    (120, ("host", "id", "tool", "folder", "model", "state", "context", "tokens", "cost", "health")),
    (100, ("host", "id", "folder", "state", "context", "tokens", "cost", "health")),
    (NARROW_BELOW, ("host", "id", "state", "context", "tokens", "cost", "health")),
    (0, ("host", "id", "ctx", "hp")),  # the id cell carries the sort key: every layout has it
)


def columns_for(width: int, team: bool = False) -> tuple[str, ...]:
    """The widest column set that fits (for the team view: with the host first)."""
    return next(cols for min_width, cols in (TEAM_LAYOUTS if team else LAYOUTS) if width >= min_width)

def _ts(value: datetime | None) -> float:
    return value.timestamp() if value else 0.0


# Each sort is "most in need of attention first" (S reverses it); ties fall back to the id so
# the order is stable. The third field names the columns that carry the sort marker.
SortKey = Callable[[Session], tuple[float, ...]]
SORTS: tuple[tuple[str, SortKey, tuple[str, ...]], ...] = (
    ("health", lambda s: (s.health.score if s.health else 101,), ("health", "hp")),
    ("context", lambda s: (-(s.context.percent if s.context else -1),), ("context", "ctx")),
    ("cost", lambda s: (-(s.cost_usd if s.cost_usd is not None else -1),), ("cost",)),
    ("tokens", lambda s: (-s.usage.total,), ("tokens",)),
    ("time", lambda s: (_ts(s.started_at) or float("inf"),), ("uptime",)),
    ("activity", lambda s: (-_ts(s.last_activity),), ()),
)
# The marker points the way the values run down the column: the default sorts put the worst
# health (lowest score) first, so ▲ (ascending); the others put the largest (or longest) first.
ASCENDING = frozenset({"health"})
SORTABLE = frozenset(key for _name, _fn, keys in SORTS for key in keys)


def matches(session: Session, needle: str) -> bool:
    """Case-insensitive substring over the fields a user would type: id, tool, folder, branch, model, state."""
    if not needle:
        return True
    fields = (session.id, session.tool, session.cwd, session.git_branch, session.model, session.state, session.title, session.host)
    hay = " ".join(filter(None, fields))
    return needle.lower() in hay.lower()


__all__ = [
    "COLUMNS", "COMPACT", "LAYOUTS", "MEDIUM", "NARROW", "SORTABLE", "SORTS", "TEAM_LAYOUTS", "WIDE",
    "ASCENDING", "Column", "Row", "SortKey", "columns_for", "matches",
]
