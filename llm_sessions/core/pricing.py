"""Model prices and context windows: a bundled dated table, a JSON file, then config.

Why a bundled copy: cost must work offline and on the CLI's fast paths, so the table ships
with the package (`data/prices.json`, a small slice of BerriAI/litellm's
`model_prices_and_context_window.json`, dated inside) and loads in about a millisecond with
msgspec. A `pricing.file` in litellm's own format (the full upstream file works) is merged
over it, then `[pricing.models."<model>"]` tables from config.toml.

Why the 200k tier is a flag: Anthropic (Sonnet 4/4.5 with the 1M window) and Google (Gemini
2.5 Pro, 3 Pro) bill *every* token of a request at the higher rate once that request's input
side (input + cache writes + cache reads) exceeds 200k tokens. Whether that happened is a
property of each request, not of a session total, so the caller who sees requests decides:
`request_cost(usage)` for one request, `cost(usage, above_200k=...)` otherwise.

Unknown models cost `None`, never 0: a zero would read as "free" in the UI.

This module is on the `list`/`health` fast path: stdlib and msgspec only.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import msgspec

from llm_sessions.config import ConfigError
from llm_sessions.core.models import Usage

TIER_THRESHOLD = 200_000
BUNDLED_FILE = Path(__file__).with_name("data") / "prices.json"
ONE_MILLION_WINDOW = 1_000_000


class PriceFileError(ConfigError):
    """A price file or `[pricing.models]` table that cannot be used; the message names it."""


@dataclass(frozen=True, slots=True)
class ModelPrice:
    """USD per token for one model, plus its context window (max input tokens).

    A `None` rate means the source does not list it: cache writes and reads then fall back
    to the input rate (an upper bound, never a silent zero), and a missing above-200k rate
    falls back to the normal rate of the same kind.
    """

    name: str
    input: float
    output: float
    cache_write: float | None = None
    cache_read: float | None = None
    input_above_200k: float | None = None
    output_above_200k: float | None = None
    cache_write_above_200k: float | None = None
    cache_read_above_200k: float | None = None
    window: int | None = None

    @property
    def tiered(self) -> bool:
        """True when the model has a higher rate above 200k input tokens per request."""
        return self.input_above_200k is not None or self.output_above_200k is not None

    def rates(self, above_200k: bool = False) -> tuple[float, float, float, float]:
        """(input, output, cache_write, cache_read) per token, tier applied when asked."""
        inp, out = self.input, self.output
        cw = self.cache_write if self.cache_write is not None else inp
        cr = self.cache_read if self.cache_read is not None else inp
        if above_200k and self.tiered:
            t_in = self.input_above_200k if self.input_above_200k is not None else inp
            return (
                t_in,
                self.output_above_200k if self.output_above_200k is not None else out,
                self.cache_write_above_200k if self.cache_write_above_200k is not None else cw,
                self.cache_read_above_200k if self.cache_read_above_200k is not None else cr,
            )
        return inp, out, cw, cr

    def cost(self, usage: Usage, above_200k: bool = False) -> float:
        """USD for `usage`; with `above_200k` every token is billed at the tiered rate."""
        inp, out, cw, cr = self.rates(above_200k)
        return (
            usage.input * inp
            + usage.output * out
            + usage.cache_creation * cw
            + usage.cache_read * cr
        )

    def request_cost(self, usage: Usage) -> float:
        """USD for the usage of ONE API request, deciding the 200k tier from that request."""
        return self.cost(usage, above_200k=is_above_200k(usage))


def is_above_200k(usage: Usage) -> bool:
    """Whether one request's input side (input + cache writes + cache reads) exceeds 200k."""
    return usage.input + usage.cache_creation + usage.cache_read > TIER_THRESHOLD


# litellm field name -> ModelPrice attribute
_LITELLM_FIELDS = {
    "input_cost_per_token": "input",
    "output_cost_per_token": "output",
    "cache_creation_input_token_cost": "cache_write",
    "cache_read_input_token_cost": "cache_read",
    "input_cost_per_token_above_200k_tokens": "input_above_200k",
    "output_cost_per_token_above_200k_tokens": "output_above_200k",
    "cache_creation_input_token_cost_above_200k_tokens": "cache_write_above_200k",
    "cache_read_input_token_cost_above_200k_tokens": "cache_read_above_200k",
    "max_input_tokens": "window",
}

