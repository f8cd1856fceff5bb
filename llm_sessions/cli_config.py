"""The commands that change or show the user's setup: `config init|show|path` and `statusline --install`.

`statusline` without `--install`/`--uninstall` is Claude Code calling us on every status
update; the executable (`entry.py`) answers that straight from `cli_statusline` without
Typer, and this command is the same answer for every other spelling. Installing edits
Claude Code's settings.json, so it shows the change first, asks (or needs `--yes`), and
keeps a backup.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from llm_sessions.cli_base import UserError, _context, _emit_json
from llm_sessions.cli_options import JsonOpt

config_app = typer.Typer(help="Show or create the configuration file.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add `statusline` to the app and `config` as its group (Typer lists groups last)."""
    app.command(context_settings={"ignore_unknown_options": True})(statusline)
    app.add_typer(config_app, name="config")


def _program() -> list[str]:
    """How Claude Code should start us: this executable's absolute path when we run as
    `llm-session`, else `llm-session` from PATH, else this Python with `-m llm_sessions`."""
    import shutil

    argv0 = os.path.abspath(sys.argv[0])
    if os.path.basename(argv0) == "llm-session" and os.access(argv0, os.X_OK):
        return [argv0]
    found = shutil.which("llm-session")
    return [found] if found else [sys.executable, "-m", "llm_sessions"]


def statusline(
    install: Annotated[bool, typer.Option("--install", help="Add the status line to Claude Code's settings.json.")] = False,
    uninstall: Annotated[
        bool, typer.Option("--uninstall", help="Take it out again (restores a chained command).")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking.")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Show the change and stop.")] = False,
    chain: Annotated[
        str | None, typer.Option("--chain", help="A status line command to run first (set by --install).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Claude Code's status line: reads its JSON on stdin and prints context, tokens, cost,
    health and the 5-hour limit in one line. --install adds it to Claude Code."""
    if not install and not uninstall:
        from llm_sessions.cli_statusline import run

        raise typer.Exit(run(["--chain", chain] if chain else []))
    if install and uninstall:
        raise UserError("choose one of --install and --uninstall", code=2)
    from llm_sessions.core.actions import statusline_install as si

    path = si.settings_path(os.environ)
    try:
        plan = si.plan_install(path, _program()) if install else si.plan_uninstall(path)
    except si.InstallError as exc:
        raise UserError(str(exc), code=2) from None
    out = {"settings": str(path), "change": plan.message, "before": plan.before, "after": plan.after,
           "applied": False, "backup": None}
    if not plan.changes or dry_run:
        if as_json:
            _emit_json(out)
        else:
            sys.stdout.write(si.describe(plan) + "\n")
        return
    if not as_json:
        sys.stdout.write(si.describe(plan) + "\n")
    if not yes:
        if not sys.stdin.isatty():
            raise UserError("not applied: confirm with --yes (stdin is not a terminal to ask on)", code=2)
        if not typer.confirm("Apply this change?", default=False):
            raise UserError("not applied", code=1)
    try:
        backup = si.apply(plan)
    except OSError as exc:
        raise UserError(f"cannot write {path}: {exc}", code=3) from None
    out.update(applied=True, backup=str(backup) if backup else None)
    if as_json:
        _emit_json(out)
        return
    sys.stdout.write(f"wrote {path}" + (f" (backup: {backup})" if backup else "") + "\n")
    if install:
        sys.stdout.write("Claude Code shows it from its next status update.\n")


@config_app.command("init")
def config_init(
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Write config.toml with every default, commented."""
    from llm_sessions.config import ConfigError, write_default_config
    from llm_sessions.paths import app_paths

    path = app_paths().config_file
    try:
        wrote = write_default_config(path, force=force)
    except ConfigError as exc:  # a read-only or full disk
        raise UserError(str(exc), code=1) from None
    if not wrote:
        raise UserError(f"{path} exists; use --force to overwrite it", code=1)
    if as_json:
        _emit_json({"wrote": str(path)})
    else:
        sys.stdout.write(f"wrote {path}\n")


@config_app.command("show")
def config_show(as_json: JsonOpt = False) -> None:
    """The effective settings and where each value came from."""
    from llm_sessions.config import settings_rows

    paths, settings = _context()
    rows = settings_rows(settings)
    if as_json:
        _emit_json({"file": str(paths.config_file), "exists": paths.config_file.exists(), "settings": rows})
        return
    note = "" if paths.config_file.exists() else " (not created; defaults apply)"
    sys.stdout.write(f"config file: {paths.config_file}{note}\n")
    width = max(len(r["key"]) for r in rows)
    for r in rows:
        sys.stdout.write(f"{r['key']:<{width}}  {r['value']!r:<12}  {r['source']}\n")


@config_app.command("path")
def config_path(as_json: JsonOpt = False) -> None:
    """Print where the config file lives."""
    from llm_sessions.paths import app_paths

    path = app_paths().config_file
    if as_json:
        _emit_json({"path": str(path), "exists": path.exists()})
    else:
        sys.stdout.write(f"{path}\n")
