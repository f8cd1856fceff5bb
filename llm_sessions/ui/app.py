"""The dashboard App: workers that poll the core, the current Snapshot, and session actions.

Data flows one way. A thread worker calls `Monitor.poll()` (never two at once: `PollGate`),
computes compaction predictions and alerts off the UI thread, and posts one `SnapshotReady`;
the UI assigns it under `batch_update()` and screens re-render from `App.snapshot`. The next
poll is armed with `set_timer` only after the previous one finished, so a slow poll delays
the next instead of stacking up; pausing simply does not re-arm. A watchfiles batch (via
`core.watch`) asks for a poll through the same gate.

Everything the App needs (monitor, settings, clock) is injected, so tests build it over fake
data and nothing happens at import time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from textual import work
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive
from textual.timer import Timer
from textual.worker import Worker, WorkerState

import llm_sessions
from llm_sessions.core import actions
from llm_sessions.core.alerts import Alert, AlertThrottle, detect_alerts, toasts
from llm_sessions.core.auto_continue import AutoContinue, send_continue
from llm_sessions.core.drift import warning_line
from llm_sessions.core.inert import inert
from llm_sessions.core.limit_alerts import detect_limit_alerts
from llm_sessions.core.models import Session, Snapshot
from llm_sessions.core.summary import Summary, TokenRate, context_series, summarize
from llm_sessions.ui.commands import SessionCommands
from llm_sessions.ui.layout import NARROW_BELOW
from llm_sessions.ui.messages import PollFailed, PollGate, SnapshotReady, Throttle

SessionHandler = Callable[["LLMSessionApp", Session], None]
Predictor = Callable[[list[tuple[datetime, int]], int, datetime], timedelta | None]
TranscriptReader = Callable[[Session], Mapping[str, Sequence[str]]]


class MonitorLike(Protocol):
    def poll(self) -> Snapshot: ...
    def watch_paths(self) -> list[Path]: ...
    def history(self, session_id: str, since: datetime | None = None) -> list[Any]: ...


def css_path() -> Path:
    """The stylesheet inside the installed package, else the repo-root copy (development)."""
    packaged = Path(llm_sessions.__file__).parent / "textual.css"
    return packaged if packaged.exists() else Path(llm_sessions.__file__).parent.parent / "textual.css"


def default_predictor() -> Predictor | None:
    """core.health.predict_compaction when the core provides it; without it, no predictions."""
    from llm_sessions.core import health

    return getattr(health, "predict_compaction", None)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class LLMSessionApp(App[None]):
    TITLE = "llm-session"
    CSS_PATH = css_path()
    COMMANDS = App.COMMANDS | {SessionCommands}
    # every screen gets -narrow or -wide, so the stylesheet can adapt toasts and dialogs too
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (NARROW_BELOW, "-wide")]
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("p", "toggle_pause", "Pause"),
        Binding("a", "toggle_all", "All"),
    ]

    snapshot: reactive[Snapshot | None] = reactive(None, always_update=True)
    paused: reactive[bool] = reactive(False)
    show_all: reactive[bool] = reactive(False)

    def __init__(
        self,
        monitor: MonitorLike,
        settings,
        *,
        clock: Callable[[], datetime] = _utcnow,
        demo: bool = False,
        predictor: Predictor | None = None,
        transcript_reader: TranscriptReader | None = None,
        tmux_args: Sequence[str] = (),
        watch_ignore: Sequence[Path] = (),
        session_actions: Mapping[str, SessionHandler] | None = None,
    ) -> None:
        super().__init__()
        self._alert_throttle = AlertThrottle(timedelta(seconds=settings.alerts_repeat_seconds))
        self.monitor = monitor
        self.settings = settings
        self.clock = clock
        self.demo = demo
        self.predictor = predictor if predictor is not None else default_predictor()
        self.transcript_reader = transcript_reader
        self.tmux_args = tuple(tmux_args)
        self.etas: dict[str, timedelta | None] = {}
        self.flagged: set[str] = set()
        # Sessions seen running in this run: when they end, their rows stay (marked ended)
        # until dismissed with `x`, so a session that quits is noticed, not silently gone.
        self.seen_live: set[str] = set()
        self.dismissed: set[str] = set()
        self.summary: Summary | None = None
        self.last_error: str | None = None
        self._gate = PollGate()
        self._timer: Timer | None = None
        self._rate = TokenRate()
        self._watching: tuple[Path, ...] = ()
        self.watch_ignore = tuple(watch_ignore)
        # handlers for keys other features own ("export", "restart"); absent = key hidden
        self.session_actions: dict[str, SessionHandler] = dict(session_actions or {})
        # change-triggered polls at most every half refresh (and at least once a second)
        self._throttle = Throttle(min(1.0, settings.general_refresh_seconds / 2))
        self._change_timer: Timer | None = None
        self._auto_continue = AutoContinue()  # limits.auto_continue: each reset acted on once
        self._drift_warned = 0  # usage records of a newer format already warned about

    # ---- lifecycle ---------------------------------------------------------------------

    def on_mount(self) -> None:
        from llm_sessions.ui.screens.sessions import SessionsScreen

        self.push_screen(SessionsScreen())
        self.request_poll()  # the first SnapshotReady also starts the file watcher

    def request_poll(self) -> None:
        """Ask for a poll; coalesces with one already running, ignored while paused."""
        if self.paused:
            return
        if self._gate.request():
            self._cancel_timer()
            self._throttle.started(time.monotonic())
            self._poll()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None

    @work(thread=True, exclusive=True, exit_on_error=False, group="poll")
    def _poll(self) -> None:
        """Runs in a thread: everything that may touch the disk or cost CPU happens here.

        Reads `self.snapshot`/`self.etas` of the previous tick; they are only assigned on the
        UI thread between polls, and the gate guarantees no poll runs concurrently.
        """
        started = time.perf_counter()
        snap = self.monitor.poll()
        etas = self._predict(snap)
        alerts = detect_alerts(
            self.snapshot,
            snap,
            previous_eta=self.etas,
            current_eta=etas,
            compaction_minutes=self.settings.alerts_compaction_minutes,
        ) + detect_limit_alerts(self.snapshot, snap, limit_minutes=self.settings.alerts_limit_minutes)
        watch = tuple(self.monitor.watch_paths())
        self.post_message(SnapshotReady(snap, etas, tuple(alerts), (time.perf_counter() - started) * 1000, watch))

    def _predict(self, snap: Snapshot) -> dict[str, timedelta | None]:
        if self.predictor is None:
            return {}
        now = snap.taken_at
        out: dict[str, timedelta | None] = {}
        for s in snap.sessions:
            if s.state == "ended" or s.context is None or not s.context.compact_at:
                continue
            # The forecast looks at the recent trend only: an hour is plenty, and it keeps the
            # per-tick read small however long the session has run.
            samples = context_series(self.monitor.history(s.id, since=snap.taken_at - timedelta(hours=1)))
            out[s.id] = self.predictor(samples, s.context.compact_at, now) if len(samples) >= 2 else None
        return out

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        self.log.debug(f"poll {message.elapsed_ms:.1f} ms, {len(message.snapshot.sessions)} sessions")
        self.last_error = None
        with self.batch_update():
            self.etas = message.etas
            self.summary = summarize(message.snapshot, self.clock(), self._rate.add(message.snapshot))
            self._raise_alerts(message.alerts)
            self._warn_format_drift(message.snapshot.format_drift)
            self.seen_live.update(x.id for x in message.snapshot.sessions if x.state != "ended")
            self.snapshot = message.snapshot
        if self.settings.limits_auto_continue:
            for target in self._auto_continue.due(message.snapshot, self.clock()):
                self._run_action(send_continue, target, tmux_args=self.tmux_args)
        if message.watch != self._watching:
            self._watching = message.watch
            self._watch_files(message.watch)
        self._poll_finished()

    def _warn_format_drift(self, count: int) -> None:
        """One warning line when readers skip usage records of a newer format (again when it grows)."""
        if count > self._drift_warned:
            self._drift_warned = count
            self.notify(warning_line(count), severity="warning", timeout=10, markup=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "poll" and event.state == WorkerState.ERROR:
            self.post_message(PollFailed(f"{type(event.worker.error).__name__}: {event.worker.error}"))

    def on_poll_failed(self, message: PollFailed) -> None:
        """Keep the last good snapshot, say so once per distinct error, and try again later."""
        if message.error != self.last_error:
            self.notify(f"poll failed: {message.error}", severity="error", timeout=8, markup=False)
        self.last_error = message.error
        self.log.error("poll failed", message.error)
        self._poll_finished()

    def _poll_finished(self) -> None:
        if self._gate.finished():
            self._throttle.started(time.monotonic())
            self._poll()
        elif not self.paused:
            self._timer = self.set_timer(self.settings.general_refresh_seconds, self.request_poll)

    @work(exclusive=True, exit_on_error=False, group="watch")
    async def _watch_files(self, paths: tuple[Path, ...]) -> None:
        """Each batch of transcript changes asks for one poll (coalesced by the gate).

        Restarted (exclusive) whenever the set of existing folders changes, so an assistant
        installed while the dashboard runs is watched too, not only polled.
        """
        from llm_sessions.core.watch import changes

        async for _batch in changes(paths, ignore=self.watch_ignore):
            self._files_changed()

    def _files_changed(self) -> None:
        """Poll now, or once when the throttle allows; later changes ride on that poll."""
        if self.paused or self._change_timer is not None:
            return
        wait = self._throttle.delay(time.monotonic())
        if wait <= 0:
            self.request_poll()
        else:
            self._change_timer = self.set_timer(wait, self._throttled_poll)

    def _throttled_poll(self) -> None:
        self._change_timer = None
        self.request_poll()

    def notify(self, message, *args, **kwargs) -> None:
        """Every toast is made inert here: messages carry folder names, titles and tmux output."""
        super().notify(inert(message, multiline=True) if isinstance(message, str) else message, *args, **kwargs)

    # ---- alerts ------------------------------------------------------------------------

    def _raise_alerts(self, alerts: Sequence[Alert]) -> None:
        loud, _quiet = self._alert_throttle.filter(list(alerts), self.clock())
        self.flagged.update(a.session_id for a in alerts)
        for message, severity in toasts(loud):
            self.notify(message, severity=severity, timeout=6, markup=False)
        if loud and self.settings.alerts_bell:
            self.bell()

    def mark_seen(self, session_id: str) -> None:
        """A flagged row stays flagged until the user selects it."""
        if session_id in self.flagged:
            self.flagged.discard(session_id)
            self.refresh_sessions()

    def refresh_sessions(self) -> None:
        from llm_sessions.ui.screens.sessions import SessionsScreen

        for screen in self.screen_stack:
            if isinstance(screen, SessionsScreen):
                screen.refresh_rows()

    # ---- app-wide actions --------------------------------------------------------------

    def action_toggle_pause(self) -> None:
        self.paused = not self.paused
        if self.paused:
            self._cancel_timer()
            self._gate.owed = False  # a request made before pausing must not poll while paused
            self.notify("updates paused (p resumes)", timeout=2)
        else:
            self.notify("updates resumed", timeout=2)
            self.request_poll()
        self.refresh_sessions()

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all
        self.notify("showing ended sessions" if self.show_all else "hiding ended sessions", timeout=2)
        self.refresh_sessions()

    def open_detail(self, session_id: str) -> None:
        from llm_sessions.ui.screens.detail import DetailScreen

        self.mark_seen(session_id)
        self.push_screen(DetailScreen(session_id))

    # ---- session actions (side effects live in core.actions) ---------------------------

    def _pane(self, session: Session | None) -> str | None:
        return session.process.tmux_pane if session and session.process else None

    def jump(self, session: Session | None) -> None:
        if session is None:
            self.bell()
            return
        self._run_action(actions.jump_to_pane, session.process, tmux_args=self.tmux_args)

    def ask_compact(self, session: Session | None) -> None:
        from llm_sessions.ui.screens.confirm import ConfirmScreen

        if session is None:
            self.bell()
            return
        pane = self._pane(session)
        if pane is None:
            self.notify("/compact needs a tmux pane; this session has none", severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._run_action(actions.send_compact, session.process, tmux_args=self.tmux_args)

        self.push_screen(ConfirmScreen(f"Send /compact to {session.tool} {session.id[:8]} in pane {pane}?", "Send"), answered)

    def ask_terminate(self, session: Session | None) -> None:
        from llm_sessions.ui.screens.confirm import ConfirmScreen

        if session is None:
            self.bell()
            return
        proc = session.process
        if proc is None:
            self.notify("this session has no live process", severity="warning")
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._run_action(actions.terminate, proc)

        self.push_screen(
            ConfirmScreen(f"Send SIGTERM to {session.tool} {session.id[:8]} (pid {proc.pid})?", "Terminate"),
            answered,
        )

    def run_session_action(self, name: str, session: Session | None) -> None:
        """Hand the session to the handler another feature registered under `name`."""
        handler = self.session_actions.get(name)
        if session is None or handler is None:
            self.bell()
            return
        handler(self, session)

    @work(thread=True, exit_on_error=False, group="action")
    def _run_action(self, fn: Callable[..., actions.ActionResult], *args, **kwargs) -> None:
        """tmux and signals can block briefly; run them off the UI thread and toast the result."""
        result = fn(*args, **kwargs)
        severity = "information" if result.ok else "error"
        self.call_from_thread(self.notify, result.message, severity=severity, markup=False)
        if result.ok:
            self.call_from_thread(self.request_poll)


__all__ = ["LLMSessionApp", "MonitorLike", "SessionHandler", "css_path", "default_predictor"]