# config.toml keys (USD per million tokens, as prices are published) -> attribute
_CONFIG_KEYS = {
    "input": "input",
    "output": "output",
    "cache_write": "cache_write",
    "cache_read": "cache_read",
    "input_above_200k": "input_above_200k",
    "output_above_200k": "output_above_200k",
    "cache_write_above_200k": "cache_write_above_200k",
    "cache_read_above_200k": "cache_read_above_200k",
    "window": "window",
}

_PREFIXES = ("anthropic/", "openai/", "gemini/", "google/", "models/", "vertex_ai/", "azure/")
_ONE_M = re.compile(r"\[1m\]$", re.IGNORECASE)
_DATE = re.compile(r"-(?:\d{8}|\d{4}-\d{2}-\d{2})$")
_PREVIEW = re.compile(r"-(?:preview|exp)(?:-[\d-]+)?$")


def normalise(model: str) -> str:
    """The canonical table key for a model id as the assistants write it.

    `anthropic/claude-sonnet-4-5-20250929[1m]` and `claude-sonnet-4-5@20250929` both become
    `claude-sonnet-4-5`: transcripts, Vertex and litellm spell the same model differently.
    """
    key = model.strip().lower()
    key = _ONE_M.sub("", key)
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            if key.startswith(prefix):
                key, changed = key[len(prefix):], True
    key = key.split("@", 1)[0]
    key = _DATE.sub("", key)
    return key


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _price_from_litellm(name: str, entry: dict, origin: str, base: ModelPrice | None) -> ModelPrice | None:
    """Build or update a ModelPrice from one litellm-style entry; None when it has no rates."""
    values: dict[str, Any] = {}
    for src, attr in _LITELLM_FIELDS.items():
        if src not in entry or entry[src] is None:
            continue
        value = entry[src]
        if not _is_number(value) or value < 0:
            raise PriceFileError(f"{origin}: {name}.{src} must be a non-negative number, got {value!r}")
        values[attr] = int(value) if attr == "window" else float(value)
    if base is not None:
        return replace(base, **values)
    if "input" not in values or "output" not in values:
        return None  # images, embeddings, per-second pricing: not ours to cost
    return ModelPrice(name=name, **values)


@lru_cache(maxsize=1)
def _bundled() -> tuple[dict[str, ModelPrice], dict[str, str], str]:
    """The shipped table, parsed once per process (it never changes while we run)."""
    raw = BUNDLED_FILE.read_bytes()
    doc = msgspec.json.decode(raw)
    models: dict[str, ModelPrice] = {}
    for name, entry in doc["models"].items():
        price = _price_from_litellm(name, entry, "bundled prices.json", None)
        if price is not None:
            models[name] = price
    return models, dict(doc.get("aliases", {})), str(doc.get("_as_of", "unknown"))


