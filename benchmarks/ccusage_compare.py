"""Compare ccusage 20.0.24 with our truth (synthetic corpora) or with llm-session (real transcripts).

    python benchmarks/ccusage_compare.py [--corpus DIR | --seed N [--size 1GB]] [--markdown]
    python benchmarks/ccusage_compare.py --real HOME [--markdown]

Installs ccusage 20.0.24 into benchmarks/out/ccusage (gitignored) when it is missing and runs
`ccusage <tool> session --json --offline` with HOME, CLAUDE_CONFIG_DIR and CODEX_HOME pointed
at the corpus or the given HOME (never at the real home of this machine).

Synthetic mode compares ccusage's per-session tokens by kind and cost with `truth.json` for
Claude, Codex, Gemini and Copilot. Real mode compares ccusage with `llm-session list`'s own
numbers (Monitor.scan_files) on real transcripts kept outside the repository. Either way each
difference gets a cause derived from the files (a legacy subagent file, a resumed copy, an
aborted Codex turn, a record type ccusage 20.0.24 does not read, a dated price ...). A token
difference nobody can explain, or a cost difference above 0.5% with equal tokens and no
known price cause, is "unexplained" and makes the exit status 1, so a new ccusage release
that changes behaviour shows up instead of hiding in a total.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
OUT = HERE / "out"
CCUSAGE_VERSION = "20.0.24"
CCUSAGE_PREFIX = OUT / "ccusage"
CCUSAGE_BIN = CCUSAGE_PREFIX / "node_modules" / ".bin" / "ccusage"
KINDS = ("input", "output", "cache_creation", "cache_read")
CC_KEYS = {"input": "inputTokens", "output": "outputTokens", "cache_creation": "cacheCreationTokens", "cache_read": "cacheReadTokens"}
COST_TOLERANCE = 0.005  # the issue's bar: within 0.5% of ccusage per session

sys.path.insert(0, str(REPO))


def ensure_ccusage() -> Path:
    """The pinned ccusage binary, installed with npm on first use."""
    if not CCUSAGE_BIN.exists():
        CCUSAGE_PREFIX.mkdir(parents=True, exist_ok=True)
        subprocess.run(["npm", "install", "--prefix", str(CCUSAGE_PREFIX), f"ccusage@{CCUSAGE_VERSION}"], check=True,
                       stdout=sys.stderr)
    return CCUSAGE_BIN


def corpus_env(corpus: Path, truth: dict, *, all_roots: bool) -> dict[str, str]:
    """A minimal environment pointing every assistant folder at the corpus."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "TERM", "TMPDIR")}
    env["HOME"] = str(corpus / truth["env"]["HOME"])
    env["CODEX_HOME"] = str(corpus / truth["env"]["CODEX_HOME"])
    if all_roots:
        env["CLAUDE_CONFIG_DIR"] = ",".join(str(corpus / p) for p in truth["env"]["CLAUDE_CONFIG_DIR"].split(","))
    return env


def run_ccusage(corpus: Path, truth: dict, *, all_roots: bool, tool: str = "claude") -> tuple[dict, float]:
    binary = ensure_ccusage()
    t0 = time.perf_counter()
    return _ccusage(binary, tool, corpus_env(corpus, truth, all_roots=all_roots), t0)


def _ccusage(binary: Path, tool: str, env: dict, t0: float) -> tuple[dict, float]:
    proc = subprocess.run([str(binary), tool, "session", "--json", "--offline"], env=env, capture_output=True, text=True, check=True)
    return json.loads(proc.stdout), time.perf_counter() - t0


