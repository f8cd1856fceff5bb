"""`python -m llm_sessions.synth --out DIR [--size 1GB] [--seed N]`: write a corpus + truth.json.

Progress goes to stderr (this is a CLI entry point); the summary line too, so stdout stays
empty for scripts that only want the files.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

from llm_sessions.synth.corpus import build_corpus

_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "KIB": 2**10, "MIB": 2**20, "GIB": 2**30}


def parse_size(text: str) -> int:
    """'1GB', '500MB', '2.5GiB', '123456' -> bytes (decimal units, binary with 'i')."""
    m = re.fullmatch(r"\s*([\d.]+)\s*([A-Za-z]*)\s*", text)
    if not m or m.group(2).upper() not in _UNITS:
        raise argparse.ArgumentTypeError(f"not a size: {text!r}")
    return int(float(m.group(1)) * _UNITS[m.group(2).upper()])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m llm_sessions.synth",
                                description="Write synthetic Claude Code and Codex CLI transcripts with an exact truth.json.")
    p.add_argument("--out", type=Path, required=True, help="folder to write (home/, claude-extra/, truth.json)")
    p.add_argument("--size", type=parse_size, default=None, help="grow the corpus to about this many bytes, e.g. 1GB")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--claude-sessions", type=int, default=2, help="random Claude sessions after the trap scenarios")
    p.add_argument("--codex-sessions", type=int, default=1, help="random Codex sessions after the trap scenarios")
    p.add_argument("--shape", choices=("default", "real"), default="default",
                   help="byte mix of the random sessions: 'real' follows public real Claude Code transcripts (Claude only)")
    args = p.parse_args(argv)
    if args.out.exists() and any(args.out.iterdir()):
        p.error(f"{args.out} is not empty; the corpus appends to files, so start from an empty folder")
    t0 = time.monotonic()
    last = [0.0]

    def progress(done: int, target: int | None) -> None:
        now = time.monotonic()
        if now - last[0] < 0.5:
            return
        last[0] = now
        rate = done / max(now - t0, 1e-9) / 1e6
        of = f" / {target / 1e6:,.0f} MB ({100 * done / target:4.1f}%)" if target else ""
        sys.stderr.write(f"\r{done / 1e6:,.1f} MB{of}  {rate:,.1f} MB/s ")
        sys.stderr.flush()

    truth = build_corpus(args.out, seed=args.seed, claude_sessions=args.claude_sessions, codex_sessions=args.codex_sessions,
                         target_bytes=args.size, progress=progress, shape=args.shape)
    secs = time.monotonic() - t0
    sys.stderr.write(
        f"\rwrote {truth.bytes:,} bytes, {truth.lines:,} lines, {truth.files:,} files, {len(truth.sessions):,} sessions "
        f"in {secs:.1f}s ({truth.bytes / secs / 1e6:.1f} MB/s) -> {args.out / 'truth.json'}\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
