"""The `real` corpus shape: Claude Code history whose byte mix follows public real transcripts.

The default generator writes every trap of formats.md, but its byte mix is its own: few
progress rows, small tool results. Real 2026 history is mostly tool results and progress
rows (hook, bash and subagent progress), with assistant lines, the only ones that carry
usage, a sixth of the bytes. A reader tuned on the default corpus can be fast there and slow
on real disks, so benchmarks run on both.

`PROFILE` holds the figures this shape copies, measured with `python -m
llm_sessions.synth.measure` on public transcripts (sources, commits and the measured tables
are in docs/benchmarks.md):
- marot/spotter, test/fixtures/transcripts at 8cc42b0 (MIT): Claude Code 2.1.39, six real
  sessions with their nested subagent files: kinds of lines, their share of bytes, line
  lengths, progress rows per tool call, snapshots per prompt, subagent files per session;
- kim-em/claude-summaries (summaries of a real ~/.claude/projects, figures as reported
  there): session sizes. An interactive project (lean4-2-tests: 8 sessions of 13 KB to
  1.7 MB, median ~800 KB, plus 15 small agent files) and a batch one (claude-summarize:
  210 sessions, median 100-200 KB, largest ~13 MB) bracket a log-normal with a median
  of 500 KB: most sessions are small and a few large ones hold most bytes.

Everything else (ids, usage, context, compaction, errors, the truth) is the default
session model's: `RealClaudeSession` only adds the rows real files have around it, so the
truth stays exact. Progress rows of subagents (`agent_progress`) embed copies of subagent
assistant lines, usage and ids included: a reader that counts them counts usage twice.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from llm_sessions.synth import records as R
from llm_sessions.synth.claude_options import CLAUDE_MODELS, Chain, ClaudeOptions
from llm_sessions.synth.claude_session import ClaudeSession
from llm_sessions.synth.filler import text

if TYPE_CHECKING:
    from llm_sessions.synth.corpus_builder import CorpusBuilder


@dataclass(frozen=True, slots=True)
class Profile:
    """What one session of the shape looks like; see the module docstring for the sources."""

    session_median_bytes: int = 500_000  # between an interactive (~800 KB) and a batch (~150 KB) median
    session_sigma: float = 1.5  # log-normal: mean ~1.5 MB, p90 ~3.4 MB (spotter's largest sessions)
    session_max_bytes: int = 16_000_000
    bytes_per_call: int = 13_000  # calibrated so generated sessions land on the drawn size:
    bytes_per_session: int = 15_000  # a session of n calls writes about this + n * bytes_per_call
    calls_per_turn: int = 30  # spotter: 140-220 responses over 3-6 prompts
    pre_hooks_per_call: float = 2.02
    post_hooks_per_call: float = 2.91
    bash_progress_per_call: float = 2.2
    agent_progress_per_line: float = 0.9  # mirrored share of subagent lines; measures as 0.3 per subagent row
    snapshot_per_edit: float = 1.0
    result_median: int = 850  # tool_result lines (content written twice): median 2,271 B, p90 21 kB, p99 58 kB
    result_sigma: float = 1.75
    result_max: int = 85_000
    reply_median: int = 150  # assistant lines: median 1,060 B, p90 1,938 B (mostly envelope and usage)
    reply_sigma: float = 1.3
    bash_output_median: int = 50  # bash_progress rows (output written twice): median 631 B, p90 3 kB
    bash_output_sigma: float = 2.9
    task_subagents: tuple[int, ...] = (0, 0, 0, 1, 1, 2)  # subagent files hold 8% of the bytes
    thinking_per_response: float = 0.1  # spotter: 6% of assistant lines are thinking blocks,
    text_per_response: float = 0.55  # 31% text blocks, 62% tool calls


PROFILE = Profile()
HOOKS = ("/home/dev/.claude/hooks/tmux-waiting.sh", "/home/dev/.claude/hooks/format.sh", "/home/dev/.claude/hooks/guard.py")


def _count(rng: random.Random, mean: float) -> int:
    """An integer with the given mean: its floor, plus one with the fraction's probability."""
    whole = int(mean)
    return whole + (rng.random() < mean - whole)


def _lognormal(rng: random.Random, median: int, sigma: float, lo: int, hi: int) -> int:
    return max(lo, min(hi, int(rng.lognormvariate(math.log(median), sigma))))


def hook_progress(env: dict, *, uuid: str, timestamp: str, event: str, name: str, command: str, tool_use_id: str) -> dict:
    rec = dict(env)
    rec["type"] = "progress"
    rec["data"] = {"type": "hook_progress", "hookEvent": event, "hookName": name, "command": command}
    rec["parentToolUseID"] = tool_use_id
    rec["toolUseID"] = tool_use_id
    rec["timestamp"] = timestamp
    rec["uuid"] = uuid
    return rec