def compare_codex(truth: dict, cc: dict, corpus: Path | None = None) -> dict:
    """Codex sessions: ccusage names them by rollout path; the uuid ends the name. Pages of one
    thread share the uuid, so ccusage's rows are summed per uuid before comparing."""
    codex = {sid: s for sid, s in truth["sessions"].items() if s["tool"] == "codex"}
    got: dict[str, dict] = {}
    for row in cc["sessions"]:
        acc = got.setdefault(row["sessionId"][-36:], {k: 0 for k in CC_KEYS.values()} | {"costUSD": 0.0, "files": 0})
        for k in CC_KEYS.values():
            acc[k] += row.get(k, 0)
        acc["costUSD"] += row.get("costUSD") or row.get("totalCost") or 0.0
        acc["files"] += 1
    rows = []
    unexplained = 0
    by_cause: dict[str, int] = defaultdict(int)
    for sid, s in sorted(codex.items(), key=lambda kv: kv[1]["first"]):
        c = got.pop(sid, None)
        d = [-s["tokens"][k] for k in KINDS] if c is None else [c[CC_KEYS[k]] - s["tokens"][k] for k in KINDS]
        label = ("forked rollout" if s.get("forked_from") else "archived" if s.get("archived") else "")
        causes = []
        paths = sorted((corpus / truth["roots"]["codex"]).rglob(f"rollout-*-{sid}.jsonl")) if corpus else []
        if any(d) and c is not None and paths:
            peer = _codex_peer(paths)
            why = _codex_reason(paths)
            if peer == [c[CC_KEYS[k]] for k in KINDS]:
                causes.append(why)
            else:
                causes.append("unexplained")
        elif any(d):
            causes.append("unexplained")
        elif c is not None:
            cost_why = cost_cause(c["costUSD"], s.get("cost"), paths)
            if cost_why:
                causes.append(cost_why)
        unexplained += any(x.startswith("unexplained") for x in causes)
        for x in causes:
            by_cause[x] += 1
        rows.append({"session": sid, "truth_total": s["tokens"]["total"], "diff": d,
                     "causes": [x + (f" ({label})" if label else "") for x in causes] or ([f"agrees ({label})"] if label else []),
                     "cost": (c["costUSD"] if c else None, s.get("cost"))})
    for sid, c in got.items():
        unexplained += 1
        rows.append({"session": sid, "truth_total": 0, "diff": [c[CC_KEYS[k]] for k in KINDS], "causes": ["session not in truth"],
                     "cost": (c["costUSD"], None)})
    return {"rows": rows, "by_cause": {}, "by_cause_sessions": dict(by_cause), "notes": {}, "unexplained": unexplained,
            "truth_total": sum(s["tokens"]["total"] for s in codex.values()),
            "ccusage_total": sum(sum(c[CC_KEYS[k]] for k in KINDS) for c in cc["sessions"]),
            "truth_sessions": len(codex), "ccusage_sessions": len(cc["sessions"])}


