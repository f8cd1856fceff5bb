"""Restarting a session that has degraded: export first, then compact, start fresh or resume.

Every restart is a short list of steps planned up front, each with a sentence that says what
it will do, so the UI (or the CLI) can show the plan and ask before anything destructive
runs. The first step always exports a brief, so whatever happens next nothing is lost.

Inside tmux the session's pane is driven directly: `/compact` is typed into it, or the
assistant is stopped and a new one is started in the same pane (seeded with the brief, or
resuming the same session id). Outside tmux we cannot type into someone's terminal, so the
assistant is stopped and the exact command to continue is returned for the user to run.

Stopping is SIGTERM only, only to processes of the current user, and only after checking
that the pid still belongs to the same process (start time) so a reused pid is never hit.
"""

from __future__ import annotations

import logging
import os
import shlex
import signal
import subprocess
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from llm_sessions.core.export import Bundle, Recorder, target_paths, write_bundle
from llm_sessions.core.models import ProcessInfo, Session

log = logging.getLogger(__name__)

Mode = Literal["compact", "fresh", "resume"]
MODES: tuple[str, ...] = ("compact", "fresh", "resume")
MODE_LABELS: dict[str, str] = {
    "compact": "Compact in place (/compact)",
    "fresh": "Start a fresh session seeded with the brief",
    "resume": "Restart and resume the same session",
}
LAUNCHERS = {"claude": "claude", "codex": "codex"}
START_TIME_SLACK = 2.0


class RestartError(Exception):
    """A restart that cannot go ahead, in one sentence the user can act on."""


