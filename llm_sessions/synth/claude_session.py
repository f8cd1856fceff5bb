"""The Claude Code session model: one session played turn by turn, truth kept as it goes.

`ClaudeSession` decides what happens (prompts, responses streamed one line per content
block, tool calls and their results, subagents, the plan that scatters a scenario's traps
over the turns) and books every response's usage and price into the truth from its own
model. Nothing is recovered by parsing the written bytes, so the truth can catch a parser's
mistakes instead of repeating them. The state and the trap lines are claude_writer.py's; a
corpus shape (shape.py) subclasses this to add the rows real files carry around each step.
"""

from __future__ import annotations

from llm_sessions.synth import records as R
from llm_sessions.synth.claude_options import (
    ADVISOR,
    HAIKU,
    ONE_M_SUFFIX,
    TOOL_WEIGHTS,
    TOOLS,
    WINDOW,
    Chain,
    ClaudeTruth,
)
from llm_sessions.synth.claude_writer import ClaudeWriter
from llm_sessions.synth.filler import blob, sized, text, tokens
from llm_sessions.synth.rates import request_cost


class ClaudeSession(ClaudeWriter):
    """Plays one Claude Code session into `projects/<project_dir>/<session_id>.jsonl`."""

    # -- the conversation

    def prompt(self, chain: Chain | None = None, body: str | None = None) -> None:
        chain = chain or self.main
        self.clock.advance(self.rng.uniform(8, 240) if not chain.sidechain else 0.2)
        body = body or text(self.rng, 40, 900)
        rec = self._line(chain, R.claude_user_text, text=body)
        chain.ctx += tokens(body)
        self._emit(chain.path, rec, chain=chain)

    def _tool_input(self, name: str) -> dict:
        rng, cwd = self.rng, self.cwd
        f = f"{cwd}/src/{rng.choice(['tailer', 'monitor', 'models', 'health', 'app', 'cli'])}.py"
        if name == "Bash":
            command = rng.choice(["pytest -q", "git status", "ruff check .", "ls -la src", "python -m build"])
            return {"command": command, "description": text(rng, 20, 80)}
        if name == "Read":
            return {"file_path": f}
        if name == "Edit":
            return {"file_path": f, "old_string": text(rng, 40, 800), "new_string": text(rng, 40, 1400)}
        if name == "Write":
            return {"file_path": f, "content": text(rng, 400, 6000)}
        if name == "Grep":
            pattern = rng.choice(["def poll", "class .*Provider", "TODO", "usage"])
            return {"pattern": pattern, "path": cwd, "output_mode": "content", "-n": True}
        if name == "Glob":
            return {"pattern": "**/*.py", "path": cwd}
        if name == "TodoWrite":
            return {"todos": [{"content": text(rng, 20, 90), "status": rng.choice(["pending", "in_progress", "completed"]),
                               "activeForm": text(rng, 20, 60)} for _ in range(rng.randint(2, 6))]}
        return {"description": text(rng, 20, 60), "prompt": text(rng, 200, 1500), "subagent_type": "general-purpose"}

    def respond(self, chain: Chain, *, tool: str | None, thinking: bool | None = None, text_block: bool = True) -> dict | None:
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
        out_final = sum(tokens(R.dumps(b).decode()) for b in blocks) + rng.randint(5, 40)
        mid, rid = R.message_id(rng), R.request_id(rng)
        model = chain.model
        o = self.opts
        ttl = rng.random()
        if ttl < o.one_hour_rate:
            hour = cache_creation
        else:
            hour = rng.randint(0, cache_creation) if ttl < o.one_hour_rate + o.mixed_ttl_rate else 0
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

    def call_tool(self, chain: Chain, tool: str, *, thinking: bool | None = None, text_block: bool = True) -> dict:
        """A response that calls `tool`; returns its tool_use block."""
        block = self.respond(chain, tool=tool, thinking=thinking, text_block=text_block)
        assert block is not None  # respond returns the tool_use block whenever a tool is given
        return block

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
            return ("The file has been updated. Here's the result of running `cat -n` on a snippet of the edited file:\n"
                    + text(rng, 200, 2000))
        if name == "Grep":
            return text(rng, 200, 5000)
        if name == "Glob":
            return "\n".join(f"{self.cwd}/src/{text(rng, 4, 12).strip().replace(' ', '_')}.py" for _ in range(rng.randint(3, 30)))
        if name == "Write":
            return "File created successfully at: " + self.cwd + "/src/new_module.py"
        if name == "TodoWrite":
            return "Todos have been modified successfully. Ensure that you continue to use the todo list to track your progress."
        return text(rng, 300, 3000)

    def tool_result(self, chain: Chain, block: dict, *, is_error: bool | None = None, body: str | None = None) -> None:
        rng = self.rng
        name = block["name"]
        if is_error is None:
            is_error = rng.random() < self.opts.tool_error_rate and name not in ("TodoWrite", "Task", "Write")
        self.clock.advance(rng.uniform(0.1, 15))
        content = body if body is not None else self._result_text(name, is_error)
        rec = self._line(chain, R.claude_tool_result, tool_use_id=block["id"], content=content, is_error=is_error)
        chain.ctx += tokens(content)
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
        return self.rng.choices(TOOLS, TOOL_WEIGHTS)[0]

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
            env = R.claude_envelope(parent_uuid=None, session_id=self.sid, cwd=self.cwd, git_branch=self.main.env["gitBranch"],
                                    is_sidechain=True, agent_id=aid)
        model = HAIKU if rng.random() < 0.5 else self.main.model
        chain = Chain(path, env, True, model, rng.randint(9_000, 16_000), 0)
        self.prompt(chain, text(rng, 200, 1500))
        for _ in range(rng.randint(1, 5)):
            block = self.call_tool(chain, rng.choice(("Read", "Grep", "Bash", "Glob")), text_block=rng.random() < 0.5)
            self.tool_result(chain, block)
        self.respond(chain, tool=None, thinking=False)
        if kind != "inline":
            self.truth.subagent_files += 1
            self.traps["subagent_files" if kind == "file" else "legacy_subagent_files"] += 1
        else:
            self.traps["inline_sidechains"] += 1
        return text(rng, 300, 2500)

    def turn(self, index: int, plan: dict[int, list[str]]) -> None:
        """One user turn: prompt, a few tool round trips (maybe a subagent), a final answer."""
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
            block = self.call_tool(self.main, self._pick_tool())
            self.tool_result(self.main, block)
        for kind in agents:
            block = self.call_tool(self.main, "Task", thinking=False)
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