def bash_progress(env: dict, *, uuid: str, timestamp: str, output: str, seconds: int, tool_use_id: str, n: int) -> dict:
    rec = dict(env)
    rec["type"] = "progress"
    rec["data"] = {"type": "bash_progress", "output": output, "fullOutput": output, "elapsedTimeSeconds": seconds,
                   "totalLines": output.count("\n") + 1, "timeoutMs": 120000}
    rec["toolUseID"] = f"bash-progress-{n}"
    rec["parentToolUseID"] = tool_use_id
    rec["uuid"] = uuid
    rec["timestamp"] = timestamp
    return rec


def agent_progress(env: dict, *, uuid: str, timestamp: str, inner: dict, prompt: str, agent_id: str, tool_use_id: str) -> dict:
    """A subagent's line mirrored into the parent file, usage and ids included."""
    copy = {"type": inner["type"], "timestamp": inner["timestamp"], "message": inner["message"]}
    if "requestId" in inner:
        copy["requestId"] = inner["requestId"]
    copy["uuid"] = inner["uuid"]
    rec = dict(env)
    rec["type"] = "progress"
    rec["data"] = {"message": copy, "normalizedMessages": [], "type": "agent_progress", "prompt": prompt, "agentId": agent_id}
    rec["toolUseID"] = "agent_" + inner["uuid"][:20]
    rec["parentToolUseID"] = tool_use_id
    rec["uuid"] = uuid
    rec["timestamp"] = timestamp
    return rec


def snapshot(msg_uuid: str, timestamp: str, files: list[str], update: bool) -> dict:
    rec = R.claude_file_history_snapshot(msg_uuid, timestamp, files)
    for i, f in enumerate(files):
        rec["snapshot"]["trackedFileBackups"][f] = {"backupFileName": f"{msg_uuid[:16]}@v{i + 1}", "version": i + 1,
                                                    "backupTime": timestamp}
    rec["isSnapshotUpdate"] = update
    return rec


class RealClaudeSession(ClaudeSession):
    """A default session plus the rows real files carry around each step (see the module)."""

    def __init__(self, *args, calls: float = 6.0, profile: Profile = PROFILE, **kw) -> None:
        super().__init__(*args, **kw)
        # 2026 builds: a newer version and a per-session slug on every conversational row.
        self.main.env["version"] = "2.1.39"
        self.main.env["slug"] = "-".join(self.rng.choice(_WORDS) for _ in range(3))
        self.calls = calls
        self.profile = profile
        self.bash_runs = 0
        self.agent_prompts: dict[str, tuple[str, str]] = {}  # subagent path -> (prompt, agent id)
        self.edited: list[str] = []

    # -- rows around the default model's steps

    def _hooks(self, chain: Chain, event: str, n: int, tool_use_id: str) -> None:
        for _ in range(n):
            cmd = self.rng.choice(HOOKS)
            name = f"{event}:{self.rng.choice(_TOOLS)}"
            rec = self._line(chain, hook_progress, event=event, name=name, command=cmd, tool_use_id=tool_use_id)
            self.sink(chain.path, R.dumps(rec), True)

    def respond(self, chain: Chain, *, tool: str | None, thinking: bool | None = None, text_block: bool = True) -> dict | None:
        rng, p = self.rng, self.profile
        if thinking is None:
            thinking = rng.random() < p.thinking_per_response
        return super().respond(chain, tool=tool, thinking=thinking, text_block=text_block and rng.random() < p.text_per_response)

    def tool_calls(self) -> int:
        return max(1, round(self.calls * self.rng.uniform(0.5, 1.5)))

    def tool_result(self, chain: Chain, block: dict, *, is_error: bool | None = None, body: str | None = None) -> None:
        p, rng = self.profile, self.rng
        self._hooks(chain, "PreToolUse", _count(rng, p.pre_hooks_per_call), block["id"])
        if block["name"] == "Bash":
            for _ in range(_count(rng, p.bash_progress_per_call)):
                self.bash_runs += 1
                self.clock.advance(rng.uniform(0.5, 3))
                out = text(rng, 1, _lognormal(rng, p.bash_output_median, p.bash_output_sigma, 1, 7_000))
                rec = self._line(chain, bash_progress, output=out, seconds=rng.randint(1, 60), tool_use_id=block["id"], n=self.bash_runs)
                self.sink(chain.path, R.dumps(rec), True)
        super().tool_result(chain, block, is_error=is_error, body=body)
        self._hooks(chain, "PostToolUse", _count(rng, p.post_hooks_per_call), block["id"])
        if chain is self.main and block["name"] in ("Edit", "Write") and rng.random() < p.snapshot_per_edit:
            self.edited.append(block["input"].get("file_path", "x"))
            rec = snapshot(R.new_uuid(rng), self._ts(), self.edited[-12:], update=True)
            self.sink(self.main_path, R.dumps(rec), True)

    def reply_text(self, lo: int, hi: int) -> str:
        p = self.profile
        n = _lognormal(self.rng, p.reply_median, p.reply_sigma, 2, hi)
        return text(self.rng, n, n)

    def _result_text(self, name: str, is_error: bool) -> str:
        if is_error or name in ("Write", "TodoWrite", "Edit"):
            return super()._result_text(name, is_error)
        p = self.profile
        n = _lognormal(self.rng, p.result_median, p.result_sigma, 40, p.result_max)
        return text(self.rng, n, n)

    def prompt(self, chain: Chain | None = None, body: str | None = None) -> None:
        if chain is None or chain is self.main:
            rec = snapshot(R.new_uuid(self.rng), self._ts(), self.edited[-12:], update=False)
            self.sink(self.main_path, R.dumps(rec), True)
        elif body is not None:
            self.agent_prompts[chain.path] = (body, chain.env.get("agentId") or "a" + R.new_uuid(self.rng)[:6])
        super().prompt(chain, body)

    def _emit(self, chain_path: str, rec: dict, *, owned: bool = True, chain: Chain | None = None) -> None:
        super()._emit(chain_path, rec, owned=owned, chain=chain)
        mirrored = self.agent_prompts.get(chain_path)
        if mirrored is not None and chain_path != self.main_path and self.rng.random() < self.profile.agent_progress_per_line:
            prompt, aid = mirrored
            row = self._line(self.main, agent_progress, inner=rec, prompt=prompt, agent_id=aid, tool_use_id=R.tool_use_id(self.rng))
            self.sink(self.main_path, R.dumps(row), True)

    def compact(self, trigger: str) -> None:
        """Real builds summarise in a subagent file `agent-acompact-<id>.jsonl`: one big call."""
        rng = self.rng
        aid = "acompact-" + "".join(rng.choices("0123456789abcdef", k=6))
        path = f"projects/{self.project_dir}/{self.sid}/subagents/agent-{aid}.jsonl"
        env = R.claude_envelope(parent_uuid=None, session_id=self.sid, cwd=self.cwd, git_branch=self.main.env["gitBranch"],
                                is_sidechain=True, agent_id=aid)
        chain = Chain(path, env, True, self.main.model, self.main.ctx, self.main.cached)
        super().prompt(chain, "Your task is to create a detailed summary of the conversation so far. " + text(rng, 2_000, 20_000))
        self.respond(chain, tool=None, thinking=False)
        self.truth.subagent_files += 1
        self.traps["compaction_subagent_files"] += 1
        super().compact(trigger)

    def turn(self, index: int, plan: dict[int, list[str]]) -> None:
        super().turn(index, plan)
        self._hooks(self.main, "Stop", self.rng.randint(1, 2), R.tool_use_id(self.rng))

    def run(self):
        self._hooks(self.main, "SessionStart", 2, R.new_uuid(self.rng))
        return super().run()


