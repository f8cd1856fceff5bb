"""The focus rule every screen and dialog follows: focus is always on a visible, useful control.

Textual moves focus off a widget that stops being shown (`Widget._on_hide` blurs it), but to
the *next* widget in the chain, or to nothing: the table hidden by the empty state leaves
nothing focused, so when the first row arrives the arrows do nothing; a wizard step swapped
out leaves focus on whatever followed its button. A screen with `FocusRules` names its
first useful control (`first_focus`), and whenever focus is lost or lands nowhere visible,
that control gets it, after the layout has settled (`call_after_refresh`), so it is the
state the user sees that decides, not the order of events. Where a screen itself shows a
control (the table after the empty state), it calls `ensure_focus` at once, so the focus is
in place before the frame that shows the control reaches the terminal.
"""

from __future__ import annotations

from textual import events
from textual.widget import Widget


def shown(widget: Widget | None) -> bool:
    """The widget and all its ancestors are displayed (so it can sensibly hold focus)."""
    if widget is None or not widget.is_mounted:
        return False
    node: Widget | None = widget
    while node is not None and isinstance(node, Widget):
        if not node.display:
            return False
        node = node.parent  # type: ignore[assignment]
    return True


class FocusRules:
    """Mixin for a Screen; put it before Screen in the bases and implement `first_focus`."""

    def first_focus(self) -> Widget | None:
        """The control that should hold focus when nothing visible does (None: leave it)."""
        raise NotImplementedError

    def ensure_focus(self) -> None:
        """Give focus to `first_focus()` unless a visible widget already holds it."""
        screen = self  # type: ignore[assignment]
        if not screen.is_current:  # type: ignore[attr-defined]
            return
        if shown(screen.focused):  # type: ignore[attr-defined]
            return
        target = self.first_focus()
        if target is not None and shown(target) and target.focusable:
            # Screen.set_focus is immediate (Widget.focus waits a message round): keys
            # already queued behind this call must find the focus where the user sees it
            screen.set_focus(target, scroll_visible=False)  # type: ignore[attr-defined]

    def settle_focus(self) -> None:
        """`ensure_focus` once the pending layout (display changes) has been applied."""
        self.call_after_refresh(self.ensure_focus)  # type: ignore[attr-defined]

    def on_descendant_blur(self, _event: events.DescendantBlur) -> None:
        self.settle_focus()

    def on_screen_resume(self, _event: events.ScreenResume) -> None:
        self.settle_focus()


__all__ = ["FocusRules", "shown"]
