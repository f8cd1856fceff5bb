"""Gemini CLI, Copilot CLI and Aider sessions with their ground truth.

Like `claude_session.py` and `codex_session.py`, each model decides what happens, writes every line through a sink and
keeps the truth from its own choices, never from the bytes it wrote. The formats:

- Gemini CLI JSONL recordings (`tmp/<project>/chats/session-*.jsonl`): a metadata line,
  then messages as bare records or `$set` batches (upserted by id), updated messages
  re-appended (the last copy wins), `$rewindTo` cutting the conversation (a rewound turn
  was still billed, so it stays in the usage), a subagent recording in
  `chats/<parent id>/`, a legacy single-JSON session, `.project_root` naming the folder.
- Copilot CLI `session-state/<id>/events.jsonl`: `session.shutdown` with cumulative
  `modelMetrics` per process and across resumes; a session whose last part has no shutdown
  is partial (`exact: false`, the truth then covers the part up to the last shutdown).
- Aider `.aider.chat.history.md`: one run per `# aider chat started at`, `> Tokens:` lines
  whose counts above 1,000 are printed rounded (`4.5k`), so such runs are not exact.

Truth definitions beyond corpus_truth.py's: Gemini output includes thoughts; Copilot usage is
known per shutdown and priced at standard rates on the shutdown's day (the totals carry no
per-request prompt size); Aider's tokens are the printed figures and its cost the last
`$... session` figure Aider printed.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from llm_sessions.synth import records as R
from llm_sessions.synth.clock import SimClock, Sink
from llm_sessions.synth.filler import text
from llm_sessions.synth.rates import request_cost

WINDOWS = {"gemini-2.5-pro": 1_048_576, "gemini-3-flash-preview": 1_048_576, "gpt-4o": 128_000}


@dataclass(slots=True)
class Truth:
    """One session's truth in the shape corpus_builder.py writes to truth.json."""

    tokens: list[int] = field(default_factory=lambda: [0, 0, 0, 0])  # input, output, cache_creation, cache_read
    cost: float = 0.0
    turns: int = 0
    api_errors: int = 0
    tool_errors: int = 0
    model: str | None = None
    context: dict | None = None
    exact: bool = True
    first: datetime | None = None
    last: datetime | None = None

    def add(self, inp: int, out: int, cc: int, cr: int) -> None:
        for i, v in enumerate((inp, out, cc, cr)):
            self.tokens[i] += v


# ----------------------------------------------------------------------------- Gemini


