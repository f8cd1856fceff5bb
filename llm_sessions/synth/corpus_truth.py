"""The ground truth of a corpus (truth.json) and what each of its figures means.

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

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from llm_sessions import __version__
from llm_sessions.synth import records as R
from llm_sessions.synth.corpus_layout import CLAUDE_EXTRA, CLAUDE_HOME, CLAUDE_XDG, CODEX_HOME


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


def iso_or_none(ts: datetime | None) -> str | None:
    return R.iso(ts) if ts is not None else None


def token_totals(inp: int, out: int, cc: int, cr: int) -> dict:
    return {"input": inp, "output": out, "cache_creation": cc, "cache_read": cr, "total": inp + out + cc + cr}