def compare_gemini(corpus: Path, truth: dict, cc: dict) -> dict:
    """Gemini: ccusage reports output without thoughts (Gemini's own convention; its cost
    includes them), a subagent recording as a session of its own, and reads no `$rewindTo`."""
    gem = {sid: s for sid, s in truth["sessions"].items() if s["tool"] == "gemini"}
    got = {row["sessionId"]: row for row in cc["sessions"]}
    rows, unexplained = [], 0
    subs: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for sid, row in got.items():
        if sid in gem:
            continue
        gemini_root = corpus / truth["roots"].get("gemini", "home/.gemini")
        rec: dict = next(_records(next(gemini_root.rglob(f"*{sid[:8]}*.jsonl"), Path("/x"))), {})
        parent = rec.get("parentSessionId")
        if parent is not None and parent in gem:
            subs[parent] = [a + row[CC_KEYS[k]] for a, k in zip(subs[parent], KINDS, strict=True)]
            rows.append({"session": sid, "truth_total": 0, "diff": [row[CC_KEYS[k]] for k in KINDS],
                         "causes": ["subagent recording reported as its own session"], "cost": (row.get("totalCost"), None)})
        else:
            unexplained += 1
            rows.append({"session": sid, "truth_total": 0, "diff": [row[CC_KEYS[k]] for k in KINDS], "causes": ["session not in truth"],
                         "cost": (row.get("totalCost"), None)})
    for sid, s in gem.items():
        c = got.get(sid)
        if c is None:
            unexplained += 1
            rows.append({"session": sid, "truth_total": s["tokens"]["total"], "diff": [-s["tokens"][k] for k in KINDS],
                         "causes": ["session missing"], "cost": (None, s["cost"])})
            continue
        files = (corpus / s["file"], *(corpus / s["file"]).parent.glob(f"{sid}/*.jsonl"))
        thoughts = sum(m.get("tokens", {}).get("thoughts", 0) for p in files for m in _latest_gemini(p))
        d = [c[CC_KEYS[k]] - s["tokens"][k] for k in KINDS]
        expected = [-subs[sid][0], -subs[sid][1] - thoughts, -subs[sid][2], -subs[sid][3]]
        causes = []
        if subs[sid] != [0, 0, 0, 0]:
            causes.append("its subagent's usage reported as another session")
        if thoughts:
            causes.append("output without thoughts (Gemini's convention; ours includes them)")
        if d != expected:
            causes.append("unexplained")
            unexplained += 1
        sub_cost = sum(r["cost"][0] or 0 for r in rows if r["causes"] == ["subagent recording reported as its own session"]
                       and subs[sid] != [0, 0, 0, 0])
        why = cost_cause((c.get("totalCost") or 0) + sub_cost, s["cost"], [])
        if why:
            causes.append(why)
            unexplained += 1
        rows.append({"session": sid, "truth_total": s["tokens"]["total"], "diff": d, "causes": causes,
                     "cost": (c.get("totalCost"), s["cost"])})
    return _summary(rows, unexplained, gem, cc)


def _latest_gemini(path: Path) -> list[dict]:
    """Every gemini message of a recording, last copy per id (rewound ones included)."""
    out: dict[str, dict] = {}
    for rec in _records(path):
        batch = rec.get("$set", {}).get("messages") if isinstance(rec.get("$set"), dict) else rec.get("messages")
        for msg in batch if isinstance(batch, list) else [rec]:
            if isinstance(msg, dict) and msg.get("type") == "gemini" and isinstance(msg.get("id"), str):
                out[msg["id"]] = msg
    return list(out.values())


def compare_copilot(corpus: Path, truth: dict, cc: dict) -> dict:
    """Copilot: both read session.shutdown; ccusage always subtracts the previous shutdown,
    which undercounts older builds that restart their totals in every resumed process."""
    cop = {sid: s for sid, s in truth["sessions"].items() if s["tool"] == "copilot"}
    got = {row["sessionId"]: row for row in cc["sessions"]}
    rows, unexplained = [], 0
    for sid, s in cop.items():
        c = got.get(sid)
        d = [-s["tokens"][k] for k in KINDS] if c is None else [c[CC_KEYS[k]] - s["tokens"][k] for k in KINDS]
        data = (corpus / s["file"]).read_bytes()
        causes = []
        if any(d):
            if b"session.resume" in data and b"session.usage_checkpoint" not in data:
                causes.append("older build restarts its totals per resumed process (ccusage subtracts the previous shutdown)")
            else:
                causes.append("unexplained")
                unexplained += 1
        elif c is not None and (why := cost_cause(c.get("totalCost"), s["cost"], [])):
            causes.append(why)
            unexplained += 1
        if not s.get("exact", True):
            causes.append("partial: activity after the last shutdown (both count the shutdowns only)")
        rows.append({"session": sid, "truth_total": s["tokens"]["total"], "diff": d, "causes": causes,
                     "cost": (c.get("totalCost") if c else None, s["cost"])})
    return _summary(rows, unexplained, cop, cc)


