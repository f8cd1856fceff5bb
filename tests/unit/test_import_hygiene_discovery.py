"""Discovery, estimate and the providers load without Textual (checked in a fresh interpreter)."""

from __future__ import annotations

import subprocess
import sys

MODULES = (
    "llm_sessions.core.live.discovery",
    "llm_sessions.core.live.recognise",
    "llm_sessions.core.accounting.estimate",
    "llm_sessions.core.accounting.providers.gemini",
    "llm_sessions.core.accounting.providers.aider",
    "llm_sessions.core.accounting.providers.cursor",
    "llm_sessions.core.accounting.providers.copilot",
)


def test_core_modules_do_not_import_textual():
    code = (f"import importlib, sys\nfor m in {MODULES!r}: importlib.import_module(m)\n"
            f"print(sorted(m for m in {MODULES!r} if m in sys.modules), 'textual' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == f"{sorted(MODULES)} False"
