"""Session models: play one Claude Code or Codex CLI session line by line, keeping the truth.

Each session object owns a random generator, a clock and a sink. It decides what happens
(prompts, streamed responses, tool calls, subagents, compaction, errors, junk lines), writes
every line through the sink, and accumulates its ground truth *from its own model* as it
goes: the token counts it chose, the context it chose, the errors it injected. Nothing is
ever recovered by parsing the written bytes, so the truth can catch a parser's mistakes
instead of repeating them.

The same objects drive the corpus builder (a simulated clock, lines buffered to files) and
the live demo writer (the wall clock, one flushed append per line), so the demo shows
exactly the record shapes the tests check.
"""

from __future__ import annotations

import base64
import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from llm_sessions.synth import records as R
from llm_sessions.synth.rates import request_cost

# A sink receives (path relative to the tool's root, one line without newline, complete).
# `complete=False` means "write these bytes and no newline": a half-written last line.
Sink = Callable[[str, bytes, bool], None]

WINDOW = 200_000
WINDOW_1M = 1_000_000
CODEX_WINDOW = 272_000
ONE_M_SUFFIX = "[1m]"


# ---------------------------------------------------------------- text and time


def _build_pool() -> str:
    """A fixed ~600 KB mix of prose and code; slices of it are every text in the corpus.

    Built from its own fixed seed so that text never depends on the corpus seed's call
    order, and slicing a pool is far cheaper than composing words per line (1 GB budget).
    """
    rng = random.Random(0x5EED)
    words = (
        "the a to of and in is for that this with it on be as are from by we can "
        "function return value error file test parse session token context window "
        "cache usage model request response stream line offset tailer monitor "
        "snapshot provider worker render table row column update refresh poll "
        "import class def self None True False async await yield raise except "
        "config path root cwd encode decode json record field index budget "
        "compact summary subagent sidechain resume fork rollout codex claude "
        "héllo naïve → ✓ 日本 café"
    ).split()
    code = [
        "def {w}(self, {v}):\n    return self._{v}.get({w!r})\n",
        "    if {v} is None:\n        raise ValueError('{w} missing')\n",
        "for {v} in {w}s:\n    total += {v}.{w}\n",
        "import {w}\nfrom {v} import {w}_{v}\n",
        "  {n} | {w} = {v}({n})  # {w} {v}\n",
        "error: {w} failed at line {n}: expected {v}\n",
    ]
    parts: list[str] = []
    size = 0
    while size < 600_000:
        if rng.random() < 0.45:
            line = rng.choice(code).format(w=rng.choice(words[:60]), v=rng.choice(words[10:70]), n=rng.randint(1, 999))
        else:
            n = rng.randint(6, 24)
            line = " ".join(rng.choice(words) for _ in range(n)).capitalize() + ". "
            if rng.random() < 0.3:
                line += "\n\n"
        parts.append(line)
        size += len(line)
    return "".join(parts)


_POOL: str | None = None


def text(rng: random.Random, lo: int, hi: int) -> str:
    """Filler of lo..hi characters, sliced from the shared pool at a random offset."""
    global _POOL
    if _POOL is None:
        _POOL = _build_pool()
    n = rng.randint(lo, hi)
    start = rng.randrange(len(_POOL) - n)
    return _POOL[start : start + n]


def sized(rng: random.Random, lo: int, hi: int, median: int) -> int:
    """A log-normal size clipped to [lo, hi]: most tool outputs small, a long tail of big ones."""
    v = int(rng.lognormvariate(math.log(median), 0.9))
    return max(lo, min(hi, v))


def blob(rng: random.Random, n: int) -> str:
    """Opaque base64 (thinking signatures, Codex encrypted reasoning)."""
    return base64.b64encode(rng.randbytes(n)).decode()


class SimClock:
    """Simulated time for corpora: `advance` moves it, so a 1 GB corpus takes no real hours."""

    def __init__(self, start: datetime) -> None:
        self.t = start

    def now(self) -> datetime:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += timedelta(seconds=seconds)


class WallClock:
    """Real time for the live writer; the caller sleeps between steps instead of advancing."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def advance(self, seconds: float) -> None:
        return None


def _tokens(s: str) -> int:
    """The generator's own token count for a text: ~3.6 characters per token, at least 1."""
    return max(1, int(len(s) / 3.6))


# ---------------------------------------------------------------- Claude Code


CLAUDE_MODELS = ("claude-sonnet-4-5-20250929", "claude-opus-4-6", "claude-opus-4-5-20251101")
HAIKU = "claude-haiku-4-5-20251001"
SYNTHETIC = "<synthetic>"
ADVISOR = "claude-opus-4-6"


@dataclass(slots=True)
class ClaudeOptions:
    """What one Claude session contains; corpus scenarios set these to place every trap."""

    turns: int = 6
    models: tuple[str, ...] = ("claude-sonnet-4-5-20250929",)
    subagents: int = 0
    legacy_subagents: int = 0
    inline_sidechains: int = 0
    compact_at: int | None = 160_000  # auto-compact threshold; None never compacts
    compact_at_end: bool = False
    manual_compact_turn: int | None = None
    api_errors: int = 0
    tool_error_rate: float = 0.04
    usage_limit: str | None = None  # "user" (formats.md) or "api_error" (what ccusage reads)
    meta_lines: int = 1
    side_records: int = 2
    unknown_records: int = 0
    garbage: tuple[str, ...] = ()  # kinds: text, binary, non_object, truncated_mid
    truncated_tail: bool = False
    summary_line: bool = False
    start_context: int = 14_000
    big_reads: bool = False  # large Read results, to push context past 200k quickly
    keep_for_copy: bool = False  # remember main-chain lines so a resumed session can copy them
    tools: tuple[str, ...] = ()  # restrict the main chain's tools (e.g. only Read); empty = all
    min_context: int = 0  # keep adding turns until the main context passes this
    min_compactions: int = 0  # keep adding turns until this many compactions, then two more
    one_hour_rate: float = 0.2  # responses whose cache writes all use the 1-hour TTL
    mixed_ttl_rate: float = 0.1  # responses that write with both TTLs
    ttl_split: bool = True  # False: no cache_creation split (older builds; priced as 5-minute)
    fast_rate: float = 0.0  # responses run in fast mode (usage.speed = "fast")
    advisor_rate: float = 0.0  # responses that call the advisor (usage.iterations)