_WORDS = ("modular", "petting", "thompson", "lexical", "painting", "whisper", "quiet", "amber", "rolling", "harbor")
_TOOLS = ("Bash", "Read", "Edit", "Grep", "Write", "Glob")
_PROJECTS = tuple(f"/home/dev/projects/{name}" for name in (
    "api", "web", "cli", "infra", "ml", "docs", "spotter", "lean4", "mathlib", "factorio-mod", "site", "bot"))


def real_session(b: CorpusBuilder, profile: Profile = PROFILE) -> None:
    """One random session of the real shape, sized from the profile's size distribution."""
    rng = b.rng
    size = _lognormal(rng, profile.session_median_bytes, profile.session_sigma, 4_000, profile.session_max_bytes)
    calls = max(1, round((size - profile.bytes_per_session) / profile.bytes_per_call))
    turns = max(1, round(calls / profile.calls_per_turn))
    opts = ClaudeOptions(
        turns=turns, models=tuple(rng.sample(CLAUDE_MODELS, rng.choice([1, 1, 1, 2]))),
        subagents=rng.choice(profile.task_subagents) + turns // 4, api_errors=rng.choice([0, 0, 0, 0, 1]),
        meta_lines=rng.randint(0, 2), side_records=rng.randint(0, 4), unknown_records=rng.choice([0] * 19 + [1]),
        garbage=tuple(rng.choice(["text", "binary", "non_object", "truncated_mid"]) for _ in range(rng.choice([0] * 30 + [1]))),
        summary_line=rng.random() < 0.05,
    )
    worktree = rng.choice(["", "", "", f"-worktrees/{rng.choice('abcdefgh')}{rng.randint(0, 99)}"])
    cwd = rng.choice(_PROJECTS) + worktree
    b.claude(opts, cwd=cwd, kind=partial(RealClaudeSession, calls=calls / turns, profile=profile))


def fill_real(b: CorpusBuilder, sessions: int, target_bytes: int | None) -> None:
    """`sessions` real-shape sessions, then more until the corpus reaches `target_bytes`."""
    made = 0
    while made < sessions or (target_bytes is not None and b.bytes < target_bytes):
        real_session(b)
        made += 1


SHAPES = {"real": fill_real}
