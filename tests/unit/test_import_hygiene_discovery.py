"""The discovery core and its providers load without Textual (checked in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys


def test_core_modules_do_not_import_textual():
    code = (
        "import sys, llm_sessions.core.discovery, llm_sessions.core.recognise;"
        "print('textual' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
