"""Issue 8, finding 3 in the dashboard: titles, folders, models and branches read from
transcripts are shown literally: Textual markup in them is text, never style or an action,
and control characters are spelled out instead of reaching the terminal.

A title like `Fix the [/api] handler` used to crash the restart and export dialogs, and
`[@click=app.quit]` would have been a live link.
"""

from __future__ import annotations

from llm_sessions.dashboard import session_actions
from llm_sessions.ui.screens.confirm import ConfirmScreen
from llm_sessions.ui.screens.detail import DetailScreen
from llm_sessions.ui.screens.export import ExportWizard
from llm_sessions.ui.screens.restart import RestartScreen
from tests.fakes import FakeMonitor, session, snapshot
from tests.ui.helpers import cell_text, make_app, settle

SID = "a1b2c3d4-0000-4000-8000-000000000001"
TITLE = "Fix the [/api] handler [@click=app.quit]x[/] \x1b]0;PWNED\x07"


def hostile():
    return session(
        SID, cwd="/home/dev/[@click=app.quit]quit[/]", branch="feat/[red]x[/red]", model="[b]m[/b]\x1b[2J",
        pane="%3",
    ).with_(title=TITLE)


def plain_text(widget) -> str:
    return str(widget.render())


async def test_markup_and_escapes_from_transcripts_are_shown_literally(tmp_path):
    app = make_app(
        tmp_path, FakeMonitor([snapshot([hostile()])]),
        session_actions=session_actions(tmp_path / "exports", 4000, None),
    )
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert cell_text(app, SID, "branch").startswith("feat/[red]")  # text, not a style
        assert cell_text(app, SID, "model").startswith("[b]m[/b]\\x1b")

        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, DetailScreen)
        heading = plain_text(app.screen.query_one("#title"))
        assert "Fix the [/api] handler [@click=app.quit]x[/] \\x1b]0;PWNED\\x07" in heading
        where = plain_text(app.screen.query_one("#where"))
        assert "/home/dev/[@click=app.quit]quit[/]" in where and "\x1b" not in where
        await pilot.click("#title")  # a live [@click=app.quit] would end the app here
        await pilot.click("#where")
        await settle(pilot)
        assert app.is_running

        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, RestartScreen)
        assert "Fix the [/api] handler [@click=app.quit]x[/]" in plain_text(app.screen.query_one(".title"))
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("e")
        await settle(pilot)
        assert isinstance(app.screen, ExportWizard)
        label = plain_text(app.screen.query_one(".title"))
        assert "Fix the [/api] handler" in label and "\x1b" not in label
        await pilot.press("escape")
        await settle(pilot)

        await pilot.press("K")  # kill moved off k (issue 10)
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await settle(pilot)
        assert app.is_running