@dataclass(frozen=True, slots=True)
class Tmux:
    """How to reach a tmux pane: the socket arguments (`-L name`, `-S path`) and the pane id."""

    pane: str
    socket_args: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, pane: str, env: Mapping[str, str] | None = None) -> Tmux:
        """Use the server named in $TMUX (`socket,pid,session`) when we run inside tmux."""
        env = os.environ if env is None else env
        socket = (env.get("TMUX") or "").split(",", 1)[0]
        return cls(pane, ("-S", socket) if socket else ())

    def argv(self, *args: str) -> list[str]:
        return ["tmux", *self.socket_args, *args]

    def run(self, *args: str) -> str:
        try:
            done = subprocess.run(self.argv(*args), capture_output=True, text=True, timeout=10, check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            raise RestartError(f"tmux {args[0]} failed: {exc}") from None
        if done.returncode != 0:
            raise RestartError(f"tmux {args[0]} failed: {done.stderr.strip() or done.returncode}")
        return done.stdout

    def pane_pid(self) -> int | None:
        try:
            out = self.run("display-message", "-p", "-t", self.pane, "#{pane_pid}").strip()
        except RestartError:
            return None
        return int(out) if out.isdigit() else None

    def type_line(self, line: str) -> None:
        """Type `line` literally into the pane, then press Enter."""
        self.run("send-keys", "-t", self.pane, "-l", line)
        self.run("send-keys", "-t", self.pane, "Enter")


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


def launch_argv(tool: str, *, brief_text: str | None = None, resume_id: str | None = None) -> list[str]:
    """argv that starts `tool` seeded with a prompt, or resuming `resume_id`."""
    exe = LAUNCHERS.get(tool)
    if exe is None:
        raise RestartError(f"restarting {tool} sessions is not supported (only claude and codex)")
    if resume_id:
        return [exe, "--resume", resume_id] if tool == "claude" else [exe, "resume", resume_id]
    return [exe, brief_text] if brief_text else [exe]


def continue_command(tool: str, cwd: str | None, *, brief_path: Path | None = None, resume_id: str | None = None) -> str:
    """The exact shell line to continue: `cd <cwd> && claude "$(cat <brief>)"` and friends.

    The brief is read by the shell from the file rather than pasted into the line, so the
    line stays short, copyable and free of quoting traps whatever the brief contains.
    """
    exe = launch_argv(tool, resume_id=resume_id)
    if resume_id:
        line = shlex.join(exe)
    elif brief_path is not None:
        line = f'{exe[0]} "$(cat {shlex.quote(str(brief_path))})"'
    else:
        line = exe[0]
    return f"cd {shlex.quote(cwd)} && {line}" if cwd else line


def _same_process(proc, info_started, pid: int) -> None:
    import psutil

    try:
        uids = proc.uids()
        created = proc.create_time()
    except psutil.NoSuchProcess:
        return
    except psutil.AccessDenied:
        raise RestartError(f"pid {pid} belongs to another user; not signalling it") from None
    if os.getuid() not in (uids.real, uids.effective):
        raise RestartError(f"pid {pid} belongs to another user; not signalling it")
    if info_started is not None and abs(created - info_started.timestamp()) > START_TIME_SLACK:
        raise RestartError(f"pid {pid} is now a different process (pid reused); not signalling it")


def terminate(process: ProcessInfo, timeout: float = 10.0) -> str:
    """SIGTERM the session's processes (same user only) and wait for them to exit.

    Raises RestartError, without signalling anything, when any pid belongs to another user or
    is no longer the process discovery saw; and when they outlive `timeout`, because starting
    a second assistant on top of a live one would have two sessions fight over one pane.
    """
    import psutil

    pids = list(dict.fromkeys((process.pid, *process.pids)))
    if os.getpid() in pids or os.getppid() in pids:
        raise RestartError("refusing to signal llm-session itself or its parent")
    procs = []
    for pid in pids:
        try:
            proc = psutil.Process(pid)
        except psutil.NoSuchProcess:
            continue
        _same_process(proc, process.started_at if pid == process.pid else None, pid)
        procs.append(proc)
    if not procs:
        return f"pid {process.pid} had already exited"
    for proc in procs:
        try:
            proc.send_signal(signal.SIGTERM)
        except psutil.NoSuchProcess:
            pass
    _gone, alive = psutil.wait_procs(procs, timeout=timeout)
    if alive:
        raise RestartError(
            f"pid {', '.join(str(p.pid) for p in alive)} still running {timeout:g}s after SIGTERM; "
            "not starting a new session on top of it"
        )
    return f"sent SIGTERM to pid {', '.join(str(p.pid) for p in procs)}; it exited"


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

    `tmux` is the session's pane (None outside tmux). The brief is written as both Markdown
    and JSON into `exports_dir`; the Markdown one seeds a fresh session.
    """
    if mode not in MODES:
        raise RestartError(f"unknown restart mode {mode!r}; choose compact, fresh or resume")
    if mode != "compact":
        launch_argv(session.tool)  # unsupported assistants fail here, before any step runs
    targets = target_paths(bundle, exports_dir, "both", folder=True)
    brief_path = targets[0][1]
    cwd = session.cwd or bundle.cwd
    resume_id = session.id if mode == "resume" else None
    line = continue_command(session.tool, cwd, brief_path=None if resume_id else brief_path, resume_id=resume_id)

    def do_export() -> str:
        # The wizard may have written this very bundle a moment ago ("restart with it"):
        # identical files are kept, anything else that is in the way is an error.
        done, todo = [], []
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
    if tmux is None:
        if mode == "compact":
            raise RestartError("sending /compact needs the session's tmux pane; type /compact in its terminal")
        if proc is not None:
            steps.append(Step(
                "terminate", f"Stop {session.tool} (SIGTERM to pid {proc.pid})", True,
                lambda: terminate(proc, term_timeout),
            ))
        steps.append(Step("command", f"Show the command to continue: {line}", False, lambda: line))
        return RestartPlan(session.id, session.tool, mode, "terminal", tuple(steps), brief_path, line)

    if mode == "compact":
        steps.append(Step(
            "compact", f"Type /compact into tmux pane {tmux.pane}", True,
            lambda: (tmux.type_line("/compact"), f"sent /compact to {tmux.pane}")[1],
        ))
        return RestartPlan(session.id, session.tool, mode, "tmux", tuple(steps), brief_path, None)

    what = "resuming the same session" if resume_id else "seeded with the brief"
    pane_pid = tmux.pane_pid()
    if proc is not None and pane_pid is not None and pane_pid in (proc.pid, *proc.pids):
        # The assistant *is* the pane's process: stopping it would close the pane, so let
        # tmux replace it in place instead.
        def respawn() -> str:
            argv = ["respawn-pane", "-k", "-t", tmux.pane]
            if cwd:
                argv += ["-c", cwd]
            tmux.run(*argv, line)
            return f"respawned pane {tmux.pane}"

        steps.append(Step(
            "respawn", f"Replace {session.tool} in tmux pane {tmux.pane} (pid {proc.pid}) with a new one, {what}: {line}",
            True, respawn,
        ))
    else:
        if proc is not None:
            steps.append(Step(
                "terminate", f"Stop {session.tool} in tmux pane {tmux.pane} (SIGTERM to pid {proc.pid})", True,
                lambda: terminate(proc, term_timeout),
            ))
        steps.append(Step(
            "launch", f"Start {session.tool} in tmux pane {tmux.pane}, {what}: {line}", True,
            lambda: (tmux.type_line(line), f"started {session.tool} in {tmux.pane}")[1],
        ))
    return RestartPlan(session.id, session.tool, mode, "tmux", tuple(steps), brief_path, line)


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
    from llm_sessions.core.export import build_bundle, gather

    cache: dict[str, Bundle] = {}

    def planner(mode: Mode) -> RestartPlan:
        if "bundle" not in cache:
            if bundle is not None:
                cache["bundle"] = bundle
            else:
                digest, git = gather(session)
                cache["bundle"] = build_bundle(session, digest, budget_tokens=budget_tokens, git_status=git)
        pane = session.process.tmux_pane if session.process else None
        tmux = Tmux.from_env(pane, env) if pane else None
        return plan_restart(
            session, mode, cache["bundle"], exports_dir=exports_dir, tmux=tmux, record=record,
            term_timeout=term_timeout,
        )

    return planner


def run_step(step: Step) -> StepResult:
    """Run one step, turning its expected failures into a result instead of an exception."""
    from llm_sessions.core.export import BundleError

    try:
        return StepResult(step, True, step.run())
    except (RestartError, BundleError) as exc:
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
    "continue_command",
    "execute",
    "launch_argv",
    "plan_restart",
    "restart_planner",
    "run_step",
    "terminate",
]
