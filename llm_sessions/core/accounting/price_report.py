"""What `llm-session prices` reports: the table in use and the models the user really ran.

The table is only as good as its coverage of the user's own models, so the report starts
from the sessions: every model that used tokens, how many sessions and tokens it has, its
price today, and the models (or tiers: fast mode, priority, 1-hour writes) that could not be
priced, which is why some costs are null.
"""

from __future__ import annotations

from collections.abc import Iterable

from llm_sessions.core.accounting.pricing import ModelPrice, PriceTable
from llm_sessions.core.models import Session

PER_MILLION = 1_000_000


def _per_million(value: float | None) -> float | None:
    return round(value * PER_MILLION, 6) if value is not None else None


def price_dict(p: ModelPrice) -> dict:
    """One price period in USD per million tokens (as prices are published)."""
    return {
        "model": p.name,
        "valid_from": p.valid_from or None,
        "input": _per_million(p.input),
        "output": _per_million(p.output),
        "cache_write_5m": _per_million(p.cache_write),
        "cache_write_1h": _per_million(p.cache_write_1h),
        "cache_read": _per_million(p.cache_read),
        "long_context": {
            "above_tokens": p.long_threshold,
            "input": _per_million(p.input_above_200k),
            "output": _per_million(p.output_above_200k),
        } if p.tiered else None,
        "multipliers": dict(p.multipliers),
        "tiers": sorted(p.tiers),
        "window": p.window,
        "source": p.source,
    }


def price_report(table: PriceTable, sessions: Iterable[Session], all_models: bool = False) -> dict:
    seen: dict[str, dict] = {}
    unpriced: dict[str, dict] = {}
    for s in sessions:
        for model in s.models_used:
            row = seen.setdefault(model, {"model": model, "tools": set(), "sessions": 0})
            row["tools"].add(s.tool)
            row["sessions"] += 1
        for what in s.unpriced:
            row = unpriced.setdefault(what, {"what": what, "tools": set(), "sessions": 0})
            row["tools"].add(s.tool)
            row["sessions"] += 1
    rows = []
    for model, row in sorted(seen.items()):
        price = table.lookup(model)
        rows.append({
            "model": model,
            "key": table.key(model),
            "tools": sorted(row["tools"]),
            "sessions": row["sessions"],
            "price": price_dict(price) if price else None,
            "periods": len(table.periods(model)),
        })
    out = {
        "as_of": table.as_of,
        "source": table.meta.get("_source"),
        "litellm_version": table.meta.get("_litellm_version"),
        "sources": list(table.sources),
        "models_in_table": len(table),
        "overrides": [
            {"model": o.model, "valid_from": o.valid_from or None, "valid_until": o.valid_until, "source": o.source,
             "checked": o.checked, "why": o.why}
            for o in table.overrides
        ],
        "seen": rows,
        "unpriced": [{**r, "tools": sorted(r["tools"])} for _, r in sorted(unpriced.items())],
    }
    if all_models:
        out["table"] = [price_dict(p) for m in table.models() for p in table.periods(m)]
    return out


__all__ = ["price_dict", "price_report"]
