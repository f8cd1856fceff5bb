"""Model prices and context windows: a bundled dated table, hand-checked fixes, then config.

Where prices come from, in the order they are applied:
1. `data/prices.json`: a slice of BerriAI/litellm's `model_prices_and_context_window.json`
   (every Anthropic, OpenAI and Google chat model), rebuilt by
   `scripts/regenerate_prices.py` from the copy inside the litellm wheel; dated inside.
2. `pricing.file` from config: any litellm-style JSON (the full upstream file works),
   merged over the slice field by field.
3. `data/price_overrides.json`: entries litellm lacks or got wrong, each with its source
   and the date it was checked. An override may be limited to a date range, which is how
   dated prices are written (Opus 4.6's above-200k tier ended on 2026-03-13).
4. `[pricing.models."<model>"]` tables from config.toml: the user's word is final.

What a request costs depends on more than the model, so `charge()` takes all of it:
- the 1-hour part of the cache writes (`cache_1h`), billed at the model's own 1-hour rate
  (2x input for Claude, 1.25x for a 5-minute write): multipliers come from each model's
  entry, never from a global factor;
- the prompt-size bucket of the request (`bucket`, see `size_bucket`): Anthropic and Google
  bill every token of a request at the long-context rate once its input side passes 200k,
  OpenAI's newer models once it passes 272k; each model says which threshold it uses;
- how the request ran (`speed`, modifiers joined by "+"): Claude's `usage.speed == "fast"`
  and `inference_geo == "us"` multiply every rate by the model's `fast` / `us` multiplier
  (litellm's `provider_specific_entry`); Codex's `priority` (its "fast") and `flex` service
  tiers use the model's own priority / flex rates;
- the day the request ran (`day`, ISO date): the price period in force that day.

Unknown stays unknown: a model, a 1-hour rate, a fast multiplier or a priority rate that no
source gives makes the cost `None`, never 0 and never a guess that looks exact.

This module is on the `list`/`health` fast path: stdlib and msgspec only.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from llm_sessions.core.accounting.price_sources import (
    ONE_M,
    PREVIEW,
    RATE_TIERS,
    THRESHOLDS,
    Override,
    Periods,
    PriceFileError,
    apply_dated,
    bundled_prices,
    merge_file,
    merge_overrides,
    normalise,
)
from llm_sessions.core.models import Usage

TIER_THRESHOLD = 200_000
ONE_MILLION_WINDOW = 1_000_000


def size_bucket(prompt_tokens: int) -> int:
    """0 up to 200k input-side tokens, 1 up to 272k, 2 above: what a request's tier needs."""
    return 0 if prompt_tokens <= THRESHOLDS[0] else 1 if prompt_tokens <= THRESHOLDS[1] else 2


def is_above_200k(usage: Usage) -> bool:
    """Whether one request's input side (input + cache writes + cache reads) exceeds 200k."""
    return usage.input + usage.cache_creation + usage.cache_read > TIER_THRESHOLD


