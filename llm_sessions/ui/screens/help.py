"""`?`: every key of the screen underneath, built from its live bindings, in a scrollable overlay.

Nothing here is written by hand: the rows come from `Screen.active_bindings` of the screen
the user was looking at (its own keys, the focused widget's and the app's), filtered by
`check_action` as the footer is, so a key hidden from the footer (`j`, `G`, `S`, `x`) is
still listed and a switched-off one is not. Keys doing the same thing share a row
(`j, down  Cursor down`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen

from llm_sessions.ui.screens.overlay import Overlay


GROUPS = ("This screen", "Moving and focus", "Everywhere")


@dataclass(frozen=True, slots=True)
class KeyRow:
    keys: str
    description: str
    group: str


def _group(screen: Screen, active) -> str:
    if active.node is screen.app:
        return GROUPS[2]
    if active.node is screen and any(b.key == active.binding.key for b in _own(screen)):
        return GROUPS[0]
    return GROUPS[1]  # the focused widget's keys (arrows, page keys) and Textual's tab keys


def _own(screen: Screen) -> list[Binding]:
    """The bindings this screen's class declares (ours), split per key as Textual does."""
    out = []
    for b in type(screen).BINDINGS:
        if isinstance(b, Binding):
            out.extend(Binding(k.strip(), b.action, b.description, b.show, b.key_display) for k in b.key.split(","))
    return out


def key_rows(screen: Screen) -> list[KeyRow]:
    """Every active key of `screen`, one row per (group, description), screen keys first.

    Where the focused widget and the screen bind the same key (Enter on the table), the
    screen's description is the one that says what happens.
    """
    app = screen.app
    own = {b.key: b for b in _own(screen)}
    rows: dict[tuple[str, str], list[str]] = {}
    for key, active in screen.active_bindings.items():
        binding = own.get(key, active.binding)
        if not binding.description or not active.enabled:
            continue
        group = GROUPS[0] if key in own else _group(screen, active)
        label = app.get_key_display(binding) if binding.key_display else _key_name(key)
        slot = rows.setdefault((group, binding.description[:1].upper() + binding.description[1:]), [])
        if label not in slot:
            slot.append(label)
    for (group, description), keys in list(rows.items()):
        mine = rows.get((GROUPS[0], description))
        if group == GROUPS[1] and mine is not None:  # `j` and `down` on one row
            mine.extend(k for k in keys if k not in mine)
            del rows[(group, description)]
    ordered = sorted(rows.items(), key=lambda item: GROUPS.index(item[0][0]))  # stable within a group
    return [KeyRow(", ".join(keys), description, group) for (group, description), keys in ordered]


def _key_name(key: str) -> str:
    return {"question_mark": "?", "slash": "/", "escape": "esc"}.get(key, key)


def help_content(rows: Iterable[KeyRow]) -> Content:
    rows = list(rows)
    width = min(14, max((len(r.keys) for r in rows), default=4))
    parts: list[Content] = []
    for title in GROUPS:
        mine = [r for r in rows if r.group == title]
        if not mine:
            continue
        if parts:
            parts.append(Content(""))
        parts.append(Content.styled(title, "bold $text-primary"))
        parts.extend(Content.assemble((r.keys.ljust(width), "bold $text-accent"), "  ", r.description) for r in mine)
    return Content("\n").join(parts)


class HelpScreen(Overlay):
    """The keys of the screen underneath. Escape, q or ? closes it."""

    BINDINGS = [
        Binding("q", "close", "Close", show=False),
        Binding("question_mark", "close", "Close", show=False, key_display="?"),
    ]

    @classmethod
    def for_screen(cls, screen: Screen) -> HelpScreen:
        name = {"sessions": "Sessions", "detail": "Session details"}.get(screen.id or "", type(screen).__name__)
        return cls(f"Keys: {name}", help_content(key_rows(screen)), body_id="help-keys")


__all__ = ["HelpScreen", "KeyRow", "help_content", "key_rows"]
