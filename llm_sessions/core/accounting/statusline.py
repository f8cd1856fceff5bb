"""What one Claude Code status-line call tells us, and what we tell it back.

Claude Code pipes a JSON object to its status-line command on every update: the session id,
the transcript path, the model, its own cost figure, the context window and (Pro/Max, since
2.1.80) `rate_limits.{five_hour, seven_day, seven_day_opus, seven_day_sonnet}` with
`used_percentage` and `resets_at` (epoch seconds). Any field may be missing, null or of
another type in another build, so every one is checked before use and nothing here raises
on bad input.

The session itself is read from its own transcript only, incrementally: the parsed state of
that one file (and of its subagent files) is kept in `<cache>/statusline/`, so a call costs
what was appended since the previous call, however long the history is. The context window
follows our rule (a `[1m]` model or a turn above 200k means 1M), not `context_window_size`,
which some builds report as 200000 for 1M models; a larger size in the input is believed.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

from llm_sessions.core.accounting.limit_lines import identifier
from llm_sessions.core.fields import dict_at
from llm_sessions.core.models import ContextFill, Session
from llm_sessions.core.timeparse import parse_ts

WINDOW_KINDS = ("five_hour", "seven_day", "seven_day_opus", "seven_day_sonnet")
SHELLS = frozenset({"sh", "bash", "dash", "zsh", "fish", "ksh", "busybox"})


@dataclass(frozen=True, slots=True)
class StatusInput:
    session_id: str | None = None
    transcript: str | None = None
    cwd: str | None = None
    model_id: str | None = None
    model_name: str | None = None
    cost_usd: float | None = None
    window_size: int | None = None
    used_percent: float | None = None
    current_tokens: int | None = None
    windows: dict[str, tuple[float, int | None]] = field(default_factory=dict)


def _str(v: Any) -> str | None:
    return v if isinstance(v, str) and v else None


def _num(v: Any) -> float | None:
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v else None


def _epoch(v: Any) -> int | None:
    """`resets_at`: epoch seconds (documented), milliseconds or an ISO string (early builds)."""
    n = _num(v)
    if n is not None:
        return int(n / 1000) if n > 1e11 else int(n)
    if isinstance(v, str):
        if v.isdigit():
            return _epoch(int(v))
        dt = parse_ts(v)
        return int(dt.timestamp()) if dt else None
    return None


def parse_input(raw: bytes) -> StatusInput | None:
    """The fields we use from the status-line JSON; None when it is not a JSON object."""
    try:
        data = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        return None
    if not isinstance(data, dict):
        return None
    model = dict_at(data, "model")
    cost = dict_at(data, "cost")
    ctx = dict_at(data, "context_window")
    workspace = dict_at(data, "workspace")
    current = ctx.get("current_usage") if isinstance(ctx.get("current_usage"), dict) else None
    tokens = None
    if current is not None:
        parts = [_num(current.get(k)) for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")]
        tokens = int(sum(p for p in parts if p is not None)) if any(p is not None for p in parts) else None
    windows: dict[str, tuple[float, int | None]] = {}
    rates = data.get("rate_limits")
    if isinstance(rates, dict):
        for key, w in rates.items():
            kind = identifier(key)
            if kind is None or kind != key or not isinstance(w, dict):
                continue  # a key that is not a plain name is not a window we can show
            pct = _num(w.get("used_percentage"))
            if pct is None and (left := _num(w.get("remaining_percentage"))) is not None:
                pct = 100.0 - left
            reset = _epoch(w.get("resets_at"))
            # a window we do not know, at 0% with no reset, is a placeholder, not a limit
            if pct is not None and (kind in WINDOW_KINDS or pct > 0 or reset is not None):
                windows[kind] = (min(max(0.0, round(pct, 2)), 100.0), reset)
    size = _num(ctx.get("context_window_size"))
    return StatusInput(
        session_id=_str(data.get("session_id")),
        transcript=_str(data.get("transcript_path")),
        cwd=_str(data.get("cwd")) or _str(workspace.get("current_dir")),
        model_id=_str(model.get("id")),
        model_name=_str(model.get("display_name")),
        cost_usd=_num(cost.get("total_cost_usd")),
        window_size=int(size) if size and size > 0 else None,
        used_percent=_num(ctx.get("used_percentage")),
        current_tokens=tokens,
        windows=windows,
    )


def window_for(inp: StatusInput, fill: ContextFill | None) -> int:
    """Our window rule, told by the input where it knows better."""
    from llm_sessions.core.accounting.providers.claude import WINDOW, WINDOW_1M

    window = fill.window if fill else WINDOW
    if (inp.model_id or "").endswith("[1m]") or "1m context" in (inp.model_name or "").lower():
        window = max(window, WINDOW_1M)
    if inp.window_size and inp.window_size > window:
        window = inp.window_size
    return window


def context_of(inp: StatusInput, fill: ContextFill | None, settings) -> ContextFill | None:
    """Context fill from the transcript (exact), else from the input's own figures."""
    from llm_sessions.core.accounting.health import compaction_point_for

    window = window_for(inp, fill)
    if fill is not None:
        return ContextFill(fill.used, window, compaction_point_for(window, settings), fill.exact, fill.source)
    if inp.current_tokens is not None:
        return ContextFill(inp.current_tokens, window, compaction_point_for(window, settings), True, "status line")
    if inp.used_percent is not None and inp.window_size:
        used = round(inp.used_percent / 100 * inp.window_size)
        return ContextFill(used, window, compaction_point_for(window, settings), False, "status line %")
    return None