def _summary(rows: list[dict], unexplained: int, truth_sessions: dict, cc: dict) -> dict:
    return {"rows": rows, "by_cause": {}, "by_cause_sessions": {}, "notes": {}, "unexplained": unexplained,
            "truth_total": sum(s["tokens"]["total"] for s in truth_sessions.values()),
            "ccusage_total": sum(sum(c.get(CC_KEYS[k], 0) for k in KINDS) for c in cc["sessions"]),
            "truth_sessions": len(truth_sessions), "ccusage_sessions": len(cc["sessions"])}


def _first_session_id(path: Path) -> str | None:
    with path.open("rb") as f:
        for raw in f:
            try:
                rec = json.loads(raw)
            except ValueError:
                continue
            if isinstance(rec, dict) and rec.get("sessionId"):
                return rec["sessionId"]
    return None


def _find_transcript(corpus: Path, truth: dict, project: str, name: str) -> Path | None:
    for root in truth["roots"]["claude"]:
        p = corpus / root / "projects" / project / f"{name}.jsonl"
        if p.exists():
            return p
    return None


def compare(corpus: Path, truth: dict, cc: dict, *, all_roots: bool) -> dict:
    """Per-session rows and per-category totals; every token difference gets a cause."""
    claude = {sid: s for sid, s in truth["sessions"].items() if s["tool"] == "claude"}
    got = {s["sessionId"]: s for s in cc["sessions"]}
    diff: dict[str, list[int]] = {}
    causes: dict[str, list[tuple[str, list[int]]]] = defaultdict(list)
    notes: dict[str, int] = defaultdict(int)

    for sid, s in claude.items():
        c = got.get(sid)
        if c is None:
            diff[sid] = [-s["tokens"][k] for k in KINDS]
            cause = "extra root not in CLAUDE_CONFIG_DIR (expected)" if s["root"] == "claude-extra" and not all_roots else "session missing"
            causes[sid].append((cause, diff[sid]))
            continue
        diff[sid] = [c[CC_KEYS[k]] - s["tokens"][k] for k in KINDS]
        if c["lastActivity"] != s["last"] or c["firstActivity"] != s["first"]:
            notes["activity times from usage lines only"] += 1

    # sessions ccusage invents: legacy flat subagent files become sessions of their own
    for sid, c in got.items():
        if sid in claude:
            continue
        vec = [c[CC_KEYS[k]] for k in KINDS]
        diff[sid] = vec
        path = _find_transcript(corpus, truth, c["projectPath"], sid)
        parent = _first_session_id(path) if path else None
        if sid.startswith("agent-") and parent is not None and parent in claude:
            causes[sid].append(("legacy agent-*.jsonl reported as its own session", vec))
            causes[parent].append(("legacy agent-*.jsonl usage missing from its parent", [-v for v in vec]))
        else:
            causes[sid].append(("session not in truth", vec))

    # resumed copies: ccusage keeps the first file in path order, not the original
    for sid, s in claude.items():
        orig = s.get("resumed_from")
        if not orig or sid not in got or orig not in got:
            continue
        moved = [d - sum(v[i] for _, v in causes[sid]) for i, d in enumerate(diff[sid])]
        back = [d - sum(v[i] for _, v in causes[orig]) for i, d in enumerate(diff[orig])]
        if any(moved) and all(m == -b for m, b in zip(moved, back, strict=True)):
            label = "resumed copy credited to the file first in path order, not the original"
            causes[sid].append((label, moved))
            causes[orig].append((label, back))

    rows = []
    by_cause: dict[str, list[int]] = defaultdict(lambda: [0, 0])  # tokens added, tokens removed
    by_cause_sessions: dict[str, set[str]] = defaultdict(set)
    unexplained = 0
    for sid in sorted(diff, key=lambda x: (claude.get(x, {}).get("first") or "~", x)):
        residual = [d - sum(v[i] for _, v in causes[sid]) for i, d in enumerate(diff[sid])]
        labels = list(dict.fromkeys(c for c, _ in causes[sid]))
        if any(residual):
            labels.append("unexplained")
            unexplained += 1
            causes[sid].append(("unexplained", residual))
        elif sid in claude and "totalCost" in got.get(sid, {}) and "cost" in claude[sid] and not any(diff[sid]):
            why = cost_cause(got[sid].get("totalCost"), claude[sid]["cost"], [corpus / claude[sid]["file"]])
            if why:
                labels.append(why)
                by_cause_sessions[why].add(sid)
                unexplained += why.startswith("unexplained")
        for cause, vec in causes[sid]:
            by_cause_sessions[cause].add(sid)
            by_cause[cause][0] += sum(v for v in vec if v > 0)
            by_cause[cause][1] += sum(v for v in vec if v < 0)
        t = claude.get(sid, {}).get("tokens")
        cc_cost = got.get(sid, {}).get("totalCost")
        rows.append({"session": sid, "truth_total": t["total"] if t else 0, "diff": diff[sid], "causes": labels,
                     "cost": (cc_cost, claude.get(sid, {}).get("cost"))})
    truth_total = sum(s["tokens"]["total"] for s in claude.values())
    cc_total = sum(sum(c[CC_KEYS[k]] for k in KINDS) for c in got.values())
    return {"rows": rows, "by_cause": dict(by_cause), "by_cause_sessions": {k: len(v) for k, v in by_cause_sessions.items()},
            "notes": dict(notes),
            "unexplained": unexplained, "truth_total": truth_total, "ccusage_total": cc_total,
            "truth_sessions": len(claude), "ccusage_sessions": len(got)}


