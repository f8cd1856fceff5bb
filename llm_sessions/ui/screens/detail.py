"""The drilldown for one session: why its health is what it is, and where it is heading.

Shows the four health components with weights and reasons, context fill per turn (read
from the transcript for any session, live or ended, and extended by the store's live
samples; the compaction point and every compaction marked) with the projected time to
auto-compaction, tokens by kind, cost, and where the session lives (cwd, branch,
transcript, pids, tmux pane). A separate "Transcript" section appears only when the app
was given a transcript reader. j/k scroll, g/G jump to the top or bottom, escape goes back.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer, Static

from llm_sessions.core.accounting.health import is_live, span
from llm_sessions.core.inert import inert
from llm_sessions.core.live.summary import context_series
from llm_sessions.core.models import Session, Snapshot
from llm_sessions.ui.focus import FocusRules
from llm_sessions.ui.format import human_cost, human_duration, human_tokens
from llm_sessions.ui.screens.session_keys import SESSION_BINDINGS, SessionKeys
from llm_sessions.ui.status import StatusArea
from llm_sessions.ui.widgets.bars import STATUS_VAR, ContextBar, HealthBar
from llm_sessions.ui.widgets.chart import ContextChart
from llm_sessions.ui.widgets.limits import SessionLimits

if TYPE_CHECKING:
    from llm_sessions.ui.app import LLMSessionApp


def eta_text(eta: timedelta | None, *, compacts: bool, predicting: bool, has_history: bool, live: bool = True) -> str:
    """One line about auto-compaction, honest about why there is no number."""
    if not live:
        return "not running: nothing to forecast"
    if not compacts:
        return "no auto-compaction point is known for this session"
    if not predicting:
        return "compaction prediction is not available in this build"
    if eta is None:
        return "no auto-compaction predicted at the current rate" if has_history else "not enough history to predict auto-compaction"
    if eta <= timedelta(0):
        return "[$text-error]at the auto-compaction point now[/]"
    return f"auto-compaction in ~{human_duration(eta)} at the current rate"


def literal(template: str, **values: object) -> Content:
    """Our markup with outside values dropped in as plain text (Textual's own `$name`
    substitution, which never parses them), control characters spelled out.

    `textual.markup.escape` is not enough for arbitrary text: `\x1b[2J b [$x]` keeps an
    unescaped `[` that swallows the markup after it.
    """
    return Content.from_markup(template, **{k: inert(str(v)) for k, v in values.items()})


class DetailScreen(FocusRules, SessionKeys, Screen):
    if TYPE_CHECKING:
        app: LLMSessionApp  # Textual types it as any App; this one lives only in ours

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("j", "scroll('down')", "Scroll down", show=False),
        Binding("k", "scroll('up')", "Scroll up", show=False),
        Binding("g", "scroll('top')", "Top", show=False),
        Binding("G", "scroll('bottom')", "Bottom", show=False),
        *SESSION_BINDINGS,
    ]

    def __init__(self, session_id: str) -> None:
        super().__init__(id="detail")
        self.session_id = session_id
        self.session: Session | None = None
        self.samples: list = []

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="detail-body"):
            yield Static(id="title", classes="title")
            yield Static("Health", classes="section")
            with Vertical(id="health"):
                pass
            yield Static("Context", classes="section")
            yield ContextBar(id="context-bar")
            yield ContextChart(id="context-chart")
            yield Static(id="eta")
            yield Static("Tokens and cost", classes="section")
            yield Static(id="tokens")
            yield Static("Usage limits", classes="section")
            yield SessionLimits(self.session_id, id="session-limits")
            yield Static("Where", classes="section")
            yield Static(id="where")
            if self.app.transcript_reader is not None:
                yield Static("Transcript", classes="section")
                yield Static(id="transcript")
        yield StatusArea("footer", id="status-footer")
        yield Footer()

    def first_focus(self) -> Widget | None:
        return self.query_one("#detail-body")

    def on_mount(self) -> None:
        self.query_one("#detail-body").focus()
        self.watch(self.app, "snapshot", self._on_snapshot, init=True)

    def action_scroll(self, where: str) -> None:
        body = self.query_one("#detail-body", VerticalScroll)
        {"down": body.scroll_down, "up": body.scroll_up, "top": body.scroll_home, "bottom": body.scroll_end}[where](animate=False)

    def _on_snapshot(self, snap: Snapshot | None) -> None:
        session = snap.by_id().get(self.session_id) if snap else None
        if session is None:
            if self.session is None:
                self.query_one("#title", Static).update(literal("session $sid is no longer in the snapshot", sid=self.session_id))
            else:
                self.query_one("#title", Static).update(self._heading(self.session) + Content.from_markup("  [$text-error](gone)[/]"))
            return
        self.session = session
        self._show_session(session)
        self._fetch(session)

    @work(thread=True, exclusive=True, exit_on_error=False, group="detail")
    def _fetch(self, session: Session) -> None:
        """History and transcript may read files, so they never run on the UI thread."""
        samples = self.app.monitor.history(session.id)
        turns = self.app.context_trails.read(session.transcript, session.tool)
        extra = self.app.transcript_reader(session) if self.app.transcript_reader is not None else None
        self.app.call_from_thread(self._show_fetched, session.id, samples, turns, extra)

    def _show_fetched(self, session_id: str, samples: list, turns, extra) -> None:
        if session_id != self.session_id or not self.is_mounted:
            return
        self.samples = context_series(samples)
        fill = self.session.context if self.session else None
        # live samples extend a running session's chart; an ended one's transcript is complete
        history = turns.with_samples(self.samples) if self.session and is_live(self.session) else turns
        if not history.points and self.samples:
            history = turns.with_samples(self.samples)  # no transcript figures: samples are all there is
        note = "no per-turn context in this session's files yet" if fill is None else "no per-turn context recorded yet"
        self.query_one("#context-chart", ContextChart).show(
            history, fill.compact_at if fill else None, fill.window if fill else None, note
        )
        self._render_eta()
        if extra is not None:
            lines: list[str] = []
            values: dict[str, str] = {}
            for heading, items in extra.items():
                values[f"h{len(values)}"] = heading
                lines.append(f"[b]${list(values)[-1]}[/b]")
                for item in items or ["-"]:
                    values[f"i{len(values)}"] = item
                    lines.append(f"  ${list(values)[-1]}")
            self.query_one("#transcript", Static).update(literal("\n".join(lines), **values))

    def _render_eta(self) -> None:
        fill = self.session.context if self.session else None
        text = eta_text(
            self.app.etas.get(self.session_id),
            compacts=bool(fill and fill.compact_at),
            predicting=self.app.predictor is not None,
            has_history=len(self.samples) >= 2,
            live=self.session is None or is_live(self.session),
        )
        self.query_one("#eta", Static).update(text)

    def _heading(self, s: Session) -> Content:
        status = s.health.status if s.health else "unknown"
        score = f" {s.health.score}" if s.health else ""
        title = " · $title" if s.title else ""
        return literal(
            f"[b]$tool $sid[/b]{title}\n$state · health [{STATUS_VAR.get(status, '$foreground-darken-3')}]$status[/]",
            tool=s.tool, sid=s.id, title=s.title or "", state=s.state, status=f"{status}{score}",
        )

    def _show_session(self, s: Session) -> None:
        self.query_one("#title", Static).update(self._heading(s))
        box = self.query_one("#health", Vertical)
        settings = self.app.settings
        if s.health is None:
            box.remove_children()
            box.mount(Static("  health not computed yet"))
        else:
            bars = list(box.query(HealthBar))
            if [b.id for b in bars] != [f"hc-{c.name}" for c in s.health.components]:
                box.remove_children()
                box.mount_all(
                    HealthBar(c, healthy_min=settings.health_healthy_min, warning_min=settings.health_warning_min, id=f"hc-{c.name}")
                    for c in s.health.components
                )
            else:
                for bar, c in zip(bars, s.health.components, strict=True):
                    bar.show(c)
        self.query_one("#context-bar", ContextBar).show(s.context)
        self._render_eta()
        u = s.usage
        approx = "" if u.exact else "  [$text-warning](estimated)[/]"
        cost = human_cost(s.cost_usd) if s.cost_usd is not None else "unknown (no price for this model)"
        self.query_one("#tokens", Static).update(
            f"input {human_tokens(u.input)} · output {human_tokens(u.output)} · "
            f"cache write {human_tokens(u.cache_creation)} · cache read {human_tokens(u.cache_read)}\n"
            f"total {human_tokens(u.total)}{approx} · {s.turns} turns · cost {cost}"
        )
        p = s.process
        pids = ", ".join(str(x) for x in (p.pids or (p.pid,))) if p else "no live process"
        window = human_tokens(s.context.window) if s.context else "-"
        rows = [
            ("model", s.model or "-"),
            ("window", window),
            ("cwd", s.cwd or "-"),
            ("branch", s.git_branch or "-"),
            ("transcript", s.transcript or "-"),
            ("pids", pids),
            ("tmux pane", (p.tmux_pane if p and p.tmux_pane else "-")),
            # the same span the table's Time column and the duration score use
            ("running for" if is_live(s) else "ran for", human_duration(span(s, self.app.clock()))),
        ]
        if s.api_errors or s.tool_errors:
            rows.append(("errors", f"{s.api_errors} API, {s.tool_errors} tool"))
        self.query_one("#where", Static).update(
            literal("\n".join(f"[$foreground-darken-3]{k:<11}[/]$v{i}" for i, (k, _v) in enumerate(rows)),
                    **{f"v{i}": v for i, (_k, v) in enumerate(rows)})
        )

    @property
    def current_session(self) -> Session | None:
        return self.session


__all__ = ["DetailScreen", "eta_text"]
