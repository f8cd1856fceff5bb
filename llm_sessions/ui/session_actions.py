"""The App's session actions: jump to a pane, /compact, terminate, and other features' keys.

Every side effect lives in core.actions.pane; here each key checks that its target is this
machine's, live and in a pane, asks for confirmation where the action cannot be undone,
runs the action off the UI thread and reports the result in the notice line. A mixin of
`LLMSessionApp` (ui.app), kept apart so the App module holds the poll loop alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

from textual import work

from llm_sessions.core.actions import pane as actions
from llm_sessions.core.ids import pid_of
from llm_sessions.core.models import Session

if TYPE_CHECKING:
    from textual.app import App

    from llm_sessions.ui.app import LLMSessionApp

    _Base = App[None]
    SessionHandler = Callable[[LLMSessionApp, Session], None]
else:
    _Base = object
    SessionHandler = Callable[[Any, Session], None]


class SessionActions(_Base):
    """Keys that act on one session (a mixin of LLMSessionApp; put it before App)."""

    if TYPE_CHECKING:
        tmux_args: tuple[str, ...]
        session_actions: Mapping[str, SessionHandler]

        def say(self, text: str, severity: str = "information") -> None: ...
        def request_poll(self) -> None: ...

    def _elsewhere(self, session: Session | None) -> bool:
        """True (and says why) when the session comes from the shared store, not this machine.

        The team view has no process or pane to verify, so nothing may act on its sessions;
        export alone works, from the stored numbers.
        """
        if session is None or session.host is None:
            return False
        self.notify(
            f"{session.id[:12]} is {session.os_user}@{session.host}'s: the team view only shows sessions;"
            " act on them from that machine's own dashboard",
            severity="warning",
            markup=False,
        )
        return True

    def _pane(self, session: Session | None) -> str | None:
        return session.process.tmux_pane if session and session.process else None

    def cannot(self, why: str) -> None:
        """A key that cannot act on the selected row says why in the notice line.

        Messages are `key: reason (which session)`, shortest first, so a 40-column pane
        that cuts the line still shows the reason.
        """
        self.bell()
        self.say(why, "warning")

    def jump(self, session: Session | None) -> None:
        if session is None:
            self.cannot("t: no session is selected")
            return
        if self._pane(session) is None:
            self.cannot(f"t: no tmux pane ({self.label(session)})")
            return
        if self._elsewhere(session):
            return
        self._run_action(actions.jump_to_pane, session.process, tmux_args=self.tmux_args)

    def label(self, session: Session) -> str:
        """How messages name a session: tool and the id the table shows."""
        from llm_sessions.core.ids import display_ids

        return f"{session.tool} {display_ids([session])[session.id]}"

    def ask_compact(self, session: Session | None) -> None:
        from llm_sessions.ui.screens.confirm import ConfirmScreen

        if session is None:
            self.cannot("c: no session is selected")
            return
        if self._elsewhere(session):
            return
        pane = self._pane(session)
        if pane is None:
            self.cannot(f"c: no tmux pane to send /compact to ({self.label(session)})")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._run_action(actions.send_compact, session.process, tmux_args=self.tmux_args)

        self.push_screen(ConfirmScreen(f"Send /compact to {self.label(session)} in pane {pane}?", "Send"), answered)

    def ask_terminate(self, session: Session | None) -> None:
        from llm_sessions.ui.screens.confirm import ConfirmScreen

        if session is None:
            self.cannot("K: no session is selected")
            return
        if self._elsewhere(session):
            return
        proc = session.process
        if proc is None:
            self.cannot(f"K: no live process ({self.label(session)})")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._run_action(actions.terminate, proc)

        self.push_screen(
            # a pid-only row's label already is `pid N`: never say the number twice
            ConfirmScreen(f"Send SIGTERM to {self.label(session)}{'' if pid_of(session.id) else f' (pid {proc.pid})'}?", "Terminate"),
            answered,
        )

    def run_session_action(self, name: str, session: Session | None) -> None:
        """Hand the session to the handler another feature registered under `name`."""
        if name != "export" and self._elsewhere(session):
            return
        handler = self.session_actions.get(name)
        if handler is None:
            self.cannot(f"{name}: not available in this build")
            return
        if session is None:
            self.cannot(f"{name}: no session is selected")
            return
        handler(cast("LLMSessionApp", self), session)  # this mixin only lives in LLMSessionApp

    @work(thread=True, exit_on_error=False, group="action")
    def _run_action(self, fn: Callable[..., actions.ActionResult], *args, **kwargs) -> None:
        """tmux and signals can block briefly; run them off the UI thread and toast the result."""
        result = fn(*args, **kwargs)
        severity = "information" if result.ok else "error"
        self.call_from_thread(self.notify, result.message, severity=severity, markup=False)
        if result.ok:
            self.call_from_thread(self.request_poll)


__all__ = ["SessionActions", "SessionHandler"]
