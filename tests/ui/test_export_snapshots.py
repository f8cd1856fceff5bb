"""A few snapshots of the export wizard and the restart dialog (fixed size, fixed data)."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input

from llm_sessions.core.actions.restart import plan_restart
from llm_sessions.core.export.build import build_bundle
from llm_sessions.core.export.transcript import read_digest
from llm_sessions.ui.screens.export import ExportWizard
from llm_sessions.ui.screens.restart import RestartScreen
from tests.transcript_factory import claude_session_file
from tests.ui.test_export_screens import Host, click
from tests.unit.test_export_bundle import make_session

SIZE = (100, 46)
EXPORTS = Path("/nonexistent/llm-session/exports")  # shown, never written: no step writes


def wizard_host(tmp_path) -> Host:
    path = claude_session_file(tmp_path)
    session = make_session(path)
    return Host(lambda: ExportWizard(
        session, read_digest(path), exports_dir=EXPORTS, budget_tokens=8000, git_status=" M reports/csv.py\n",
    ))


def test_wizard_sections_step(snap_compare, tmp_path):
    async def run_before(pilot) -> None:
        await click(pilot, "#sec-commands")

    assert snap_compare(wizard_host(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_wizard_format_step(snap_compare, tmp_path):
    async def run_before(pilot) -> None:
        await click(pilot, "#next-format")

    assert snap_compare(wizard_host(tmp_path), terminal_size=SIZE, run_before=run_before)


def test_wizard_preview_step_in_a_side_pane(snap_compare, tmp_path):
    """40x20: the body scrolls, the Back and Write buttons stay on screen."""

    async def run_before(pilot) -> None:
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause()
        # a file name of its own: the default one carries the time of the export
        pilot.app.screen.query_one("#dest", Input).value = "/nonexistent/brief.md"
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(wizard_host(tmp_path), terminal_size=(40, 20), run_before=run_before)


def test_restart_choose(snap_compare, tmp_path):
    path = claude_session_file(tmp_path)
    session = make_session(path)
    bundle = build_bundle(session, read_digest(path), budget_tokens=8000, git_status=None)
    host = Host(lambda: RestartScreen(session, lambda mode: plan_restart(session, mode, bundle, exports_dir=EXPORTS)))
    assert snap_compare(host, terminal_size=SIZE)
