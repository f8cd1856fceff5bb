"""Build a corpus of Claude Code and Codex CLI transcripts plus the exact truth about them.

Layout under `root` (every path in truth.json is relative to `root`):

    home/.claude/projects/<encoded cwd>/<sessionId>.jsonl        default Claude root
    home/.claude/projects/<encoded cwd>/<sessionId>/subagents/agent-<id>.jsonl
    home/.claude/projects/<encoded cwd>/agent-<id>.jsonl         legacy flat subagents
    home/.config/claude/projects/...                             second default root
    claude-extra/projects/...                                    only via CLAUDE_CONFIG_DIR
    home/.codex/sessions/YYYY/MM/DD/rollout-<ts>-<uuid>.jsonl
    home/.codex/archived_sessions/rollout-<ts>-<uuid>.jsonl
    home/.gemini/tmp/<project>/chats/session-*.jsonl (+ <parent id>/ subagents, a legacy .json)
    home/.copilot/session-state/<uuid>/events.jsonl
    work/<repo>/.aider.chat.history.md   (a repo a Claude session worked in)
    aider-repos/<repo>/.aider.chat.history.md   (found through LLM_SESSION_AIDER_PATHS)
    truth.json

To see every Claude session, set HOME=root/home and
CLAUDE_CONFIG_DIR=root/home/.claude,root/home/.config/claude,root/claude-extra (truth.json
"env" has these, relative to root). Without CLAUDE_CONFIG_DIR the extra root is invisible,
which is correct behaviour, not a miss. truth.json "settings_env" names the Aider folders
(absolute: Aider has no central folder, so its repositories are real paths of the corpus).

Truth semantics (the product's definitions; the truth is the generator's own model, never a
parse of the files):
- tokens: total = input + output + cache_creation + cache_read.
- Claude: each response (message.id, requestId) counts once, with its final (largest)
  usage, for the session that wrote it first. Lines a resumed session copied keep their ids
  and stay credited to the original. Subagent usage (new layout, legacy flat files, inline
  sidechain lines) adds to the parent session. API error lines (including the usage-limit
  form), malformed lines, the
  half-written last line and unknown record types count nothing.
- Claude context: input + cache_read + cache_creation of the latest main-chain, non-error
  assistant line after the last compact_boundary, or that boundary's postTokens when no
  turn follows it. Window 1,000,000 if a main-chain model ends in `[1m]` or any main-chain
  turn's context exceeded 200,000, else 200,000.
- Claude turns: unique responses owned by the session, main chain plus subagents, without
  API errors. api_errors: isApiErrorMessage lines; limit_resets_at: the epoch of the last
  `Claude AI usage limit reached|<epoch>` line (user or API-error form); tool_errors: tool_result blocks with
  is_error true (subagents included, copied lines excluded). first/last: earliest and
  latest timestamp of owned user/assistant/system lines, subagents included.
- Codex: input = input_tokens - cached_input_tokens, cache_read = cached_input_tokens,
  cache_creation = 0, output = output_tokens (reasoning included), from the last cumulative
  total_token_usage minus, for a fork, the parent's replayed total. Context used =
  last_token_usage.total_tokens of the last token_count, window = model_context_window.
  Turns: token_count lines with new usage (re-emitted copies and replayed parent lines
  excluded). api_errors: `error` events; tool_errors: commands that exited non-zero.

- Cost (every tool): the sum over requests of what each request costs by the generator's own
  price model (`synth/rates.py`): its model, its prompt size (long-context tier), its 1-hour
  cache writes, fast mode, Codex's priority tier, and the price period of its day. Advisor
  calls inside a Claude response are requests of their own model. Codex compaction records
  count once (remote ones are not in the counter, local ones are).
- Codex, 2026: forks that name their parent in `history_base` count only after the cut;
  MultiAgent children only after their trigger marker; the pages of one thread are one
  session; an aborted turn's usage is in the next counter; `cache_write_input_tokens` is
  cache_creation (and part of input_tokens on disk).
- Gemini, Copilot, Aider: see `synth/others.py`. `exact` is False where the product can only
  estimate part of the session (Copilot after its last shutdown, Aider's rounded counts); for
  a partial Copilot session `tokens` is the exact part.
- Claude ghost stubs (only ai-title/agent-name lines) are listed in `not_sessions`.

Per-session fields beyond the brief: `root` and `file` (relative paths), `compactions`,
`resumed_from` (Claude), `forked_from` and `archived` (Codex), `cost`, `exact`. `traps`
counts every trap written (names are stable; tests require each to be at least 1 in the
default corpus).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from llm_sessions import __version__
from llm_sessions.core.accounting.roots import CLAUDE_DIR_MAX, encode_cwd
from llm_sessions.synth import records as R
from llm_sessions.synth.others import AiderHistory, CopilotSession, GeminiSession
from llm_sessions.synth.others import Truth as OtherTruth
from llm_sessions.synth.session import (
    CLAUDE_MODELS,
    CODEX_MODELS,
    CODEX_WINDOW,
    ClaudeOptions,
    ClaudeSession,
    CodexOptions,
    CodexSession,
    SimClock,
)

CLAUDE_HOME = "home/.claude"
CLAUDE_XDG = "home/.config/claude"
CLAUDE_EXTRA = "claude-extra"
CODEX_HOME = "home/.codex"
GEMINI_HOME = "home/.gemini"
COPILOT_HOME = "home/.copilot"
AIDER_REPOS = "aider-repos"
EPOCH = datetime(2026, 1, 5, 8, 0, 0, tzinfo=UTC)

Progress = Callable[[int, int | None], None]


def claude_project_dir(cwd: str) -> str:
    """Claude's folder name for a cwd, including the cut + hash suffix past 200 characters.

    The real suffix differs between builds; any stable hash exercises the same reader logic
    (match by the 200-character prefix, read `cwd` from the records).
    """
    name = encode_cwd(cwd)
    if len(name) <= CLAUDE_DIR_MAX:
        return name
    return name[:CLAUDE_DIR_MAX] + "-" + _base36(zlib.crc32(cwd.encode()))


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        n, r = divmod(n, 36)
        out = digits[r] + out
        if not n:
            return out


class FileSink:
    """Appends lines to files under one tool root, keeping the session's files open.

    Counts bytes and lines so the builder can stop at a target size without stat calls.
    """

    def __init__(self, base: Path) -> None:
        self.base = base
        self.handles: dict[str, BinaryIO] = {}
        self.bytes = 0
        self.lines = 0

    def __call__(self, rel: str, line: bytes, complete: bool = True) -> None:
        f = self.handles.get(rel)
        if f is None:
            path = self.base / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            f = self.handles[rel] = open(path, "ab", buffering=1 << 20)  # noqa: SIM115
        data = line + b"\n" if complete else line
        f.write(data)
        self.bytes += len(data)
        self.lines += 1

    def close(self, mtime: datetime | None) -> list[str]:
        """Close this session's files, stamping their mtime with the session's last activity."""
        names = list(self.handles)
        for rel, f in self.handles.items():
            f.close()
            if mtime is not None:
                ts = mtime.timestamp()
                os.utime(self.base / rel, (ts, ts))
        self.handles.clear()
        return names


@dataclass(frozen=True, slots=True)
class Truth:
    """The ground truth of one corpus, as written to `truth.json`."""

    seed: int
    sessions: dict
    traps: dict
    files: int
    bytes: int
    lines: int
    not_sessions: list = field(default_factory=list)
    settings_env: dict = field(default_factory=dict)
    generated_by: str = f"llm_sessions.synth {__version__}"

    def as_dict(self) -> dict:
        return {
            "generated_by": self.generated_by,
            "seed": self.seed,
            "roots": {"claude": [CLAUDE_HOME, CLAUDE_XDG, CLAUDE_EXTRA], "codex": CODEX_HOME},
            "env": {
                "HOME": "home",
                "CLAUDE_CONFIG_DIR": ",".join([CLAUDE_HOME, CLAUDE_XDG, CLAUDE_EXTRA]),
                "CODEX_HOME": CODEX_HOME,
            },
            "files": self.files,
            "bytes": self.bytes,
            "lines": self.lines,
            "not_sessions": self.not_sessions,
            "settings_env": self.settings_env,
            "sessions": self.sessions,
            "traps": self.traps,
        }

    @classmethod
    def load(cls, path: Path) -> Truth:
        """Read a truth.json back (a benchmark reuses a corpus instead of rebuilding it)."""
        d = json.loads(Path(path).read_text())
        return cls(seed=d["seed"], sessions=d["sessions"], traps=d["traps"], files=d["files"], bytes=d["bytes"],
                   lines=d["lines"], not_sessions=d["not_sessions"], settings_env=d.get("settings_env", {}),
                   generated_by=d["generated_by"])


def _iso(ts: datetime | None) -> str | None:
    return R.iso(ts) if ts is not None else None


def _tokens(inp: int, out: int, cc: int, cr: int) -> dict:
    return {"input": inp, "output": out, "cache_creation": cc, "cache_read": cr, "total": inp + out + cc + cr}


class _Builder:
    def __init__(self, root: Path, seed: int, progress: Progress | None, target: int | None, extra_root: bool = True,
                 aider: bool = True) -> None:
        self.root = root
        self.extra_root = extra_root
        self.with_aider = aider
        self.rng = random.Random(seed)
        self.seed = seed
        self.traps: Counter = Counter()
        self.sessions: dict[str, dict] = {}
        self.progress = progress
        self.target = target
        self.bytes = 0
        self.lines = 0
        self.files = 0
        self.start = EPOCH
        self.not_sessions: list[str] = []
        self.settings_env: dict[str, str] = {}

    def _next_start(self) -> datetime:
        self.start += timedelta(minutes=self.rng.uniform(20, 600))
        return self.start

    def _close(self, sink: FileSink, last: datetime | None) -> None:
        self.files += len(sink.close(last))
        self.bytes += sink.bytes
        self.lines += sink.lines
        if self.progress is not None:
            self.progress(self.bytes, self.target)

    # -- Claude

    def claude(self, opts: ClaudeOptions, *, cwd: str, root: str = CLAUDE_HOME, resume_from: ClaudeSession | None = None,
               copy_turns: int = 0, start: datetime | None = None, kind: Callable[..., ClaudeSession] = ClaudeSession) -> ClaudeSession:
        rng = random.Random(self.rng.getrandbits(64))
        sid = R.new_uuid(rng)
        clock = SimClock(start or self._next_start())
        sink = FileSink(self.root / root)
        s = kind(rng, session_id=sid, cwd=cwd, project_dir=claude_project_dir(cwd), clock=clock, sink=sink,
                          traps=self.traps, opts=opts, git_branch=rng.choice(["main", "main", "feature/ctx", "fix/tailer"]))
        if resume_from is not None:
            s.copy_from(resume_from, copy_turns)
            self.traps["resumed_sessions"] += 1
        s.run()
        self._close(sink, s.truth.last)
        t = s.truth
        if len(s.project_dir) > CLAUDE_DIR_MAX:
            self.traps["long_cwd"] += 1
        if root == CLAUDE_XDG:
            self.traps["second_root_sessions"] += 1
        elif root == CLAUDE_EXTRA:
            self.traps["extra_root_sessions"] += 1
        if t.suffix_1m:
            self.traps["model_1m_suffix"] += 1
        self.sessions[sid] = {
            "tool": "claude",
            "root": root,
            "file": f"{root}/{s.main_path}",
            "cwd": cwd,
            "model": t.model,
            "tokens": _tokens(t.input, t.output, t.cache_creation, t.cache_read),
            "context": {"used": t.context_used, "window": s.window()},
            "turns": t.turns,
            "api_errors": t.api_errors,
            "tool_errors": t.tool_errors,
            "subagent_files": t.subagent_files,
            "compactions": t.compactions,
            "first": _iso(t.first),
            "last": _iso(t.last),
            "limit_resets_at": _iso(t.limit_resets_at),
            "resumed_from": resume_from.sid if resume_from is not None else None,
            "cost": round(t.cost, 6),
            "exact": True,
        }
        return s

    def ghost_stub(self) -> None:
        """What a background or spare session can leave: only ai-title / agent-name lines."""
        rng = random.Random(self.rng.getrandbits(64))
        sid = R.new_uuid(rng)
        rel = f"{CLAUDE_HOME}/projects/{claude_project_dir('/home/dev/projects/api-server')}/{sid}.jsonl"
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        lines = [R.claude_ghost_line("ai-title", sid, "Refactor the tailer"), R.claude_ghost_line("agent-name", sid, "reviewer")]
        data = b"".join(R.dumps(x) + b"\n" for x in lines)
        path.write_bytes(data)
        self.files += 1
        self.bytes += len(data)
        self.lines += len(lines)
        self.not_sessions.append(rel)
        self.traps["claude_ghost_stubs"] += 1

    def empty_claude_file(self) -> None:
        rng = random.Random(self.rng.getrandbits(64))
        rel = f"{CLAUDE_HOME}/projects/{claude_project_dir('/home/dev/projects/scratch')}/{R.new_uuid(rng)}.jsonl"
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
        self.files += 1
        self.not_sessions.append(rel)
        self.traps["empty_files"] += 1

    # -- Codex

    def codex(self, opts: CodexOptions, *, cwd: str, archived: bool = False, fork_of: CodexSession | None = None,
              start: datetime | None = None, layout: str = "replay", cut_turn: int = 0,
              page_of: CodexSession | None = None) -> CodexSession:
        """`layout` says how a session with `fork_of` begins: "replay" (a fork replaying its
        parent), "history_base" (a 0.154+ fork cut after the parent's `cut_turn`-th turn)
        or "child" (a MultiAgent subagent). `page_of` writes the next page of a thread."""
        rng = random.Random(self.rng.getrandbits(64))
        sid = page_of.sid if page_of is not None else R.new_uuid(rng)
        t0 = start or self._next_start()
        stamp = t0.strftime("%Y-%m-%dT%H-%M-%S")
        name = f"rollout-{stamp}-{sid}.jsonl"
        rel = f"archived_sessions/{name}" if archived else f"sessions/{t0:%Y/%m/%d}/{name}"
        sink = FileSink(self.root / CODEX_HOME)
        s = CodexSession(rng, session_id=sid, cwd=cwd, path=rel, clock=SimClock(t0), sink=sink, traps=self.traps, opts=opts)
        if page_of is not None:
            s.next_page(page_of, repeat=min(len(page_of.records), 12))
        elif fork_of is None:
            s.start()
        elif layout == "history_base":
            s.fork_at(fork_of, cut_turn)
        elif layout == "child":
            s.child_of(fork_of)
        else:
            s.fork_from(fork_of)
        s.run()
        self._close(sink, s.truth.last)
        if archived:
            self.traps["codex_archived"] += 1
        t = s.truth
        limits = None
        if t.rate_limits:
            limits = {
                k: {"used_percent": v["used_percent"], "window_minutes": v["window_minutes"],
                    "resets_at": _iso(datetime.fromtimestamp(v["resets_at"], UTC))}
                for k, v in t.rate_limits.items()
            }
        self.sessions[sid] = {
            "tool": "codex",
            "root": CODEX_HOME,
            "file": f"{CODEX_HOME}/{rel}",
            "cwd": cwd,
            "model": t.model,
            "tokens": _tokens(t.input, t.output, t.cache_creation, t.cache_read),
            "context": {"used": t.context_used, "window": CODEX_WINDOW},
            "turns": t.turns,
            "api_errors": t.api_errors,
            "tool_errors": t.tool_errors,
            "subagent_files": 0,
            "compactions": t.compactions,
            "first": _iso(t.first),
            "last": _iso(t.last),
            "limit_resets_at": None,
            "rate_limits": limits,
            "forked_from": fork_of.sid if fork_of is not None else None,
            "archived": archived,
            "cost": round(t.cost, 6),
            "exact": True,
        }
        if page_of is not None:
            self._merge_pages(self.sessions[sid], page_of, s)
        return s

    @staticmethod
    def _merge_pages(entry: dict, page1: CodexSession, page2: CodexSession) -> None:
        """Two pages, one thread: the truth is the sum of what each page added."""
        a, b = page1.truth, page2.truth
        entry["tokens"] = _tokens(a.input + b.input, a.output + b.output, a.cache_creation + b.cache_creation,
                                  a.cache_read + b.cache_read)
        entry["turns"] = a.turns + b.turns
        entry["api_errors"] = a.api_errors + b.api_errors
        entry["tool_errors"] = a.tool_errors + b.tool_errors
        entry["compactions"] = a.compactions + b.compactions
        entry["first"] = _iso(a.first)
        entry["cost"] = round(a.cost + b.cost, 6)

    # -- Gemini, Copilot, Aider

    def _other(self, tool: str, root: str, sid: str, file: str, cwd: str, t: OtherTruth) -> None:
        self.sessions[sid] = {
            "tool": tool, "root": root, "file": f"{root}/{file}", "cwd": cwd, "model": t.model,
            "tokens": _tokens(*t.tokens), "context": t.context, "turns": t.turns, "api_errors": t.api_errors,
            "tool_errors": t.tool_errors, "subagent_files": 0, "compactions": 0, "first": _iso(t.first), "last": _iso(t.last),
            "limit_resets_at": None, "cost": round(t.cost, 6) if t.cost is not None else None, "exact": t.exact,
        }

    def gemini(self, *, turns: int, cwd: str, model: str = "gemini-2.5-pro", legacy: bool = False, subagent: bool = False,
               project_root_file: bool = False) -> None:
        rng = random.Random(self.rng.getrandbits(64))
        sid = R.new_uuid(rng)
        project = hashlib.sha256(cwd.encode()).hexdigest()
        sink = FileSink(self.root / GEMINI_HOME)
        clock = SimClock(self._next_start())
        s = GeminiSession(rng, session_id=sid, project=project, cwd=cwd, clock=clock, sink=sink, traps=self.traps, model=model,
                          legacy=legacy, directories=not project_root_file)
        t = s.run(turns)
        if project_root_file:
            (self.root / GEMINI_HOME / "tmp" / project).mkdir(parents=True, exist_ok=True)
            (self.root / GEMINI_HOME / "tmp" / project / ".project_root").write_text(cwd + "\n")
            self.traps["gemini_project_root_files"] += 1
        if subagent:
            sub = GeminiSession(rng, session_id=R.new_uuid(rng), project=project, cwd=cwd, clock=clock, sink=sink,
                                traps=self.traps, model="gemini-3-flash-preview", parent=sid)
            st = sub.run(3)
            for i, v in enumerate(st.tokens):
                t.tokens[i] += v
            t.cost += st.cost
            t.turns += st.turns
            t.tool_errors += st.tool_errors
            t.api_errors += st.api_errors
        self._close(sink, clock.now())
        self._other("gemini", GEMINI_HOME, sid, s.path, cwd, t)
        if subagent:
            self.sessions[sid]["subagent_files"] = 1

    def copilot(self, *, cwd: str, models: tuple[str, ...], parts: int, partial: bool, restart: bool = False) -> None:
        rng = random.Random(self.rng.getrandbits(64))
        sid = R.new_uuid(rng)
        sink = FileSink(self.root / COPILOT_HOME)
        clock = SimClock(self._next_start())
        s = CopilotSession(rng, session_id=sid, cwd=cwd, clock=clock, sink=sink, traps=self.traps, models=models)
        s.legacy = restart
        s.start()
        for part in range(parts):
            if part:
                clock.advance(rng.uniform(3600, 30_000))  # resumed later
                if restart:
                    s.restart_process()
                s.start(resume=True)
            for _ in range(rng.randint(2, 5)):
                s.turn()
            if not (partial and part == parts - 1):
                s.shutdown()
        if partial:
            s.turn()
        t = s.finish(partial)
        self._close(sink, clock.now())
        self._other("copilot", COPILOT_HOME, sid, s.path, cwd, t)

    def aider(self, repo: Path, runs: int, model: str = "gpt-4o") -> None:
        """Runs in one repository's history; the ids follow the product's scheme (one per run)."""
        rng = random.Random(self.rng.getrandbits(64))
        repo.mkdir(parents=True, exist_ok=True)
        sink = FileSink(repo)
        h = AiderHistory(rng, repo=str(repo), sink=sink, traps=self.traps)
        for _ in range(runs):
            start = self._next_start().replace(tzinfo=None, microsecond=0)
            sid, t = h.run(start, model, rng.randint(2, 6))
            self._other("aider", str(repo), sid, h.path, str(repo), t)
            self.sessions[sid].update(file=str(repo / h.path), first=None, last=None)
        self._close(sink, None)

    # -- scenarios: every trap of formats.md at least once

    def scenarios(self) -> None:
        odd_cwd = "/home/dev/code/my_app.v2/über tool"
        self.traps["nonalnum_cwd"] += 1
        self.claude(ClaudeOptions(
            turns=8, models=("claude-sonnet-4-5-20250929", "claude-opus-4-6"), subagents=2, api_errors=2,
            tool_error_rate=0.15, usage_limit="user", meta_lines=2, side_records=6, unknown_records=2,
            garbage=("text", "binary", "non_object", "truncated_mid"), summary_line=True,
        ), cwd=odd_cwd)
        api = "/home/dev/projects/api-server"
        original = self.claude(ClaudeOptions(turns=6, keep_for_copy=True), cwd=api)
        self.claude(ClaudeOptions(turns=4), cwd=api, resume_from=original, copy_turns=3,
                    start=original.truth.last + timedelta(hours=2))
        self.claude(ClaudeOptions(turns=5, tools=("Read",), big_reads=True, manual_compact_turn=1, min_context=0),
                    cwd="/home/dev/projects/monitor")
        # auto compaction with turns after it: reads push the context over 160k, then two more turns
        self.claude(ClaudeOptions(turns=2, tools=("Read", "Edit"), big_reads=True, min_compactions=1),
                    cwd="/home/dev/projects/monitor")
        self.claude(ClaudeOptions(turns=4, compact_at_end=True, models=("claude-opus-4-5-20251101",)), cwd="/srv/app")
        self.claude(ClaudeOptions(turns=3, models=("claude-opus-4-6",), tools=("Read",), big_reads=True, compact_at=None,
                                  min_context=205_000), cwd="/home/dev/projects/big-refactor")
        self.claude(ClaudeOptions(turns=4, models=("claude-opus-4-6[1m]",)), cwd="/home/dev/projects/big-refactor")
        self.claude(ClaudeOptions(turns=5, legacy_subagents=2, inline_sidechains=1), cwd="/home/dev/legacy/old_build")
        long_cwd = "/home/dev/" + "/".join(f"deeply_nested_folder_{i:02d}" for i in range(9)) + "/project"
        self.claude(ClaudeOptions(turns=3), cwd=long_cwd)
        self.claude(ClaudeOptions(turns=4, api_errors=1, usage_limit="api_error"), cwd="/home/dev/projects/xdg-user", root=CLAUDE_XDG)
        if self.extra_root:
            self.claude(ClaudeOptions(turns=3), cwd="/home/dev/projects/extra", root=CLAUDE_EXTRA)
        self.claude(ClaudeOptions(turns=3, truncated_tail=True), cwd="/home/dev/projects/live")
        self.empty_claude_file()
        self.ghost_stub()
        # 2026 money: 1-hour and mixed-TTL writes everywhere; fast mode; advisor calls; a
        # session without the TTL split; Opus 4.6 above 200k after the flat-price day.
        self.claude(ClaudeOptions(turns=5, models=("claude-opus-4-6",), fast_rate=0.5, one_hour_rate=0.5),
                    cwd="/home/dev/projects/fast-lane")
        self.claude(ClaudeOptions(turns=5, models=("claude-sonnet-4-5-20250929",), advisor_rate=0.6),
                    cwd="/home/dev/projects/advised")
        self.claude(ClaudeOptions(turns=3, ttl_split=False, one_hour_rate=0.0), cwd="/home/dev/projects/old-build")
        self.claude(ClaudeOptions(turns=3, models=("claude-opus-4-6",), tools=("Read",), big_reads=True, compact_at=None,
                                  min_context=205_000), cwd="/home/dev/projects/big-refactor",
                    start=datetime(2026, 4, 2, 9, 0, tzinfo=UTC))
        # Aider works in a repository a Claude session also worked in: found from that cwd.
        # (Its repositories are real absolute paths, so they tie the corpus to its root.)
        shop = str((self.root / "work" / "shop").resolve())
        if self.with_aider:
            self.claude(ClaudeOptions(turns=2), cwd=shop)

        self.codex(CodexOptions(turns=4, models=("gpt-5-codex", "gpt-5"), reemit_rate=0.5, error_events=1, garbage=1,
                                fail_rate=0.2), cwd="/home/dev/projects/api-server")
        parent = self.codex(CodexOptions(turns=3, keep_for_fork=True), cwd="/home/dev/projects/monitor")
        self.codex(CodexOptions(turns=2), cwd="/home/dev/projects/monitor", fork_of=parent,
                   start=parent.truth.last + timedelta(minutes=30))
        self.codex(CodexOptions(turns=3), cwd="/home/dev/projects/old", archived=True)
        self.codex(CodexOptions(turns=6, compact_at=30_000), cwd="/home/dev/projects/codex-long")
        # 2026 Codex formats
        self.codex(CodexOptions(turns=4, models=("gpt-6-astra",), cache_writes=True, compact_at=None),
                   cwd="/home/dev/projects/astra")
        self.codex(CodexOptions(turns=6, compact_at=40_000, compact_turns=(2,), compaction_records="remote"),
                   cwd="/home/dev/projects/remote-compact")
        self.codex(CodexOptions(turns=6, compact_at=40_000, compact_turns=(2,), compaction_records="local"),
                   cwd="/home/dev/projects/local-compact")
        self.codex(CodexOptions(turns=6, models=("gpt-5.3-codex",), priority_turns=(1, 2, 4), aborted_turns=(3,),
                                resume_before=(5,)), cwd="/home/dev/projects/tiers")
        lead = self.codex(CodexOptions(turns=5, keep_for_fork=True), cwd="/home/dev/projects/lineage")
        self.codex(CodexOptions(turns=2), cwd="/home/dev/projects/lineage", fork_of=lead, layout="history_base", cut_turn=2,
                   start=lead.truth.last + timedelta(minutes=20))
        self.codex(CodexOptions(turns=2), cwd="/home/dev/projects/lineage", fork_of=lead, layout="child",
                   start=lead.truth.last + timedelta(minutes=40))
        page1 = self.codex(CodexOptions(turns=3, keep_for_fork=True, ordinals=True), cwd="/home/dev/projects/pages")
        self.codex(CodexOptions(turns=3, ordinals=True), cwd="/home/dev/projects/pages", page_of=page1,
                   start=page1.truth.last + timedelta(hours=3))

        self.gemini(turns=6, cwd="/home/dev/projects/gem", subagent=True)
        self.gemini(turns=4, cwd="/home/dev/projects/gem-root", model="gemini-3-flash-preview", project_root_file=True)
        self.gemini(turns=3, cwd="/home/dev/projects/gem-legacy", legacy=True)
        self.copilot(cwd="/home/dev/projects/pilot", models=("claude-sonnet-4.6", "gpt-5.2"), parts=3, partial=False)
        self.copilot(cwd="/home/dev/projects/pilot", models=("gpt-5.2",), parts=2, partial=True)
        self.copilot(cwd="/home/dev/projects/pilot-old", models=("claude-sonnet-4.6",), parts=2, partial=False, restart=True)
        if self.with_aider:
            self.aider(Path(shop), runs=2)
            self.aider(self.root / AIDER_REPOS / "tools", runs=1)
            self.settings_env["LLM_SESSION_AIDER_PATHS"] = str((self.root / AIDER_REPOS).resolve()) + "/*"

    # -- bulk: random realistic sessions for size

    def random_claude(self) -> None:
        rng = self.rng
        models = tuple(rng.sample(CLAUDE_MODELS, rng.choice([1, 1, 1, 2])))
        opts = ClaudeOptions(
            turns=rng.randint(8, 90), models=models, subagents=rng.choice([0, 0, 1, 2, 4]),
            legacy_subagents=rng.choice([0] * 9 + [1]), api_errors=rng.choice([0, 0, 0, 1, 2]),
            meta_lines=rng.randint(0, 3), side_records=rng.randint(0, 12), unknown_records=rng.choice([0] * 9 + [1]),
            garbage=tuple(rng.choice(["text", "binary", "non_object", "truncated_mid"]) for _ in range(rng.choice([0] * 12 + [1]))),
            compact_at_end=rng.random() < 0.05, summary_line=rng.random() < 0.2,
        )
        cwd = f"/home/dev/projects/{rng.choice(['api', 'web', 'cli', 'infra', 'ml'])}-{rng.randint(1, 40)}"
        root = CLAUDE_HOME if rng.random() < 0.9 else CLAUDE_XDG
        self.claude(opts, cwd=cwd, root=root)

    def random_codex(self) -> None:
        rng = self.rng
        opts = CodexOptions(turns=rng.randint(5, 60), models=tuple(rng.sample(CODEX_MODELS, rng.choice([1, 1, 2]))),
                            error_events=rng.choice([0, 0, 0, 1]))
        cwd = f"/home/dev/projects/{rng.choice(['api', 'web', 'cli'])}-{rng.randint(1, 40)}"
        self.codex(opts, cwd=cwd, archived=rng.random() < 0.1)

    def truth(self) -> Truth:
        return Truth(seed=self.seed, sessions=self.sessions, traps=dict(sorted(self.traps.items())),
                     files=self.files, bytes=self.bytes, lines=self.lines, not_sessions=self.not_sessions,
                     settings_env=self.settings_env)


def build_corpus(
    root: Path,
    *,
    seed: int = 0,
    claude_sessions: int = 2,
    codex_sessions: int = 1,
    target_bytes: int | None = None,
    progress: Progress | None = None,
    extra_claude_root: bool = True,
    aider: bool = True,
    shape: str = "default",
) -> Truth:
    """Write a corpus under `root` and `root/truth.json`; return the truth.

    The trap scenarios are always written first (about 4 MB), so every trap of formats.md
    occurs at least once. `claude_sessions`/`codex_sessions` add that many random sessions
    after them; `target_bytes`, when given, keeps adding random sessions (four Claude to one
    Codex) until the transcripts reach that size. Same seed, same bytes.
    `extra_claude_root=False` leaves out the session that only CLAUDE_CONFIG_DIR can see;
    `aider=False` leaves out the Aider repositories, the only files whose bytes depend on
    where the corpus is written (Aider has no home folder: its histories sit in real paths).
    `shape="real"` makes the random sessions Claude Code history whose byte mix follows
    public real transcripts (see `shape.py`); the trap scenarios stay the same.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    b = _Builder(root, seed, progress, target_bytes, extra_claude_root, aider)
    b.scenarios()
    if shape != "default":
        from llm_sessions.synth.shape import SHAPES

        SHAPES[shape](b, claude_sessions, target_bytes)
    else:
        for _ in range(claude_sessions):
            b.random_claude()
        for _ in range(codex_sessions):
            b.random_codex()
        while target_bytes is not None and b.bytes < target_bytes:
            if b.rng.random() < 0.8:
                b.random_claude()
            else:
                b.random_codex()
    truth = b.truth()
    (root / "truth.json").write_text(json.dumps(truth.as_dict(), indent=1, ensure_ascii=False) + "\n")
    return truth
