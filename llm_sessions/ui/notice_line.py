"""The App's notice line: every message, alert or not, as one line in the status area.

Messages never cover the table: `notify` (alerts, action results, a key that cannot act,
another feature's message) becomes the one-line notice of ui.status, the newest message with
the count of unread alerts; a toast is shown as well only beside the table, on a terminal
wide enough to leave `TOAST_WIDTH` columns free. A mixin of `LLMSessionApp` (ui.app).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

from textual.app import App
from textual.content import Content
from textual.message import Message
from textual.notifications import SeverityLevel
from textual.timer import Timer

from llm_sessions.core.inert import inert
from llm_sessions.ui.status import NOTICE, Notice, Notices, StatusBoard

TOAST_WIDTH = 40
"""Columns a toast needs (textual.css sets its width); toasts only appear where this is free."""
TRANSIENT_SECONDS = 6.0
"""How long a one-off message holds the notice line before the newest alert returns."""

if TYPE_CHECKING:
    _Base = App[None]
else:
    _Base = object


class Said(Message):
    """A message for the notice line, posted so `notify` works from any thread."""

    def __init__(self, text: str, severity: str, alert: bool, session_id: str | None, toast: bool, timeout: float | None) -> None:
        super().__init__()
        self.text, self.severity, self.alert, self.session_id = text, severity, alert, session_id
        self.toast, self.timeout = toast, timeout


def _level(severity: str) -> SeverityLevel:
    """A toast's level from a core severity ("warning", "error"; anything else informs)."""
    return "error" if severity == "error" else "warning" if severity == "warning" else "information"


class NoticeLine(_Base):
    """notify/say and the notice line (a mixin of LLMSessionApp; put it before App)."""

    if TYPE_CHECKING:
        clock: Callable[[], datetime]
        notices: Notices
        status: StatusBoard
        _transient: Notice | None
        _transient_timer: Timer | None

    def toast(self, text: str, severity: str, timeout: float | None) -> None:
        """A Textual toast of (inert) `text`; callers check `_toast_fits` first."""
        App.notify(self, inert(text, multiline=True), severity=_level(severity), timeout=timeout, markup=False)

    def notify(self, message: str, *, title: str = "", severity="information", timeout: float | None = None, markup: bool = True) -> None:
        """Every message lands in the notice line; a toast too, only where it fits (thread-safe).

        Both are made inert (`_add_notice`, `_said`): messages carry folder names, titles and
        tmux output.
        """
        text = str(message)
        if markup:
            try:
                text = Content.from_markup(text).plain
            except Exception:  # not valid markup: show it as it is
                pass
        if title:
            text = f"{title}: {text}"
        self.post_message(Said(text, severity, False, None, True, timeout))

    def say(self, text: str, severity: str = "information") -> None:
        """A one-off message for the notice line (why a key cannot act, what an action did)."""
        self.post_message(Said(text, severity, False, None, False, None))

    def _add_notice(self, text: str, severity: str, *, alert: bool, session_id: str | None = None) -> None:
        # one line, every control character spelled out: the text may quote outside strings
        notice = Notice(self.clock(), inert(" ".join(text.split())), severity, alert, session_id)  # type: ignore[arg-type]
        self.notices.add(notice)
        if self._transient_timer is not None:
            self._transient_timer.stop()
            self._transient_timer = None
        self._transient = None
        if not alert:
            self._transient = notice
            self._transient_timer = self.set_timer(TRANSIENT_SECONDS, self._transient_over)
        self._show_notice()

    def _transient_over(self) -> None:
        self._transient = None
        self._transient_timer = None
        self._show_notice()

    def _show_notice(self) -> None:
        line = self.notices.line(self._transient)
        if line is None:
            self.status.clear(NOTICE)
        else:
            self.status.set(NOTICE, line[0], line[1], place="footer", order=90)

    def _toast_fits(self) -> bool:
        """A toast may show only beside the table, never over it (and never over a dialog)."""
        from llm_sessions.ui.screens.sessions import SessionsScreen

        screen = self.screen
        if not isinstance(screen, SessionsScreen) or not screen.is_mounted:
            return False
        tables = screen.query("#table")  # none while the app shuts down
        if not tables:
            return False
        table = tables.first()
        used = table.virtual_size.width if table.display else 0
        return self.size.width - used >= TOAST_WIDTH

    def action_notices(self) -> None:
        from llm_sessions.ui.screens.notices import NoticesScreen

        self.push_screen(NoticesScreen(list(self.notices.log)))
        self.notices.mark_read()
        self._show_notice()


__all__ = ["TOAST_WIDTH", "TRANSIENT_SECONDS", "NoticeLine", "Said"]
