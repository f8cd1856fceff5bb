"""The restart dialog: choose compact / fresh / resume, then confirm each destructive step.

The plan comes from the pure core (`llm_sessions.core.actions.restart.plan_restart`, wrapped by the
host in a `planner(mode)` callable that knows the session's pane and export folder). Every
step is shown in words before it runs; safe steps (the export, printing a command) run on
their own, destructive ones (typing into the pane, stopping the process, starting a new
one) wait for an explicit "Run". Steps run in a thread worker because stopping a process
waits for it to exit, and the UI must stay responsive meanwhile.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, ContentSwitcher, Label, Static

from llm_sessions.core.actions.restart import MODE_LABELS, MODES, Mode, RestartPlan, StepResult, run_step
from llm_sessions.core.actions.targets import TargetError
from llm_sessions.core.export.bundle import BundleError
from llm_sessions.core.inert import inert
from llm_sessions.core.models import Session

MARKS = {"todo": "  ", "running": "▶ ", "ok": "✓ ", "failed": "✗ ", "skipped": "– ", "ask": "? "}


@dataclass(frozen=True)
class RestartOutcome:
    """What ran: each step's result, and the command to continue when one is needed."""

    mode: str
    results: tuple[StepResult, ...]
    continue_command: str | None
    planned: int

    @property
    def completed(self) -> bool:
        return len(self.results) == self.planned and all(r.ok for r in self.results)