class ModelPrice(msgspec.Struct, frozen=True):
    """USD per token for one model during one price period, plus its context window.

    A missing 5-minute write or read rate falls back to the input rate (an upper bound, never
    a silent zero); a missing long-context rate falls back to the normal rate of the same
    kind. A missing 1-hour write rate, fast multiplier or priority table cannot be bounded
    that way, so a request that needs one has no price.
    """

    name: str
    input: float
    output: float
    cache_write: float | None = None
    cache_read: float | None = None
    cache_write_1h: float | None = None
    input_above_200k: float | None = None
    output_above_200k: float | None = None
    cache_write_above_200k: float | None = None
    cache_read_above_200k: float | None = None
    window: int | None = None
    long_threshold: int = TIER_THRESHOLD
    multipliers: dict[str, float] = msgspec.field(default_factory=dict)
    tiers: dict[str, ModelPrice] = msgspec.field(default_factory=dict)
    valid_from: str = ""
    source: str = ""

    @property
    def fast_multiplier(self) -> float | None:
        return self.multipliers.get("fast")

    @property
    def priority(self) -> ModelPrice | None:
        return self.tiers.get("priority")

    @property
    def tiered(self) -> bool:
        """True when the model has a higher rate above its long-context threshold."""
        return self.input_above_200k is not None or self.output_above_200k is not None

    def is_long(self, bucket: int) -> bool:
        """Whether a request of this size bucket (see `size_bucket`) pays long-context rates."""
        return self.tiered and bucket > THRESHOLDS.index(self.long_threshold)

    def rates(self, above_200k: bool = False) -> tuple[float, float, float, float]:
        """(input, output, cache_write, cache_read) per token, long-context tier when asked."""
        inp, out = self.input, self.output
        cw = self.cache_write if self.cache_write is not None else inp
        cr = self.cache_read if self.cache_read is not None else inp
        if above_200k and self.tiered:
            return (
                self.input_above_200k if self.input_above_200k is not None else inp,
                self.output_above_200k if self.output_above_200k is not None else out,
                self.cache_write_above_200k if self.cache_write_above_200k is not None else cw,
                self.cache_read_above_200k if self.cache_read_above_200k is not None else cr,
            )
        return inp, out, cw, cr

    def charge(self, usage: Usage, *, bucket: int = 0, cache_1h: int = 0, speed: str = "") -> float | None:
        """USD for `usage` (one request, or many of the same bucket, speed and day).

        `cache_1h` is the part of `usage.cache_creation` written with the 1-hour TTL.
        None when what ran has no known rate (see the class docstring).
        """
        price = self
        multiplier = 1.0
        for mod in speed.split("+") if speed else ():
            if mod in RATE_TIERS:
                if mod not in self.tiers:
                    return None
                price = self.tiers[mod]
            elif mod in self.multipliers:
                multiplier *= self.multipliers[mod]
            else:
                return None
        long = price.is_long(bucket)
        inp, out, cw, cr = price.rates(long)
        cache_1h = min(cache_1h, usage.cache_creation)
        if cache_1h:
            if self.cache_write_1h is None:
                return None
            # The 1-hour rate scales like the 5-minute one in the long-context tier.
            cw1h = self.cache_write_1h * (cw / price.rates(False)[2] if long and price.rates(False)[2] else 1.0)
        else:
            cw1h = 0.0
        total = (
            usage.input * inp
            + usage.output * out
            + (usage.cache_creation - cache_1h) * cw
            + cache_1h * cw1h
            + usage.cache_read * cr
        )
        return total * multiplier

    def cost(self, usage: Usage, above_200k: bool = False) -> float:
        """USD for `usage` at standard speed with every write priced as a 5-minute write."""
        inp, out, cw, cr = self.rates(above_200k)
        return usage.input * inp + usage.output * out + usage.cache_creation * cw + usage.cache_read * cr

    def request_cost(self, usage: Usage) -> float:
        """USD for the usage of ONE API request, deciding the 200k tier from that request."""
        return self.cost(usage, above_200k=is_above_200k(usage))


def _build(name: str, fields: dict | None, since: str, origin: str) -> ModelPrice | None:
    if not fields or "input" not in fields or "output" not in fields:
        return None  # images, embeddings, per-second pricing, or not priced in this period
    values = {k: v for k, v in fields.items() if k != "tiers"}
    tiers = {
        t: ModelPrice(name=f"{name} ({t})", **rates)
        for t, rates in (fields.get("tiers") or {}).items()
        if "input" in rates and "output" in rates
    }
    try:
        return ModelPrice(name=name, tiers=tiers, valid_from=since, **values)
    except TypeError as exc:
        raise PriceFileError(f"{origin}: {name}: {exc}") from None


# One period of a model's prices: its rates, or the start date (ISO) of a gap with no price.
Dated = ModelPrice | str


