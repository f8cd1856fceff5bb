"""Restarting a session that has degraded: export first, then compact, start fresh or resume.

Every restart is a short list of steps planned up front, each with a sentence that says
exactly what it will do, so the UI (or the CLI) can show the plan and ask before anything
destructive runs. The first step always exports a brief, so whatever happens next nothing is
lost.

Nothing from the transcript is ever typed into a terminal as a command line: a typed line is
read by the terminal before the shell quotes protect it (a Ctrl-U in a folder name erases
what came before it). Inside tmux the new assistant is started by tmux itself from an argv,
in the session's folder (`-c`, with `#` doubled because tmux expands that option as a
format): `respawn-pane` when the assistant is the pane's own process, else a new window next
to the pane once the old assistant has stopped. The brief reaches the assistant through a
file that a fixed script reads (`sh -c 'exec "$1" -- "$(cat -- "$2")"'`), after `--`, so it
can never be read as an option. Outside tmux the assistant is stopped and the exact command
to continue is returned for the user to run. Folders and ids with control characters are
refused, never escaped into something else.

Stopping is SIGTERM only, to the processes the plan names: the session's process and the
descendants discovery recorded, each fixed with its start time when the plan is made and
signalled through psutil, which re-checks that time, and only if it belongs to this user.
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from llm_sessions.core.actions.launch import RestartError, continue_command, launch_argv, launcher, start_line
from llm_sessions.core.actions.pane import type_compact
from llm_sessions.core.actions.targets import (
    TargetError,
    TargetGone,
    Tmux,
    safe_id,
    safe_path,
    session_processes,
    tmux_literal,
    verify_pane,
)
from llm_sessions.core.export.bundle import Bundle, Recorder, target_paths, write_bundle
from llm_sessions.core.inert import inert
from llm_sessions.core.models import ProcessInfo, Session

log = logging.getLogger(__name__)

Mode = Literal["compact", "fresh", "resume"]
MODES: tuple[str, ...] = ("compact", "fresh", "resume")
MODE_LABELS: dict[str, str] = {
    "compact": "Compact in place (/compact)",
    "fresh": "Start a fresh session seeded with the brief",
    "resume": "Restart and resume the same session",
}
# Linux caps one argv string at 128 KiB; a brief must fit in it to become the prompt.
MAX_BRIEF_BYTES = 120_000


@dataclass(frozen=True)
class Step:
    """One thing a restart does; `description` is shown before `run` is called."""

    key: Literal["export", "compact", "terminate", "launch", "respawn", "command"]
    description: str
    destructive: bool
    run: Callable[[], str] = field(compare=False, repr=False)


@dataclass(frozen=True)
class StepResult:
    step: Step
    ok: bool
    message: str
    skipped: bool = False


@dataclass(frozen=True)
class RestartPlan:
    session_id: str
    tool: str
    mode: Mode
    where: Literal["tmux", "terminal"]
    steps: tuple[Step, ...]
    brief_path: Path
    continue_command: str | None = None

    def describe(self) -> list[str]:
        return [f"{i}. {s.description}" for i, s in enumerate(self.steps, 1)]


def stop_processes(procs: tuple[Any, ...], timeout: float = 10.0) -> str:
    """SIGTERM exactly `procs` (psutil.Process objects fixed when the plan was made) and wait.

    psutil refuses to signal a Process whose pid now belongs to another start time, so a
    pid reused since the plan was shown is never hit. Raises RestartError when any of them
    outlives `timeout`: starting a second assistant on top of a live one would have two
    sessions fight over one pane.
    """
    import psutil

    sent = []
    for proc in procs:
        try:
            proc.send_signal(signal.SIGTERM)
            sent.append(proc)
        except psutil.NoSuchProcess:
            continue  # exited, or reused: either way not ours to signal any more
        except psutil.Error as exc:
            raise RestartError(f"not allowed to signal pid {proc.pid}: {exc}") from None
    if not sent:
        return f"pid {', '.join(str(p.pid) for p in procs)} had already exited"
    _gone, alive = psutil.wait_procs(sent, timeout=timeout)
    if alive:
        raise RestartError(
            f"pid {', '.join(str(p.pid) for p in alive)} still running {timeout:g}s after SIGTERM; "
            "not starting a new session on top of it"
        )
    return f"sent SIGTERM to pid {', '.join(str(p.pid) for p in sent)}; it exited"


def terminate(process: ProcessInfo, timeout: float = 10.0) -> str:
    """Stop a session's processes now (head and recorded descendants), checked as above."""
    try:
        procs = session_processes(process)
    except TargetGone as exc:
        return str(exc)
    return stop_processes(procs, timeout)