class RestartScreen(ModalScreen[RestartOutcome | None]):
    """Pick a restart mode, review the plan, confirm each destructive step."""

    DEFAULT_CSS = """
    RestartScreen {
        align: center middle;
    }
    RestartScreen > Vertical#restart {
        width: 96;
        max-width: 95%;
        height: auto;
        max-height: 90%;
        border: round $warning;
        background: $surface;
        padding: 0 1;
    }
    RestartScreen .title {
        text-style: bold;
        margin-bottom: 1;
    }
    RestartScreen ContentSwitcher {
        height: auto;
    }
    RestartScreen ContentSwitcher > Vertical {
        height: auto;
    }
    RestartScreen #choose Button {
        width: 100%;
        margin-bottom: 1;
    }
    RestartScreen .error {
        color: $error;
    }
    RestartScreen #question {
        color: $warning;
        margin-top: 1;
    }
    RestartScreen #command {
        background: $panel;
        padding: 0 1;
    }
    RestartScreen .buttons {
        height: auto;
        margin-top: 1;
        align-horizontal: right;
    }
    RestartScreen .buttons Button {
        margin-left: 1;
    }
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel", show=True)]

    def __init__(self, session: Session, planner: Callable[[Mode], RestartPlan]) -> None:
        super().__init__()
        self.session = session
        self.planner = planner
        self.plan: RestartPlan | None = None
        self.results: list[StepResult] = []
        self.state: dict[int, str] = {}
        self.running = False

    def compose(self) -> ComposeResult:
        with Vertical(id="restart"):
            yield Label(
                inert(f"Restart {self.session.tool} session {self.session.title or self.session.id}"),
                classes="title", markup=False,
            )
            with ContentSwitcher(initial="choose", id="pages"):
                with Vertical(id="choose"):
                    yield Label("A brief is exported first in every case. Then:")
                    for mode in MODES:
                        yield Button(MODE_LABELS[mode], id=f"mode-{mode}")
                    yield Static("", id="plan-error", classes="error", markup=False)
                    with Horizontal(classes="buttons"):
                        yield Button("Cancel", id="cancel")
                with Vertical(id="run"):
                    yield Static("", id="steps", markup=False)
                    yield Static("", id="question", markup=False)
                    with Horizontal(classes="buttons", id="ask"):
                        yield Button("Stop here", id="stop")
                        yield Button("Run this step", id="confirm", variant="error")
                with Vertical(id="finished"):
                    yield Static("", id="summary", markup=False)
                    yield Static("", id="command", markup=False)
                    with Horizontal(classes="buttons"):
                        yield Button("Copy command", id="copy-command")
                        yield Button("Close", id="done", variant="primary")

    # ---------------------------------------------------------------- helpers
    @property
    def page(self) -> str:
        return self.query_one("#pages", ContentSwitcher).current or "choose"

    @property
    def index(self) -> int:
        return len(self.results)

    def _render_steps(self) -> None:
        assert self.plan is not None
        lines = []
        for i, step in enumerate(self.plan.steps):
            mark = MARKS[self.state.get(i, "todo")]
            danger = " (changes the session)" if step.destructive else ""
            lines.append(f"{mark}{i + 1}. {step.description}{danger}")
            if i < len(self.results):
                lines.append(f"     {self.results[i].message}")
        self.query_one("#steps", Static).update(inert("\n".join(lines), multiline=True))

    def _outcome(self) -> RestartOutcome | None:
        if self.plan is None or not self.results:
            return None
        return RestartOutcome(self.plan.mode, tuple(self.results), self.plan.continue_command, len(self.plan.steps))

    # ---------------------------------------------------------------- flow
    @on(Button.Pressed, "#choose Button")
    def _choose(self, event: Button.Pressed) -> None:
        if not event.button.id or not event.button.id.startswith("mode-"):
            return
        mode = event.button.id.removeprefix("mode-")
        try:
            self.plan = self.planner(mode)  # type: ignore[arg-type]
        except (TargetError, BundleError) as exc:
            self.query_one("#plan-error", Static).update(inert(str(exc)))
            return
        self.query_one("#pages", ContentSwitcher).current = "run"
        self._advance()

    def _advance(self) -> None:
        assert self.plan is not None
        if self.index >= len(self.plan.steps):
            self._finish()
            return
        step = self.plan.steps[self.index]
        ask = self.query_one("#ask")
        if step.destructive:
            self.state[self.index] = "ask"
            self.query_one("#question", Static).update(inert(f"Run step {self.index + 1}: {step.description}?"))
            ask.display = True
            self._render_steps()
            self.query_one("#confirm", Button).focus()
            return
        self._start(step)

    def _start(self, step) -> None:
        self.state[self.index] = "running"
        self.running = True
        self.query_one("#ask").display = False
        self.query_one("#question", Static).update(inert(f"Running: {step.description}"))
        self._render_steps()
        self._run_in_thread(step)

    @work(thread=True, exclusive=True, exit_on_error=False, group="restart")
    def _run_in_thread(self, step) -> None:
        result = run_step(step)
        self.app.call_from_thread(self._step_done, result)

    def _step_done(self, result: StepResult) -> None:
        self.running = False
        self.state[self.index] = "ok" if result.ok else "failed"
        self.results.append(result)
        self._render_steps()
        if not result.ok:
            self._finish()
            return
        self._advance()

    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        assert self.plan is not None
        if self.running or self.index >= len(self.plan.steps):
            return
        self._start(self.plan.steps[self.index])

    @on(Button.Pressed, "#stop")
    def _stop(self) -> None:
        assert self.plan is not None
        step = self.plan.steps[self.index]
        self.state[self.index] = "skipped"
        self.results.append(StepResult(step, False, "not confirmed; stopped here", skipped=True))
        self._render_steps()
        self._finish()

    def _finish(self) -> None:
        assert self.plan is not None
        outcome = self._outcome()
        done = outcome is not None and outcome.completed
        last = self.results[-1].message if self.results else ""
        summary = "Done." if done else f"Stopped: {last}"
        self.query_one("#summary", Static).update(inert(summary))
        cmd = self.plan.continue_command if self.plan.where == "terminal" else None
        self.query_one("#command", Static).update(f"To continue, run:\n{inert(cmd)}" if cmd else "")
        self.query_one("#copy-command", Button).display = bool(cmd)
        self.query_one("#pages", ContentSwitcher).current = "finished"
        self.query_one("#done", Button).focus()

    @on(Button.Pressed, "#copy-command")
    def _copy(self) -> None:
        if self.plan and self.plan.continue_command:
            self.app.copy_to_clipboard(self.plan.continue_command)
            self.notify("Command copied to the clipboard")

    @on(Button.Pressed, "#done")
    def _done(self) -> None:
        self.dismiss(self._outcome())

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Escape: nothing happens mid-step; otherwise report whatever already ran."""
        if self.running:
            self.notify("A step is running; wait for it to finish", severity="warning")
            return
        self.dismiss(self._outcome())


__all__ = ["RestartOutcome", "RestartScreen"]
