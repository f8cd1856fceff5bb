"""The `llm-session` executable: a dispatcher that keeps the hottest commands off Typer's path.

Claude Code runs `llm-session statusline` on every status-bar update, and scripts run
`llm-session list --json`, so those two skip the Typer app (and its import, ~50 ms)
entirely; everything else, `statusline --install`, `--uninstall` and any `list` with
other arguments (`--help`, a typo) included, goes to `llm_sessions.cli`.
"""

from __future__ import annotations

import sys

_CLI_ONLY = frozenset({"--install", "--uninstall", "--help", "-h", "--yes", "-y", "--dry-run"})


def main() -> None:
    argv = sys.argv[1:]
    if argv[:1] == ["statusline"] and not _CLI_ONLY.intersection(argv[1:]):
        from llm_sessions.cli_statusline import run

        sys.exit(run(argv[1:]))
    if argv[:1] == ["list"]:
        from llm_sessions.cli_base import LIST_FLAGS, run_list

        if set(argv[1:]) <= LIST_FLAGS.keys():
            run_list(argv[1:])  # exits
    from llm_sessions.cli import main as cli_main

    cli_main()


if __name__ == "__main__":
    main()
