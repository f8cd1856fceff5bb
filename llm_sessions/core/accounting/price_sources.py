"""Where prices come from: the bundled litellm slice, hand-checked overrides, a user's file.

Each source becomes dated periods of raw fields per model (`Periods`), in the units and names
the cost code uses; pricing.py turns them into ModelPrice objects and looks them up. Model ids
are normalised here to the one key every source and transcript agrees on. Every problem in a
source is one PriceFileError line naming the file and the field.

On the `list`/`health` fast path: stdlib and msgspec only.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import msgspec

from llm_sessions.config import ConfigError

#: Prompt sizes at which some model switches to long-context rates (Anthropic/Google, OpenAI).
THRESHOLDS = (200_000, 272_000)
DATA = Path(__file__).with_name("data")
BUNDLED_FILE = DATA / "prices.json"
OVERRIDES_FILE = DATA / "price_overrides.json"
#: Service tiers billed at their own rate table (litellm's `_priority` / `_flex` fields).
RATE_TIERS = ("priority", "flex")


class PriceFileError(ConfigError):
    """A price file or `[pricing.models]` table that cannot be used; the message names it."""


# litellm field name -> ModelPrice attribute. The 272k fields map onto the same long-context
# attributes and set the model's threshold to 272k.
_LITELLM_FIELDS = {
    "input_cost_per_token": "input",
    "output_cost_per_token": "output",
    "cache_creation_input_token_cost": "cache_write",
    "cache_read_input_token_cost": "cache_read",
    "cache_creation_input_token_cost_above_1hr": "cache_write_1h",
    "input_cost_per_token_above_200k_tokens": "input_above_200k",
    "output_cost_per_token_above_200k_tokens": "output_above_200k",
    "cache_creation_input_token_cost_above_200k_tokens": "cache_write_above_200k",
    "cache_read_input_token_cost_above_200k_tokens": "cache_read_above_200k",
    "input_cost_per_token_above_272k_tokens": "input_above_200k",
    "output_cost_per_token_above_272k_tokens": "output_above_200k",
    "cache_creation_input_token_cost_above_272k_tokens": "cache_write_above_200k",
    "cache_read_input_token_cost_above_272k_tokens": "cache_read_above_200k",
    "max_input_tokens": "window",
}

# config.toml keys (USD per million tokens, as prices are published) -> attribute
CONFIG_KEYS = {
    "input": "input",
    "output": "output",
    "cache_write": "cache_write",
    "cache_write_1h": "cache_write_1h",
    "cache_read": "cache_read",
    "input_above_200k": "input_above_200k",
    "output_above_200k": "output_above_200k",
    "cache_write_above_200k": "cache_write_above_200k",
    "cache_read_above_200k": "cache_read_above_200k",
    "window": "window",
    "fast_multiplier": "fast",
}

_PREFIXES = ("anthropic/", "openai/", "gemini/", "google/", "models/", "vertex_ai/", "azure/")
ONE_M = re.compile(r"\[1m\]$", re.IGNORECASE)
_COPILOT_1M = re.compile(r"-1m(?:-internal)?$")
_DATE = re.compile(r"-(?:\d{8}|\d{4}-\d{2}-\d{2})$")
PREVIEW = re.compile(r"-(?:preview|exp)(?:-[\d-]+)?$")
_CLAUDE_DOTS = re.compile(r"^(claude-[a-z]+-\d+)\.(\d+)")


def normalise(model: str) -> str:
    """The canonical table key for a model id as the assistants write it.

    `anthropic/claude-sonnet-4-5-20250929[1m]`, `claude-sonnet-4-5@20250929` and Copilot's
    `claude-sonnet-4.5-1m` all become `claude-sonnet-4-5`: transcripts, Vertex, Copilot and
    litellm spell the same model differently.
    """
    key = model.strip().lower()
    key = ONE_M.sub("", key)
    changed = True
    while changed:
        changed = False
        for prefix in _PREFIXES:
            if key.startswith(prefix):
                key, changed = key[len(prefix):], True
    key = key.split("@", 1)[0]
    key = _COPILOT_1M.sub("", key)
    key = _CLAUDE_DOTS.sub(r"\1-\2", key)
    key = _DATE.sub("", key)
    return key


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def fields_from_litellm(name: str, entry: dict, origin: str) -> dict[str, Any]:
    """The price fields of one litellm-style entry, validated; tier rates nested by tier."""
    values: dict[str, Any] = {}
    tiers: dict[str, dict[str, Any]] = {}
    for src, value in entry.items():
        if value is None:
            continue
        tier = next((t for t in RATE_TIERS if src.endswith("_" + t)), "")
        base = src.removesuffix("_" + tier) if tier else src
        attr = _LITELLM_FIELDS.get(base)
        if attr is None or (tier and attr == "window"):
            continue
        if not is_number(value) or value < 0:
            raise PriceFileError(f"{origin}: {name}.{src} must be a non-negative number, got {value!r}")
        target = tiers.setdefault(tier, {}) if tier else values
        target[attr] = int(value) if attr == "window" else float(value)
        if "272k" in base:
            target["long_threshold"] = THRESHOLDS[1]
    pse = entry.get("provider_specific_entry")
    if isinstance(pse, dict):
        mults = {k: float(v) for k, v in pse.items() if isinstance(k, str) and is_number(v) and v > 0}
        if mults:
            values["multipliers"] = mults
    if tiers:
        values["tiers"] = tiers
    return values


# A model's prices over time: [(valid_from, fields or None = not priced from then on)].
Periods = list[tuple[str, dict | None]]


def _merge(fields: dict | None, patch: dict) -> dict:
    out = dict(fields or {})
    for k, v in patch.items():
        if k == "tiers" and isinstance(v, dict):
            out[k] = {t: {**(out.get(k) or {}).get(t, {}), **rates} for t, rates in {**(out.get(k) or {}), **v}.items()}
        elif k == "multipliers" and isinstance(v, dict):
            out[k] = {**(out.get(k) or {}), **v}
        elif k == "source" and out.get("source") and out["source"] != v:
            out[k] = f"{out['source']}; {v}"
        else:
            out[k] = v
    return out


def apply_dated(periods: Periods, patch: dict, start: str = "", until: str | None = None) -> Periods:
    """Merge `patch` into the periods that fall in [start, until), splitting at both ends.

    With no periods yet the model starts existing at `start` (and stops at `until`).
    """
    periods = sorted(periods, key=lambda p: p[0])

    def at(day: str) -> dict | None:
        current = None
        for since, fields in periods:
            if since <= day:
                current = fields
        return current

    cuts = {start} | ({until} if until else set())
    for cut in sorted(cuts):
        if cut not in {p[0] for p in periods}:
            periods.append((cut, at(cut) if periods else None))
    periods.sort(key=lambda p: p[0])
    return [
        (since, _merge(fields, patch) if since >= start and (until is None or since < until) else fields)
        for since, fields in periods
    ]


def read_price_json(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PriceFileError(f"{path}: cannot read price file: {exc.strerror or exc}") from None
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError as exc:
        raise PriceFileError(f"{path}: invalid JSON: {exc}") from None


class Override(msgspec.Struct, frozen=True):
    """One hand-checked correction from `price_overrides.json`."""

    model: str
    fields: dict
    source: str
    checked: str
    why: str = ""
    valid_from: str = ""
    valid_until: str | None = None


@lru_cache(maxsize=1)
def bundled_prices() -> tuple[dict[str, Periods], dict[str, str], dict, tuple[Override, ...]]:
    """The shipped slice and overrides, parsed once per process (they never change)."""
    doc = msgspec.json.decode(BUNDLED_FILE.read_bytes())
    meta = {k: v for k, v in doc.items() if k.startswith("_")}
    src = f"litellm {meta.get('_litellm_version', '?')}"
    models: dict[str, Periods] = {}
    for name, entry in doc["models"].items():
        fields = fields_from_litellm(name, entry, "bundled prices.json")
        fields["source"] = src
        models[name] = [("", fields)]
    overrides = tuple(
        Override(
            model=o["model"],
            fields=fields_from_litellm(o["model"], o["fields"], "price_overrides.json"),
            source=o["source"],
            checked=o["checked"],
            why=o.get("why", ""),
            valid_from=o.get("valid_from") or "",
            valid_until=o.get("valid_until"),
        )
        for o in msgspec.json.decode(OVERRIDES_FILE.read_bytes())["overrides"]
    )
    return models, dict(doc.get("aliases", {})), meta, overrides


def merge_file(models: dict[str, Periods], aliases: dict[str, str], path: Path) -> None:
    doc = read_price_json(path)
    if not isinstance(doc, dict):
        raise PriceFileError(f"{path}: expected a JSON object of models")
    models_doc = doc.get("models")
    entries: dict = models_doc if isinstance(models_doc, dict) else doc
    if isinstance(doc.get("aliases"), dict):
        aliases.update({normalise(k): normalise(v) for k, v in doc["aliases"].items()})
    # Entries already in canonical form win over provider-prefixed duplicates
    # (`claude-x` over `bedrock/...claude-x`), so sort those first.
    ordered = sorted(entries.items(), key=lambda kv: normalise(kv[0]) != kv[0].lower())
    seen: set[str] = set()
    for name, entry in ordered:
        if name.startswith("_") or name == "sample_spec" or not isinstance(entry, dict):
            continue
        key = normalise(name)
        if "/" in key or key in seen:
            continue  # bedrock/..., openrouter/...: other vendors' prices for the same model
        fields = fields_from_litellm(key, entry, str(path))
        if key not in models and not ("input" in fields and "output" in fields):
            continue
        seen.add(key)
        fields["source"] = str(path)
        models[key] = apply_dated(models.get(key, []), fields)

def merge_overrides(models: dict[str, Periods], overrides: dict) -> None:
    for name, table in overrides.items():
        origin = f'config [pricing.models."{name}"]'
        if not isinstance(table, dict):
            raise PriceFileError(f"{origin} must be a table")
        values: dict[str, Any] = {"source": "config"}
        for key, value in table.items():
            attr = CONFIG_KEYS.get(key)
            if attr is None:
                raise PriceFileError(
                    f"{origin}: unknown key {key!r} (use {', '.join(sorted(CONFIG_KEYS))})"
                )
            if not is_number(value) or value < 0:
                raise PriceFileError(f"{origin}: {key} must be a non-negative number, got {value!r}")
            if attr == "window":
                values[attr] = int(value)
            elif attr == "fast":
                values["multipliers"] = {"fast": float(value)}
            else:
                values[attr] = float(value) / 1_000_000
        key = normalise(name)
        if key in models:
            models[key] = apply_dated(models[key], values)
        elif "input" in values and "output" in values:
            models[key] = [("", values)]
        else:
            raise PriceFileError(f"{origin}: a model not in the price table needs input and output")


__all__ = [
    "BUNDLED_FILE", "CONFIG_KEYS", "ONE_M", "OVERRIDES_FILE", "PREVIEW", "RATE_TIERS", "THRESHOLDS", "Override", "PriceFileError",
    "Periods",
    "apply_dated", "bundled_prices", "fields_from_litellm", "is_number", "merge_file", "merge_overrides", "normalise",
    "read_price_json",
]
