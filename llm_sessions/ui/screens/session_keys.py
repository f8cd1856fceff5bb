"""Keys that act on one session, shared by the table (row under the cursor) and the drilldown.

t / c / K always exist. Export and restart belong to other features: the App is given
handlers for them (`session_actions={"export": ..., "restart": ...}`), and `check_action`
hides a key whose handler was not given, so no key is ever shown that does nothing.
"""

from __future__ import annotations

from textual.binding import Binding

from llm_sessions.core.models import Session

SESSION_BINDINGS = [
    Binding("t", "jump", "tmux"),
    Binding("c", "compact", "/compact"),
    Binding("K", "terminate", "Kill"),  # not k: k moves up (vim), and a kill must be deliberate
    Binding("e", "session_action('export')", "Export"),
    Binding("r", "session_action('restart')", "Restart"),
]


class SessionKeys:
    """Mixin for a Screen with a `current_session`; put it before Screen in the bases."""

    @property
    def current_session(self) -> Session | None:
        raise NotImplementedError

    def action_jump(self) -> None:
        self.app.jump(self.current_session)

    def action_compact(self) -> None:
        self.app.ask_compact(self.current_session)

    def action_terminate(self) -> None:
        self.app.ask_terminate(self.current_session)

    def action_session_action(self, name: str) -> None:
        self.app.run_session_action(name, self.current_session)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "session_action":
            return bool(parameters) and parameters[0] in self.app.session_actions
        return True


__all__ = ["SESSION_BINDINGS", "SessionKeys"]
