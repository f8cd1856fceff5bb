"""The Codex CLI session model: turns, tool calls, compactions and the cumulative counter.

`CodexSession` plays a rollout turn by turn: turn context, prompt, reasoning, shell calls
and their outputs, token_count events carrying the cumulative counter (some re-emitted
unchanged), aborted turns, service-tier changes, resumes, errors, junk lines and
compactions (with or without their 2026 `token_usage_record`). Every step of the counter is
priced as it happens (model, tier, day, prompt size), which is the truth's cost; the
truth's tokens are the last counter minus what the rollout inherited (`finalize`).
"""

from __future__ import annotations

from llm_sessions.synth import codex_records as C
from llm_sessions.synth import records as R
from llm_sessions.synth.codex_writer import CODEX_WINDOW, CodexTruth, CodexWriter, add_vec
from llm_sessions.synth.filler import blob, sized, text
from llm_sessions.synth.rates import request_cost


class CodexSession(CodexWriter):
    """Plays one Codex CLI rollout after one of CodexWriter's openings."""

    def _token_count(self, out: int, reasoning: int, *, write: bool = True) -> None:
        rng = self.rng
        prompt = self.ctx
        cached = 0 if self.cached == 0 or rng.random() < 0.05 else (min(self.cached, prompt) // 256) * 256
        written = (prompt - cached) * rng.randint(10, 60) // 100 if self.opts.cache_writes else 0
        step = (prompt, cached, written, out, reasoning)
        last = self._usage(step)
        self.total = self._usage(add_vec(self._vec(self.total), step))
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
        rec = C.codex_token_count(self._ts(), total=self.total, last=last, window=CODEX_WINDOW, rate_limits=self._limits())
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
            self._emit(C.codex_thread_settings(self._ts(), "priority" if tier else "default"))
            self.tier = tier
            self.traps["codex_service_tier_changes"] += 1

    def turn(self, index: int, *, error_event: bool = False, garbage: bool = False) -> None:
        rng = self.rng
        o = self.opts
        self.clock.advance(rng.uniform(10, 300))
        if index in o.resume_before:
            self.clock.advance(rng.uniform(3600, 20_000))
            self._emit(C.codex_session_meta(self._ts(), session_id=self.sid, cwd=self.cwd, branch=self.branch, commit=self.commit))
            self.traps["codex_resume_session_meta"] += 1
        self._set_tier("priority" if index in o.priority_turns else "")
        if index and rng.random() < 0.2 and len(o.models) > 1:
            self.model = rng.choice(o.models)
        self._emit(C.codex_turn_context(self._ts(), cwd=self.cwd, model=self.model, effort=rng.choice(["low", "medium", "high"])))
        if index == 0:
            env = (f"<environment_context>\n  <cwd>{self.cwd}</cwd>\n  <approval_policy>on-request</approval_policy>\n"
                   "  <sandbox_mode>workspace-write</sandbox_mode>\n  <network_access>restricted</network_access>\n"
                   "  <shell>bash</shell>\n</environment_context>")
            self._emit(C.codex_message(self._ts(), "user", env))
        prompt = text(rng, 40, 900)
        self._emit(C.codex_message(self._ts(), "user", prompt))
        self._emit(C.codex_event(self._ts(), "user_message", message=prompt, images=[]))
        self.ctx += int(len(prompt) / 3.6)
        if garbage:
            self.sink(self.path, b'{"timestamp":"' + self._ts().encode() + b'","type":"event_msg","payload":{"type":"token_co', True)
            self.sink(self.path, b"\x00\x00\x00\x00 partial write \xff\xfe", True)
            self.ordinal += 2
            self.traps["codex_malformed_lines"] += 2
        if error_event:
            self.clock.advance(rng.uniform(2, 30))
            self._emit(C.codex_event(self._ts(), "error", message="stream disconnected before completion: error sending request for url (https://chatgpt.com/backend-api/codex/responses)"))
            self.truth.api_errors += 1
            self.traps["codex_error_events"] += 1
        aborted = index in o.aborted_turns
        for _ in range(rng.randint(1, 7)):
            self._call(write=not aborted)
        if aborted:
            # Interrupted: its usage reached the API but no token_count was written for it;
            # the next turn's cumulative counter includes it.
            self.clock.advance(rng.uniform(1, 5))
            self._emit(C.codex_event(self._ts(), "turn_aborted", reason="interrupted"))
            self.traps["codex_aborted_turns"] += 1
            return
        self.clock.advance(rng.uniform(2, 30))
        reasoning = text(rng, 80, 600)
        answer = text(rng, 100, 3000)
        self._emit(C.codex_reasoning(self._ts(), reasoning, blob(rng, rng.randint(600, 3000))))
        self._emit(C.codex_event(self._ts(), "agent_reasoning", text=reasoning))
        self._emit(C.codex_message(self._ts(), "assistant", answer))
        self._emit(C.codex_event(self._ts(), "agent_message", message=answer))
        r = rng.randint(50, 2000)
        self._token_count(r + int(len(answer) / 3.6), r)
        if index in o.compact_turns or (o.compact_at is not None and self.ctx > o.compact_at):
            self._compact()
        self.turn_marks.append((self.ordinal, dict(self.total)))

    def _compact(self) -> None:
        rng = self.rng
        self.clock.advance(rng.uniform(10, 40))
        kind = self.opts.compaction_records
        rid = None
        if kind:
            rid = f"resp_{blob(rng, 12).encode().hex()[:24]}"
            # The compaction request itself: its prompt is the whole context.
            prompt, out = self.ctx, rng.randint(800, 3000)
            cached = (min(self.cached, prompt) // 256) * 256
            usage = C.codex_usage(prompt, cached, out, 0)
            if kind == "local":
                # Local compactions also advance the cumulative counter by exactly this.
                self._emit(C.codex_token_usage_record(self._ts(), response_id=rid, usage=usage))
                step = (prompt, cached, 0, out, 0)
                self.total = self._usage(add_vec(self._vec(self.total), step))
                self._emit(C.codex_token_count(self._ts(), total=self.total, last=self._usage(step), window=CODEX_WINDOW,
                                               rate_limits=self._limits()))
                self.truth.turns += 1
                self.truth.context_used = prompt + out
            else:
                # Remote (v2) compactions are recorded only here: the counter does not move.
                self._emit(C.codex_token_usage_record(self._ts(), response_id=rid, usage=usage))
                self.remote = add_vec(self.remote, (prompt, cached, 0, out, 0))
            self.truth.cost += request_cost(self.model, input=prompt - cached, output=out, cache_read=cached, prompt=prompt,
                                            speed=self.tier, day=self._ts()[:10])
            self.traps[f"codex_compaction_records_{kind}"] += 1
        self._emit(C.codex_compacted(self._ts(), text(rng, 1500, 6000), response_id=rid))
        self.ctx = rng.randint(12_000, 30_000)
        self.cached = 0
        self.truth.compactions += 1
        self.traps["codex_compacted"] += 1

    def _call(self, write: bool = True) -> None:
        rng = self.rng
        self.clock.advance(rng.uniform(2, 25))
        reasoning = text(rng, 80, 800)
        self._emit(C.codex_reasoning(self._ts(), reasoning, blob(rng, rng.randint(600, 3000))))
        self._emit(C.codex_event(self._ts(), "agent_reasoning", text=reasoning))
        cid = R.call_id(rng)
        cmd = rng.choice(["rg -n 'def poll' src", "pytest -q tests/unit", "sed -n 1,200p src/tailer.py", "git diff --stat",
                          "cargo test", "ls -la"])
        self._emit(C.codex_function_call(self._ts(), cid=cid, command=cmd, workdir=self.cwd))
        r = rng.randint(30, 1500)
        self._token_count(r + rng.randint(20, 200), r, write=write)
        self.clock.advance(rng.uniform(0.1, 20))
        failed = rng.random() < self.opts.fail_rate
        output = text(rng, 200, sized(rng, 200, 40_000, 2_500))
        self._emit(C.codex_function_output(self._ts(), cid=cid, output=output, exit_code=1 if failed else 0,
                                           duration=rng.uniform(0.05, 30)))
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
        d = [a - b for a, b in zip(self._vec(self.total), self._vec(self.base), strict=False)]
        d = [a + b for a, b in zip(d, self.remote, strict=False)]
        t.input = d[0] - d[1] - d[2]
        t.cache_read = d[1]
        t.cache_creation = d[2]
        t.output = d[3]

