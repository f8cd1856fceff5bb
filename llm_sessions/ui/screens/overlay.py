"""A read-only overlay (help, the alert log): a title, a scrolling body, a hint, closed by keys.

The body is the first useful control (arrow keys scroll it), the title and the hint are
docked so a long body scrolls between them in a 40x20 pane (see `.dialog` in textual.css).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Static

from llm_sessions.ui.focus import FocusRules


class Overlay(FocusRules, ModalScreen[None]):
    """Subclasses add their own closing keys to BINDINGS (action `close`)."""

    BINDINGS = [Binding("escape", "close", "Close")]

    def __init__(self, title: str, body: Content | str, *, body_id: str) -> None:
        super().__init__(classes="dialog")
        self.heading = title
        self.body = body
        self.body_id = body_id

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.heading, id="dialog-title", markup=False)
            with VerticalScroll(id="dialog-body"):
                yield Static(self.body, id=self.body_id, markup=False)
            yield Static("esc closes · ↑↓ scroll", id="dialog-hint")

    def first_focus(self) -> Widget | None:
        return self.query_one("#dialog-body")

    def on_mount(self) -> None:
        self.set_focus(self.query_one("#dialog-body"))

    def action_close(self) -> None:
        self.dismiss(None)


__all__ = ["Overlay"]