@dataclass(slots=True)
class _Chain:
    """One conversation chain: the main file, a subagent file, or inline sidechain lines."""

    path: str
    env: dict
    sidechain: bool
    model: str
    ctx: int
    cached: int
    parent: str | None = None


@dataclass(slots=True)
class ClaudeTruth:
    """What the session really used, by the product's definitions (see corpus.py)."""

    input: int = 0
    output: int = 0
    cache_creation: int = 0
    cache_read: int = 0
    turns: int = 0
    api_errors: int = 0
    tool_errors: int = 0
    subagent_files: int = 0
    first: datetime | None = None
    last: datetime | None = None
    context_used: int = 0
    over_200k: bool = False
    suffix_1m: bool = False
    model: str | None = None
    limit_resets_at: datetime | None = None
    compactions: int = 0
    cost: float = 0.0


_TOOLS = ("Bash", "Read", "Edit", "Grep", "Write", "Glob", "TodoWrite")
_TOOL_WEIGHTS = (30, 30, 18, 8, 5, 4, 5)


class ClaudeSession:
    """Plays one Claude Code session into `projects/<project_dir>/<session_id>.jsonl`."""

    def __init__(
        self,
        rng: random.Random,
        *,
        session_id: str,
        cwd: str,
        project_dir: str,
        clock: SimClock | WallClock,
        sink: Sink,
        traps: Counter,
        opts: ClaudeOptions,
        git_branch: str = "main",
    ) -> None:
        self.rng = rng
        self.sid = session_id
        self.cwd = cwd
        self.project_dir = project_dir
        self.clock = clock
        self.sink = sink
        self.traps = traps
        self.opts = opts
        self.truth = ClaudeTruth()
        self.main_path = f"projects/{project_dir}/{session_id}.jsonl"
        env = R.claude_envelope(parent_uuid=None, session_id=session_id, cwd=cwd, git_branch=git_branch)
        self.main = _Chain(self.main_path, env, False, opts.models[0], opts.start_context, 0)
        self.copyable: list[tuple[dict, int, int]] = []  # (record, ctx after, cached after)
        self.turn_ends: list[int] = []  # indexes into copyable after which a turn is complete
        self._models_used: set[str] = set()

    # -- low level

    def _ts(self) -> str:
        return R.iso(self.clock.now())

    def _emit(self, chain_path: str, rec: dict, *, owned: bool = True, chain: _Chain | None = None) -> None:
        self.sink(chain_path, R.dumps(rec), True)
        if owned and rec.get("type") in ("user", "assistant", "system") and "timestamp" in rec:
            now = self.clock.now()
            if self.truth.first is None:
                self.truth.first = now
            self.truth.last = now
        if self.opts.keep_for_copy and chain is self.main and owned:
            self.copyable.append((rec, self.main.ctx, self.main.cached))

    def _line(self, chain: _Chain, rec_builder, **kw) -> dict:
        uid = R.new_uuid(self.rng)
        env = dict(chain.env)
        env["parentUuid"] = chain.parent
        rec = rec_builder(env, uuid=uid, timestamp=self._ts(), **kw)
        chain.parent = uid
        return rec

    # -- building blocks

    def prompt(self, chain: _Chain | None = None, body: str | None = None) -> None:
        chain = chain or self.main
        self.clock.advance(self.rng.uniform(8, 240) if not chain.sidechain else 0.2)
        body = body or text(self.rng, 40, 900)
        rec = self._line(chain, R.claude_user_text, text=body)
        chain.ctx += _tokens(body)
        self._emit(chain.path, rec, chain=chain)

    def meta(self) -> None:
        """isMeta caveat + a local slash command, as written around `/model` or `/clear`."""
        chain = self.main
        caveat = (
            "Caveat: The messages below were generated by the user while running local commands. "
            "DO NOT respond to these messages or otherwise consider them in your response unless "
            "the user explicitly asks you to."
        )
        self._emit(chain.path, self._line(chain, R.claude_user_text, text=caveat, is_meta=True), chain=chain)
        cmd = "<command-name>/model</command-name>\n<command-message>model</command-message>\n<command-args></command-args>"
        self._emit(chain.path, self._line(chain, R.claude_user_text, text=cmd), chain=chain)
        self.traps["meta_lines"] += 1

    def _tool_input(self, name: str) -> dict:
        rng, cwd = self.rng, self.cwd
        f = f"{cwd}/src/{rng.choice(['tailer', 'monitor', 'models', 'health', 'app', 'cli'])}.py"
        if name == "Bash":
            return {"command": rng.choice(["pytest -q", "git status", "ruff check .", "ls -la src", "python -m build"]), "description": text(rng, 20, 80)}
        if name == "Read":
            return {"file_path": f}
        if name == "Edit":
            return {"file_path": f, "old_string": text(rng, 40, 800), "new_string": text(rng, 40, 1400)}
        if name == "Write":
            return {"file_path": f, "content": text(rng, 400, 6000)}
        if name == "Grep":
            return {"pattern": rng.choice(["def poll", "class .*Provider", "TODO", "usage"]), "path": cwd, "output_mode": "content", "-n": True}
        if name == "Glob":
            return {"pattern": "**/*.py", "path": cwd}
        if name == "TodoWrite":
            return {"todos": [{"content": text(rng, 20, 90), "status": rng.choice(["pending", "in_progress", "completed"]), "activeForm": text(rng, 20, 60)} for _ in range(rng.randint(2, 6))]}
        return {"description": text(rng, 20, 60), "prompt": text(rng, 200, 1500), "subagent_type": "general-purpose"}

    def respond(self, chain: _Chain, *, tool: str | None, thinking: bool | None = None, text_block: bool = True) -> dict | None:
        """One API response, streamed as one line per content block (the duplicate trap).

        Every line repeats message.id, requestId and the input/cache usage; output_tokens
        grows line to line and the last line carries the final count, which is what the
        truth records. Returns the tool_use block, if any.
        """
        rng = self.rng
        self.clock.advance(rng.uniform(1.5, 25))
        blocks: list[dict] = []
        if thinking if thinking is not None else rng.random() < 0.35:
            blocks.append(R.thinking_block(self.reply_text(200, 3000), blob(rng, rng.randint(150, 400))))
        if text_block or tool is None:
            blocks.append(R.text_block(self.reply_text(100, 3000)))
        tool_block = None
        if tool is not None:
            tool_block = R.tool_use_block(R.tool_use_id(rng), tool, self._tool_input(tool))
            blocks.append(tool_block)
        prompt = chain.ctx
        cache_miss = chain.cached == 0 or rng.random() < 0.04
        inp = rng.randint(1, 12) if not cache_miss else rng.randint(3, 40)
        cache_read = 0 if cache_miss else min(chain.cached, prompt - inp)
        cache_creation = prompt - inp - cache_read
        out_final = sum(_tokens(R.dumps(b).decode()) for b in blocks) + rng.randint(5, 40)
        mid, rid = R.message_id(rng), R.request_id(rng)
        model = chain.model
        o = self.opts
        ttl = rng.random()
        hour = cache_creation if ttl < o.one_hour_rate else rng.randint(0, cache_creation) if ttl < o.one_hour_rate + o.mixed_ttl_rate else 0
        if not o.ttl_split:
            hour = 0  # without the split every write is priced as a 5-minute write
        speed = "fast" if o.fast_rate and rng.random() < o.fast_rate else None
        advisor = None
        if speed is None and o.advisor_rate and rng.random() < o.advisor_rate:
            advisor = (rng.randint(2, 30), rng.randint(200, 2500), rng.randint(0, 4000), rng.randint(5_000, 60_000))
        n = len(blocks)
        for i, block in enumerate(blocks):
            out_i = out_final if i == n - 1 else max(1, out_final * (i + 1) // (n + 1))
            iterations = R.claude_advisor_iterations((inp, out_i), ADVISOR, advisor) if advisor else None
            usage = R.claude_usage(inp, out_i, cache_creation, cache_read, one_hour=hour, split=o.ttl_split, speed=speed,
                                   iterations=iterations)
            stop = None if i < n - 1 else ("tool_use" if tool is not None else "end_turn")
            rec = self._line(chain, R.claude_assistant, msg_id=mid, req_id=rid, model=model, block=block, usage=usage, stop_reason=stop)
            if i == n - 1:
                chain.cached = prompt
                chain.ctx = prompt + out_final
            self._emit(chain.path, rec, chain=chain)
            if i < n - 1:
                self.clock.advance(rng.uniform(0.2, 3))
        if n > 1:
            self.traps["streaming_duplicates"] += 1
        t = self.truth
        t.input += inp
        t.output += out_final
        t.cache_creation += cache_creation
        t.cache_read += cache_read
        t.turns += 1
        day = R.iso(self.clock.now())[:10]
        t.cost += request_cost(model, input=inp, output=out_final, cache_write=cache_creation, cache_write_1h=hour,
                               cache_read=cache_read, speed=speed or "", day=day)
        if hour:
            self.traps["cache_writes_1h" if hour == cache_creation else "cache_writes_mixed_ttl"] += 1
        if not o.ttl_split:
            self.traps["cache_writes_without_ttl_split"] += 1
        if speed:
            self.traps["fast_mode_responses"] += 1
        if advisor:
            a_in, a_out, a_cc, a_cr = advisor
            t.input += a_in
            t.output += a_out
            t.cache_creation += a_cc
            t.cache_read += a_cr
            t.cost += request_cost(ADVISOR, input=a_in, output=a_out, cache_write=a_cc, cache_read=a_cr, day=day)
            self.traps["advisor_iterations"] += 1
        if prompt > WINDOW and model.startswith("claude-opus-4-6"):
            self.traps["long_context_before_2026_03_13" if day < "2026-03-13" else "long_context_flat_after_2026_03_13"] += 1
        if not chain.sidechain:
            t.context_used = prompt
            t.model = model
            self._models_used.add(model)
            if prompt > WINDOW:
                if not t.over_200k:
                    self.traps["context_over_200k"] += 1
                t.over_200k = True
            if model.endswith(ONE_M_SUFFIX):
                t.suffix_1m = True
        return tool_block

    def _result_text(self, name: str, is_error: bool) -> str:
        rng = self.rng
        if is_error:
            if name == "Edit":
                return "<tool_use_error>String to replace not found in file.\nString: " + text(rng, 40, 300) + "</tool_use_error>"
            if name == "Read":
                return "File does not exist. Current working directory: " + self.cwd
            return "Exit code 1\n" + text(rng, 200, 3000)
        if name == "Read":
            if self.opts.big_reads:
                return text(rng, 30_000, 40_000)
            return text(rng, 300, sized(rng, 300, 40_000, 3_000))
        if name == "Bash":
            return text(rng, 200, sized(rng, 200, 12_000, 1_200))
        if name == "Edit":
            return "The file has been updated. Here's the result of running `cat -n` on a snippet of the edited file:\n" + text(rng, 200, 2000)
        if name == "Grep":
            return text(rng, 200, 5000)
        if name == "Glob":
            return "\n".join(f"{self.cwd}/src/{text(rng, 4, 12).strip().replace(' ', '_')}.py" for _ in range(rng.randint(3, 30)))
        if name == "Write":
            return "File created successfully at: " + self.cwd + "/src/new_module.py"
        if name == "TodoWrite":
            return "Todos have been modified successfully. Ensure that you continue to use the todo list to track your progress."
        return text(rng, 300, 3000)

    def tool_result(self, chain: _Chain, block: dict, *, is_error: bool | None = None, body: str | None = None) -> None:
        rng = self.rng
        name = block["name"]
        if is_error is None:
            is_error = rng.random() < self.opts.tool_error_rate and name not in ("TodoWrite", "Task", "Write")
        self.clock.advance(rng.uniform(0.1, 15))
        content = body if body is not None else self._result_text(name, is_error)
        rec = self._line(chain, R.claude_tool_result, tool_use_id=block["id"], content=content, is_error=is_error)
        chain.ctx += _tokens(content)
        self._emit(chain.path, rec, chain=chain)
        if is_error:
            self.truth.tool_errors += 1
            self.traps["tool_error_results"] += 1

    def reply_text(self, lo: int, hi: int) -> str:
        """The text of a text or thinking block (a corpus shape may change its length)."""
        return text(self.rng, lo, hi)

    def tool_calls(self) -> int:
        """How many tool round trips one user turn makes (a corpus shape may change it)."""
        return self.rng.randint(1, 6)

    def _pick_tool(self) -> str:
        if self.opts.tools:
            return self.rng.choice(self.opts.tools)
        return self.rng.choices(_TOOLS, _TOOL_WEIGHTS)[0]

    def agent(self, kind: str) -> str:
        """Run a subagent (Task tool) and return its final text for the parent's tool_result.

        kind: "file" (`<sid>/subagents/agent-<id>.jsonl`), "legacy" (flat `agent-<id>.jsonl`
        beside the session file) or "inline" (sidechain lines inside the main file, as the
        oldest builds wrote). All three count toward this session's tokens and turns, never
        its context fill.
        """
        rng = self.rng
        aid = R.agent_id(rng)
        if kind == "file":
            path = f"projects/{self.project_dir}/{self.sid}/subagents/agent-{aid}.jsonl"
        elif kind == "legacy":
            path = f"projects/{self.project_dir}/agent-{aid}.jsonl"
        else:
            path = self.main_path
        env = dict(self.main.env)
        env["isSidechain"] = True
        if kind != "inline":
            env = R.claude_envelope(parent_uuid=None, session_id=self.sid, cwd=self.cwd, git_branch=self.main.env["gitBranch"], is_sidechain=True, agent_id=aid)
        model = HAIKU if rng.random() < 0.5 else self.main.model
        chain = _Chain(path, env, True, model, rng.randint(9_000, 16_000), 0)
        self.prompt(chain, text(rng, 200, 1500))
        for _ in range(rng.randint(1, 5)):
            block = self.respond(chain, tool=rng.choice(("Read", "Grep", "Bash", "Glob")), text_block=rng.random() < 0.5)
            self.tool_result(chain, block)
        self.respond(chain, tool=None, thinking=False)
        if kind != "inline":
            self.truth.subagent_files += 1
            self.traps["subagent_files" if kind == "file" else "legacy_subagent_files"] += 1
        else:
            self.traps["inline_sidechains"] += 1
        return text(rng, 300, 2500)

    def api_error(self) -> None:
        """An API error line: model `<synthetic>`, zero usage, no requestId, not a turn."""
        chain = self.main
        self.clock.advance(self.rng.uniform(5, 60))
        body = 'API Error: 529 {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}'
        rec = self._line(
            chain, R.claude_assistant, msg_id=R.new_uuid(self.rng), req_id=None, model=SYNTHETIC,
            block=R.text_block(body), usage=R.claude_usage(0, 0, 0, 0), stop_reason="stop_sequence", api_error=True,
        )
        self._emit(chain.path, rec, chain=chain)
        self.truth.api_errors += 1
        self.traps["api_error_lines"] += 1

    def usage_limit(self, form: str) -> None:
        """`Claude AI usage limit reached|<epoch>`: the epoch is when the limit resets.

        formats.md describes it as a user line; ccusage only reads it from an API error
        assistant line (`<synthetic>`, zero usage). Both forms exist so a reader handles
        either; the api_error form also counts as an API error.
        """
        now = self.clock.now()
        reset = (now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=self.rng.randint(1, 5)))
        epoch = int(reset.timestamp())
        body = f"Claude AI usage limit reached|{epoch}"
        chain = self.main
        if form == "api_error":
            rec = self._line(
                chain, R.claude_assistant, msg_id=R.new_uuid(self.rng), req_id=None, model=SYNTHETIC,
                block=R.text_block(body), usage=R.claude_usage(0, 0, 0, 0), stop_reason="stop_sequence", api_error=True,
            )
            self.truth.api_errors += 1
            self.traps["usage_limit_api_error_lines"] += 1
        else:
            rec = self._line(chain, R.claude_user_text, text=body)
            self.traps["usage_limit_lines"] += 1
        self._emit(chain.path, rec, chain=chain)
        self.truth.limit_resets_at = datetime.fromtimestamp(epoch, UTC)

    def compact(self, trigger: str) -> None:
        """compact_boundary with pre/post tokens, then the summary line; context = postTokens."""
        chain = self.main
        rng = self.rng
        self.clock.advance(rng.uniform(20, 90))
        pre = chain.ctx
        post = rng.randint(12_000, 38_000)
        uid = R.new_uuid(rng)
        rec = R.claude_compact_boundary(dict(chain.env), uuid=uid, logical_parent=chain.parent, timestamp=self._ts(), trigger=trigger, pre=pre, post=post)
        chain.parent = uid
        self._emit(chain.path, rec, chain=chain)
        summary = "This session is being continued from a previous conversation that ran out of context. " + text(rng, 2000, 9000)
        self._emit(chain.path, self._line(chain, R.claude_compact_summary, text=summary), chain=chain)
        chain.ctx = post
        chain.cached = 0
        self.truth.context_used = post
        self.truth.compactions += 1

    def side_records(self, n: int) -> None:
        kinds = ("file-history-snapshot", "progress", "attachment", "queue-operation", "custom-title", "mode", "permission-mode", "last-prompt")
        for _ in range(n):
            kind = self.rng.choice(kinds)
            if kind == "file-history-snapshot":
                rec = R.claude_file_history_snapshot(R.new_uuid(self.rng), self._ts(), [f"{self.cwd}/src/app.py"])
            else:
                rec = R.claude_side_record(kind, dict(self.main.env), uuid=R.new_uuid(self.rng), timestamp=self._ts(), rng=self.rng)
            self.sink(self.main_path, R.dumps(rec), True)
            self.traps["skipped_record_types"] += 1

    def unknown_record(self) -> None:
        rec = R.claude_side_record("x-future-" + self.rng.choice(["checkpoint", "telemetry", "plan"]), dict(self.main.env), uuid=R.new_uuid(self.rng), timestamp=self._ts(), rng=self.rng)
        self.sink(self.main_path, R.dumps(rec), True)
        self.traps["unknown_record_types"] += 1

    def garbage(self, kind: str) -> None:
        """Lines a reader must count and skip without crashing."""
        rng = self.rng
        if kind == "text":
            line = b"Traceback (most recent call last): " + text(rng, 20, 200).encode()
        elif kind == "binary":
            line = bytes(b for b in rng.randbytes(rng.randint(40, 300)) if b != 0x0A)
        elif kind == "non_object":
            line = rng.choice([b"[1,2,3]", b"42", b'"just a string"', b"null", b"true"])
        else:  # a line cut mid-record and followed by more lines (crash then append)
            rec = self._line(self.main, R.claude_assistant, msg_id=R.message_id(rng), req_id=R.request_id(rng), model=self.main.model,
                             block=R.text_block(text(rng, 100, 400)), usage=R.claude_usage(7, 300, 1000, 20000), stop_reason=None)
            whole = R.dumps(rec)
            cut = whole.index(b'"usage":{') + len(b'"usage":{"input_tokens":7,')
            line = whole[:cut]
        self.sink(self.main_path, line, True)
        self.traps[f"malformed_{kind}_lines"] += 1

    def truncated_tail(self) -> None:
        """A half-written last line: an assistant record cut mid-JSON with no newline.

        Its response is new (its ids appear nowhere else), so it counts for nothing.
        """
        rng = self.rng
        self.clock.advance(rng.uniform(1, 10))
        env = dict(self.main.env)
        env["parentUuid"] = self.main.parent
        rec = R.claude_assistant(env, uuid=R.new_uuid(rng), timestamp=self._ts(), msg_id=R.message_id(rng), req_id=R.request_id(rng),
                                 model=self.main.model, block=R.text_block(text(rng, 400, 1500)),
                                 usage=R.claude_usage(4, 120, 900, self.main.ctx), stop_reason=None)
        whole = R.dumps(rec)
        self.sink(self.main_path, whole[: len(whole) // 2], False)
        self.traps["truncated_last_line"] += 1

    def copy_from(self, other: ClaudeSession, upto_turn: int) -> None:
        """Resume: copy `other`'s first turns into this file under this session id.

        Copied lines keep their uuid, message.id, requestId, usage and timestamps; only
        `sessionId` changes, so nothing inside a copied line says where it came from. Their
        usage stays credited to `other`, which wrote it first. A reader can decide that from
        the files alone: among the transcripts holding a response, the original is the one
        whose last activity is earliest (a resumed file always runs on past the original).
        """
        end = other.turn_ends[min(upto_turn, len(other.turn_ends) - 1)]
        for rec, ctx, _cached in other.copyable[: end + 1]:
            copy = dict(rec)
            copy["sessionId"] = self.sid
            self._emit(self.main_path, copy, owned=False)
            self.main.ctx, self.main.cached = ctx, 0
            self.main.parent = rec.get("uuid", self.main.parent)
            self.traps["resumed_copied_lines"] += 1
        self.main.model = other.main.model

    # -- a whole turn and a whole session

    def turn(self, index: int, plan: dict[int, list[str]]) -> None:
        """One user turn: prompt, a few tool round trips (maybe a subagent), a final answer."""
        rng = self.rng
        events = plan.get(index, [])
        if "meta" in events:
            self.meta()
        if "model" in events:
            self.main.model = self.opts.models[(self.opts.models.index(self.main.model) + 1) % len(self.opts.models)]
        if "side" in events:
            self.side_records(1)
        self.prompt()
        if "api_error" in events:
            self.api_error()
        for kind in events:
            if kind.startswith("garbage:"):
                self.garbage(kind.split(":", 1)[1])
        if "unknown" in events:
            self.unknown_record()
        agents = [e.split(":", 1)[1] for e in events if e.startswith("agent:")]
        for _ in range(self.tool_calls()):
            block = self.respond(self.main, tool=self._pick_tool())
            self.tool_result(self.main, block)
        for kind in agents:
            block = self.respond(self.main, tool="Task", thinking=False)
            self.tool_result(self.main, block, is_error=False, body=self.agent(kind))
        self.respond(self.main, tool=None)
        if "usage_limit" in events and self.opts.usage_limit:
            self.usage_limit(self.opts.usage_limit)
        if self.opts.keep_for_copy:
            self.turn_ends.append(len(self.copyable) - 1)
        if index == self.opts.manual_compact_turn:
            self.compact("manual")
            self.traps["compaction_manual"] += 1
        elif self.opts.compact_at is not None and self.main.ctx > self.opts.compact_at:
            self.compact("auto")
            self.traps["compaction_auto"] += 1

    def plan(self) -> dict[int, list[str]]:
        """Scatter the requested traps over the session's turns, reproducibly."""
        o, rng = self.opts, self.rng
        plan: dict[int, list[str]] = {}

        def put(ev: str) -> None:
            plan.setdefault(rng.randrange(o.turns), []).append(ev)

        for _ in range(o.subagents):
            put("agent:file")
        for _ in range(o.legacy_subagents):
            put("agent:legacy")
        for _ in range(o.inline_sidechains):
            put("agent:inline")
        for _ in range(o.api_errors):
            put("api_error")
        for _ in range(o.meta_lines):
            put("meta")
        for _ in range(o.side_records):
            put("side")
        for _ in range(o.unknown_records):
            put("unknown")
        for g in o.garbage:
            put("garbage:" + g)
        if o.usage_limit:
            plan.setdefault(o.turns - 1, []).append("usage_limit")
        if len(o.models) > 1:
            for _ in range(len(o.models) - 1):
                plan.setdefault(rng.randrange(1, max(2, o.turns)), []).append("model")
        return plan

    def run(self) -> ClaudeTruth:
        """Play the whole session; the returned truth is complete once this returns."""
        if self.opts.summary_line:
            self.sink(self.main_path, R.dumps(R.claude_summary(text(self.rng, 20, 80).strip(), R.new_uuid(self.rng))), True)
            self.traps["summary_lines"] += 1
        plan = self.plan()
        for i in range(self.opts.turns):
            self.turn(i, plan)
        extra = self.opts.turns
        while self.main.ctx < self.opts.min_context or self.truth.compactions < self.opts.min_compactions:
            self.turn(extra, plan)
            extra += 1
        if self.opts.min_compactions:
            for _ in range(2):
                self.turn(extra, plan)
                extra += 1
        self.finish()
        return self.truth

    def finish(self) -> None:
        if self.opts.compact_at_end:
            self.compact("auto")
            self.traps["compaction_at_end"] += 1
        if len(self._models_used) > 1:
            self.traps["multi_model_sessions"] += 1
        if self.opts.truncated_tail:
            self.truncated_tail()

    def window(self) -> int:
        return WINDOW_1M if (self.truth.suffix_1m or self.truth.over_200k) else WINDOW


# ---------------------------------------------------------------- Codex CLI


CODEX_MODELS = ("gpt-5-codex", "gpt-5.1-codex", "gpt-5")
_ZERO5 = (0, 0, 0, 0, 0)


@dataclass(slots=True)
class CodexOptions:
    turns: int = 5
    models: tuple[str, ...] = ("gpt-5-codex",)
    reemit_rate: float = 0.15
    fail_rate: float = 0.06
    error_events: int = 0
    compact_at: int | None = 220_000
    garbage: int = 0
    keep_for_fork: bool = False
    cache_writes: bool = False  # token counts carry cache_write_input_tokens (part of input)
    compaction_records: str | None = None  # "remote" or "local": token_usage_record per compaction
    priority_turns: tuple[int, ...] = ()  # turns run with service_tier priority
    aborted_turns: tuple[int, ...] = ()  # turns interrupted before their token_count
    resume_before: tuple[int, ...] = ()  # a resume (another session_meta, same id) before these turns
    ordinals: bool = False  # paginated rollouts number every line (`ordinal` in the envelope)
    compact_turns: tuple[int, ...] = ()  # compact after these turns whatever the context


@dataclass(slots=True)
class CodexTruth:
    input: int = 0
    output: int = 0
    cache_creation: int = 0
    cache_read: int = 0
    turns: int = 0
    api_errors: int = 0
    tool_errors: int = 0
    first: datetime | None = None
    last: datetime | None = None
    context_used: int = 0
    window: int = CODEX_WINDOW
    model: str | None = None
    rate_limits: dict | None = None
    compactions: int = 0
    cost: float = 0.0


class CodexSession:
    """Plays one Codex CLI rollout. Usage is cumulative in `total_token_usage`.

    A forked rollout (see `fork_from`) begins with two `session_meta` lines: its own, carrying
    `forked_from_id`, then the parent's, followed by a replay of the parent's records (turn
    contexts, messages, tool calls and token_count lines with the parent's cumulative
    totals), every replayed line re-stamped in one burst at the fork instant, 1 ms apart, as
    real Codex builds do. The fork's own responses then continue the
    cumulative count from the parent's last total, as a resumed Codex conversation restores
    its token info. So the fork's own usage is its last total minus the parent's last total;
    a reader that takes the fork's last total as-is counts the parent twice, and one that sums
    per-line deltas counts the replayed burst as new usage. The replay is the burst within one
    second of the fork's own session_meta; the fork's first own turn comes at least ten
    seconds later (a person typing), which is how a reader tells the two apart.

    The 2026 layouts (see `fork_at`, `child_of`, `next_page`): a fork that names its parent
    in `history_base` and replays nothing, its counter starting at the parent's counter at
    the cut; a MultiAgent subagent that replays its parent's history, then a trigger marker,
    then its own turn; a paginated thread whose next file repeats a prefix of the previous.
    Every step of the counter is priced as it happens (model, tier, day, prompt size), which
    is the truth's cost.
    """

    def __init__(self, rng: random.Random, *, session_id: str, cwd: str, path: str, clock: SimClock | WallClock, sink: Sink, traps: Counter, opts: CodexOptions) -> None:
        self.rng = rng
        self.sid = session_id
        self.cwd = cwd
        self.path = path
        self.clock = clock
        self.sink = sink
        self.traps = traps
        self.opts = opts
        self.truth = CodexTruth()
        self.model = opts.models[0]
        self.tier = ""
        self.ctx = rng.randint(9_000, 14_000)
        self.cached = 0
        self.total = self._usage(_ZERO5)
        self.base = self._usage(_ZERO5)
        self.last: dict | None = None
        self.records: list[dict] = []
        self.ordinal = 0
        self.turn_marks: list[tuple[int, dict]] = []  # (lines written after a turn, counter then)
        self.remote = _ZERO5  # usage of remote compactions: recorded, never in the counter
        start = clock.now()
        self.primary_reset = int((start + timedelta(hours=rng.uniform(0.5, 5))).timestamp())
        self.secondary_reset = int((start + timedelta(days=rng.uniform(1, 7))).timestamp())
        self.primary_pct = round(rng.uniform(0, 40), 1)
        self.secondary_pct = round(rng.uniform(0, 30), 1)
        self.branch = rng.choice(["main", "feature/tailer", "fix-ctx"])
        self.commit = blob(rng, 15).encode().hex()[:40]

    def _usage(self, v: tuple[int, int, int, int, int]) -> dict:
        """(input, cached, cache writes, output, reasoning) as a Codex usage object."""
        return R.codex_usage(v[0], v[1], v[3], v[4], cache_write=v[2] if self.opts.cache_writes else None)

    @staticmethod
    def _vec(u: dict) -> tuple[int, int, int, int, int]:
        return (u["input_tokens"], u["cached_input_tokens"], u.get("cache_write_input_tokens", 0), u["output_tokens"],
                u["reasoning_output_tokens"])

    def _ts(self) -> str:
        return R.iso(self.clock.now())

    def _emit(self, rec: dict, *, owned: bool = True) -> None:
        if self.opts.ordinals:
            rec = dict(rec, ordinal=self.ordinal)
        self.ordinal += 1
        self.sink(self.path, R.dumps(rec), True)
        if self.opts.keep_for_fork:
            self.records.append(rec)
        if owned:
            now = self.clock.now()
            if self.truth.first is None:
                self.truth.first = now
            self.truth.last = now

    def _limits(self) -> dict:
        return R.codex_rate_limits(self.primary_pct, self.primary_reset, self.secondary_pct, self.secondary_reset)

    def start(self) -> None:
        self._emit(R.codex_session_meta(self._ts(), session_id=self.sid, cwd=self.cwd, branch=self.branch, commit=self.commit,
                                        paginated=self.opts.ordinals))
        self._emit(R.codex_token_count(self._ts(), total=None, last=None, window=CODEX_WINDOW, rate_limits=self._limits()))
        self.traps["codex_info_null"] += 1
        self.traps["codex_rate_limits"] += 1
        self.truth.rate_limits = self._limits()

    def _inherit(self, parent: CodexSession, total: dict) -> None:
        self.total = dict(total)
        self.base = dict(total)
        self.ctx, self.cached, self.model = parent.ctx, parent.cached, parent.model
        self.truth.rate_limits = parent.truth.rate_limits

    def fork_from(self, parent: CodexSession) -> None:
        """Write the fork's header and the parent's replay; see the class docstring."""
        self._emit(R.codex_session_meta(self._ts(), session_id=self.sid, cwd=self.cwd, branch=self.branch, commit=self.commit, forked_from_id=parent.sid))
        instant = self.clock.now()
        for k, rec in enumerate(parent.records, start=1):
            copy = dict(rec)
            copy["timestamp"] = R.iso(instant + timedelta(milliseconds=k))
            self.sink(self.path, R.dumps(copy), True)
            self.ordinal += 1
            self.traps["codex_replayed_lines"] += 1
        self._inherit(parent, parent.total)
        self.traps["codex_forked"] += 1

    def fork_at(self, parent: CodexSession, turn: int) -> None:
        """A 0.154+ fork: `history_base` names the parent and the cut; nothing is replayed.

        The cut is the end of the parent's `turn`-th turn, so the parent's counter at the cut
        is not its final counter: a reader must look the cut up in the parent's file.
        """
        cut, total = parent.turn_marks[min(turn, len(parent.turn_marks) - 1)]
        base = {"thread_id": parent.sid, "end_ordinal_exclusive": cut, "end_byte_offset": 0}
        self._emit(R.codex_session_meta(self._ts(), session_id=self.sid, cwd=self.cwd, branch=self.branch, commit=self.commit,
                                        forked_from_id=parent.sid, history_base=base))
        self._inherit(parent, total)
        self.traps["codex_history_base_forks"] += 1

    def child_of(self, parent: CodexSession) -> None:
        """A MultiAgent V2 subagent: its parent's history replayed, then the trigger marker."""
        source = {"subagent": {"thread_spawn": {"parent_thread_id": parent.sid, "depth": 1}}}
        self._emit(R.codex_session_meta(self._ts(), session_id=self.sid, cwd=self.cwd, branch=self.branch, commit=self.commit,
                                        source=source))
        for rec in parent.records:
            if rec.get("type") == "session_meta":
                continue
            self.sink(self.path, R.dumps(dict(rec, timestamp=self._ts())), True)
            self.ordinal += 1
            self.traps["codex_multiagent_replayed_lines"] += 1
        self.clock.advance(0.5)
        self._emit({"timestamp": self._ts(), "type": "inter_agent_communication_metadata",
                    "payload": {"trigger_turn": True, "sender_thread_id": parent.sid}})
        self._emit(R.codex_event(self._ts(), "task_started", model_context_window=CODEX_WINDOW))
        self._inherit(parent, parent.total)
        self.traps["codex_multiagent_children"] += 1

    def next_page(self, previous: CodexSession, repeat: int) -> None:
        """Page 2 of a paginated thread: same id, `history_base` at the end of page 1, and a
        repeat of page 1's first `repeat` lines (their ordinals below the cut)."""
        base = {"thread_id": previous.sid, "end_ordinal_exclusive": previous.ordinal, "end_byte_offset": 0}
        self.ordinal = previous.ordinal
        self._emit(R.codex_session_meta(self._ts(), session_id=self.sid, cwd=self.cwd, branch=self.branch, commit=self.commit,
                                        history_base=base, paginated=True))
        for rec in previous.records[:repeat]:
            self.sink(self.path, R.dumps(rec), True)
            self.traps["codex_paginated_repeated_lines"] += 1
        self._inherit(previous, previous.total)
        self.tier = previous.tier
        self.traps["codex_paginated_pages"] += 1

    def _token_count(self, out: int, reasoning: int, *, write: bool = True) -> None:
        rng = self.rng
        prompt = self.ctx
        cached = 0 if self.cached == 0 or rng.random() < 0.05 else (min(self.cached, prompt) // 256) * 256
        written = (prompt - cached) * rng.randint(10, 60) // 100 if self.opts.cache_writes else 0
        step = (prompt, cached, written, out, reasoning)
        last = self._usage(step)
        self.total = self._usage(tuple(a + b for a, b in zip(self._vec(self.total), step)))
        self.last = last
        self.cached = prompt
        self.ctx = prompt + out
        t = self.truth
        t.cost += request_cost(self.model, input=prompt - cached - written, output=out, cache_write=written,
                               cache_read=cached, prompt=prompt, speed=self.tier, day=self._ts()[:10])
        if written:
            self.traps["codex_cache_write_tokens"] += 1
        if not write:
            return
        used = (self.total["total_tokens"] - self.base["total_tokens"]) / 20_000
        self.primary_pct = min(100.0, round(self.primary_pct + used * 0.01 + rng.uniform(0, 0.5), 1))
        self.secondary_pct = min(100.0, round(self.secondary_pct + rng.uniform(0, 0.2), 1))
        rec = R.codex_token_count(self._ts(), total=self.total, last=last, window=CODEX_WINDOW, rate_limits=self._limits())
        self._emit(rec)
        if rng.random() < self.opts.reemit_rate:
            self.clock.advance(0.05)
            again = dict(rec)
            again["timestamp"] = self._ts()
            self._emit(again)
            self.traps["codex_reemitted_token_count"] += 1
        t.turns += 1
        t.context_used = last["total_tokens"]
        t.rate_limits = self._limits()
        t.model = self.model

    def _set_tier(self, tier: str) -> None:
        if tier != self.tier:
            self._emit(R.codex_thread_settings(self._ts(), "priority" if tier else "default"))
            self.tier = tier
            self.traps["codex_service_tier_changes"] += 1

    def turn(self, index: int, *, error_event: bool = False, garbage: bool = False) -> None:
        rng = self.rng
        o = self.opts
        self.clock.advance(rng.uniform(10, 300))
        if index in o.resume_before:
            self.clock.advance(rng.uniform(3600, 20_000))
            self._emit(R.codex_session_meta(self._ts(), session_id=self.sid, cwd=self.cwd, branch=self.branch, commit=self.commit))
            self.traps["codex_resume_session_meta"] += 1
        self._set_tier("priority" if index in o.priority_turns else "")
        if index and rng.random() < 0.2 and len(o.models) > 1:
            self.model = rng.choice(o.models)
        self._emit(R.codex_turn_context(self._ts(), cwd=self.cwd, model=self.model, effort=rng.choice(["low", "medium", "high"])))
        if index == 0:
            env = f"<environment_context>\n  <cwd>{self.cwd}</cwd>\n  <approval_policy>on-request</approval_policy>\n  <sandbox_mode>workspace-write</sandbox_mode>\n  <network_access>restricted</network_access>\n  <shell>bash</shell>\n</environment_context>"
            self._emit(R.codex_message(self._ts(), "user", env))
        prompt = text(rng, 40, 900)
        self._emit(R.codex_message(self._ts(), "user", prompt))
        self._emit(R.codex_event(self._ts(), "user_message", message=prompt, images=[]))
        self.ctx += int(len(prompt) / 3.6)
        if garbage:
            self.sink(self.path, b'{"timestamp":"' + self._ts().encode() + b'","type":"event_msg","payload":{"type":"token_co', True)
            self.sink(self.path, b"\x00\x00\x00\x00 partial write \xff\xfe", True)
            self.ordinal += 2
            self.traps["codex_malformed_lines"] += 2
        if error_event:
            self.clock.advance(rng.uniform(2, 30))
            self._emit(R.codex_event(self._ts(), "error", message="stream disconnected before completion: error sending request for url (https://chatgpt.com/backend-api/codex/responses)"))
            self.truth.api_errors += 1
            self.traps["codex_error_events"] += 1
        aborted = index in o.aborted_turns
        for _ in range(rng.randint(1, 7)):
            self._call(write=not aborted)
        if aborted:
            # Interrupted: its usage reached the API but no token_count was written for it;
            # the next turn's cumulative counter includes it.
            self.clock.advance(rng.uniform(1, 5))
            self._emit(R.codex_event(self._ts(), "turn_aborted", reason="interrupted"))
            self.traps["codex_aborted_turns"] += 1
            return
        self.clock.advance(rng.uniform(2, 30))
        reasoning = text(rng, 80, 600)
        answer = text(rng, 100, 3000)
        self._emit(R.codex_reasoning(self._ts(), reasoning, blob(rng, rng.randint(600, 3000))))
        self._emit(R.codex_event(self._ts(), "agent_reasoning", text=reasoning))
        self._emit(R.codex_message(self._ts(), "assistant", answer))
        self._emit(R.codex_event(self._ts(), "agent_message", message=answer))
        r = rng.randint(50, 2000)
        self._token_count(r + int(len(answer) / 3.6), r)
        if index in o.compact_turns or (o.compact_at is not None and self.ctx > o.compact_at):
            self._compact()
        self.turn_marks.append((self.ordinal, dict(self.total)))

    def _compact(self) -> None:
        rng = self.rng
        self.clock.advance(rng.uniform(10, 40))
        kind = self.opts.compaction_records
        rid = f"resp_{blob(rng, 12).encode().hex()[:24]}" if kind else None
        if kind:
            # The compaction request itself: its prompt is the whole context.
            prompt, out = self.ctx, rng.randint(800, 3000)
            cached = (min(self.cached, prompt) // 256) * 256
            usage = R.codex_usage(prompt, cached, out, 0)
            if kind == "local":
                # Local compactions also advance the cumulative counter by exactly this.
                self._emit(R.codex_token_usage_record(self._ts(), response_id=rid, usage=usage))
                step = (prompt, cached, 0, out, 0)
                self.total = self._usage(tuple(a + b for a, b in zip(self._vec(self.total), step)))
                self._emit(R.codex_token_count(self._ts(), total=self.total, last=self._usage(step), window=CODEX_WINDOW,
                                               rate_limits=self._limits()))
                self.truth.turns += 1
                self.truth.context_used = prompt + out
            else:
                # Remote (v2) compactions are recorded only here: the counter does not move.
                self._emit(R.codex_token_usage_record(self._ts(), response_id=rid, usage=usage))
                self.remote = tuple(a + b for a, b in zip(self.remote, (prompt, cached, 0, out, 0)))
            self.truth.cost += request_cost(self.model, input=prompt - cached, output=out, cache_read=cached, prompt=prompt,
                                            speed=self.tier, day=self._ts()[:10])
            self.traps[f"codex_compaction_records_{kind}"] += 1
        self._emit(R.codex_compacted(self._ts(), text(rng, 1500, 6000), response_id=rid))
        self.ctx = rng.randint(12_000, 30_000)
        self.cached = 0
        self.truth.compactions += 1
        self.traps["codex_compacted"] += 1

    def _call(self, write: bool = True) -> None:
        rng = self.rng
        self.clock.advance(rng.uniform(2, 25))
        reasoning = text(rng, 80, 800)
        self._emit(R.codex_reasoning(self._ts(), reasoning, blob(rng, rng.randint(600, 3000))))
        self._emit(R.codex_event(self._ts(), "agent_reasoning", text=reasoning))
        cid = R.call_id(rng)
        cmd = rng.choice(["rg -n 'def poll' src", "pytest -q tests/unit", "sed -n 1,200p src/tailer.py", "git diff --stat", "cargo test", "ls -la"])
        self._emit(R.codex_function_call(self._ts(), cid=cid, command=cmd, workdir=self.cwd))
        r = rng.randint(30, 1500)
        self._token_count(r + rng.randint(20, 200), r, write=write)
        self.clock.advance(rng.uniform(0.1, 20))
        failed = rng.random() < self.opts.fail_rate
        output = text(rng, 200, sized(rng, 200, 40_000, 2_500))
        self._emit(R.codex_function_output(self._ts(), cid=cid, output=output, exit_code=1 if failed else 0, duration=rng.uniform(0.05, 30)))
        self.ctx += int(len(output) / 3.6)
        if failed:
            self.truth.tool_errors += 1
            self.traps["codex_failed_commands"] += 1

    def run(self) -> CodexTruth:
        rng = self.rng
        errors = {rng.randrange(self.opts.turns) for _ in range(self.opts.error_events)}
        junk = {rng.randrange(self.opts.turns) for _ in range(self.opts.garbage)}
        for i in range(self.opts.turns):
            self.turn(i, error_event=i in errors, garbage=i in junk)
        self.finalize()
        return self.truth

    def finalize(self) -> None:
        t = self.truth
        d = [a - b for a, b in zip(self._vec(self.total), self._vec(self.base))]
        d = [a + b for a, b in zip(d, self.remote)]
        t.input = d[0] - d[1] - d[2]
        t.cache_read = d[1]
        t.cache_creation = d[2]
        t.output = d[3]
