"""`n`: the alerts and messages of this run, newest first, in a scrollable overlay.

The notice line shows only the newest message and a count; this is the rest of the story.
Opening it marks the alerts read (the count in the notice line goes away).
"""

from __future__ import annotations

from textual.binding import Binding
from textual.content import Content

from llm_sessions.ui.screens.overlay import Overlay
from llm_sessions.ui.status import Notice

_MARK = {"information": ("·", ""), "warning": ("▲", "$text-warning"), "error": ("▲", "$text-error")}


def notices_content(notices: list[Notice]) -> Content:
    if not notices:
        return Content("No alerts or messages yet.")
    lines = []
    for n in reversed(notices):
        mark, style = _MARK.get(n.severity, ("·", ""))
        lines.append(Content.assemble((f"{n.at:%H:%M:%S} ", "$text-muted"), (f"{mark} ", style), n.text))
    return Content("\n").join(lines)


class NoticesScreen(Overlay):
    BINDINGS = [
        Binding("n", "close", "Close", show=False),
        Binding("q", "close", "Close", show=False),
    ]

    def __init__(self, notices: list[Notice]) -> None:
        alerts = sum(n.alert for n in notices)
        title = f"Alerts and messages ({alerts} alert{'' if alerts == 1 else 's'})"
        super().__init__(title, notices_content(notices), body_id="notices")


__all__ = ["NoticesScreen", "notices_content"]
