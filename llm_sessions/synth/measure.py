"""Measure the byte mix of Claude Code transcripts: what the `real` shape is fitted to.

    python -m llm_sessions.synth.measure /path/to/projects [more paths] [--json out.json]

Reads every `*.jsonl` under the given folders and reports, per kind of line (assistant,
user prompt, tool result, each progress subtype, file-history-snapshot, system, ...), its
share of bytes and lines and its line-length quantiles; files per session, subagent files
and their share of bytes; session sizes; and the structural ratios the generator copies
(progress lines per tool call, assistant lines per response, ...). Run it on public real
transcripts and on a generated corpus to compare the two (docs/benchmarks.md does).

A benchmark tool, not part of the monitor: it parses every line with the stdlib `json`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path


def line_kind(rec: dict) -> str:
    """The kind a line is counted under: top-level type, split where bytes differ a lot."""
    kind = rec.get("type")
    if not isinstance(kind, str):
        return "other"
    if kind == "user":
        content = (rec.get("message") or {}).get("content")
        if isinstance(content, list) and any(isinstance(b, dict) and b.get("type") == "tool_result" for b in content):
            return "user:tool_result"
        return "user:meta" if rec.get("isMeta") else "user:prompt"
    if kind == "progress":
        data = rec.get("data")
        sub = data.get("type") if isinstance(data, dict) else None
        return f"progress:{sub}"
    if kind == "system":
        return f"system:{rec.get('subtype')}"
    return kind


def quantiles(values: list[int]) -> dict[str, int]:
    if not values:
        return {}
    v = sorted(values)
    pick = lambda q: v[min(len(v) - 1, int(q * len(v)))]  # noqa: E731
    return {"p10": pick(0.10), "p50": pick(0.50), "p90": pick(0.90), "p99": pick(0.99), "max": v[-1]}


@dataclass
class Stats:
    files: int = 0
    main_files: int = 0
    subagent_files: int = 0
    compaction_subagent_files: int = 0
    sessions: int = 0
    bytes: int = 0
    lines: int = 0
    subagent_bytes: int = 0
    kinds: dict = field(default_factory=dict)  # kind -> {bytes, lines, share_bytes, share_lines, len quantiles}
    session_bytes: dict = field(default_factory=dict)
    subagent_file_bytes: dict = field(default_factory=dict)
    subagents_per_session: dict = field(default_factory=dict)
    ratios: dict = field(default_factory=dict)


def _files(paths: list[Path]) -> list[Path]:
    out = []
    for p in paths:
        if p.is_file():
            out.append(p)
        else:
            out.extend(sorted(p.rglob("*.jsonl")))
    return out


def _session_of(path: Path) -> tuple[str, bool]:
    """(session key, is subagent): nested `<sid>/subagents/agent-*`, flat `agent-*`, else main."""
    if path.parent.name == "subagents":
        return str(path.parent.parent), True
    if path.name.startswith("agent-"):
        return f"{path.parent}/{path.name}", True  # flat: the parent is named inside; count the file alone
    return str(path.with_suffix("")), False


def measure(paths: list[Path]) -> Stats:
    s = Stats()
    kind_bytes: Counter = Counter()
    kind_lines: Counter = Counter()
    kind_lens: dict[str, list[int]] = defaultdict(list)
    per_session: Counter = Counter()
    subs_of: Counter = Counter()
    mains: set[str] = set()
    sub_sizes: list[int] = []
    tool_uses: Counter = Counter()
    responses = 0
    assistant_lines = 0
    hook_events: Counter = Counter()
    subagent_lines = 0
    for path in _files(paths):
        key, sub = _session_of(path)
        size = path.stat().st_size
        s.files += 1
        s.bytes += size
        per_session[key] += size
        if sub:
            s.subagent_files += 1
            s.subagent_bytes += size
            sub_sizes.append(size)
            subs_of[key] += 1
            if "acompact" in path.name:
                s.compaction_subagent_files += 1
        else:
            s.main_files += 1
            mains.add(key)
        ids: set = set()
        with open(path, "rb") as fh:
            for raw in fh:
                n = len(raw)
                s.lines += 1
                subagent_lines += sub
                try:
                    rec = json.loads(raw)
                except ValueError:
                    kind = "malformed"
                else:
                    kind = line_kind(rec) if isinstance(rec, dict) else "other"
                kind_bytes[kind] += n
                kind_lines[kind] += 1
                kind_lens[kind].append(n)
                if kind == "assistant":
                    assistant_lines += 1
                    msg = rec.get("message") or {}
                    ids.add((msg.get("id"), rec.get("requestId")))
                    for block in msg.get("content") or []:
                        if isinstance(block, dict) and block.get("type") == "tool_use":
                            tool_uses[block.get("name")] += 1
                elif kind == "progress:hook_progress":
                    hook_events[(rec.get("data") or {}).get("hookEvent")] += 1
        responses += len(ids)
    s.sessions = len(mains)
    for kind in sorted(kind_bytes, key=lambda k: kind_bytes[k], reverse=True):
        s.kinds[kind] = {
            "bytes": kind_bytes[kind],
            "lines": kind_lines[kind],
            "share_bytes": round(kind_bytes[kind] / max(s.bytes, 1), 4),
            "share_lines": round(kind_lines[kind] / max(s.lines, 1), 4),
            **quantiles(kind_lens[kind]),
        }
    s.session_bytes = quantiles([per_session[k] for k in mains])  # nested subagents share their session's key
    s.subagent_file_bytes = quantiles(sub_sizes)
    s.subagents_per_session = {"mean": round(s.subagent_files / max(s.sessions, 1), 2), **quantiles([subs_of[k] for k in mains])}
    calls = sum(tool_uses.values())
    s.ratios = {
        "assistant_lines_per_response": round(assistant_lines / max(responses, 1), 2),
        "tool_calls_per_response": round(calls / max(responses, 1), 2),
        "pre_tool_hooks_per_call": round(hook_events["PreToolUse"] / max(calls, 1), 2),
        "post_tool_hooks_per_call": round((hook_events["PostToolUse"] + hook_events["PostToolUseFailure"]) / max(calls, 1), 2),
        "bash_progress_per_bash_call": round(kind_lines["progress:bash_progress"] / max(tool_uses["Bash"], 1), 2),
        "agent_progress_per_subagent_line": round(kind_lines["progress:agent_progress"] / max(subagent_lines, 1), 2),
        "snapshots_per_prompt": round(kind_lines["file-history-snapshot"] / max(kind_lines["user:prompt"], 1), 2),
        "tool_share": {k: round(v / max(calls, 1), 3) for k, v in tool_uses.most_common(8)},
    }
    return s


def as_markdown(s: Stats, title: str = "") -> str:
    out = []
    if title:
        out.append(f"**{title}**: {s.bytes / 1e6:,.1f} MB, {s.files} files ({s.main_files} main, {s.subagent_files} subagent, "
                   f"{s.compaction_subagent_files} of them compaction), {s.sessions} sessions, {s.lines:,} lines; subagent files "
                   f"hold {100 * s.subagent_bytes / max(s.bytes, 1):.1f}% of the bytes, "
                   f"{s.subagents_per_session.get('mean', 0)} per session.")
        out.append("")
    out.append("| kind of line | share of bytes | share of lines | p10 | median | p90 | p99 | max (bytes) |")
    out.append("|---|---|---|---|---|---|---|---|")
    for kind, k in s.kinds.items():
        out.append(f"| {kind} | {100 * k['share_bytes']:.1f}% | {100 * k['share_lines']:.1f}% | {k['p10']:,} | {k['p50']:,} | "
                   f"{k['p90']:,} | {k['p99']:,} | {k['max']:,} |")
    sb = s.session_bytes
    if sb:
        out.append("")
        out.append(f"Session size (main file + subagents): median {sb['p50']:,} B, p90 {sb['p90']:,} B, max {sb['max']:,} B. "
                   "Ratios: " + ", ".join(f"{k} {v}" for k, v in s.ratios.items() if not isinstance(v, dict)) + ".")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m llm_sessions.synth.measure", description=__doc__.splitlines()[0])
    p.add_argument("paths", nargs="+", type=Path)
    p.add_argument("--json", type=Path, help="also write the figures as JSON here")
    p.add_argument("--title", default="")
    args = p.parse_args(argv)
    missing = [str(x) for x in args.paths if not os.path.exists(x)]
    if missing:
        p.error(f"not found: {', '.join(missing)}")
    stats = measure(args.paths)
    sys.stdout.write(as_markdown(stats, args.title or ", ".join(map(str, args.paths))) + "\n")
    if args.json:
        args.json.write_text(json.dumps(asdict(stats), indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
