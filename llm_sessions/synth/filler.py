"""Filler text, sizes and opaque blobs: every free text of a synthetic transcript.

Texts are slices of one fixed pool built from its own seed, so the bytes a corpus holds
depend only on the corpus seed's draws of offsets and lengths, and composing a line costs a
slice (a 1 GB corpus writes millions of them). `tokens` is the generator's own token count for
a text, the one its truth is built from.
"""

from __future__ import annotations

import base64
import math
import random


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



def tokens(s: str) -> int:
    """The generator's own token count for a text: ~3.6 characters per token, at least 1."""
    return max(1, int(len(s) / 3.6))