class PriceTable:
    """Prices by canonical model key and date. Build with `PriceTable.load()`; read-only."""

    __slots__ = ("_models", "_aliases", "as_of", "sources", "meta", "overrides", "_resolved")

    def __init__(self, models: dict[str, tuple[Dated, ...]], aliases: dict[str, str], as_of: str,
                 sources: list[str], meta: dict | None = None, overrides: tuple[Override, ...] = ()):
        self._models = models
        self._aliases = aliases
        self.as_of = as_of
        self.sources = sources
        self.meta = meta or {}
        self.overrides = overrides
        self._resolved: dict[str, str | None] = {}

    @classmethod
    def load(cls, overrides: dict | None = None, file: str | Path | None = None) -> PriceTable:
        """Bundled slice, then `file` (litellm JSON), then hand-checked fixes, then config.

        `overrides` maps a model id to a table with any of input, output, cache_write,
        cache_write_1h, cache_read and the *_above_200k rates (USD per million tokens),
        window (tokens) and fast_multiplier. A new model needs at least input and output.
        Any problem raises `PriceFileError` naming the source.
        """
        bundled, aliases, meta, fixes = bundled_prices()
        models: dict[str, Periods] = {k: list(v) for k, v in bundled.items()}
        aliases = dict(aliases)
        as_of = str(meta.get("_as_of", "unknown"))
        sources = [f"bundled litellm {meta.get('_litellm_version', '?')} slice as of {as_of}"]
        if file:
            merge_file(models, aliases, Path(file).expanduser())
            sources.append(str(file))
        for fix in fixes:
            patch = dict(fix.fields, source=f"override: {fix.source} (checked {fix.checked})")
            models[fix.model] = apply_dated(models.get(fix.model, []), patch, fix.valid_from, fix.valid_until)
        sources.append(f"{len(fixes)} hand-checked overrides")
        if overrides:
            merge_overrides(models, overrides)
            sources.append("config [pricing.models]")
        built: dict[str, tuple[Dated, ...]] = {}
        for name, periods in models.items():
            prices: list[Dated] = []
            for since, fields in sorted(periods, key=lambda p: p[0]):
                price = _build(name, fields, since, "prices")
                # An unpriced period stays in the list as a gap (its start date) so that
                # dates in it do not borrow a neighbour's rates.
                prices.append(price if price is not None else since)
            if any(isinstance(p, ModelPrice) for p in prices):
                built[name] = tuple(prices)
        return cls(built, aliases, as_of, sources, meta, fixes)

    def __len__(self) -> int:
        return len(self._models)

    def __contains__(self, model: str) -> bool:
        return self.lookup(model) is not None

    def key(self, model: str | None) -> str | None:
        """The table key a model id resolves to, or None when the table has no entry."""
        if not model:
            return None
        raw = model.strip().lower()
        if raw in self._resolved:
            return self._resolved[raw]
        found = None
        if raw == "<synthetic>" or raw.startswith("<"):
            found = None
        elif raw in self._models:
            found = raw
        else:
            key = normalise(raw)
            for candidate in (key, self._aliases.get(key), PREVIEW.sub("", key), key.removesuffix("-latest")):
                if candidate and candidate in self._models:
                    found = candidate
                    break
                if candidate and self._aliases.get(candidate) in self._models:
                    found = self._aliases[candidate]
                    break
        # No guessing by prefix: `claude-opus-4-9` is not priced like `claude-opus-4`, and a
        # wrong price looks just as real as a right one. Unknown stays unknown.
        self._resolved[raw] = found
        return found

    def lookup(self, model: str | None, day: str | None = None) -> ModelPrice | None:
        """The price of `model` in force on `day` (ISO date; None = today's); None if unknown."""
        key = self.key(model)
        if key is None:
            return None
        periods = self._models[key]
        if day is None:
            chosen = periods[-1]
        else:
            chosen = periods[0]
            for p in periods:
                since = p.valid_from if isinstance(p, ModelPrice) else p
                if since <= day:
                    chosen = p
        return chosen if isinstance(chosen, ModelPrice) else None

    def periods(self, model: str) -> tuple[ModelPrice, ...]:
        key = self.key(model)
        return tuple(p for p in self._models.get(key, ()) if isinstance(p, ModelPrice)) if key else ()

    def charge(self, model: str | None, usage: Usage, *, bucket: int = 0, cache_1h: int = 0, speed: str = "",
               day: str | None = None) -> float | None:
        """USD for `usage` of `model` (see `ModelPrice.charge`); None when not priceable."""
        price = self.lookup(model, day)
        return None if price is None else price.charge(usage, bucket=bucket, cache_1h=cache_1h, speed=speed)

    def cost(self, model: str | None, usage: Usage, above_200k: bool = False) -> float | None:
        """USD for `usage` of `model` at today's standard rates; None when unknown."""
        price = self.lookup(model)
        return None if price is None else price.cost(usage, above_200k)

    def window(self, model: str | None) -> int | None:
        """Context window in tokens; a `[1m]` suffix means the 1M-token window."""
        if model and ONE_M.search(model.strip()):
            return ONE_MILLION_WINDOW
        price = self.lookup(model)
        return price.window if price else None

    def models(self) -> list[str]:
        return sorted(self._models)


class Bill(msgspec.Struct):
    """Adds up charges of many requests; `usd` turns None for good once one is unpriceable.

    `unpriced` names what could not be priced ("model", "model (fast)", "model (1h cache)"),
    so a null cost can say why.
    """

    usd: float | None = 0.0
    unpriced: set[str] = msgspec.field(default_factory=set)

    def add(self, table: PriceTable | None, model: str | None, usage: Usage, *, bucket: int = 0, cache_1h: int = 0,
            speed: str = "", day: str | None = None) -> None:
        if usage.total == 0:
            return
        price = table.lookup(model, day) if table is not None else None
        c = price.charge(usage, bucket=bucket, cache_1h=cache_1h, speed=speed) if price is not None else None
        if c is None:
            self.usd = None
            if price is None:
                why = ""
            else:
                why = f" ({speed})" if price.charge(usage, bucket=bucket) is not None and speed else " (1h cache write)"
            self.unpriced.add(f"{model or 'unknown model'}{why}")
        elif self.usd is not None:
            self.usd += c

    @property
    def rounded(self) -> float | None:
        return round(self.usd, 6) if self.usd is not None else None


__all__ = ["Bill", "Dated", "ModelPrice", "PriceTable", "TIER_THRESHOLD", "is_above_200k", "size_bucket"]
