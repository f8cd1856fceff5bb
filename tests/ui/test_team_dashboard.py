"""`llm-session --team`: the ordinary dashboard over a shared store, grouped by host."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from textual.widgets import DataTable

from llm_sessions.config import load_settings
from llm_sessions.core.models import ContextFill, ProcessInfo, Session, Snapshot, Usage
from llm_sessions.core.store import Identity, Store
from llm_sessions.dashboard import build_team_app
from llm_sessions.paths import app_paths
from llm_sessions.ui.screens.confirm import ConfirmScreen
from llm_sessions.ui.screens.export import ExportWizard


def _publish(url, tmp_path, host, *ids):
    now = datetime.now(timezone.utc)
    with Store.open(url, tmp_path, identity=Identity(host, "dev")) as store:
        store.record_snapshot(Snapshot(now, tuple(
            Session(id=i, tool="claude", cwd=f"/src/{i}", model="claude-sonnet-4-5", state="working", last_activity=now - timedelta(seconds=5),
                    usage=Usage(input=10, output=20, cache_read=3000), context=ContextFill(40_000, 200_000, 167_000),
                    process=ProcessInfo(pid=4242, tmux_pane="%1"))
            for i in ids)))


async def test_team_dashboard_groups_by_host_and_refuses_actions(tmp_path):
    url = f"sqlite:///{tmp_path / 'team.db'}"
    _publish(url, tmp_path, "zulu", "z-1", "shared-id")
    _publish(url, tmp_path, "alpha", "a-1", "shared-id")
    env = {"LLM_SESSION_HOME": str(tmp_path / "lsh")}
    paths = app_paths(env)
    settings = load_settings(paths.config_file, env)
    store = Store.open(url, tmp_path, identity=Identity("viewer", "me"))
    try:
        app = build_team_app(paths, settings, store)
        async with app.run_test(size=(120, 36)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            ids = {s.id: s for s in app.snapshot.sessions}
            assert set(ids) == {"a-1", "z-1", "shared-id@alpha", "shared-id@zulu"}  # every row has its own key
            table = app.screen.query_one("#table", DataTable)
            assert [c.label.plain for c in table.columns.values()][0] == "Host"
            hosts = [str(table.get_row_at(i)[0]) for i in range(table.row_count)]
            assert hosts == sorted(hosts) and set(hosts) == {"alpha", "zulu"}  # grouped by host
            for key in ("K", "c", "t", "r"):
                await pilot.press(key)
                await pilot.pause()
                assert not isinstance(app.screen, ConfirmScreen), key
            assert any("only shows sessions" in n.text for n in app.notices.log)  # said in the notice line
            await pilot.press("e")  # export works, from the stored numbers
            await pilot.pause(0.3)
            assert isinstance(app.screen, ExportWizard) and app.screen.session.transcript is None
            await pilot.press("escape")
            await pilot.pause()
            samples = app.monitor.history("shared-id@zulu")
            assert [s.context_used for s in samples] == [40_000]
    finally:
        store.close()


import pytest  # noqa: E402


@pytest.mark.parametrize("size", [(40, 20), (80, 24), (100, 30), (120, 36)])
async def test_team_layouts_fit_every_width(tmp_path, size):
    from llm_sessions.ui.screens.sessions import columns_for

    url = f"sqlite:///{tmp_path / 'team.db'}"
    _publish(url, tmp_path, "alpha", "a-1", "a-2")
    env = {"LLM_SESSION_HOME": str(tmp_path / "lsh")}
    paths = app_paths(env)
    store = Store.open(url, tmp_path, identity=Identity("viewer", "me"))
    try:
        app = build_team_app(paths, load_settings(paths.config_file, env), store)
        async with app.run_test(size=size) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            table = app.screen.query_one("#table", DataTable)
            assert table.row_count == 2
            assert [str(c.key.value) for c in table.columns.values()] == list(columns_for(size[0], team=True))
            assert "host" in columns_for(size[0], team=True) and "id" in columns_for(size[0], team=True)
    finally:
        store.close()
