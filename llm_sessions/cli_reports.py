"""Text renderings of `llm-session prices` and `llm-session doctor` (their --json is the dict).

Kept apart from cli.py so the command module stays a list of commands; nothing here is
imported until one of the two commands runs.
"""

from __future__ import annotations

import os


def _money(v: float | None) -> str:
    return "-" if v is None else f"{v:g}"


def _home(p: str) -> str:
    home = os.path.expanduser("~")
    return "~" + p[len(home):] if home != "/" and p.startswith(home) else p


def prices_text(report: dict) -> str:
    lines = [
        f"Price table: {report['models_in_table']} models, {report['source']} (litellm {report['litellm_version']}) "
        f"as of {report['as_of']}",
        "Sources, in order: " + "; ".join(report["sources"]),
        f"Hand-checked overrides: {len(report['overrides'])} (each with its source and date; --json lists them)",
        "",
    ]
    if not report["seen"]:
        lines.append("No model with token use was found in your transcripts.")
    else:
        lines.append("Models in your transcripts (USD per million tokens: input / output / cache write 5m / 1h / cache read):")
        width = max(len(r["model"]) for r in report["seen"])
        for r in report["seen"]:
            p = r["price"]
            if p is None:
                rates = "NO PRICE"
            else:
                rates = " / ".join(_money(p[k]) for k in ("input", "output", "cache_write_5m", "cache_write_1h", "cache_read"))
                if p["long_context"]:
                    rates += f"  (above {p['long_context']['above_tokens'] // 1000}k: {_money(p['long_context']['input'])} / {_money(p['long_context']['output'])})"
                if r["periods"] > 1:
                    rates += f"  [{r['periods']} dated periods]"
            lines.append(f"  {r['model']:<{width}}  {', '.join(r['tools']):<14} {r['sessions']:>4} session(s)  {rates}")
    lines.append("")
    if report["unpriced"]:
        lines.append("Not priced (these sessions show no cost rather than a guess):")
        for r in report["unpriced"]:
            lines.append(f"  {r['what']}  ({', '.join(r['tools'])}, {r['sessions']} session(s))")
        lines.append("Add a price in config.toml under [pricing.models.\"<model>\"] or point pricing.file at a newer litellm JSON.")
    else:
        lines.append("Every model in your transcripts is priced.")
    return "\n".join(lines)


def doctor_text(report: dict) -> str:
    n = report["usage_records_not_understood"]
    lines = [
        f"Format doctor: {n:,} usage-bearing record(s) or usage field(s) not understood"
        + (" - costs and tokens may be low" if n else " - every usage record was read"),
        "",
    ]
    for t in report["assistants"]:
        roots = ", ".join(f"{_home(r['path'])}{'' if r['exists'] else ' (missing)'}" for r in t["roots"]) or "-"
        lines.append(f"{t['tool']}: {t['files']:,} file(s), {t['lines']:,} line(s), {t['malformed_lines']:,} malformed")
        lines.append(f"  searched: {roots}")
        if t["versions"]:
            lines.append("  versions: " + ", ".join(f"{v} ({c:,})" for v, c in list(t["versions"].items())[:8]))
        for u in t["not_understood"][:20]:
            lines.append(f"  not understood: {u['what']} x{u['count']:,}  e.g. {_home(u['example'])}")
        if len(t["not_understood"]) > 20:
            lines.append(f"  ... and {len(t['not_understood']) - 20} more kinds (--json lists all)")
        for sk in t["files_skipped"]:
            lines.append(f"  skipped: {sk['files']:,} file(s), {sk['why']}  e.g. {_home(sk['example'])}")
        if t["usage_records_not_understood"]:
            lines.append(f"  usage-bearing, not understood: {t['usage_records_not_understood']:,}")
        lines.append("")
    for p in report["problems"][:20]:
        lines.append(f"problem: {p}")
    return "\n".join(lines).rstrip()


__all__ = ["doctor_text", "prices_text"]