class PriceTable:
    """Prices by canonical model key. Build with `PriceTable.load()`; treat as read-only."""

    __slots__ = ("_models", "_aliases", "as_of", "sources")

    def __init__(self, models: dict[str, ModelPrice], aliases: dict[str, str], as_of: str, sources: list[str]):
        self._models = models
        self._aliases = aliases
        self.as_of = as_of
        self.sources = sources

    @classmethod
    def load(cls, overrides: dict | None = None, file: str | Path | None = None) -> PriceTable:
        """Bundled table, then `file` (litellm JSON), then config `overrides`.

        `overrides` maps a model id to a table with any of input, output, cache_write,
        cache_read, input_above_200k, output_above_200k, cache_write_above_200k,
        cache_read_above_200k (USD per million tokens) and window (tokens). A new model needs
        at least input and output. Any problem raises `PriceFileError` naming the source.
        """
        bundled, aliases, as_of = _bundled()
        models = dict(bundled)
        aliases = dict(aliases)
        sources = [f"bundled litellm copy as of {as_of}"]
        if file:
            cls._merge_file(models, aliases, Path(file).expanduser())
            sources.append(str(file))
        if overrides:
            cls._merge_overrides(models, overrides)
            sources.append("config [pricing.models]")
        return cls(models, aliases, as_of, sources)

    @staticmethod
    def _merge_file(models: dict[str, ModelPrice], aliases: dict[str, str], path: Path) -> None:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise PriceFileError(f"{path}: cannot read price file: {exc.strerror or exc}") from None
        try:
            doc = msgspec.json.decode(raw)
        except msgspec.DecodeError as exc:
            raise PriceFileError(f"{path}: invalid JSON: {exc}") from None
        if not isinstance(doc, dict):
            raise PriceFileError(f"{path}: expected a JSON object of models")
        entries = doc.get("models") if isinstance(doc.get("models"), dict) else doc
        if isinstance(doc.get("aliases"), dict):
            aliases.update({normalise(k): normalise(v) for k, v in doc["aliases"].items()})
        # Entries already in canonical form win over provider-prefixed duplicates
        # (`claude-x` over `bedrock/...claude-x`), so sort those first.
        ordered = sorted(entries.items(), key=lambda kv: normalise(kv[0]) != kv[0].lower())
        seen: set[str] = set()
        for name, entry in ordered:
            if name.startswith("_") or name == "sample_spec" or not isinstance(entry, dict):
                continue
            if "/" in normalise(name):
                continue  # bedrock/..., openrouter/...: other vendors' prices for the same model
            key = normalise(name)
            if key in seen:
                continue
            price = _price_from_litellm(key, entry, str(path), None)
            if price is None:
                continue
            seen.add(key)
            models[key] = price

    @staticmethod
    def _merge_overrides(models: dict[str, ModelPrice], overrides: dict) -> None:
        for name, table in overrides.items():
            origin = f'config [pricing.models."{name}"]'
            if not isinstance(table, dict):
                raise PriceFileError(f"{origin} must be a table")
            values: dict[str, Any] = {}
            for key, value in table.items():
                attr = _CONFIG_KEYS.get(key)
                if attr is None:
                    raise PriceFileError(
                        f"{origin}: unknown key {key!r} (use {', '.join(sorted(_CONFIG_KEYS))})"
                    )
                if not _is_number(value) or value < 0:
                    raise PriceFileError(f"{origin}: {key} must be a non-negative number, got {value!r}")
                values[attr] = int(value) if attr == "window" else float(value) / 1_000_000
            key = normalise(name)
            base = models.get(key)
            if base is not None:
                models[key] = replace(base, **values)
            elif "input" in values and "output" in values:
                models[key] = ModelPrice(name=key, **values)
            else:
                raise PriceFileError(f"{origin}: a model not in the price table needs input and output")

    def __len__(self) -> int:
        return len(self._models)

    def __contains__(self, model: str) -> bool:
        return self.lookup(model) is not None

    def lookup(self, model: str | None) -> ModelPrice | None:
        """The price of `model` after normalising its id; None when unknown or synthetic."""
        if not model:
            return None
        raw = model.strip().lower()
        if raw == "<synthetic>" or raw.startswith("<"):
            return None
        if raw in self._models:
            return self._models[raw]
        key = normalise(raw)
        for candidate in (key, self._aliases.get(key), _PREVIEW.sub("", key), key.removesuffix("-latest")):
            if candidate and candidate in self._models:
                return self._models[candidate]
            if candidate and candidate in self._aliases and self._aliases[candidate] in self._models:
                return self._models[self._aliases[candidate]]
        # No guessing by prefix: `claude-opus-4-9` is not priced like `claude-opus-4`, and a
        # wrong price looks just as real as a right one. Unknown stays unknown.
        return None

    def cost(self, model: str | None, usage: Usage, above_200k: bool = False) -> float | None:
        """USD for `usage` of `model`; None when the model is unknown (never a false 0)."""
        price = self.lookup(model)
        return None if price is None else price.cost(usage, above_200k)

    def window(self, model: str | None) -> int | None:
        """Context window in tokens; a `[1m]` suffix means the 1M-token window."""
        if model and _ONE_M.search(model.strip()):
            return ONE_MILLION_WINDOW
        price = self.lookup(model)
        return price.window if price else None

    def models(self) -> list[str]:
        return sorted(self._models)


__all__ = ["ModelPrice", "PriceTable", "PriceFileError", "is_above_200k", "normalise", "TIER_THRESHOLD"]