def _cache_file(cache_dir: Path, transcript: str) -> Path:
    digest = hashlib.sha1(transcript.encode("utf-8", "surrogateescape")).hexdigest()[:16]
    return cache_dir / "statusline" / f"{digest}.msgpack"


def _listing(transcript: str, session_id: str | None) -> list[tuple[str, tuple[bool, str]]]:
    """The transcript and its subagent files (`<dir>/<sessionId>/subagents/*.jsonl`)."""
    sid = session_id or Path(transcript).stem
    out = [(transcript, (False, sid))]
    sub = os.path.join(os.path.dirname(transcript), Path(transcript).stem, "subagents")
    try:
        names = sorted(os.listdir(sub))
    except OSError:
        names = []
    out.extend((os.path.join(sub, n), (True, sid)) for n in names if n.endswith(".jsonl"))
    return out


def read_session(transcript: str, session_id: str | None, cache_dir: Path | None, env: Mapping[str, str], settings) -> Session | None:
    """The session of one transcript, reading only what was appended since the last call."""
    from llm_sessions.core.accounting import tailer
    from llm_sessions.core.accounting.providers.claude import ClaudeProvider, parse_file
    from llm_sessions.core.accounting.providers.claude_parse import ClaudeFile

    if not transcript.endswith(".jsonl") or not os.path.isfile(transcript):
        return None
    cache = _cache_file(cache_dir, transcript) if cache_dir is not None else None
    files: dict[str, ClaudeFile] = {}
    if cache is not None:
        try:
            files = {f.path: f for f in msgspec.msgpack.decode(cache.read_bytes(), type=list[ClaudeFile])}
        except (OSError, msgspec.DecodeError, msgspec.ValidationError):
            files = {}
    problems: list[str] = []
    todo, gone = tailer.plan_reads(
        _listing(transcript, session_id), files, lambda path, x: ClaudeFile(path=path, subagent=x[0], session=x[1]), problems
    )
    for f, st in todo:
        try:
            files[f.path] = parse_file(f, st)
        except OSError:
            continue
    if cache is not None and (todo or gone):
        _save(cache, list(files.values()))
    # The provider's merge of a set of files into sessions; here the set is one session's.
    sessions = ClaudeProvider(env, settings, None).merge_files(files.values())
    return next((s for s in sessions if not session_id or s.id == session_id), sessions[0] if sessions else None)


STALE_S = 14 * 86400


def _save(path: Path, files: list) -> None:
    from llm_sessions.core.accounting.statusline_state import write_atomic

    try:
        if not path.exists():  # a new session: the moment to forget sessions long gone
            _prune(path.parent)
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, msgspec.msgpack.encode(files))
    except OSError:
        pass  # the next call reads from the start again; slower, never wrong


def _prune(folder: Path) -> None:
    """Drop the saved state of transcripts no status line asked about for two weeks."""
    import time

    cutoff = time.time() - STALE_S
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for e in entries:
        try:
            if e.name.endswith(".msgpack") and e.stat().st_mtime < cutoff:
                os.unlink(e.path)
        except OSError:
            continue


def _proc_stat(pid: int) -> tuple[str, int, int] | None:
    """(name, parent pid, start time in clock ticks) from /proc; None where there is none."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            raw = fh.read().decode("utf-8", "replace")
    except OSError:
        return None
    head, _, rest = raw.rpartition(")")
    fields = rest.split()
    try:
        return head.partition("(")[2], int(fields[1]), int(fields[19])
    except (IndexError, ValueError):
        return None


def assistant_pid(start: int | None = None) -> tuple[int, int | None]:
    """The Claude Code process that ran us: our parent, past a shell in between.

    Returns (pid, start time in clock ticks or None). The start time is the pid-reuse guard
    (field 22 of /proc/<pid>/stat, as Claude's own `procStart`).
    """
    pid = start or os.getppid()
    info = None
    for _ in range(4):
        info = _proc_stat(pid)
        if info is None:
            return pid, None
        name, ppid, _ticks = info
        if name not in SHELLS or ppid <= 1:
            break
        pid = ppid
        info = None
    if info is None:
        info = _proc_stat(pid)
    return pid, info[2] if info else None


__all__ = ["StatusInput", "WINDOW_KINDS", "assistant_pid", "context_of", "parse_input", "read_session", "window_for"]
