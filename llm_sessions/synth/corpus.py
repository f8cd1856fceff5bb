"""Build a corpus of synthetic transcripts of every assistant plus the exact truth about them.

Where the files go: corpus_layout.py; what truth.json means: corpus_truth.py; the trap
scenarios: corpus_scenarios.py; one session at a time: corpus_builder.py; the `real` byte
mix: shape.py.
"""

from __future__ import annotations

import json
from pathlib import Path

from llm_sessions.synth.corpus_builder import CorpusBuilder, Progress
from llm_sessions.synth.corpus_scenarios import write_scenarios
from llm_sessions.synth.corpus_truth import Truth


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
    b = CorpusBuilder(root, seed, progress, target_bytes, extra_claude_root, aider)
    write_scenarios(b)
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