def _victims(proc: ProcessInfo | None) -> tuple[Any, ...]:
    if proc is None:
        return ()
    try:
        return session_processes(proc)
    except TargetGone:
        return ()


def _pids_text(procs: tuple[Any, ...]) -> str:
    head, rest = procs[0].pid, [p.pid for p in procs[1:]]
    if not rest:
        return f"pid {head}"
    return f"pid {head} and its child process{'es' if len(rest) > 1 else ''} {', '.join(map(str, rest))}"


def plan_restart(
    session: Session,
    mode: Mode,
    bundle: Bundle,
    *,
    exports_dir: Path,
    tmux: Tmux | None = None,
    record: Recorder | None = None,
    term_timeout: float = 10.0,
) -> RestartPlan:
    """Plan the steps of a restart; nothing runs until each Step's `run` is called.

    `tmux` is the server of the session's pane (`session.process.tmux_pane`), None outside
    tmux. The brief is written as both Markdown and JSON into `exports_dir`; the Markdown one
    seeds a fresh session. The processes a stop step will signal are fixed here, so the
    dialog names exactly those.
    """
    if mode not in MODES:
        raise RestartError(f"unknown restart mode {inert(str(mode))!r}; choose compact, fresh or resume")
    if mode != "compact":
        launcher(session.tool)  # unsupported assistants fail here, before any step runs
    cwd = safe_path(session.cwd or bundle.cwd, "session's folder")
    resume_id = safe_id(session.id, "session id") if mode == "resume" else None
    if mode == "fresh" and len(bundle.markdown.encode("utf-8")) > MAX_BRIEF_BYTES:
        raise RestartError(
            f"the brief is {len(bundle.markdown.encode('utf-8')):,} bytes, more than a command line can carry; "
            "export it with a smaller budget"
        )
    targets = target_paths(bundle, exports_dir, "both", folder=True)
    brief_path = targets[0][1]
    line = continue_command(session.tool, cwd, brief_path=None if resume_id else brief_path, resume_id=resume_id)
    argv = launch_argv(session.tool, brief_path=None if resume_id else brief_path, resume_id=resume_id)
    shown = inert(start_line(session.tool, None if resume_id else brief_path, resume_id))

    def do_export() -> str:
        # The wizard may have written this very bundle a moment ago ("restart with it"):
        # identical files are kept; anything else in the way is an error, never overwritten.
        done: list[tuple[str, Path]] = []
        todo: list[tuple[str, Path]] = []
        for kind, path in targets:
            data = (bundle.markdown if kind == "md" else bundle.to_json()).encode("utf-8")
            try:
                same = path.read_bytes() == data
            except OSError:
                same = False
            (done if same else todo).append((kind, path))
        written = [write_bundle(bundle, path, kind, record=record)[0] for kind, path in todo]  # type: ignore[arg-type]
        parts = []
        if written:
            parts.append("wrote " + ", ".join(str(p) for p in written))
        if done:
            parts.append("already exported " + ", ".join(str(p) for _k, p in done))
        return "; ".join(parts)

    steps: list[Step] = [
        Step("export", f"Export the brief to {brief_path} (and .json beside it)", False, do_export)
    ]
    proc = session.process
    pane = proc.tmux_pane if proc else None
    victims = _victims(proc) if mode != "compact" else ()
    tool = session.tool

    def stop_step(where: str = "") -> Step:
        return Step(
            "terminate", f"Stop {tool}{where} (SIGTERM to {_pids_text(victims)})", True,
            lambda: stop_processes(victims, term_timeout),
        )

    if tmux is None or not pane:
        if mode == "compact":
            raise RestartError("sending /compact needs the session's tmux pane; type /compact in its terminal")
        if victims:
            steps.append(stop_step())
        steps.append(Step("command", f"Show the command to continue: {inert(line)}", False, lambda: line))
        return RestartPlan(session.id, tool, mode, "terminal", tuple(steps), brief_path, line)

    if mode == "compact":
        steps.append(Step("compact", f"Type /compact into tmux pane {pane}", True, lambda: type_compact(tmux, proc)))
        return RestartPlan(session.id, tool, mode, "tmux", tuple(steps), brief_path, None)

    what = "resuming the same session" if resume_id else "seeded with the brief"
    start_dir = ["-c", tmux_literal(cwd)] if cwd else []
    where_text = f" in {inert(cwd)}" if cwd else ""
    try:
        pane_pid = tmux.pane_pid(pane)
    except TargetError:
        pane_pid = None
    head = next((p for p in victims if p.pid == pane_pid), None)
    if head is not None:
        # The assistant *is* the pane's process: stopping it would close the pane, so let
        # tmux replace it in place, once the pane is checked to still run it.
        def respawn() -> str:
            verify_pane(tmux, proc, doing="respawning")
            if tmux.pane_pid(pane) != head.pid or not head.is_running():
                raise RestartError(f"tmux pane {pane} no longer runs pid {head.pid}; not respawning it")
            tmux.run("respawn-pane", "-k", "-t", pane, *start_dir, *argv)
            return f"respawned pane {pane}"

        steps.append(Step(
            "respawn",
            f"Replace {tool} in tmux pane {pane} ({_pids_text(victims)}) with a new one, {what}: {shown}{where_text}",
            True, respawn,
        ))
    else:
        if victims:
            steps.append(stop_step(f" in tmux pane {pane}"))

        def launch() -> str:
            # placed after the pane's window, named by its stable `@id`
            window = tmux.run("display-message", "-p", "-t", pane, "#{window_id}").strip()
            new = tmux.run("new-window", "-a", "-t", window, "-P", "-F", "#{pane_id}", *start_dir, *argv).strip()
            return f"started {tool} in a new tmux window, pane {new}"

        steps.append(Step(
            "launch", f"Start {tool} in a new tmux window next to pane {pane}, {what}: {shown}{where_text}",
            True, launch,
        ))
    return RestartPlan(session.id, tool, mode, "tmux", tuple(steps), brief_path, line)


