"""`llm-session statusline`: Claude Code's status-line command, on the fast path.

It runs on every status-bar update, so it is dispatched before Typer is imported
(`llm_sessions.entry`) and imports only the core pieces it uses. It must never break the
user's status bar: whatever goes wrong (empty or foreign input, an unreadable transcript, a
full disk) it prints a short line and exits 0; the cause goes to the log file.

One line: `ctx 42% · 1.2M tok · $3.41 · health 82 · 5h 23%`. With `--chain CMD` (written by
`--install` when a status line was already configured) it runs that command on the same
input at the same time and prints its output first, so nothing the user had is lost.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Mapping, Sequence

FALLBACK = "llm-session: no status data"
CHAIN_TIMEOUT_S = 2.0
_ANSI = {"healthy": "32", "warning": "33", "critical": "31"}


def _paint(text: str, code: str | None, color: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if color and code else text


def _clock(epoch: int) -> str:
    return time.strftime("%H:%M", time.localtime(epoch))


def render(session, context, inp, limit_reset: int | None, now: float, color: bool) -> str:
    """The one line; every figure is left out rather than guessed when it is unknown."""
    from llm_sessions.ui.format import human_cost, human_tokens

    parts = []
    if context is not None:
        pct = context.percent
        code = "31" if context.compact_at and context.used >= context.compact_at else ("33" if pct >= 70 else None)
        parts.append(_paint(f"ctx {pct:.0f}%", code, color))
    if session is not None and session.usage.total:
        parts.append(f"{human_tokens(session.usage.total)} tok")
    cost = inp.cost_usd if inp.cost_usd is not None else (session.cost_usd if session is not None else None)
    if cost is not None:
        parts.append(human_cost(cost))
    if session is not None and session.health is not None:
        h = session.health
        parts.append(_paint(f"health {h.score}", _ANSI.get(h.status), color))
    five = inp.windows.get("five_hour")
    if limit_reset and limit_reset > now:
        parts.append(_paint(f"5h LIMIT until {_clock(limit_reset)}", "31", color))
    elif five is not None:
        pct, reset = five
        text = f"5h {pct:.0f}%" + (f" (resets {_clock(reset)})" if reset and pct >= 80 else "")
        parts.append(_paint(text, "31" if pct >= 95 else "33" if pct >= 80 else None, color))
    return " · ".join(parts) or FALLBACK


def _start_chain(command: str | None, raw: bytes):
    """Start the user's previous status-line command on the same input, without waiting."""
    if not command:
        return None
    import subprocess

    try:
        # the user's own status-line command, as Claude Code runs it: through a shell
        proc = subprocess.Popen(command, shell=True,  # noqa: S602
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    except OSError:
        return None
    try:
        assert proc.stdin is not None  # stdin=PIPE
        proc.stdin.write(raw)
        proc.stdin.close()
    except OSError:
        pass
    proc.stdin = None  # closed: communicate() must not flush it again
    return proc


def _finish_chain(proc) -> str:
    if proc is None:
        return ""
    import subprocess

    try:
        out, _ = proc.communicate(timeout=CHAIN_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return ""
    return out.decode("utf-8", "replace").rstrip("\n")


def compute(raw: bytes, env: Mapping[str, str], now: float, pid: tuple[int, int | None] | None = None) -> str:
    """Parse, read the session, record what was learned, and return our line.

    `pid` is the assistant's (pid, start ticks) when the caller knows it (the demo's
    simulated sessions); otherwise it is our parent process, past a shell in between.
    """
    from llm_sessions.config import ConfigError, load_settings
    from llm_sessions.core.accounting import statusline as sl
    from llm_sessions.core.accounting import statusline_state
    from llm_sessions.core.accounting.health import health_report
    from llm_sessions.paths import app_paths

    inp = sl.parse_input(raw)
    if inp is None:
        return FALLBACK
    paths = app_paths(env)
    try:
        settings = load_settings(paths.config_file, dict(env))
    except ConfigError:
        from llm_sessions.config import Settings

        settings = Settings()
    session = sl.read_session(inp.transcript, inp.session_id, paths.cache_dir, env, settings) if inp.transcript else None
    context = sl.context_of(inp, session.context if session else None, settings)
    limit_reset = None
    from datetime import UTC, datetime

    at = datetime.fromtimestamp(now, UTC)
    if session is not None:
        session = session.with_(context=context, state="waiting" if session.awaiting_user else "working")
        session = session.with_(health=health_report(session, settings, at))
        if session.limit_resets_at is not None:
            limit_reset = int(session.limit_resets_at.timestamp())
    assistant, pid_start = pid or sl.assistant_pid()
    info = {
        "pid": assistant,
        "pid_start": pid_start,
        "transcript": inp.transcript,
        "cwd": inp.cwd,
        "model": inp.model_id,
        "context": [context.used, context.window] if context else None,
        "cost_usd": inp.cost_usd,
        "tokens": session.usage.total if session else None,
    }
    try:
        statusline_state.record(
            statusline_state.path_in(paths.data_dir), now=now, windows=inp.windows, session_id=inp.session_id, session=info
        )
    except OSError as exc:
        _log(env, f"cannot record status line state: {exc}")
    color = "NO_COLOR" not in env
    return render(session, context, inp, limit_reset, now, color)


def _log(env: Mapping[str, str], message: str, exc: BaseException | None = None) -> None:
    """Problems go to the log file, never to the status bar."""
    try:
        import logging

        from llm_sessions.paths import app_paths

        logfile = app_paths(env).log_dir / "llm-session.log"
        logfile.parent.mkdir(parents=True, exist_ok=True)
        logger = logging.getLogger("llm_sessions.statusline")
        if not logger.handlers:
            handler = logging.FileHandler(logfile, encoding="utf-8")
            handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
            logger.addHandler(handler)
        logger.error(message, exc_info=exc)
    except Exception:  # logging must not be the thing that breaks the status bar
        pass


def run(argv: Sequence[str], stdin=None, stdout=None, env: Mapping[str, str] | None = None) -> int:
    """The status-line command proper: `statusline [--chain CMD]`. Always exits 0."""
    env = os.environ if env is None else env
    stdin = sys.stdin.buffer if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    chain = None
    args = list(argv)
    if "--chain" in args:
        i = args.index("--chain")
        chain = args[i + 1] if i + 1 < len(args) else None
    try:
        raw = stdin.read()
    except (OSError, ValueError):
        raw = b""
    proc = _start_chain(chain, raw)
    try:
        ours = compute(raw, env, time.time()) if raw.strip() else FALLBACK
    except Exception as exc:
        _log(env, "status line failed", exc)
        ours = FALLBACK
    theirs = _finish_chain(proc)
    if theirs and ours == FALLBACK:
        line = theirs  # nothing of ours to add: the user's line alone
    elif theirs and "\n" not in theirs:
        line = f"{theirs} | {ours}"
    elif theirs:
        line = f"{theirs}\n{ours}"
    else:
        line = ours
    try:
        stdout.write(line + "\n")
        stdout.flush()
    except (OSError, ValueError):
        pass
    return 0


__all__ = ["FALLBACK", "compute", "render", "run"]
