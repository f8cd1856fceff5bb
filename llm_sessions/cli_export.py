"""`llm-session export` and `llm-session import`: the resume brief from the command line.

The commands are registered on the main Typer app by `register(app, deps)`. `deps` is a
factory, called only when one of these commands runs, so building the app stays free of
side effects (no paths, no store, no scan at import) and tests pass fakes for everything:
how a session id prefix is resolved, where exports go, how an export is recorded.

Exit codes: 0 done; 1 the work failed (cannot write, not a bundle, cannot launch); 2 the
request was wrong (unknown or ambiguous session, unknown format or section). Errors are one
line on stderr (or a JSON object with --json), never a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from llm_sessions.core import export as exp
from llm_sessions.core.export import digest_for
from llm_sessions.core.models import Session
from llm_sessions.core.restart import RestartError, Tmux, continue_command, launch_argv
from llm_sessions.core.transcript import Digest

EXIT_FAILED = 1
EXIT_USAGE = 2


@dataclass(frozen=True)
class ExportDeps:
    """What the commands need from the rest of the app, injected by the integrator.

    `find_session(prefix)` returns the one session whose id starts with `prefix` and raises
    LookupError (with a message saying "no session" or "ambiguous ...") otherwise.
    """

    find_session: Callable[[str], Session]
    exports_dir: Path
    budget_tokens: int = 8000
    record: exp.Recorder | None = None
    load_digest: Callable[[Session], Digest | None] = digest_for
    git_status: Callable[[str | None], str | None] = exp.git_status
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)


class _Fail(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _finish(as_json: bool, payload: dict[str, Any] | None, text: str | None) -> None:
    if as_json:
        typer.echo(json.dumps({"ok": True, **(payload or {})}, indent=2, ensure_ascii=False))
    elif text is not None:
        typer.echo(text)


def _fail(as_json: bool, exc: _Fail) -> None:
    if as_json:
        typer.echo(json.dumps({"ok": False, "error": str(exc), "exit_code": exc.code}))
    else:
        typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(exc.code)


def parse_sections(values: list[str] | None) -> set[str] | None:
    """`--sections goal,todos --sections files` -> {"goal", "todos", "files"}; None = all."""
    if not values:
        return None
    names = {n.strip() for v in values for n in v.split(",") if n.strip()}
    unknown = names - set(exp.SECTIONS)
    if unknown:
        raise _Fail(f"unknown section(s): {', '.join(sorted(unknown))}; choose from {', '.join(exp.SECTIONS)}", EXIT_USAGE)
    return names


def do_export(
    deps: ExportDeps,
    session_id: str,
    *,
    fmt: str = "md",
    output: str | Path | None = None,
    sections: list[str] | None = None,
    budget: int | None = None,
    redact: bool = True,
    force: bool = False,
) -> tuple[exp.Bundle, list[Path]]:
    """The export command without the CLI around it (also what the wizard's callers reuse)."""
    if fmt not in exp.FORMATS:
        raise _Fail(f"unknown format {fmt!r}; choose md, json or both", EXIT_USAGE)
    wanted = parse_sections(sections)
    if budget is not None and budget <= 0:
        raise _Fail("--budget must be a positive number of tokens", EXIT_USAGE)
    try:
        session = deps.find_session(session_id)
    except LookupError as exc:
        raise _Fail(str(exc.args[0]) if exc.args else f"no session matches {session_id!r}", EXIT_USAGE) from None
    try:
        digest = deps.load_digest(session)
    except exp.BundleError as exc:
        raise _Fail(str(exc), EXIT_FAILED) from None
    bundle = exp.build_bundle(
        session,
        digest,
        sections=wanted,
        budget_tokens=budget or deps.budget_tokens,
        redact=redact,
        git_status=deps.git_status(session.cwd or (digest.cwd if digest else None)),
    )
    try:
        paths = exp.write_bundle(
            bundle, output or deps.exports_dir, fmt, force=force, record=deps.record,  # type: ignore[arg-type]
            folder=True if output is None else None,
        )
    except exp.BundleError as exc:
        raise _Fail(str(exc), EXIT_FAILED) from None
    return bundle, paths


def brief_file(bundle: exp.Bundle, bundle_path: Path, exports_dir: Path) -> Path:
    """A Markdown file holding exactly the bundle's brief, for the shell to `cat`.

    The .md exported beside the .json is reused when it still matches; otherwise the brief is
    written (atomically, 0600) into the exports folder.
    """
    sibling = bundle_path.with_suffix(".md")
    try:
        if sibling.read_text(encoding="utf-8") == bundle.markdown:
            return sibling
    except OSError:
        pass
    target = exp.target_paths(bundle, exports_dir, "md", folder=True)[0][1]
    try:
        if target.read_text(encoding="utf-8") == bundle.markdown:
            return target
    except OSError:
        pass
    return exp.write_bundle(bundle, target, "md", force=True)[0]


def do_import(deps: ExportDeps, path: Path, *, launch: bool = False) -> tuple[exp.Bundle, dict[str, Any]]:
    """Validate a bundle and, with `launch`, start (in tmux) or describe the follow-up session."""
    try:
        bundle = exp.read_bundle(path)
    except exp.BundleError as exc:
        raise _Fail(str(exc), EXIT_FAILED) from None
    info: dict[str, Any] = {}
    if not launch:
        return bundle, info
    try:
        launch_argv(bundle.tool)
    except RestartError as exc:
        raise _Fail(str(exc), EXIT_USAGE) from None
    cwd = bundle.cwd
    if cwd and not os.path.isdir(cwd):
        raise _Fail(f"the session's folder {cwd} does not exist here; cannot launch in it", EXIT_FAILED)
    try:
        brief = brief_file(bundle, Path(path).expanduser(), deps.exports_dir)
    except exp.BundleError as exc:
        raise _Fail(str(exc), EXIT_FAILED) from None
    command = continue_command(bundle.tool, cwd, brief_path=brief)
    info = {"command": command, "brief": str(brief), "launched": False}
    if deps.env.get("TMUX"):
        tmux = Tmux.from_env("", deps.env)
        argv = tmux.argv("new-window", "-P", "-F", "#{pane_id}", "-n", f"{bundle.tool}-resume")
        if cwd:
            argv += ["-c", cwd]
        argv.append(command)
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            raise _Fail(f"tmux new-window failed: {exc}", EXIT_FAILED) from None
        if done.returncode != 0:
            raise _Fail(f"tmux new-window failed: {done.stderr.strip() or done.returncode}", EXIT_FAILED)
        info.update(launched=True, tmux_pane=done.stdout.strip())
    return bundle, info


def register(app: typer.Typer, deps: Callable[[], ExportDeps]) -> None:
    """Add `export` and `import` to the main app; `deps()` is called when a command runs."""

    @app.command("export")
    def export_cmd(
        session_id: Annotated[str, typer.Argument(metavar="ID", help="session id or a unique prefix of it")],
        fmt: Annotated[str, typer.Option("--format", "-f", help="md, json or both")] = "md",
        output: Annotated[str | None, typer.Option("--output", "-o", help="file, or folder (existing or ending in /); default: the exports folder")] = None,
        sections: Annotated[list[str] | None, typer.Option("--sections", "-s", help=f"comma-separated: {','.join(exp.SECTIONS)}")] = None,
        budget: Annotated[int | None, typer.Option("--budget", help="token budget of the brief")] = None,
        no_redact: Annotated[bool, typer.Option("--no-redact", help="keep secrets in the brief (not recommended)")] = False,
        force: Annotated[bool, typer.Option("--force", help="overwrite existing files")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="machine-readable result")] = False,
    ) -> None:
        """Export a resume brief of a session for a fresh one (secrets redacted)."""
        try:
            bundle, paths = do_export(
                deps(), session_id, fmt=fmt, output=output, sections=sections, budget=budget,
                redact=not no_redact, force=force,
            )
        except _Fail as exc:
            _fail(as_json, exc)
            return
        payload = {
            "session": bundle.session_id,
            "tool": bundle.tool,
            "paths": [str(p) for p in paths],
            "sections": list(bundle.sections),
            "dropped": list(bundle.dropped),
            "estimated_tokens": bundle.estimated_tokens,
            "budget_tokens": bundle.budget_tokens,
            "redactions": bundle.redactions,
            "redacted": bundle.redacted,
        }
        lines = [f"wrote {p}" for p in paths]
        lines.append(
            f"~{bundle.estimated_tokens} tokens (budget {bundle.budget_tokens}), "
            f"{bundle.redactions} secret(s) redacted" + ("" if bundle.redacted else " (redaction OFF)")
        )
        if bundle.dropped:
            lines.append("dropped to fit the budget: " + ", ".join(bundle.dropped))
        _finish(as_json, payload, "\n".join(lines))

    @app.command("import")
    def import_cmd(
        path: Annotated[Path, typer.Argument(help="a JSON bundle written by export")],
        launch: Annotated[bool, typer.Option("--launch", help="start the same assistant in the bundle's folder seeded with the brief")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="machine-readable result")] = False,
    ) -> None:
        """Validate a bundle and print its brief; --launch continues in a new session."""
        try:
            bundle, info = do_import(deps(), path, launch=launch)
        except _Fail as exc:
            _fail(as_json, exc)
            return
        if as_json:
            _finish(True, {"bundle": bundle.to_dict(), **({"launch": info} if launch else {})}, None)
            return
        out = [bundle.markdown.rstrip("\n")]
        if launch and info.get("launched"):
            out.append(f"\nstarted {bundle.tool} in tmux pane {info.get('tmux_pane')}: {info['command']}")
        elif launch:
            out.append(f"\nto continue, run:\n{info['command']}")
        typer.echo("\n".join(out))


__all__ = ["ExportDeps", "digest_for", "do_export", "do_import", "parse_sections", "register"]
