"""The core must load without Textual, and the fast CLI paths without SQLModel."""

from __future__ import annotations

import subprocess
import sys


def loaded_after(code: str) -> set[str]:
    out = subprocess.run([sys.executable, "-c", code + "\nimport sys; print('\\n'.join(sys.modules))"],
                         capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_core_never_imports_textual():
    mods = loaded_after(
        "import llm_sessions.core.live.monitor, llm_sessions.core.accounting.providers.claude,"
        " llm_sessions.core.accounting.providers.codex, llm_sessions.core.accounting.health,"
        " llm_sessions.core.accounting.pricing, llm_sessions.core.accounting.report,"
        " llm_sessions.core.accounting.scancache"
    )
    assert "textual" not in mods and "textual.app" not in mods


def test_list_path_imports_neither_textual_nor_sqlmodel(tmp_path):
    code = (
        "import os, sys, io, contextlib\n"
        f"os.environ.update(HOME={str(tmp_path)!r}, LLM_SESSION_HOME={str(tmp_path / 'x')!r})\n"
        "os.environ.pop('CLAUDE_CONFIG_DIR', None); os.environ.pop('CODEX_HOME', None)\n"
        "sys.argv = ['llm-session', 'list', '--all', '--json']\n"
        "from llm_sessions.cli import app\n"
        "try:\n"
        "    with contextlib.redirect_stdout(io.StringIO()): app()\n"
        "except SystemExit: pass\n"
    )
    mods = loaded_after(code)
    assert "llm_sessions.core.live.monitor" in mods  # the command really ran
    for heavy in ("textual", "sqlmodel", "sqlalchemy", "pydantic"):
        assert heavy not in mods, heavy


def test_prices_and_doctor_import_neither_textual_nor_sqlmodel(tmp_path):
    for command in ("prices", "doctor"):
        code = (
            "import os, sys, io, contextlib\n"
            f"os.environ.update(HOME={str(tmp_path)!r}, LLM_SESSION_HOME={str(tmp_path / 'x')!r})\n"
            "os.environ.pop('CLAUDE_CONFIG_DIR', None); os.environ.pop('CODEX_HOME', None)\n"
            f"sys.argv = ['llm-session', {command!r}, '--json']\n"
            "from llm_sessions.cli import app\n"
            "try:\n"
            "    with contextlib.redirect_stdout(io.StringIO()): app()\n"
            "except SystemExit: pass\n"
        )
        mods = loaded_after(code)
        assert "llm_sessions.core.live.monitor" in mods and "llm_sessions.cli_reports" in mods  # the command really ran
        for heavy in ("textual", "sqlmodel", "sqlalchemy", "pydantic", "psutil"):
            assert heavy not in mods, (command, heavy)
