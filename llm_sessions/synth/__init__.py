"""Synthetic Claude Code and Codex CLI transcripts with an exact ground truth.

Pure (stdlib + msgspec): tests build small corpora, benchmarks build gigabytes, and the demo
mode runs `live.py` as a child process. Nothing here may import textual, psutil or sqlmodel.
"""

from llm_sessions.synth.corpus import Truth, build_corpus

__all__ = ["Truth", "build_corpus"]
