"""The layers stay apart: the UI never loads psutil/watchfiles/sqlmodel, the core never Textual.

Checked in a fresh interpreter, since this test process has imported everything already.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

ROOT = __import__("pathlib").Path(__file__).resolve().parents[2]


def loaded_after(modules: list[str]) -> set[str]:
    code = "import sys\n" + "".join(f"import {m}\n" for m in modules) + "print('\\n'.join(sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return {name.split(".")[0] for name in out.split()}


def test_ui_does_not_load_the_cores_heavy_dependencies():
    loaded = loaded_after(["llm_sessions.ui.app", "llm_sessions.ui.screens.sessions", "llm_sessions.ui.screens.detail"])
    assert "textual" in loaded
    assert not loaded & {"psutil", "watchfiles", "sqlmodel", "sqlalchemy"}


@pytest.mark.parametrize("module", ["llm_sessions.core.actions.pane", "llm_sessions.core.live.alerts", "llm_sessions.core.live.summary",
                                    "llm_sessions.core.live.watch", "llm_sessions.demo"])
def test_core_modules_never_load_textual(module):
    assert "textual" not in loaded_after([module])