# ---------------------------------------------------------------- causes read from the files


def _records(path: Path):
    try:
        data = path.read_bytes()
    except OSError:
        return
    for raw in data.split(b"\n"):
        try:
            rec = json.loads(raw)
        except ValueError:
            continue
        if isinstance(rec, dict):
            yield rec


def _dated_long_context(paths: list[Path]) -> bool:
    """An Opus/Sonnet 4.6 request above 200k input tokens made before 2026-03-13: it paid the
    long-context tier, which ccusage's (current) litellm prices no longer list."""
    for p in paths:
        for rec in _records(p):
            msg = rec.get("message") if rec.get("type") == "assistant" else None
            u = msg.get("usage") if isinstance(msg, dict) else None
            if not isinstance(msg, dict) or not isinstance(u, dict):
                continue
            if not str(msg.get("model", "")).startswith(("claude-opus-4-6", "claude-sonnet-4-6")):
                continue
            prompt = sum(u.get(k) or 0 for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"))
            if prompt > 200_000 and str(rec.get("timestamp", "")) < "2026-03-13":
                return True
    return False


def cost_cause(cc_cost: float | None, ours: float | None, paths: list[Path]) -> str | None:
    """Why two costs of the same tokens differ by more than the tolerance (None: they agree)."""
    if cc_cost is None or ours is None:
        return None if cc_cost == ours else "unexplained cost (one side has no price)"
    if abs(cc_cost - ours) <= COST_TOLERANCE * max(abs(ours), 1e-9):
        return None
    if _dated_long_context(paths):
        return "dated price: 4.6 long-context tier before 2026-03-13 (ccusage prices today's flat rate)"
    return "unexplained cost"


def _codex_peer(paths: list[Path]) -> list[int]:
    """What ccusage 20.0.24 counts for a Codex thread, as its output shows it working: the
    sum of `last_token_usage` over counter events whose cumulative total changed (so a turn
    aborted before its own counter, whose usage only shows in the next cumulative total, is
    left out), no `token_usage_record` (the string does not occur in its binary), one
    session per file (pages of one thread are separate sessions, repeated prefixes counted
    again). Forks that replay their parent are handled by ccusage and left out here."""
    inp = cached = written = out = 0
    for p in paths:
        prev = None
        for rec in _records(p):
            pay = rec.get("payload") if isinstance(rec.get("payload"), dict) else {}
            info = pay.get("info") if rec.get("type") == "event_msg" and pay.get("type") == "token_count" else None
            if not isinstance(info, dict) or not info.get("last_token_usage"):
                continue
            if info.get("total_token_usage") == prev:
                continue
            prev = info.get("total_token_usage")
            last = info["last_token_usage"]
            inp += last.get("input_tokens", 0)
            cached += last.get("cached_input_tokens", 0)
            written += last.get("cache_write_input_tokens", 0)
            out += last.get("output_tokens", 0)
    return [inp - cached - written, out, written, cached]


def _codex_reason(paths: list[Path]) -> str:
    data = b"".join(p.read_bytes() for p in paths)
    why = []
    if b'"turn_aborted"' in data:
        why.append("aborted turn only in the next cumulative total (ccusage sums last_token_usage)")
    if b'"token_usage_record"' in data:
        why.append("compaction usage in token_usage_record (not read by ccusage 20.0.24)")
    if b'"history_mode":"paginated"' in data:
        why.append("one thread in several paginated files (ccusage: a session per file, prefix counted again)")
    return "; ".join(why) or "ccusage sums last_token_usage"


def _fmt(v: list[int]) -> str:
    return " ".join(f"{x:+,}" if x else "0" for x in v)


def report(result: dict, label: str, seconds: float, markdown: bool) -> str:
    out = []
    if markdown:
        out.append(f"### {label}\n")
        out.append(f"ccusage ran in {seconds:.2f} s. Sessions: truth {result['truth_sessions']}, ccusage "
                   f"{result['ccusage_sessions']}. Tokens: truth {result['truth_total']:,}, ccusage {result['ccusage_total']:,}.\n")
        out.append("| session | truth total | diff input / output / cache_creation / cache_read | cost ccusage / ours | cause |")
        out.append("|---|---:|---|---|---|")
        for r in result["rows"]:
            out.append(f"| `{r['session'][-13:]}` | {r['truth_total']:,} | {_fmt(r['diff'])} | {_cost(r.get('cost'))} | "
                       f"{'; '.join(r['causes']) or 'agrees'} |")
        out.append("\n| cause | sessions | tokens ccusage adds | tokens ccusage drops |")
        out.append("|---|---:|---:|---:|")
        for cause, (added, removed) in sorted(result["by_cause"].items()):
            out.append(f"| {cause} | {result['by_cause_sessions'][cause]} | {added:+,} | {removed:+,} |")
        for note, n in sorted(result["notes"].items()):
            out.append(f"\nNote: {note}: {n} sessions differ in firstActivity/lastActivity (no token effect).")
    else:
        out.append(f"== {label}: ccusage {seconds:.2f}s, sessions truth {result['truth_sessions']} / ccusage "
                   f"{result['ccusage_sessions']}, tokens truth {result['truth_total']:,} / ccusage {result['ccusage_total']:,}")
        for r in result["rows"]:
            out.append(f"{r['session'][-36:]:36} {r['truth_total']:>12,}  {_fmt(r['diff']):>40}  {_cost(r.get('cost')):>22}  "
                       f"{'; '.join(r['causes']) or 'agrees'}")
        for cause, (added, removed) in sorted(result["by_cause"].items()):
            out.append(f"  {cause}: {result['by_cause_sessions'][cause]} sessions, {added:+,} / {removed:+,} tokens")
        for note, n in sorted(result["notes"].items()):
            out.append(f"  note: {note}: {n} sessions")
    return "\n".join(out)


def _cost(pair) -> str:
    if not pair:
        return "-"
    cc, ours = pair
    if cc is None or ours is None:
        return f"{cc if cc is not None else '-'} / {ours if ours is not None else '-'}"
    pct = f" ({(cc - ours) / ours * 100:+.2f}%)" if ours else ""
    return f"${cc:,.4f} / ${ours:,.4f}{pct}"


# ---------------------------------------------------------------- real transcripts


def compare_real(home: Path) -> list[tuple[str, dict, float]]:
    """ccusage against llm-session's own figures on a HOME of real transcripts.

    Sessions are matched by id (Codex: the rollout's uuid); every token difference and every
    cost difference above 0.5% needs a cause read from the files, like the synthetic mode.
    """
    from llm_sessions.config import load_settings
    from llm_sessions.core.live.monitor import Monitor

    env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG", "TERM", "TMPDIR")}
    env |= {"HOME": str(home), "CLAUDE_CONFIG_DIR": str(home / ".claude"), "CODEX_HOME": str(home / ".codex")}
    ours = {s.id: s for s in Monitor(load_settings(home / "no-such-config.toml", {}), env).scan_files().sessions}
    binary = ensure_ccusage()
    out = []
    for tool in ("claude", "codex", "gemini", "copilot"):
        cc, secs = _ccusage(binary, tool, env, time.perf_counter())
        rows, unexplained = [], 0
        mine = {sid: s for sid, s in ours.items() if s.tool == tool}
        seen = set()
        for row in cc.get("sessions", []):
            sid = row["sessionId"][-36:] if tool == "codex" else row["sessionId"]
            s = mine.get(sid)
            seen.add(sid)
            if s is None:
                rows.append({"session": sid, "truth_total": 0, "diff": [row.get(CC_KEYS[k], 0) for k in KINDS],
                             "causes": ["unexplained: not a session of ours"], "cost": (row.get("totalCost"), None)})
                unexplained += 1
                continue
            ours_tok = {"input": s.usage.input, "output": s.usage.output, "cache_creation": s.usage.cache_creation,
                        "cache_read": s.usage.cache_read}
            d = [row.get(CC_KEYS[k], 0) - ours_tok[k] for k in KINDS]
            paths = [Path(s.transcript)] if s.transcript else []
            causes = []
            if any(d):
                if tool == "codex" and paths and _codex_peer(paths) == [row.get(CC_KEYS[k], 0) for k in KINDS]:
                    causes.append(_codex_reason(paths))
                else:
                    causes.append("unexplained")
                    unexplained += 1
            else:
                cc_cost = row.get("totalCost", row.get("costUSD"))
                why = cost_cause(cc_cost, s.cost_usd, paths + [Path(p) for p in _subagent_files(s)])
                if why:
                    causes.append(why)
                    unexplained += why.startswith("unexplained")
            context_ok = None
            if tool in ("claude", "codex") and paths and s.context is not None:
                context_ok = naive_context(tool, paths[0]) == s.context.used
                if not context_ok:
                    causes.append(f"unexplained: context {s.context.used:,} differs from a plain reading")
                    unexplained += 1
            rows.append({"session": sid, "truth_total": s.usage.total, "diff": d, "causes": causes,
                         "cost": (row.get("totalCost", row.get("costUSD")), s.cost_usd), "context_ok": context_ok})
        for sid, s in mine.items():
            if sid not in seen and s.usage.total:
                rows.append({"session": sid, "truth_total": s.usage.total, "diff": [0, 0, 0, 0],
                             "causes": ["unexplained: ccusage has no such session"], "cost": (None, s.cost_usd)})
                unexplained += 1
        if rows or mine:
            result: dict = {"rows": rows, "by_cause": {}, "by_cause_sessions": {}, "notes": {}, "unexplained": unexplained,
                      "truth_total": sum(s.usage.total for s in mine.values()),
                      "ccusage_total": sum(sum(r.get(CC_KEYS[k], 0) for k in KINDS) for r in cc.get("sessions", [])),
                      "truth_sessions": len(mine), "ccusage_sessions": len(cc.get("sessions", []))}
            result["context_checked"] = sum(1 for r in rows if r.get("context_ok") is not None)
            out.append((f"{tool} on real transcripts in {home} ('truth' = llm-session)", result, secs))
    return out


def naive_context(tool: str, path: Path) -> int | None:
    """Context fill read from scratch, to check ours where ccusage's session report has none:
    Claude, the input side of the last main-chain assistant line (or a later compaction's
    postTokens); Codex, the last counter's last_token_usage.total_tokens."""
    ctx = None
    for rec in _records(path):
        if tool == "claude":
            if rec.get("type") == "system" and rec.get("subtype") == "compact_boundary" and not rec.get("isSidechain"):
                ctx = (rec.get("compactMetadata") or {}).get("postTokens")
            msg = rec.get("message") if rec.get("type") == "assistant" else None
            if isinstance(msg, dict) and isinstance(msg.get("usage"), dict) and not rec.get("isSidechain") \
                    and not rec.get("isApiErrorMessage") and msg.get("model") != "<synthetic>":
                u = msg["usage"]
                ctx = sum(u.get(k) or 0 for k in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens"))
        else:
            pay = rec.get("payload") if isinstance(rec.get("payload"), dict) else {}
            info = pay.get("info") if pay.get("type") == "token_count" else None
            if isinstance(info, dict) and isinstance(info.get("last_token_usage"), dict):
                ctx = info["last_token_usage"].get("total_tokens")
    return ctx


def _subagent_files(s) -> list[str]:
    if not s.transcript or s.tool != "claude":
        return []
    folder = Path(s.transcript).with_suffix("") / "subagents"
    return [str(p) for p in folder.glob("*.jsonl")]


def main(argv: list[str] | None = None) -> int:
    from llm_sessions.synth.__main__ import parse_size
    from llm_sessions.synth.corpus import build_corpus

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--corpus", type=Path, help="an existing corpus (with truth.json); default: build one")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--size", type=parse_size, default=None, help="size of the corpus to build, e.g. 1GB")
    p.add_argument("--markdown", action="store_true", help="print Markdown tables (for docs/ccusage-differences.md)")
    p.add_argument("--real", type=Path, help="a HOME holding real transcripts (.claude, .codex ...): compare with llm-session")
    args = p.parse_args(argv)
    if args.real is not None:
        worst = 0
        for label, result, secs in compare_real(args.real.resolve()):
            print(report(result, label, secs, args.markdown))
            print(f"context checked against a plain reading: {result['context_checked']} session(s)")
            print()
            worst = max(worst, result["unexplained"])
        return 1 if worst else 0
    corpus = args.corpus
    if corpus is None:
        corpus = OUT / (f"corpus-seed{args.seed}" + ("" if args.size is None else f"-{args.size}"))
        if corpus.exists():
            shutil.rmtree(corpus)
        build_corpus(corpus, seed=args.seed, target_bytes=args.size)
    truth = json.loads((corpus / "truth.json").read_text())
    truth["roots"].setdefault("gemini", "home/.gemini")
    worst = 0
    for all_roots, label in ((True, "CLAUDE_CONFIG_DIR = all three roots"), (False, "HOME only (default roots)")):
        cc, secs = run_ccusage(corpus, truth, all_roots=all_roots)
        result = compare(corpus, truth, cc, all_roots=all_roots)
        print(report(result, label, secs, args.markdown))
        print()
        worst = max(worst, result["unexplained"])
    cc, secs = run_ccusage(corpus, truth, all_roots=True, tool="codex")
    result = compare_codex(truth, cc, corpus)
    print(report(result, "Codex (`ccusage codex session`)", secs, args.markdown))
    print()
    worst = max(worst, result["unexplained"])
    for tool, fn in (("gemini", compare_gemini), ("copilot", compare_copilot)):
        cc, secs = run_ccusage(corpus, truth, all_roots=True, tool=tool)
        result = fn(corpus, truth, cc)
        print(report(result, f"{tool.capitalize()} (`ccusage {tool} session`)", secs, args.markdown))
        print()
        worst = max(worst, result["unexplained"])
    return 1 if worst else 0


if __name__ == "__main__":
    sys.exit(main())