def restart_planner(
    session: Session,
    *,
    exports_dir: Path,
    budget_tokens: int,
    bundle: Bundle | None = None,
    record: Recorder | None = None,
    env: Mapping[str, str] | None = None,
    term_timeout: float = 10.0,
) -> Callable[[Mode], RestartPlan]:
    """A `planner(mode)` for the restart dialog, wired the way the app needs it.

    Uses `bundle` when the user just exported one (the wizard's "restart with it"), else
    builds one from the transcript with every section on the first call. The session's
    pane comes from discovery (`ProcessInfo.tmux_pane`), reached through the tmux server
    named in $TMUX when llm-session itself runs in tmux, else the default server.
    """
    from llm_sessions.core.export.build import build_bundle, gather

    cache: dict[str, Bundle] = {}

    def planner(mode: Mode) -> RestartPlan:
        if "bundle" not in cache:
            if bundle is not None:
                cache["bundle"] = bundle
            else:
                digest, git = gather(session)
                cache["bundle"] = build_bundle(session, digest, budget_tokens=budget_tokens, git_status=git)
        pane = session.process.tmux_pane if session.process else None
        tmux = Tmux.from_env(env) if pane else None
        return plan_restart(
            session, mode, cache["bundle"], exports_dir=exports_dir, tmux=tmux, record=record,
            term_timeout=term_timeout,
        )

    return planner


def run_step(step: Step) -> StepResult:
    """Run one step, turning its expected failures into a result instead of an exception."""
    from llm_sessions.core.export.bundle import BundleError

    try:
        return StepResult(step, True, step.run())
    except (TargetError, BundleError) as exc:
        return StepResult(step, False, str(exc))
    except OSError as exc:
        return StepResult(step, False, f"{step.key} failed: {exc.strerror or exc}")


def execute(plan: RestartPlan, confirm: Callable[[Step], bool] | None = None) -> list[StepResult]:
    """Run the plan in order; stop at the first failure or at a destructive step not confirmed."""
    results: list[StepResult] = []
    for step in plan.steps:
        if step.destructive and confirm is not None and not confirm(step):
            results.append(StepResult(step, False, "not confirmed; stopped here", skipped=True))
            break
        result = run_step(step)
        results.append(result)
        if not result.ok:
            break
    return results


__all__ = [
    "MODES",
    "MODE_LABELS",
    "Mode",
    "RestartError",
    "RestartPlan",
    "Step",
    "StepResult",
    "Tmux",
    "execute",
    "plan_restart",
    "restart_planner",
    "run_step",
    "stop_processes",
    "terminate",
]
