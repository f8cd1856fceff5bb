"""The `llm-session` command: the Typer app, its global options, and the entry point.

Start-up time is part of every answer, so this module imports only Typer at the top; each
command lives in the module of what it serves and imports the parts of the core it needs
when it runs, so only the dashboard imports Textual and only commands that keep history
import SQLModel:

- `cli_sessions`   the dashboard (`monitor`, `demo`), `list`, `health`, `history`
- `cli_accounting` `limits`, `prices`, `doctor`
- `cli_team`       `agent` (publish this machine) and `team` (read every host)
- `cli_export`     `export` and `import`, registered only when one of them (or help) runs
- `cli_config`     `config init|show|path` and `statusline` (with `--install`)
- `cli_base`       what every command shares, Typer-free (the executable runs plain
                   `list` from there without this module; see `entry.py`)

Every failure the user can cause (a broken config, an unknown session id, an unreadable
database) ends in one line on stderr and a non-zero exit code, never a traceback;
unexpected errors are logged with their traceback to the log file, whose path the one-line
message names. With `--json` the same failure is `{"ok": false, "error": ..., "exit_code": N}`
on stdout (and the same exit code), usage errors included, so a script never has to parse
stderr.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from llm_sessions import __version__, cli_accounting, cli_config, cli_sessions, cli_team
from llm_sessions.cli_base import (  # noqa: F401  (names tests and cli_team reach through this module)
    UserError,
    _context,
    _emit_json,
    _LazyFileHandler,
    _table,
    json_error,
    run_guarded,
    start,
)
from llm_sessions.cli_options import DbOpt
from llm_sessions.cli_store import global_options, open_store, store_url  # noqa: F401  (as above)

#: Set by the script of `--install-completion`/`--show-completion` when the shell asks for
#: completions. Typer imports its completion code whether or not completion is on, so
#: offering it costs start-up nothing (measured; see README "Shell completion").
COMPLETE_VAR = "_LLM_SESSION_COMPLETE"

app = typer.Typer(
    name="llm-session",
    help="Every AI coding session on this machine: exact tokens, context fill, cost and health.",
    no_args_is_help=False,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


@app.callback(invoke_without_command=True)
def root(
    ctx: typer.Context,
    demo: Annotated[bool, typer.Option("--demo", help="Open the dashboard on simulated sessions.")] = False,
    team: Annotated[
        bool, typer.Option("--team", help="Open the dashboard over the shared store: every host's sessions.")
    ] = False,
    db: DbOpt = None,
    version: Annotated[bool, typer.Option("--version", help="Print the version and exit.")] = False,
) -> None:
    """With no command: open the dashboard."""
    if version:
        sys.stdout.write(f"llm-session {__version__}\n")
        raise typer.Exit(0)
    global_options["db"] = db
    if ctx.invoked_subcommand is None:
        cli_sessions.dashboard(demo=demo, team=team)


# The order here is the order of `llm-session --help`.
cli_sessions.register(app)
cli_config.register(app)  # statusline (the `config` group is listed last whatever its place)
cli_accounting.register(app)
cli_sessions.register_history(app)
cli_team.register(app)


def hoist_global_options(argv: list[str]) -> list[str]:
    """Move `--db URL` / `--db=URL` given after the command to before it.

    `--db` is a global option (the root callback reads it), so every command that touches
    the store honours it, yet users type it after the command too: `history --db URL`.
    Arguments after `--` are left alone.
    """
    head: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            rest.extend(argv[i:])
            break
        if arg == "--db" and i + 1 < len(argv):
            head += argv[i : i + 2]
            i += 2
            continue
        if arg.startswith("--db="):
            head.append(arg)
        else:
            rest.append(arg)
        i += 1
    return head + rest


def _command_name(argv: list[str]) -> str | None:
    """The first word that is not an option or an option's value (after hoisting)."""
    i = 0
    while i < len(argv):
        if argv[i] == "--db":
            i += 2
            continue
        if not argv[i].startswith("-"):
            return argv[i]
        if argv[i] in ("--help", "-h"):
            return argv[i]
        i += 1
    return None


def _run_app(as_json: bool) -> None:
    """Run Typer, turning its own ways of stopping into run_guarded's (exit, interrupt, UserError)."""
    try:
        # the program's name, also under `python -m llm_sessions`: usage lines and the
        # completion script name the command people type, and its variable is COMPLETE_VAR
        code = app(standalone_mode=False, prog_name="llm-session")
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        raise KeyboardInterrupt from None
    except Exception as exc:
        # a usage error (Typer's vendored click, so recognised by shape): its own words, or the envelope
        if not (hasattr(exc, "format_message") and hasattr(exc, "show")):
            raise
        code = getattr(exc, "exit_code", 2)
        if as_json:
            raise UserError(exc.format_message(), code) from None
        exc.show()
        sys.exit(code)
    sys.exit(code if isinstance(code, int) else 0)


def main() -> None:
    """Entry point: run Typer, turning every failure into one line (or one JSON object) and an exit code."""
    start()
    sys.argv[1:] = hoist_global_options(sys.argv[1:])
    # only these pay for importing the export code; the shell's completion must see every command
    if _command_name(sys.argv[1:]) in ("export", "import", "--help", "-h") or COMPLETE_VAR in os.environ:
        from llm_sessions.cli_export import register

        register(app)
    as_json = "--json" in sys.argv[1:]
    run_guarded(lambda: _run_app(as_json), as_json)
