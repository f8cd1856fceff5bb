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


#: The dataclasses a `list` may build: the shared models, the settings and the app paths.
#: Creating a frozen, slotted dataclass costs ~0.5-1.3 ms at import on Python 3.11 (its
#: methods are compiled from source), a msgspec.Struct ~20 us: private carriers on the
#: command path are Structs (docs/benchmarks.md, Round 4 warm2).
LIST_PATH_DATACLASSES = {
    "llm_sessions.config.Field", "llm_sessions.config.Settings", "llm_sessions.paths.AppPaths",
    *(f"llm_sessions.core.models.{name}" for name in (
        "ContextFill", "HealthComponent", "HealthReport", "LimitWindow", "ProcessInfo", "RateLimit", "Session",
        "Snapshot", "TurnMark", "Usage", "WindowShare")),
}


def test_list_path_builds_no_dataclass_beyond_the_shared_models(tmp_path):
    code = (
        "import os, sys, io, contextlib, dataclasses\n"
        f"os.environ.update(HOME={str(tmp_path)!r}, LLM_SESSION_HOME={str(tmp_path / 'x')!r})\n"
        "os.environ.pop('CLAUDE_CONFIG_DIR', None); os.environ.pop('CODEX_HOME', None)\n"
        "sys.argv = ['llm-session', 'list', '--all', '--json']\n"
        "from llm_sessions.entry import main\n"
        "try:\n"
        "    with contextlib.redirect_stdout(io.StringIO()): main()\n"
        "except SystemExit: pass\n"
        "for m, mod in list(sys.modules.items()):\n"
        "    if m.startswith('llm_sessions'):\n"
        "        for n, v in vars(mod).items():\n"
        "            if isinstance(v, type) and v.__module__ == m and dataclasses.is_dataclass(v):\n"
        "                print(f'dataclass:{m}.{n}')\n"
    )
    out = loaded_after(code)
    assert "llm_sessions.core.live.monitor" in out and "llm_sessions.core.accounting.providers.copilot" in out  # it ran
    built = {word.removeprefix("dataclass:") for word in out if word.startswith("dataclass:")}
    assert built, "no dataclass seen: the check itself is broken"
    assert built <= LIST_PATH_DATACLASSES, sorted(built - LIST_PATH_DATACLASSES)