class GeminiSession:
    """Plays one Gemini CLI recording (JSONL, or the legacy single JSON with `legacy=True`)."""

    def __init__(self, rng: random.Random, *, session_id: str, project: str, cwd: str, clock: SimClock, sink: Sink,
                 traps: Counter, model: str = "gemini-2.5-pro", legacy: bool = False, parent: str | None = None,
                 directories: bool = True) -> None:
        self.rng, self.sid, self.project, self.cwd = rng, session_id, project, cwd
        self.clock, self.sink, self.traps, self.model = clock, sink, traps, model
        self.legacy, self.parent, self.directories = legacy, parent, directories
        start = clock.now()
        name = f"session-{start:%Y-%m-%dT%H-%M}-{session_id[:8]}.{'json' if legacy else 'jsonl'}"
        folder = f"tmp/{project}/chats" + (f"/{parent}" if parent else "")
        self.path = f"{folder}/{name}"
        self.messages: dict[str, dict] = {}  # the conversation as the file ends up saying it
        self.billed: dict[str, dict] = {}  # every gemini message ever written (final copy)
        self.truth = Truth(first=start)
        self.meta: dict[str, Any] = {"sessionId": session_id, "projectHash": project, "startTime": R.iso(start),
                     "lastUpdated": R.iso(start), "kind": "subagent" if parent else "main"}
        if parent:
            self.meta["parentSessionId"] = parent
        if directories:
            self.meta["directories"] = [cwd]

    def _write(self, record: dict) -> None:
        if not self.legacy:
            self.sink(self.path, R.dumps(record), True)

    def _message(self, kind: str, **extra) -> dict:
        self.clock.advance(self.rng.uniform(2, 60))
        msg = {"id": R.new_uuid(self.rng), "timestamp": R.iso(self.clock.now()), "type": kind,
               "content": text(self.rng, 40, 600)}
        msg.update(extra)
        return msg

    def _tokens(self) -> dict:
        rng = self.rng
        prompt = rng.randint(8_000, 60_000) if rng.random() > 0.05 else rng.randint(200_001, 260_000)
        cached = rng.randint(0, prompt // 256) * 256 if rng.random() < 0.7 else 0
        out, thoughts, tool = rng.randint(20, 3_000), rng.randint(0, 1_500), rng.randint(0, 400)
        return {"input": prompt, "output": out, "cached": cached, "thoughts": thoughts, "tool": tool,
                "total": prompt + out + thoughts + tool}

    def run(self, turns: int) -> Truth:
        rng = self.rng
        self._write(self.meta)
        for i in range(turns):
            user = self._message("user")
            self.messages[user["id"]] = user
            if i == 2 or (i and rng.random() < 0.25):
                # a batch: the whole list so far, upserted by id
                self._write({"$set": {"messages": list(self.messages.values())}})
                self.traps["gemini_set_batches"] += 1
            else:
                self._write(user)
                self.traps["gemini_bare_records"] += 1
            calls = [{"id": f"call-{i}-{k}", "name": rng.choice(["read_file", "run_shell_command", "glob"]),
                      "status": "error" if rng.random() < 0.1 else "success"} for k in range(rng.randint(0, 3))]
            reply = self._message("gemini", model=self.model, tokens=self._tokens(), toolCalls=calls)
            # The last turn forces one if no session had any yet, so every corpus holds the trap;
            # the draw is made as before, so seeds that already had one keep their bytes.
            if (calls and rng.random() < 0.5) or (i == turns - 1 and not self.traps["gemini_updated_messages"]):
                # written first while the tools ran, then re-appended with the final figures
                early = dict(reply, tokens=dict(reply["tokens"], output=1, thoughts=0, total=reply["tokens"]["input"] + 1))
                self._write(early)
                self.traps["gemini_updated_messages"] += 1
            self._write(reply)
            self.messages[reply["id"]] = reply
            self.billed[reply["id"]] = reply
            if rng.random() < 0.08:
                err = self._message("error")
                self.messages[err["id"]] = err
                self._write(err)
                self.truth.api_errors += 1
            if i == turns - 2 and not self.legacy and turns > 2:
                # rewind the last turn: the conversation loses it, the bill does not
                self._write({"$rewindTo": user["id"]})
                ids = list(self.messages)
                for mid in ids[ids.index(user["id"]):]:
                    del self.messages[mid]
                self.traps["gemini_rewinds"] += 1
        self.meta["lastUpdated"] = R.iso(self.clock.now())
        self.meta["summary"] = text(rng, 20, 60).strip()
        self._write({"$set": {"lastUpdated": self.meta["lastUpdated"], "summary": self.meta["summary"]}})
        if self.legacy:
            self.sink(self.path, json.dumps({**self.meta, "messages": list(self.messages.values())}).encode(), True)
            self.traps["gemini_legacy_json"] += 1
        elif self.parent:
            self.traps["gemini_subagent_files"] += 1
        else:
            self.traps["gemini_jsonl_sessions"] += 1
        return self._truth()

    def _truth(self) -> Truth:
        t = self.truth
        for msg in self.billed.values():
            tok = msg["tokens"]
            inp = tok["input"] - tok["cached"] + tok["tool"]
            t.add(inp, tok["output"] + tok["thoughts"], 0, tok["cached"])
            t.cost += request_cost(msg["model"], input=inp, output=tok["output"] + tok["thoughts"], cache_read=tok["cached"],
                                   prompt=tok["input"] + tok["tool"], day=msg["timestamp"][:10])
            t.turns += 1
            t.tool_errors += sum(1 for c in msg["toolCalls"] if c["status"] == "error")
        last = [m for m in self.messages.values() if m["type"] == "gemini"][-1]
        t.model = last["model"]
        t.context = {"used": last["tokens"]["input"] + last["tokens"]["tool"], "window": WINDOWS[self.model]}
        t.last = self.clock.now()
        return t


# ----------------------------------------------------------------------------- Copilot

_METRICS = ("inputTokens", "outputTokens", "cacheReadTokens", "cacheWriteTokens", "reasoningTokens")


class CopilotSession:
    """Plays one Copilot CLI session: turns, shutdowns (cumulative), resumes, a tail."""

    def __init__(self, rng: random.Random, *, session_id: str, cwd: str, clock: SimClock, sink: Sink, traps: Counter,
                 models: tuple[str, ...] = ("claude-sonnet-4.6",)) -> None:
        self.rng, self.sid, self.cwd, self.clock, self.sink, self.traps = rng, session_id, cwd, clock, sink, traps
        self.models = models
        self.model = models[0]
        self.path = f"session-state/{session_id}/events.jsonl"
        self.process: dict[str, list[int]] = {}  # this process's cumulative metrics per model
        self.reported: dict[str, list[int]] = {}  # what the last shutdown said
        self.pending: dict[str, list[int]] = {}  # used since the last shutdown (not yet reported)
        self.truth = Truth(first=clock.now())
        self.parent: str | None = None
        self.legacy = False  # an older build: no usage checkpoints, counts restart per process

    def _event(self, kind: str, data: dict) -> None:
        eid = R.new_uuid(self.rng)
        self.sink(self.path, R.dumps({"type": kind, "data": data, "id": eid, "timestamp": R.iso(self.clock.now()),
                                      "parentId": self.parent}), True)
        self.parent = eid

    def start(self, resume: bool = False) -> None:
        data = {"sessionId": self.sid, "version": 1, "producer": "copilot-agent", "copilotVersion": "1.0.40",
                "startTime": R.iso(self.clock.now()), "selectedModel": self.model, "context": {"cwd": self.cwd}}
        self._event("session.resume" if resume else "session.start", data)

    def turn(self) -> None:
        rng = self.rng
        self.clock.advance(rng.uniform(10, 200))
        if len(self.models) > 1 and rng.random() < 0.3:
            new = rng.choice(self.models)
            if new != self.model:
                self._event("session.model_change", {"previousModel": self.model, "newModel": new})
                self.model = new
        self._event("user.message", {"content": text(rng, 40, 500)})
        self._event("assistant.turn_start", {"turnId": str(self.truth.turns)})
        for _ in range(rng.randint(1, 4)):
            self.clock.advance(rng.uniform(2, 20))
            read, write = rng.randint(0, 40_000), rng.randint(0, 4_000)
            fresh = rng.randint(50, 3_000)
            reasoning = rng.randint(0, 800)
            out = rng.randint(20, 1_500) + reasoning
            call = [fresh + read + write, out, read, write, reasoning]  # inputTokens includes both caches
            for book in (self.process, self.pending):
                acc = book.setdefault(self.model, [0] * 5)
                for i, v in enumerate(call):
                    acc[i] += v
            self._event("assistant.message", {"messageId": R.new_uuid(rng), "content": text(rng, 40, 800)})
            failed = rng.random() < 0.1
            self._event("tool.execution_complete", {"toolCallId": R.new_uuid(rng), "success": not failed,
                                                    "result": {"content": text(rng, 40, 400)}})
            self.truth.tool_errors += failed
        self._event("assistant.turn_end", {"turnId": str(self.truth.turns)})
        self.truth.turns += 1
        if not self.legacy and self.rng.random() < 0.5:
            self._event("session.usage_checkpoint", {"totalNanoAiu": self.rng.randint(10**8, 10**10)})
            self.traps["copilot_usage_checkpoints"] += 1

    def shutdown(self) -> None:
        """Report this process's cumulative metrics; the truth adds what the user ran since."""
        self.clock.advance(self.rng.uniform(1, 30))
        day = R.iso(self.clock.now())[:10]
        metrics = {m: {"requests": {"count": self.rng.randint(1, 20), "cost": 1},
                       "usage": dict(zip(_METRICS, v, strict=True))} for m, v in self.process.items()}
        self._event("session.shutdown", {"shutdownType": "routine", "totalPremiumRequests": len(metrics),
                                         "modelMetrics": metrics, "currentModel": self.model})
        for model, (inp, out, read, write, _r) in self.pending.items():
            fresh = inp - read - write
            self.truth.add(fresh, out, write, read)
            self.truth.cost += request_cost(model, input=fresh, output=out, cache_write=write, cache_read=read, prompt=0, day=day)
        self.pending = {}
        self.truth.model = self.model
        self.traps["copilot_shutdowns"] += 1

    def restart_process(self) -> None:
        """An older build: the resumed process counts from zero again."""
        self.legacy = True
        self.process = {}
        self.traps["copilot_process_restarts"] += 1

    def finish(self, partial: bool) -> Truth:
        if partial:
            self.truth.exact = False  # the tail after the last shutdown is an estimate
            self.traps["copilot_partial_sessions"] += 1
        self.truth.last = self.clock.now()
        self.truth.model = self.model
        return self.truth


# ----------------------------------------------------------------------------- Aider


def _k(n: int) -> tuple[str, bool]:
    """How Aider prints a count: exact below 1,000, else rounded with a k suffix."""
    return (str(n), True) if n < 1000 else (f"{n / 1000:.1f}k", False)


class AiderHistory:
    """Writes runs into one `.aider.chat.history.md`; `run()` returns each run's truth."""

    def __init__(self, rng: random.Random, *, repo: str, sink: Sink, traps: Counter) -> None:
        self.rng, self.repo, self.sink, self.traps = rng, repo, sink, traps
        self.path = ".aider.chat.history.md"

    def _line(self, s: str = "") -> None:
        self.sink(self.path, s.encode(), True)

    def run(self, start: datetime, model: str, messages: int) -> tuple[str, Truth]:
        rng = self.rng
        self._line(f"# aider chat started at {start:%Y-%m-%d %H:%M:%S}")
        self._line()
        self._line(f"> /usr/local/bin/aider --model {model}")
        self._line("> Aider v0.86.1")
        self._line(f"> Main model: {model} with diff edit format")
        self._line()
        truth = Truth(model=model, first=start)
        session_cost = 0.0
        last_prompt = 0
        for _ in range(messages):
            self._line(f"#### {text(rng, 20, 200).strip()}")
            self._line()
            self._line(text(rng, 100, 800).replace("\n", " "))
            self._line()
            sent, recv = rng.randint(300, 30_000), rng.randint(20, 2_500)
            write, hit = (rng.randint(0, 5_000), rng.randint(0, 20_000)) if rng.random() < 0.5 else (0, 0)
            parts = [(sent, "sent")] + ([(write, "cache write"), (hit, "cache hit")] if write or hit else []) + [(recv, "received")]
            shown = []
            for n, label in parts:
                txt, exact = _k(n)
                truth.exact = truth.exact and exact
                shown.append((round(float(txt[:-1]) * 1000) if txt.endswith("k") else n, label, txt))
            msg_cost = round(rng.uniform(0.0005, 0.05), 4)
            session_cost += msg_cost
            self._line(f"> Tokens: {', '.join(f'{t} {label}' for _, label, t in shown)}. "
                       f"Cost: ${msg_cost:.4f} message, ${session_cost:.4f} session.")
            self._line()
            counts = {label: v for v, label, _ in shown}
            truth.add(counts["sent"], counts["received"], counts.get("cache write", 0), counts.get("cache hit", 0))
            last_prompt = counts["sent"] + counts.get("cache write", 0) + counts.get("cache hit", 0)
            truth.turns += 1
        truth.cost = float(f"{session_cost:.4f}")
        truth.context = {"used": last_prompt, "window": WINDOWS[model]} if model in WINDOWS else None
        digest = hashlib.sha1(self.repo.encode()).hexdigest()[:8]
        self.traps["aider_runs"] += 1
        if not truth.exact:
            self.traps["aider_rounded_counts"] += 1
        return f"aider-{digest}-{start:%Y%m%dT%H%M%S}", truth


__all__ = ["AiderHistory", "CopilotSession", "GeminiSession", "Truth", "WINDOWS"]
