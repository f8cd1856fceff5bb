"""What each request the generator writes really costs: the truth's own price model.

The corpus truth must not be computed by the code it checks, so the generator prices its
own requests from the published rates below (USD per million tokens), with the billing
rules written out plainly: every token of a request pays the long-context rate once the
request's prompt passes the model's threshold; a 1-hour cache write costs its own rate; a
fast Claude request costs the fast multiple of everything; Codex's priority tier has its
own rates; a price period ends on its `until` day. A unit test checks these figures against
the bundled price table, so a change there is noticed here, but the rules are independent.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rates:
    input: float
    output: float
    write_5m: float = 0.0
    write_1h: float = 0.0
    read: float = 0.0


@dataclass(frozen=True, slots=True)
class Price:
    normal: Rates
    long: Rates | None = None  # above `threshold` prompt tokens
    threshold: int = 200_000
    long_until: str | None = None  # the long-context tier ends on this day (exclusive)
    fast: float | None = None
    priority: Rates | None = None


_OPUS_46 = Price(Rates(5, 25, 6.25, 10, 0.5), long=Rates(10, 37.5, 12.5, 20, 1.0), long_until="2026-03-13", fast=6.0)
_SONNET_46 = Price(Rates(3, 15, 3.75, 6, 0.3), long=Rates(6, 22.5, 7.5, 12, 0.6), long_until="2026-03-13")

PRICES: dict[str, Price] = {
    "claude-opus-4-6": _OPUS_46,
    "claude-opus-4-6[1m]": _OPUS_46,
    "claude-opus-4-5-20251101": Price(Rates(5, 25, 6.25, 10, 0.5)),
    "claude-sonnet-4-5-20250929": Price(Rates(3, 15, 3.75, 6, 0.3)),
    "claude-haiku-4-5-20251001": Price(Rates(1, 5, 1.25, 2, 0.1)),
    "claude-sonnet-4.6": _SONNET_46,  # Copilot's spelling
    # OpenAI bills a token that gets cached at the plain input rate: no separate write price
    "gpt-5-codex": Price(Rates(1.25, 10, 1.25, 0, 0.125)),
    "gpt-5.1-codex": Price(Rates(1.25, 10, 1.25, 0, 0.125)),
    "gpt-5": Price(Rates(1.25, 10, 1.25, 0, 0.125)),
    "gpt-5.2": Price(Rates(1.75, 14, 1.75, 0, 0.175)),
    "gpt-5.3-codex": Price(Rates(1.75, 14, 1.75, 0, 0.175), priority=Rates(3.5, 28, 3.5, 0, 0.35)),
    "gpt-6-astra": Price(Rates(10, 50, 12.5, 0, 1.0), long=Rates(20, 75, 25, 0, 2.0), threshold=272_000),
    "gemini-2.5-pro": Price(Rates(1.25, 10, 1.25, 0, 0.125), long=Rates(2.5, 15, 2.5, 0, 0.25)),
    "gemini-3-flash-preview": Price(Rates(0.5, 3, 0.5, 0, 0.05)),
}


def request_cost(model: str, *, input: int, output: int, cache_write: int = 0, cache_write_1h: int = 0,
                 cache_read: int = 0, prompt: int | None = None, speed: str = "", day: str = "") -> float:
    """USD for one request (or one counter step) of `model`, by the rules in the docstring.

    `cache_write` includes `cache_write_1h`; `prompt` (default: input + writes + reads)
    decides the long-context tier.
    """
    price = PRICES[model]
    prompt = input + cache_write + cache_read if prompt is None else prompt
    rates = price.normal
    if price.long is not None and prompt > price.threshold and (price.long_until is None or day < price.long_until):
        rates = price.long
    if speed == "priority":
        rates = price.priority
    multiple = price.fast if speed == "fast" else 1.0
    usd = (input * rates.input + output * rates.output + (cache_write - cache_write_1h) * rates.write_5m
           + cache_write_1h * rates.write_1h + cache_read * rates.read) / 1_000_000
    return usd * multiple


__all__ = ["PRICES", "Price", "Rates", "request_cost"]
