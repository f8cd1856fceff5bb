"""`llm-session export` and `llm-session import`: the resume brief from the command line.

The commands are registered on the main Typer app by `register(app, deps)`. `deps` is a
factory, called only when one of these commands runs, so building the app stays free of
side effects (no paths, no store, no scan at import) and tests pass fakes for everything:
how a session id prefix is resolved, where exports go, how an export is recorded.

Exit codes: 0 done; 1 the work failed (cannot write, not a bundle, cannot launch); 2 the
request was wrong (unknown or ambiguous session, unknown format or section, a launch that was
not confirmed). Errors are one line on stderr (or a JSON object with --json), never a
traceback.

A bundle may come from someone else, so `import --launch` treats it as untrusted: its
folder must be a plain path, its brief reaches the assistant after `--` through a file (so
it is never an option), the brief is written to a new file (never over one the user may have
edited), and inside tmux the brief and the exact command are shown and one key (y) starts it.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from llm_sessions.cli_base import json_error
from llm_sessions.core.actions.launch import continue_command, launch_argv
from llm_sessions.core.actions.targets import TargetError, Tmux, argv_text, safe_path, tmux_literal
from llm_sessions.core.export.brief import SECTIONS
from llm_sessions.core.export.build import build_bundle, digest_for
from llm_sessions.core.export.bundle import FORMATS, Bundle, BundleError, Recorder, read_bundle, target_paths, write_bundle, write_new
from llm_sessions.core.export.digest import Digest
from llm_sessions.core.export.git_status import git_status
from llm_sessions.core.inert import inert
from llm_sessions.core.models import Session

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
    record: Recorder | None = None
    load_digest: Callable[[Session], Digest | None] = digest_for
    git_status: Callable[[str | None], str | None] = git_status
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
        json_error(str(exc), exc.code)  # the one error shape of every --json command
    else:
        typer.echo(f"error: {inert(str(exc))}", err=True)
    raise typer.Exit(exc.code)


def parse_sections(values: list[str] | None) -> set[str] | None:
    """`--sections goal,todos --sections files` -> {"goal", "todos", "files"}; None = all."""
    if not values:
        return None
    names = {n.strip() for v in values for n in v.split(",") if n.strip()}
    unknown = names - set(SECTIONS)
    if unknown:
        raise _Fail(f"unknown section(s): {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}", EXIT_USAGE)
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
) -> tuple[Bundle, list[Path]]:
    """The export command without the CLI around it (also what the wizard's callers reuse)."""
    if fmt not in FORMATS:
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
    except BundleError as exc:
        raise _Fail(str(exc), EXIT_FAILED) from None
    bundle = build_bundle(
        session,
        digest,
        sections=wanted,
        budget_tokens=budget or deps.budget_tokens,
        redact=redact,
        git_status=deps.git_status(session.cwd or (digest.cwd if digest else None)),
    )
    try:
        paths = write_bundle(
            bundle, output or deps.exports_dir, fmt, force=force, record=deps.record,  # type: ignore[arg-type]
            folder=True if output is None else None,
        )
    except BundleError as exc:
        raise _Fail(str(exc), EXIT_FAILED) from None
    return bundle, paths


def brief_file(bundle: Bundle, bundle_path: Path, exports_dir: Path) -> Path:
    """A Markdown file holding exactly the bundle's brief, for the assistant to read.

    The .md exported beside the .json is reused only when it still holds that very brief;
    one the user edited is left alone (and not used: what launches is what was shown). Else
    the brief goes to a new file in the exports folder, numbered if the name is taken, so
    nothing is ever overwritten.
    """
    data = inert(bundle.markdown, multiline=True).encode("utf-8")
    sibling = bundle_path.with_suffix(".md")
    try:
        if sibling.read_bytes() == data:
            return sibling
    except OSError:
        pass
    return write_new(target_paths(bundle, exports_dir, "md", folder=True)[0][1], data)


Confirm = Callable[[Bundle, str], bool]


def do_import(
    deps: ExportDeps, path: Path, *, launch: bool = False, confirm: Confirm | None = None
) -> tuple[Bundle, dict[str, Any]]:
    """Validate a bundle and, with `launch`, start (in tmux) or describe the follow-up session.

    Inside tmux nothing starts unless `confirm(bundle, question)` says yes; `confirm=None`
    means the caller already has the user's consent (`--yes`).
    """
    try:
        bundle = read_bundle(path)
    except BundleError as exc:
        raise _Fail(str(exc), EXIT_FAILED) from None
    info: dict[str, Any] = {}
    if not launch:
        return bundle, info
    try:
        launch_argv(bundle.tool)
        cwd = safe_path(bundle.cwd, "bundle's folder")
    except TargetError as exc:
        raise _Fail(str(exc), EXIT_USAGE) from None
    if cwd and not os.path.isdir(cwd):
        raise _Fail(f"the session's folder {inert(cwd)} does not exist here; cannot launch in it", EXIT_FAILED)
    try:
        brief = brief_file(bundle, Path(path).expanduser(), deps.exports_dir)
    except BundleError as exc:
        raise _Fail(str(exc), EXIT_FAILED) from None
    command = continue_command(bundle.tool, cwd, brief_path=brief)
    argv = launch_argv(bundle.tool, brief_path=brief)
    info = {"command": command, "brief": str(brief), "launched": False}
    sibling = Path(path).expanduser().with_suffix(".md")
    if sibling.exists() and sibling != brief:
        info["note"] = f"{sibling} differs from the bundle's brief and was left as it is; the brief shown above is what starts"
    if not deps.env.get("TMUX"):
        return bundle, info
    question = (
        f"Start {bundle.tool} in a new tmux window" + (f" in {inert(cwd)}" if cwd else "")
        + f", seeded with the brief above ({brief})?\n  {inert(command)}"
    )
    if confirm is not None and not confirm(bundle, question):
        info["declined"] = True
        return bundle, info
    tmux = Tmux.from_env(deps.env)
    try:
        pane = tmux.run(
            "new-window", "-P", "-F", "#{pane_id}", "-n", f"{bundle.tool}-resume",
            *(["-c", tmux_literal(cwd)] if cwd else []), *argv,
        ).strip()
    except TargetError as exc:
        raise _Fail(str(exc), EXIT_FAILED) from None
    info.update(launched=True, tmux_pane=pane, argv=argv_text(argv))
    return bundle, info


def can_ask() -> bool:
    """A person at a terminal can answer (stdin and stdout are terminals)."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def read_key(prompt: str) -> str:
    """Show `prompt`, then read one key press without waiting for Enter.

    The terminal goes to cbreak mode *before* the prompt is shown and without flushing
    input, so a key pressed the moment the prompt appears is not lost; the mode is restored.
    """
    import termios
    import tty

    fd = sys.stdin.fileno()
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd, termios.TCSANOW)
        sys.stdout.write(prompt)
        sys.stdout.flush()
        return os.read(fd, 1).decode("utf-8", "replace")
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def ask_one_key(question: str) -> bool:
    """Ask on the terminal and read one key: y starts, anything else does not."""
    try:
        key = read_key(f"\n{question}\n[y/N] ")
    except (EOFError, KeyboardInterrupt, OSError, ImportError):
        key = ""
    sys.stdout.write((key if key.isprintable() else "") + "\n")
    return key in ("y", "Y")


def default_deps() -> ExportDeps:
    """What `export` and `import` need from this machine, built only when one of them runs:
    sessions found by one poll (made on the first lookup), the configured exports folder and
    budget, and exports recorded in the store's history when the store can be opened."""
    from llm_sessions.cli_base import UserError, _context, _snapshot, log
    from llm_sessions.cli_store import open_store
    from llm_sessions.core.accounting.report import find_session

    paths, settings = _context()
    found: dict[str, Any] = {}

    def find(prefix: str) -> Session:
        if "snap" not in found:
            found["snap"], _ = _snapshot(processes=True, progress=False)
        return find_session(found["snap"].sessions, prefix)

    def not_recorded(path: Path, exc: Exception) -> None:
        log.warning("export %s not recorded in the store: %s", path, exc)
        sys.stderr.write(f"llm-session: warning: {path} was written but not recorded in history: {exc}\n")

    def record(session_id: str, path: Path, fmt: str, redactions: int, tokens: int) -> None:
        # History is a bonus: a finished export never fails because the store is busy or down.
        from llm_sessions.core.store import StoreError

        try:
            store = open_store(paths, settings)
        except UserError as exc:
            not_recorded(path, exc)
            return
        try:
            store.record_export(session_id, path, fmt, redactions, tokens)
        except StoreError as exc:
            not_recorded(path, exc)
        finally:
            store.close()

    return ExportDeps(find_session=find, exports_dir=paths.exports_dir, budget_tokens=settings.export_budget_tokens,
                      record=record)


def register(app: typer.Typer, deps: Callable[[], ExportDeps] = default_deps) -> None:
    """Add `export` and `import` to the main app; `deps()` is called when a command runs."""

    @app.command("export")
    def export_cmd(
        session_id: Annotated[str, typer.Argument(metavar="ID", help="session id or a unique prefix of it")],
        fmt: Annotated[str, typer.Option("--format", "-f", help="md, json or both")] = "md",
        output: Annotated[
            str | None, typer.Option("--output", "-o", help="file, or folder (existing or ending in /); default: the exports folder")
        ] = None,
        sections: Annotated[list[str] | None, typer.Option("--sections", "-s", help=f"comma-separated: {','.join(SECTIONS)}")] = None,
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
        launch: Annotated[
            bool, typer.Option("--launch", help="start the same assistant in the bundle's folder seeded with the brief")
        ] = False,
        yes: Annotated[bool, typer.Option("--yes", "-y", help="with --launch in tmux: start without asking")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="machine-readable result")] = False,
    ) -> None:
        """Validate a bundle and print its brief; --launch continues in a new session."""
        shown: list[bool] = []

        def confirm(bundle: Bundle, question: str) -> bool:
            # The brief is shown before the question, so the answer is about what starts.
            if as_json or not can_ask():
                raise _Fail("inside tmux, import --launch asks before it starts anything; "
                            "run it in a terminal, or pass --yes to start without asking", EXIT_USAGE)
            typer.echo(inert(bundle.markdown.rstrip("\n"), multiline=True))
            shown.append(True)
            return ask_one_key(question)

        try:
            bundle, info = do_import(deps(), path, launch=launch, confirm=None if yes else confirm)
        except _Fail as exc:
            _fail(as_json, exc)
            return
        if as_json:
            _finish(True, {"bundle": bundle.to_dict(), **({"launch": info} if launch else {})}, None)
            return
        out = [] if shown else [inert(bundle.markdown.rstrip("\n"), multiline=True)]
        if launch and info.get("launched"):
            out.append(f"\nstarted {bundle.tool} in tmux pane {info.get('tmux_pane')}: {inert(info['command'])}")
        elif launch and info.get("declined"):
            out.append(f"not started. To continue yourself, run:\n{inert(info['command'])}")
        elif launch:
            out.append(f"\nto continue, run:\n{inert(info['command'])}")
        if launch and info.get("note"):
            out.append(f"note: {inert(info['note'])}")
        typer.echo("\n".join(out))


__all__ = ["ExportDeps", "default_deps", "digest_for", "do_export", "do_import", "parse_sections", "register"]
