"""Pilot tests: the export wizard through every step and cancelled at each; the restart dialog."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest
from textual.app import App
from textual.widgets import Checkbox, ContentSwitcher, Input, Static

from llm_sessions.core.actions.restart import plan_restart
from llm_sessions.core.export.build import build_bundle
from llm_sessions.core.export.bundle import read_bundle
from llm_sessions.core.export.transcript import read_digest
from llm_sessions.core.models import ProcessInfo
from llm_sessions.ui.screens.export import ExportResult, ExportWizard
from llm_sessions.ui.screens.restart import RestartScreen
from tests.transcript_factory import claude_session_file
from tests.unit.test_export_bundle import PLANTED, make_session

SIZE = (120, 50)


class Host(App):
    """A minimal host: pushes one screen on mount and keeps what it dismissed with."""

    def __init__(self, make_screen) -> None:
        super().__init__()
        self.make_screen = make_screen
        self.results: list = []
        self.opened: list[Path] = []

    def on_ready(self) -> None:
        # Pushed once the app is ready, as the dashboard does on a key press.
        self.push_screen(self.make_screen(), callback=self.results.append)


@pytest.fixture
def wizard_world(tmp_path):
    path = claude_session_file(tmp_path / "home", secret=PLANTED["github"])
    session = make_session(path)
    recorded: list = []
    exports = tmp_path / "exports"

    def make():
        return ExportWizard(
            session, read_digest(path), exports_dir=exports, budget_tokens=8000,
            git_status=" M reports/csv.py\n", record=lambda *a: recorded.append(a),
            open_folder=host_holder[0].opened.append,
        )

    host_holder: list[Host] = []
    host = Host(make)
    host_holder.append(host)
    return host, exports, recorded, tmp_path


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and "home" not in p.parts)


async def click(pilot, selector: str) -> None:
    """Click once the widget has been laid out: a step switch moves (and first places) it."""
    await pilot.pause()
    widget = pilot.app.screen.query_one(selector)
    for _ in range(200):  # a bound on polling, not a timing assertion
        if widget.region.area:
            break
        await pilot.pause(0.01)
    await pilot.click(selector)
    await pilot.pause()


async def step_of(pilot) -> str:
    await pilot.pause()
    return pilot.app.screen.query_one("#steps", ContentSwitcher).current


async def test_wizard_every_step_then_copy_open_and_close(wizard_world):
    host, exports, recorded, tmp_path = wizard_world
    async with host.run_test(size=SIZE) as pilot:
        await pilot.pause()
        wiz = host.screen
        assert isinstance(wiz, ExportWizard)
        assert await step_of(pilot) == "step-sections"
        estimate = wiz.query_one("#estimate", Static)
        before = str(estimate.render())
        assert "tokens of a 8,000 token budget" in before
        await click(pilot, "#sec-commands")
        await click(pilot, "#sec-errors")
        assert not wiz.query_one("#sec-commands", Checkbox).value
        after = str(estimate.render())
        assert after != before  # the live estimate follows the checkboxes
        await click(pilot, "#next-format")
        assert await step_of(pilot) == "step-format"
        await click(pilot, "#fmt-both")
        wiz.query_one("#dest", Input).value = str(tmp_path / "out" / "brief")
        await click(pilot, "#next-preview")
        assert await step_of(pilot) == "step-preview"
        preview = str(wiz.query_one("#preview", Static).render())
        assert "Add a CSV export to the reports page" in preview
        assert "Commands run" not in preview and "Recent errors" not in preview
        assert files_under(tmp_path) == []  # previewing writes nothing
        await click(pilot, "#write")
        assert await step_of(pilot) == "step-done"
        md, js = tmp_path / "out" / "brief.md", tmp_path / "out" / "brief.json"
        assert files_under(tmp_path) == [js, md]
        assert PLANTED["github"].encode() not in md.read_bytes() + js.read_bytes()
        assert read_bundle(js).sections == wiz.bundle.sections
        assert [r[2] for r in recorded] == ["md", "json"]
        await click(pilot, "#copy")
        assert host.clipboard == md.read_text()
        await click(pilot, "#open")
        assert host.opened == [tmp_path / "out"]
        await click(pilot, "#close")
        await pilot.pause()
    [result] = host.results
    assert isinstance(result, ExportResult)
    assert result.paths == (md, js) and result.fmt == "both" and result.copied and not result.restart


async def test_wizard_default_destination_is_the_exports_folder(wizard_world):
    host, exports, _recorded, tmp_path = wizard_world
    async with host.run_test(size=SIZE) as pilot:
        await click(pilot, "#next-format")
        await click(pilot, "#next-preview")
        await click(pilot, "#write")
        assert await step_of(pilot) == "step-done"
        await click(pilot, "#restart")
        await pilot.pause()
    [result] = host.results
    assert result.restart is True
    assert [p.parent for p in result.paths] == [exports] and result.paths[0].suffix == ".md"


@pytest.mark.parametrize("cancel_at", ["step-sections", "step-format", "step-preview"])
@pytest.mark.parametrize("how", ["escape", "button"])
async def test_wizard_cancel_at_each_step_writes_nothing(wizard_world, cancel_at, how):
    host, exports, recorded, tmp_path = wizard_world
    async with host.run_test(size=SIZE) as pilot:
        for nxt in ("#next-format", "#next-preview"):
            if await step_of(pilot) == cancel_at:
                break
            await click(pilot, nxt)
        assert await step_of(pilot) == cancel_at
        if how == "escape" or cancel_at != "step-sections":
            await pilot.press("escape")
        else:
            await click(pilot, "#cancel")
        await pilot.pause()
        assert not isinstance(host.screen, ExportWizard)
    assert host.results == [None]
    assert files_under(tmp_path) == [] and not exports.exists() and recorded == []


async def test_wizard_refuses_to_overwrite_without_the_checkbox(wizard_world):
    host, exports, _recorded, tmp_path = wizard_world
    target = tmp_path / "mine.md"
    target.write_text("precious")
    async with host.run_test(size=SIZE) as pilot:
        await pilot.pause()
        wiz = host.screen
        await click(pilot, "#next-format")
        wiz.query_one("#dest", Input).value = str(target)
        wiz.query_one("#dest", Input).focus()
        await pilot.press("enter")  # Enter in the destination goes on to the preview
        assert await step_of(pilot) == "step-preview"
        await click(pilot, "#write")
        assert await step_of(pilot) == "step-preview"
        assert "exists" in str(wiz.query_one("#write-error", Static).render())
        assert target.read_text() == "precious"
        await click(pilot, "#back-format")
        await click(pilot, "#force")
        await click(pilot, "#next-preview")
        await click(pilot, "#write")
        assert await step_of(pilot) == "step-done"
    assert target.read_text() != "precious"


# ------------------------------------------------------------------ restart dialog


async def settle(pilot) -> None:
    for _ in range(5):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


@pytest.fixture
def restart_world(tmp_path):
    child = subprocess.Popen(["sleep", "307"])
    p = psutil.Process(child.pid)
    info = ProcessInfo(pid=child.pid, name="sleep", started_at=datetime.fromtimestamp(p.create_time(), tz=UTC))
    path = claude_session_file(tmp_path / "home")
    project = tmp_path / "proj"
    project.mkdir()
    session = make_session(path, cwd=str(project), process=info)
    bundle = build_bundle(session, read_digest(path), sections={"goal"}, budget_tokens=8000, git_status=None)
    exports = tmp_path / "exports"

    def planner(mode):
        return plan_restart(session, mode, bundle, exports_dir=exports, term_timeout=10)

    host = Host(lambda: RestartScreen(session, planner))
    try:
        yield host, child, exports
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


async def test_restart_fresh_outside_tmux_confirmed(restart_world):
    host, child, exports = restart_world
    async with host.run_test(size=SIZE) as pilot:
        await pilot.pause()
        scr = host.screen
        await click(pilot, "#mode-fresh")
        await settle(pilot)
        # the export ran on its own; the stop waits for a confirmation
        assert exports.is_dir() and len(list(exports.iterdir())) == 2
        assert child.poll() is None
        assert f"SIGTERM to pid {child.pid}" in str(scr.query_one("#question", Static).render())
        await click(pilot, "#confirm")
        await settle(pilot)
        assert scr.query_one("#pages", ContentSwitcher).current == "finished"
        command = str(scr.query_one("#command", Static).render())
        assert 'claude -- "$(cat -- ' in command
        await click(pilot, "#copy-command")
        assert host.clipboard.startswith("cd ") and "claude" in host.clipboard
        await click(pilot, "#done")
        await pilot.pause()
    child.wait()
    assert not psutil.pid_exists(child.pid)
    [outcome] = host.results
    assert outcome.completed and outcome.mode == "fresh"
    assert [r.step.key for r in outcome.results] == ["export", "terminate", "command"]


async def test_restart_stop_at_destructive_step_keeps_the_process(restart_world):
    host, child, exports = restart_world
    async with host.run_test(size=SIZE) as pilot:
        await click(pilot, "#mode-resume")
        await settle(pilot)
        await click(pilot, "#stop")
        await pilot.pause()
        await click(pilot, "#done")
        await pilot.pause()
    assert child.poll() is None
    [outcome] = host.results
    assert not outcome.completed and outcome.results[-1].skipped


async def test_restart_compact_needs_tmux_and_escape_cancels(restart_world):
    host, child, exports = restart_world
    async with host.run_test(size=SIZE) as pilot:
        await pilot.pause()
        scr = host.screen
        await click(pilot, "#mode-compact")
        await pilot.pause()
        assert scr.query_one("#pages", ContentSwitcher).current == "choose"
        assert "tmux pane" in str(scr.query_one("#plan-error", Static).render())
        await pilot.press("escape")
        await pilot.pause()
    assert host.results == [None]
    assert not exports.exists() and child.poll() is None


async def test_wizard_for_session_reads_the_transcript_off_thread(tmp_path):
    path = claude_session_file(tmp_path / "home")
    session = make_session(path, cwd=str(tmp_path))  # no git repository there
    host = Host(lambda: ExportWizard.for_session(session, exports_dir=tmp_path / "exports", budget_tokens=8000))
    async with host.run_test(size=SIZE) as pilot:
        await settle(pilot)
        wiz = host.screen
        assert isinstance(wiz, ExportWizard)
        assert not wiz.reading and wiz.digest is not None and wiz.digest.session_id == session.id
        assert "token budget" in str(wiz.query_one("#estimate", Static).render())
        await click(pilot, "#next-format")
        await click(pilot, "#next-preview")
        assert await step_of(pilot) == "step-preview"
        preview = str(wiz.query_one("#preview", Static).render())
        assert "Wire the export button" in preview
        assert "not a git repository" in preview
        await pilot.press("escape")
        await pilot.pause()
    assert host.results == [None] and not (tmp_path / "exports").exists()


async def test_wizard_needs_at_least_one_section(wizard_world):
    host, exports, _recorded, tmp_path = wizard_world
    from llm_sessions.core.export.brief import SECTIONS

    async with host.run_test(size=SIZE) as pilot:
        assert await step_of(pilot) == "step-sections"
        wiz = host.screen
        for name in SECTIONS:
            wiz.query_one(f"#sec-{name}", Checkbox).value = False
        await pilot.pause()
        assert "~" in str(wiz.query_one("#estimate", Static).render())  # header only, still estimated
        await click(pilot, "#next-format")
        assert await step_of(pilot) == "step-sections"
        assert "at least one section" in str(wiz.query_one("#wizard-message", Static).render())  # inside the dialog


async def test_wizard_enter_while_reading_goes_on_once_the_transcript_is_read(tmp_path):
    """Enter typed before the transcript is read is not lost: the wizard says it is still
    reading, then goes on to the format step by itself once the digest arrives."""
    import threading

    path = claude_session_file(tmp_path / "home")
    session = make_session(path)
    release = threading.Event()

    def slow_loader():
        release.wait(10)
        return read_digest(path), None

    host = Host(lambda: ExportWizard(session, None, exports_dir=tmp_path / "exports", budget_tokens=8000,
                                     loader=slow_loader))
    async with host.run_test(size=SIZE) as pilot:
        await pilot.pause()
        wiz = host.screen
        assert isinstance(wiz, ExportWizard) and wiz.reading
        await pilot.press("enter")
        assert await step_of(pilot) == "step-sections"
        assert "Still reading the transcript" in str(wiz.query_one("#wizard-message", Static).render())
        release.set()
        for _ in range(200):  # a bound on polling, not a timing assertion
            if await step_of(pilot) == "step-format":
                break
            await pilot.pause(0.02)
        assert await step_of(pilot) == "step-format"
        assert str(wiz.query_one("#wizard-message", Static).render()).strip() == ""
