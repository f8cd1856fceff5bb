"""Rebuild `llm_sessions/core/accounting/data/prices.json` from BerriAI/litellm's price table.

    python scripts/regenerate_prices.py PATH/TO/model_prices_and_context_window_backup.json

Where to get the file without network access beyond PyPI: the `litellm` wheel ships a copy.

    pip download litellm --no-deps -d /tmp/litellm
    cd /tmp/litellm && unzip -o -q litellm-*.whl 'litellm/model_prices_and_context_window_backup.json'
    python scripts/regenerate_prices.py /tmp/litellm/litellm/model_prices_and_context_window_backup.json

(`--version` records which litellm release the file came from; the script reads it from the
wheel's name when the file sits in an unpacked wheel folder next to the .whl.)

What the slice keeps, and why:
- every chat/responses model of Anthropic, OpenAI and Google (`anthropic`, `openai`,
  `gemini`, `vertex_ai-language-models`): the assistants we read run on those;
- only the rates cost needs: input, output, cache write (5-minute and 1-hour), cache read,
  the long-context tier (litellm's `_above_200k_tokens` and `_above_272k_tokens` fields),
  the priority tier (`_priority`, what Codex's "fast"/"priority" service tier bills), the
  fast-mode multiplier (`provider_specific_entry.fast`) and the context window;
- one entry per model: a dated id (`claude-opus-4-6-20260205`) whose rates equal its
  undated id is dropped, because lookups strip the date anyway.

Nothing here invents a price. Entries litellm lacks or got wrong live in the hand-checked
`price_overrides.json` beside the output, each with its source and the date it was checked;
they are applied when prices load, not baked in here, so the slice stays litellm's own.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from datetime import date
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "llm_sessions" / "core" / "accounting" / "data" / "prices.json"
PROVIDERS = {"anthropic", "openai", "gemini", "vertex_ai-language-models"}
MODES = {"chat", "responses"}
# Families the assistants never run: audio, image, search, realtime, fine-tunes ...
SKIP = re.compile(r"(^ft:|audio|image|tts|realtime|transcribe|search|embedding|moderation|dall-e|whisper|"
                  r"computer-use|robotics|lyria|deep-research|container|gemma|learnlm|veo|imagen|live)")
RATE_KINDS = ("input_cost_per_token", "output_cost_per_token", "cache_creation_input_token_cost",
              "cache_read_input_token_cost")
SUFFIXES = tuple(size + tier for tier in ("", "_priority", "_flex") for size in ("", "_above_200k_tokens", "_above_272k_tokens"))
KEEP = {k + s for k in RATE_KINDS for s in SUFFIXES} | {"cache_creation_input_token_cost_above_1hr", "max_input_tokens"}
_DATED = re.compile(r"-(?:\d{8}|\d{4}-\d{2}-\d{2})$")


def _slim(entry: dict) -> dict:
    out = {k: entry[k] for k in sorted(KEEP) if isinstance(entry.get(k), (int, float)) and not isinstance(entry.get(k), bool)}
    pse = entry.get("provider_specific_entry")
    if isinstance(pse, dict) and pse:
        out["provider_specific_entry"] = pse
    out["litellm_provider"] = entry["litellm_provider"]
    return out


def build_slice(doc: dict) -> dict[str, dict]:
    """litellm's table -> {model id: slim entry}, sorted by id."""
    models: dict[str, dict] = {}
    for name, entry in doc.items():
        if not isinstance(entry, dict) or entry.get("litellm_provider") not in PROVIDERS:
            continue
        if entry.get("mode") not in MODES or not isinstance(entry.get("input_cost_per_token"), (int, float)):
            continue
        key = name.removeprefix("gemini/")
        if "/" in key or SKIP.search(key):
            continue
        slim = _slim(entry)
        # Google AI Studio (`gemini/...`) and Vertex list most Gemini models twice with the
        # same token rates; the unprefixed (Vertex) entry is kept when both exist.
        if key in models and name.startswith("gemini/"):
            continue
        models[key] = slim
    for key in list(models):
        undated = _DATED.sub("", key)
        if undated != key and undated in models and _rates(models[undated]) == _rates(models[key]):
            del models[key]
    return dict(sorted(models.items()))


def _rates(entry: dict) -> dict:
    return {k: v for k, v in entry.items() if k != "litellm_provider"}


def _version_from(path: Path) -> str | None:
    for whl in path.parent.parent.glob("litellm-*.whl"):
        return whl.name.split("-")[1]
    return None


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("source", type=Path, help="litellm's model_prices_and_context_window(_backup).json")
    p.add_argument("--version", help="the litellm release the file came from")
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--as-of", default=date.today().isoformat(), help="date recorded as the table's date")
    args = p.parse_args(argv)
    raw = args.source.read_bytes()
    doc = json.loads(raw)
    models = build_slice(doc)
    version = args.version or _version_from(args.source) or "unknown"
    out = {
        "_source": "BerriAI/litellm model_prices_and_context_window.json",
        "_litellm_version": version,
        "_source_sha256": hashlib.sha256(raw).hexdigest(),
        "_as_of": args.as_of,
        "_generated_by": "scripts/regenerate_prices.py",
        "_units": "USD per token; max_input_tokens is the context window. Field names follow litellm, "
                  "so a full litellm file also works as pricing.file.",
        "aliases": {
            "claude-4-opus": "claude-opus-4",
            "claude-4-sonnet": "claude-sonnet-4",
            "gemini-3-pro": "gemini-3-pro-preview",
            "gemini-3.1-pro": "gemini-3.1-pro-preview",
            "gemini-3-flash": "gemini-3-flash-preview",
        },
        "models": models,
    }
    text = json.dumps(out, indent=0, sort_keys=False, separators=(",", ":")) + "\n"
    args.out.write_text(text)
    print(f"wrote {args.out}: {len(models)} models, {len(text.encode()):,} bytes, litellm {version}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
