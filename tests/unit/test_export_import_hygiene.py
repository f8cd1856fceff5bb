"""The export/restart core never loads Textual; the export screens never load psutil & co."""

from __future__ import annotations

import json
import subprocess
import sys


def loaded_after(imports: list[str]) -> set[str]:
    code = (
        "import json, sys\n"
        + "".join(f"import {m}\n" for m in imports)
        + "print(json.dumps(sorted({n.split('.')[0] for n in sys.modules})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=".")
    return set(json.loads(out.stdout))


def test_core_modules_do_not_import_textual():
    mods = loaded_after([
        "llm_sessions.core.export.transcript", "llm_sessions.core.export.digest", "llm_sessions.core.export.redact",
        "llm_sessions.core.export.build", "llm_sessions.core.actions.restart",
    ])
    assert "llm_sessions" in mods
    assert "textual" not in mods


def test_export_screens_do_not_import_machine_libraries():
    mods = loaded_after(["llm_sessions.ui.screens.export", "llm_sessions.ui.screens.restart"])
    assert "textual" in mods
    assert not mods & {"psutil", "watchfiles", "sqlmodel"}


def test_cli_export_module_is_cheap_to_import():
    mods = loaded_after(["llm_sessions.cli_export"])
    assert "typer" in mods
    assert not mods & {"textual", "psutil", "sqlmodel"}
