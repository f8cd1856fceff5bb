"""End to end as the dashboard will wire it: `e` opens the wizard, "restart with it" opens
the restart dialog with the same bundle, and the restart runs against a process we own."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime

import psutil
from textual.app import App
from textual.widgets import ContentSwitcher, Static

from llm_sessions.core.actions.restart import restart_planner
from llm_sessions.core.models import ProcessInfo
from llm_sessions.ui.screens.export import ExportResult, ExportWizard
from llm_sessions.ui.screens.restart import RestartOutcome, RestartScreen
from tests.transcript_factory import claude_session_file
from tests.ui.test_export_screens import SIZE, click, settle
from tests.unit.test_export_bundle import make_session


class Dashboard(App):
    """The wiring the integrator adds to LLMSessionApp, reduced to one session."""

    BINDINGS = [("e", "export", "Export"), ("r", "restart", "Restart")]

    def __init__(self, session, exports_dir, recorded) -> None:
        super().__init__()
        self.session, self.exports_dir, self.recorded = session, exports_dir, recorded
        self.outcomes: list = []

    def record(self, *row) -> None:
        self.recorded.append(row)

    def action_export(self) -> None:
        wizard = ExportWizard.for_session(
            self.session, exports_dir=self.exports_dir, budget_tokens=8000, record=self.record,
        )
        self.push_screen(wizard, callback=self.after_export)

    def after_export(self, result: ExportResult | None) -> None:
        if result is not None and result.restart:
            self.open_restart(result.bundle)

    def action_restart(self) -> None:
        self.open_restart(None)

    def open_restart(self, bundle) -> None:
        planner = restart_planner(
            self.session, exports_dir=self.exports_dir, budget_tokens=8000, bundle=bundle, record=self.record,
        )
        self.push_screen(RestartScreen(self.session, planner), callback=self.outcomes.append)


async def test_export_then_restart_with_it(tmp_path):
    child = subprocess.Popen(["sleep", "308"])  # noqa: ASYNC220 - started, never waited for here
    try:
        p = psutil.Process(child.pid)
        info = ProcessInfo(pid=child.pid, name="sleep", started_at=datetime.fromtimestamp(p.create_time(), tz=UTC))
        project = tmp_path / "proj"
        project.mkdir()
        session = make_session(claude_session_file(tmp_path / "home"), cwd=str(project), process=info)
        exports = tmp_path / "exports"
        recorded: list = []
        app = Dashboard(session, exports, recorded)
        async with app.run_test(size=SIZE) as pilot:
            await pilot.press("e")
            await settle(pilot)
            assert isinstance(app.screen, ExportWizard)
            await click(pilot, "#next-format")
            await click(pilot, "#fmt-both")
            await click(pilot, "#next-preview")
            await click(pilot, "#write")
            await click(pilot, "#restart")
            await settle(pilot)
            restart = app.screen
            assert isinstance(restart, RestartScreen)
            await click(pilot, "#mode-fresh")
            await settle(pilot)
            await click(pilot, "#confirm")
            await settle(pilot)
            assert restart.query_one("#pages", ContentSwitcher).current == "finished"
            assert "To continue, run:" in str(restart.query_one("#command", Static).render())
            await click(pilot, "#done")
            await pilot.pause()
        child.wait()
        assert not psutil.pid_exists(child.pid)
        [outcome] = app.outcomes
        assert isinstance(outcome, RestartOutcome) and outcome.completed
        assert outcome.results[0].message.startswith("already exported")  # the wizard's files
        assert sorted(p.suffix for p in exports.iterdir()) == [".json", ".md"]
        assert [r[2] for r in recorded] == ["md", "json"]  # recorded once, by the wizard
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


async def test_r_opens_the_restart_dialog_and_escape_leaves_everything(tmp_path):
    session = make_session(claude_session_file(tmp_path / "home"))
    app = Dashboard(session, tmp_path / "exports", [])
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, RestartScreen)
        await pilot.press("escape")
        await pilot.pause()
    assert app.outcomes == [None] and not (tmp_path / "exports").exists()
