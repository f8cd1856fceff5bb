"""Run the real dashboard for a terminal test: `python -m tests.terminal.launch PIDS_FILE`.

Exactly what `llm-session` runs (settings from the environment, the store, the scan cache,
export and restart wired by `dashboard.build_app`), with one difference: discovery looks only
at the pids listed in PIDS_FILE, the fake assistants the test started, so the test never sees
(or shows) another process of this machine. The test points HOME and every assistant's
folder at a temporary directory before starting this.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def read_pids(path: Path) -> list[int]:
    try:
        return [int(x) for x in path.read_text().split()]
    except (OSError, ValueError):
        return []


def main(argv: list[str]) -> int:
    from llm_sessions.cli import _context, open_store
    from llm_sessions.dashboard import build_app

    pids_file = Path(argv[1])
    paths, settings = _context()
    env = dict(os.environ)
    store = open_store(paths, settings, None)
    try:
        app = build_app(paths, settings, env, store, pids=lambda: read_pids(pids_file))
        app.run()
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
