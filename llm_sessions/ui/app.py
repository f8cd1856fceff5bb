"""The dashboard App: workers that poll the core, the current Snapshot, and session actions.

Data flows one way. A thread worker calls `Monitor.poll()` (never two at once: `PollGate`),
computes compaction predictions and alerts off the UI thread, and posts one `SnapshotReady`;
the UI assigns it under `batch_update()` and screens re-render from `App.snapshot`. The next
poll is armed with `set_timer` only after the previous one finished, so a slow poll delays
the next instead of stacking up; pausing simply does not re-arm. A watchfiles batch (via
`core.live.watch`) asks for a poll through the same gate.

Everything the App needs (monitor, settings, clock) is injected, so tests build it over fake
data and nothing happens at import time.

Messages never cover the table. Every `notify` (alerts, action results, a key that cannot
act, another feature's message) becomes the one-line notice in the status area (`ui.status`):
the newest message with the count of unread alerts, plus the flag on the row. A toast is
shown as well only when it fits beside the table, on a terminal wide enough to leave
`TOAST_WIDTH` columns free to its right.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from textual import on, work
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive
from textual.timer import Timer
from textual.worker import Worker, WorkerState

import llm_sessions
from llm_sessions.core.accounting.drift import warning_line
from llm_sessions.core.actions.auto_continue import AutoContinue, send_continue
from llm_sessions.core.live.alerts import Alert, AlertThrottle, detect_alerts, toasts
from llm_sessions.core.live.limit_alerts import detect_limit_alerts
from llm_sessions.core.live.series import RecentSeries
from llm_sessions.core.live.summary import Summary, TokenRate, summarize
from llm_sessions.core.models import Session, Snapshot
from llm_sessions.ui.commands import SessionCommands
from llm_sessions.ui.layout import NARROW_BELOW
from llm_sessions.ui.messages import PollFailed, PollGate, SnapshotReady, Throttle
from llm_sessions.ui.notice_line import NoticeLine, Said
from llm_sessions.ui.session_actions import SessionActions, SessionHandler
from llm_sessions.ui.status import Notice, Notices, StatusBoard

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
    """core.accounting.compaction_eta.predict_compaction: the forecast the alerts and the drilldown show."""
    from llm_sessions.core.accounting.compaction_eta import predict_compaction

    return predict_compaction


def _utcnow() -> datetime:
    return datetime.now(UTC)


class LLMSessionApp(SessionActions, NoticeLine, App[None]):
    TITLE = "llm-session"
    CSS_PATH = css_path()
    COMMANDS = App.COMMANDS | {SessionCommands}
    # every screen gets -narrow or -wide, so the stylesheet can adapt toasts and dialogs too
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (NARROW_BELOW, "-wide")]
    BINDINGS = [
        Binding("question_mark", "help", "Help", key_display="?"),
        Binding("q", "quit", "Quit"),
        Binding("p", "toggle_pause", "Pause"),
        Binding("a", "toggle_all", "All"),
        Binding("n", "notices", "Alerts", show=False),
    ]

    # No repaint of the whole app per snapshot: every view watches `snapshot` and redraws
    # what it shows when that changed (an idle poll then redraws nothing).
    snapshot: reactive[Snapshot | None] = reactive(None, always_update=True, repaint=False)
    paused: reactive[bool] = reactive(False)
    show_all: reactive[bool] = reactive(False)
    status_version: reactive[int] = reactive(0)

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
        team: bool = False,
    ) -> None:
        super().__init__()
        self.team = team  # the team view: sessions of every host from the shared store
        self._alert_throttle = AlertThrottle(timedelta(seconds=settings.alerts_repeat_seconds))
        self.monitor = monitor
        self.settings = settings
        self.clock = clock
        self.demo = demo
        self.predictor = predictor if predictor is not None else default_predictor()
        self.transcript_reader = transcript_reader
        self.tmux_args = tuple(tmux_args)
        self.etas: dict[str, timedelta | None] = {}
        self.series = RecentSeries(lambda sid, since: self.monitor.history(sid, since=since))
        self.flagged: set[str] = set()
        # Sessions seen running in this run: when they end, their rows stay (marked ended)
        # until dismissed with `x`, so a session that quits is noticed, not silently gone.
        self.seen_live: set[str] = set()
        self.dismissed: set[str] = set()
        self.summary: Summary | None = None
        self.last_error: str | None = None
        self._problem_lines: list[str] = []
        self._gate = PollGate()
        self._timer: Timer | None = None
        self._rate = TokenRate()
        self._watching: tuple[Path, ...] = ()
        self._gc_frozen = False
        self.watch_ignore = tuple(watch_ignore)
        # handlers for keys other features own ("export", "restart"); absent = key hidden
        self.session_actions: dict[str, SessionHandler] = dict(session_actions or {})
        # change-triggered polls at most every half refresh (and at least once a second)
        self._throttle = Throttle(min(1.0, settings.general_refresh_seconds / 2))
        self._change_timer: Timer | None = None
        # the status lines (header and footer) every screen shows; see ui.status
        self.status = StatusBoard()
        self.status.subscribe(self._status_changed)
        self.notices = Notices()
        # per-turn context of transcripts, read incrementally for the drilldown's chart
        from llm_sessions.core.accounting.context_history import ContextTrails

        self.context_trails = ContextTrails()
        self._transient: Notice | None = None
        self._transient_timer: Timer | None = None
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
        # The forecast looks at the last hour, kept in memory and appended per poll: the
        # store is read once per session, so a poll costs the same after hours of uptime.
        self.series.update(snap)
        for s in snap.sessions:
            if s.state == "ended" or s.context is None or not s.context.compact_at:
                continue
            samples = self.series.points(s.id)
            if len(samples) >= 2:  # no key at all: no forecast yet (alerts treat it as a baseline)
                out[s.id] = self.predictor(samples, s.context.compact_at, now)
        return out

    def on_snapshot_ready(self, message: SnapshotReady) -> None:
        if not self._running:
            # quitting: the screens are being taken down under a poll that finished late
            # (a traceback on exit, seen in poll_bench); there is nothing to show it on
            return
        self.log.debug(f"poll {message.elapsed_ms:.1f} ms, {len(message.snapshot.sessions)} sessions")
        if not self._gc_frozen:
            # The first poll loaded the whole history (partial results, sessions, indexes):
            # long-lived objects that every later collection would walk again. Frozen, they
            # are left out of collections; what later polls allocate is collected as usual.
            import gc

            gc.freeze()
            self._gc_frozen = True
        self.last_error = None
        self._tell_problems(message.snapshot)
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

    def _tell_problems(self, snap: Snapshot) -> None:
        """What could not be read ("3 folders could not be read: ..."), once per change."""
        from llm_sessions.core.problems import summary_lines

        lines = summary_lines(snap.problems, malformed=False)
        if lines != self._problem_lines:
            self._problem_lines = lines
            if lines:
                where = "details: llm-session list --all --json (\"problems\") and the log"
                self.notify("\n".join([*lines, where]), severity="warning", timeout=12, markup=False)

    def _warn_format_drift(self, count: int) -> None:
        """A header status line while readers skip usage records of a newer format.

        A state, not an event: it stays under the summary for as long as it is true (a toast
        would be gone before anyone read it, or cover the table in a side pane).
        """
        if count != self._drift_warned:
            self._drift_warned = count
            line = warning_line(count)
            if line is None:
                self.status.clear("drift")
            else:
                self.status.set("drift", line, "warning", place="header", order=30)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "poll" and event.state == WorkerState.ERROR:
            self.post_message(PollFailed(f"{type(event.worker.error).__name__}: {event.worker.error}"))

    def on_poll_failed(self, message: PollFailed) -> None:
        """Keep the last good snapshot, say so once per distinct error, and try again later."""
        if message.error != self.last_error:
            self.notify(f"poll failed: {message.error}", severity="error", timeout=8, markup=False)
        self.last_error = message.error
        self.log.error(f"poll failed: {message.error}")
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
        from llm_sessions.core.live.watch import changes

        note = getattr(self.monitor, "note_changes", None)
        async for batch in changes(paths, ignore=self.watch_ignore):
            if note is not None:
                note(batch)  # the poll looks at these files first instead of re-listing the history
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

    # ---- alerts ------------------------------------------------------------------------

    def _raise_alerts(self, alerts: Sequence[Alert]) -> None:
        loud, _quiet = self._alert_throttle.filter(list(alerts), self.clock())
        self.flagged.update(a.session_id for a in alerts)
        for a in loud:
            self._add_notice(a.message, a.severity, alert=True, session_id=a.session_id)
        if self._toast_fits():
            for message, severity in toasts(loud):
                self.toast(message, severity, 6)
        if loud and self.settings.alerts_bell:
            self.bell()

    # ---- the status area: one notice line for every message -----------------------------

    def _status_changed(self) -> None:
        self.status_version += 1

    @on(Said)
    def _said(self, message: Said) -> None:
        self._add_notice(message.text, message.severity, alert=message.alert, session_id=message.session_id)
        if message.toast and self._toast_fits():
            self.toast(message.text, message.severity, message.timeout)

    def action_help(self) -> None:
        from llm_sessions.ui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            self.screen.dismiss()
            return
        self.push_screen(HelpScreen.for_screen(self.screen))

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
            self.say("updates paused (p resumes)")
        else:
            self.say("updates resumed")
            self.request_poll()
        self.refresh_sessions()

    def action_toggle_all(self) -> None:
        self.show_all = not self.show_all
        self.say("showing ended sessions (a hides them)" if self.show_all else "hiding ended sessions (a shows them)")
        self.refresh_sessions()

    def open_detail(self, session_id: str) -> None:
        from llm_sessions.ui.screens.detail import DetailScreen

        self.mark_seen(session_id)
        self.push_screen(DetailScreen(session_id))


__all__ = ["LLMSessionApp", "MonitorLike", "SessionHandler", "css_path", "default_predictor"]
