"""One Codex session from the rollout files of one thread, priced per part.

The files that share a session id (pages of a paginated thread, a resume written to a new
file) are one session: their usage deltas are summed per price group (model, prompt-size
bucket, service tier, day) and priced per part, so a session that switched models or tiers
is billed as it ran and the totals still equal the last counter. A file that starts at a
`history_base` cut counts its first counter minus the ancestor's counter at the cut; a
compaction `token_usage_record` paired with its `compacted` item and not already in a
counter advance counts once. The newest file gives the context fill, model and limits.
"""

from __future__ import annotations

from typing import Any

from llm_sessions.core.accounting.health import compaction_point_for
from llm_sessions.core.accounting.pricing import Bill
from llm_sessions.core.accounting.providers.codex_file import RECENT_KEEP, CodexFile
from llm_sessions.core.accounting.providers.codex_lines import ZERO, delta
from llm_sessions.core.accounting.providers.codex_rates import rate_limits
from llm_sessions.core.models import ContextFill, Session, TurnMark, Usage
from llm_sessions.core.timeparse import parse_ts


def ancestor_cut(base: tuple[str, int], files: list[CodexFile], own: CodexFile) -> tuple | None:
    """The ancestor's counter just before `base`'s cut, or None if the ancestor is gone."""
    best: tuple[int, tuple] | None = None
    for f in files:
        if f is own:
            continue
        for ordinal, total in f.checkpoints:
            if ordinal <= base[1] and (best is None or ordinal >= best[0]):
                best = (ordinal, total)
    return best[1] if best else (ZERO if files and any(f is not own for f in files) else None)

def thread_session(sid: str, files: list[CodexFile], by_id: dict[str, list[CodexFile]], problems: list,
                   settings: Any = None, prices: Any = None) -> Session:
    """The session of thread `sid` from its files (oldest first); `by_id` finds ancestors."""
    sums: dict[str, list[int]] = {}

    def add(group: str, vals) -> None:
        s = sums.setdefault(group, [0, 0, 0, 0, 0])
        for i, v in enumerate(vals):
            s[i] += v

    for f in files:
        for group, vals in f.sums.items():
            add(group, vals)
        if f.head is not None:
            group, head = f.head
            base = ZERO
            if f.base is not None:
                cut = ancestor_cut(f.base, by_id.get(f.base[0], []), f)
                if cut is None:
                    problems.append(f"{f.path}: history base {f.base[0]} not found; its inherited usage may be counted")
                else:
                    base = cut
            add(group, delta(head, base))
        for group, record_usage, paired, accounted, _thread in f.records.values():
            if paired and not accounted:
                add(group, record_usage)
    main = max(files, key=lambda f: (f.last_ts, f.path))
    usage = Usage()
    bill = Bill()
    models: dict[str, None] = {}
    for group, (inp, cached, written, out, _reasoning) in sums.items():
        model, bucket, tier, day = group.split("\x1f")
        part = Usage(input=max(0, inp - cached - written), output=out, cache_creation=written, cache_read=cached)
        usage = usage + part
        model = model or main.model or ""
        if part.total:
            models.setdefault(model)
            bill.add(prices, model or None, part, bucket=int(bucket), speed=tier, day=day or None)
    context = None
    if main.last_total >= 0 and main.window:
        context = ContextFill(main.last_total, main.window, compaction_point_for(main.window, settings))
    f = main
    return Session(
        id=sid,
        tool="codex",
        transcript=f.path,
        cwd=files[0].cwd or f.cwd,
        model=f.model,
        git_branch=f.branch,
        started_at=parse_ts(min((x.own_since or x.first_ts) for x in files)),
        last_activity=parse_ts(f.last_ts),
        turns=sum(x.turns for x in files),
        usage=usage,
        context=context,
        cost_usd=bill.rounded,
        models_used=tuple(models),
        unpriced=tuple(sorted(bill.unpriced)),
        api_errors=sum(x.errors for x in files),
        tool_errors=sum(x.tool_errors for x in files),
        rate_limits=rate_limits(f.rates),
        recent=tuple(
            TurnMark(at, kind, api, tool) for ts, kind, api, tool in f.recent[-RECENT_KEEP:] if (at := parse_ts(ts))
        ),
        malformed_lines=sum(x.malformed for x in files),
        awaiting_user=f.awaiting,
    )
