"""The corpus builder: writes one session of any assistant and records its truth entry.

`CorpusBuilder` hands each session its own generator (drawn from the corpus seed, so adding
a session never changes the bytes of the others), a simulated clock and a file sink, runs
it, and turns the session's truth into its truth.json entry. The trap scenarios are
corpus_scenarios.py's, the random sessions that grow a corpus to size are below, and
build_corpus (corpus.py) puts them in order.
"""

from __future__ import annotations

import hashlib
import random
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from llm_sessions.core.accounting.roots import CLAUDE_DIR_MAX
from llm_sessions.synth import records as R
from llm_sessions.synth.claude_options import CLAUDE_MODELS, ClaudeOptions
from llm_sessions.synth.claude_session import ClaudeSession
from llm_sessions.synth.clock import SimClock
from llm_sessions.synth.codex_session import CodexSession
from llm_sessions.synth.codex_writer import CODEX_MODELS, CODEX_WINDOW, CodexOptions
from llm_sessions.synth.corpus_layout import (
    CLAUDE_EXTRA,
    CLAUDE_HOME,
    CLAUDE_XDG,
    CODEX_HOME,
    COPILOT_HOME,
    EPOCH,
    GEMINI_HOME,
    FileSink,
    claude_project_dir,
)
from llm_sessions.synth.corpus_truth import Truth, iso_or_none, token_totals
from llm_sessions.synth.others import AiderHistory, CopilotSession, GeminiSession
from llm_sessions.synth.others import Truth as OtherTruth

Progress = Callable[[int, int | None], None]


class CorpusBuilder:
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
            "tokens": token_totals(t.input, t.output, t.cache_creation, t.cache_read),
            "context": {"used": t.context_used, "window": s.window()},
            "turns": t.turns,
            "api_errors": t.api_errors,
            "tool_errors": t.tool_errors,
            "subagent_files": t.subagent_files,
            "compactions": t.compactions,
            "first": iso_or_none(t.first),
            "last": iso_or_none(t.last),
            "limit_resets_at": iso_or_none(t.limit_resets_at),
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
                    "resets_at": iso_or_none(datetime.fromtimestamp(v["resets_at"], UTC))}
                for k, v in t.rate_limits.items()
            }
        self.sessions[sid] = {
            "tool": "codex",
            "root": CODEX_HOME,
            "file": f"{CODEX_HOME}/{rel}",
            "cwd": cwd,
            "model": t.model,
            "tokens": token_totals(t.input, t.output, t.cache_creation, t.cache_read),
            "context": {"used": t.context_used, "window": CODEX_WINDOW},
            "turns": t.turns,
            "api_errors": t.api_errors,
            "tool_errors": t.tool_errors,
            "subagent_files": 0,
            "compactions": t.compactions,
            "first": iso_or_none(t.first),
            "last": iso_or_none(t.last),
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
        entry["tokens"] = token_totals(a.input + b.input, a.output + b.output, a.cache_creation + b.cache_creation,
                                  a.cache_read + b.cache_read)
        entry["turns"] = a.turns + b.turns
        entry["api_errors"] = a.api_errors + b.api_errors
        entry["tool_errors"] = a.tool_errors + b.tool_errors
        entry["compactions"] = a.compactions + b.compactions
        entry["first"] = iso_or_none(a.first)
        entry["cost"] = round(a.cost + b.cost, 6)

    # -- Gemini, Copilot, Aider

    def _other(self, tool: str, root: str, sid: str, file: str, cwd: str, t: OtherTruth) -> None:
        self.sessions[sid] = {
            "tool": tool, "root": root, "file": f"{root}/{file}", "cwd": cwd, "model": t.model,
            "tokens": token_totals(*t.tokens), "context": t.context, "turns": t.turns, "api_errors": t.api_errors,
            "tool_errors": t.tool_errors, "subagent_files": 0, "compactions": 0, "first": iso_or_none(t.first), "last": iso_or_none(t.last),
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
