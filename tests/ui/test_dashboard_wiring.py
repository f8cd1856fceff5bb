"""The real composition root: monitor over a generated home, store, export and restart keys."""

from __future__ import annotations

import json

from llm_sessions.config import load_settings
from llm_sessions.core.store import Store
from llm_sessions.dashboard import build_app
from llm_sessions.paths import app_paths
from llm_sessions.synth.corpus import build_corpus
from llm_sessions.ui.screens.export import ExportWizard


async def test_real_app_lists_the_corpus_and_opens_the_export_wizard(tmp_path):
    root = tmp_path / "c"
    build_corpus(root, seed=3)
    truth = json.loads((root / "truth.json").read_text())
    env = {k: ",".join(str(root / p) for p in v.split(",")) for k, v in truth["env"].items()}
    env["LLM_SESSION_HOME"] = str(tmp_path / "lsh")
    env.update(truth["settings_env"])  # the corpus's Aider folders
    paths = app_paths(env)
    settings = load_settings(paths.config_file, env)
    store = Store.open(None, paths.data_dir)
    try:
        # the corpus has no process: discovery sees none of the machine's (other helpers' or
        # real assistants would otherwise show up as pid-only rows)
        app = build_app(paths, settings, env, store, pids=lambda: ())
        async with app.run_test(size=(120, 36)) as pilot:
            await app.workers.wait_for_complete()
            await pilot.pause()
            app.action_toggle_all()  # the corpus has no running process: show ended sessions
            await pilot.pause()
            # (an assistant running elsewhere on a shared machine shows up without a transcript)
            assert {s.id for s in app.snapshot.sessions if s.transcript} == set(truth["sessions"])
            assert app.session_actions.keys() >= {"export", "restart"}
            await pilot.press("e")
            await pilot.pause(0.3)
            assert isinstance(app.screen, ExportWizard)
            await pilot.press("escape")
            await pilot.pause()
        assert not paths.exports_dir.exists() or not any(paths.exports_dir.iterdir())
        assert store.known_sessions()  # polls were recorded
    finally:
        store.close()
