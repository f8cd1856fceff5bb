"""One mechanism for every line of status the dashboard shows besides the table.

A `StatusBoard` holds named one-line messages, each for one place: `header` (under the
summary: limits, problems, doctor warnings) or `footer` (above the key bar: the newest
notice). Any feature adds its line with `app.status.set("limits", text, place="header")`
and removes it with `app.status.clear("limits")`; `StatusArea` widgets render the lines of
their place, one terminal row each, cut with an ellipsis, so a narrow pane loses the end of
a line, never the table.

`Notices` turns alerts and one-off messages (a key that cannot act, an action's result, a
poll error) into the `notice` line: the newest message, with the number of alerts not yet
looked at. Alerts stay until a newer message replaces them; a one-off message gives the
line back to the newest alert after a few seconds.

Text is plain, never markup: it may quote a session's folder or title.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

Place = Literal["header", "footer"]
Severity = Literal["information", "warning", "error"]

NOTICE = "notice"
KEEP_NOTICES = 50


@dataclass(frozen=True, slots=True)
class StatusLine:
    key: str
    text: str
    severity: Severity = "information"
    place: Place = "header"
    order: int = 50


class StatusBoard:
    """Named lines by place; `version` grows on every change so widgets know to re-render."""

    def __init__(self) -> None:
        self._lines: dict[str, StatusLine] = {}
        self.version = 0
        self._listeners: list = []

    def set(self, key: str, text: str, severity: Severity = "information", *, place: Place = "header", order: int = 50) -> None:
        line = StatusLine(key, " ".join(text.split()), severity, place, order)
        if self._lines.get(key) != line:
            self._lines[key] = line
            self._changed()

    def clear(self, key: str) -> None:
        if self._lines.pop(key, None) is not None:
            self._changed()

    def get(self, key: str) -> StatusLine | None:
        return self._lines.get(key)

    def lines(self, place: Place) -> list[StatusLine]:
        return sorted((x for x in self._lines.values() if x.place == place), key=lambda x: (x.order, x.key))

    def subscribe(self, callback) -> None:
        """`callback()` runs after every change (the App uses it to bump a reactive)."""
        self._listeners.append(callback)

    def _changed(self) -> None:
        self.version += 1
        for callback in self._listeners:
            callback()


@dataclass(frozen=True, slots=True)
class Notice:
    at: datetime
    text: str
    severity: Severity
    alert: bool
    session_id: str | None = None


@dataclass
class Notices:
    """Alerts and messages in arrival order, and the count of alerts not yet looked at."""

    log: deque[Notice] = field(default_factory=lambda: deque(maxlen=KEEP_NOTICES))
    unread: int = 0

    def add(self, notice: Notice) -> None:
        self.log.append(notice)
        if notice.alert:
            self.unread += 1

    def newest_alert(self) -> Notice | None:
        return next((n for n in reversed(self.log) if n.alert), None)

    def mark_read(self) -> None:
        self.unread = 0

    def line(self, transient: Notice | None = None) -> tuple[str, Severity] | None:
        """The notice line: a one-off message while it lasts, else the newest alert."""
        shown = transient or self.newest_alert()
        if shown is None:
            return None
        badge = f"▲{self.unread} " if self.unread else ""
        return f"{badge}{shown.text}", shown.severity


_STYLE = {"information": "", "warning": "$text-warning", "error": "$text-error"}


class StatusArea(Widget):
    """The status lines of one place, one row each; hidden when there are none."""

    DEFAULT_CSS = """
    StatusArea {
        height: auto;
        padding: 0 1;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    StatusArea.-empty {
        display: none;
    }
    """

    version: reactive[int] = reactive(0, layout=True)

    def __init__(self, place: Place, **kwargs) -> None:
        super().__init__(**kwargs)
        self.place: Place = place

    def on_mount(self) -> None:
        self.watch(self.app, "status_version", self._sync, init=True)

    def _sync(self, version: int) -> None:
        self.version = version
        self.set_class(not self.app.status.lines(self.place), "-empty")

    def render(self) -> Content:
        return Content("\n").join(Content.styled(x.text, _STYLE[x.severity]) for x in self.app.status.lines(self.place))


__all__ = ["NOTICE", "Notice", "Notices", "StatusArea", "StatusBoard", "StatusLine"]
