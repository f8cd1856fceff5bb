"""Compare ccusage's per-session Claude token counts with a synthetic corpus's truth.json.

    python benchmarks/ccusage_compare.py [--corpus DIR | --seed N [--size 1GB]] [--markdown]

Installs ccusage 20.0.24 into benchmarks/out/ccusage (gitignored) when it is missing, runs
`ccusage claude session --json --offline` with HOME and CLAUDE_CONFIG_DIR pointed at the
corpus (never at the real home), prints one row per session with the difference in every
token kind, and names the cause of every difference. A difference nobody can explain is
reported as "unexplained" and makes the exit status 1, so a new ccusage release that
changes behaviour shows up instead of hiding in a total.

The categories are derived from the truth (which session resumed which, which legacy
subagent file belongs to which session), never from ccusage's own numbers alone.
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
    proc = subprocess.run([str(binary), tool, "session", "--json", "--offline"], env=corpus_env(corpus, truth, all_roots=all_roots),
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout), time.perf_counter() - t0


def compare_codex(truth: dict, cc: dict) -> dict:
    """Codex sessions: ccusage names them by rollout path; the uuid ends the name."""
    codex = {sid: s for sid, s in truth["sessions"].items() if s["tool"] == "codex"}
    got = {s["sessionId"][-36:]: s for s in cc["sessions"]}
    rows = []
    unexplained = 0
    for sid, s in sorted(codex.items(), key=lambda kv: kv[1]["first"]):
        c = got.pop(sid, None)
        if c is None:
            d = [-s["tokens"][k] for k in KINDS]
        else:
            d = [c[CC_KEYS[k]] - s["tokens"][k] for k in KINDS]
        label = ("forked rollout" if s.get("forked_from") else "archived" if s.get("archived") else "")
        cause = "unexplained" if any(d) else "agrees"
        unexplained += cause == "unexplained"
        rows.append({"session": sid, "truth_total": s["tokens"]["total"], "diff": d, "causes": [cause + (f" ({label})" if label else "")]})
    for sid, c in got.items():
        unexplained += 1
        rows.append({"session": sid, "truth_total": 0, "diff": [c[CC_KEYS[k]] for k in KINDS], "causes": ["session not in truth"]})
    return {"rows": rows, "by_cause": {}, "by_cause_sessions": {}, "notes": {}, "unexplained": unexplained,
            "truth_total": sum(s["tokens"]["total"] for s in codex.values()),
            "ccusage_total": sum(sum(c[CC_KEYS[k]] for k in KINDS) for c in cc["sessions"]),
            "truth_sessions": len(codex), "ccusage_sessions": len(cc["sessions"])}


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
        if sid.startswith("agent-") and parent in claude:
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
        for cause, vec in causes[sid]:
            by_cause_sessions[cause].add(sid)
            by_cause[cause][0] += sum(v for v in vec if v > 0)
            by_cause[cause][1] += sum(v for v in vec if v < 0)
        t = claude.get(sid, {}).get("tokens")
        rows.append({"session": sid, "truth_total": t["total"] if t else 0, "diff": diff[sid], "causes": labels})
    truth_total = sum(s["tokens"]["total"] for s in claude.values())
    cc_total = sum(sum(c[CC_KEYS[k]] for k in KINDS) for c in got.values())
    return {"rows": rows, "by_cause": dict(by_cause), "by_cause_sessions": {k: len(v) for k, v in by_cause_sessions.items()}, "notes": dict(notes),
            "unexplained": unexplained, "truth_total": truth_total, "ccusage_total": cc_total,
            "truth_sessions": len(claude), "ccusage_sessions": len(got)}


def _fmt(v: list[int]) -> str:
    return " ".join(f"{x:+,}" if x else "0" for x in v)


def report(result: dict, label: str, seconds: float, markdown: bool) -> str:
    out = []
    if markdown:
        out.append(f"### {label}\n")
        out.append(f"ccusage ran in {seconds:.2f} s. Sessions: truth {result['truth_sessions']}, ccusage "
                   f"{result['ccusage_sessions']}. Tokens: truth {result['truth_total']:,}, ccusage {result['ccusage_total']:,}.\n")
        out.append("| session | truth total | diff input / output / cache_creation / cache_read | cause |")
        out.append("|---|---:|---|---|")
        for r in result["rows"]:
            out.append(f"| `{r['session'][:13]}` | {r['truth_total']:,} | {_fmt(r['diff'])} | {'; '.join(r['causes']) or 'agrees'} |")
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
            out.append(f"{r['session'][:36]:36} {r['truth_total']:>12,}  {_fmt(r['diff']):>40}  {'; '.join(r['causes']) or 'agrees'}")
        for cause, (added, removed) in sorted(result["by_cause"].items()):
            out.append(f"  {cause}: {result['by_cause_sessions'][cause]} sessions, {added:+,} / {removed:+,} tokens")
        for note, n in sorted(result["notes"].items()):
            out.append(f"  note: {note}: {n} sessions")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    from llm_sessions.synth.__main__ import parse_size
    from llm_sessions.synth.corpus import build_corpus

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--corpus", type=Path, help="an existing corpus (with truth.json); default: build one")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--size", type=parse_size, default=None, help="size of the corpus to build, e.g. 1GB")
    p.add_argument("--markdown", action="store_true", help="print Markdown tables (for docs/ccusage-differences.md)")
    args = p.parse_args(argv)
    corpus = args.corpus
    if corpus is None:
        corpus = OUT / (f"corpus-seed{args.seed}" + ("" if args.size is None else f"-{args.size}"))
        if corpus.exists():
            shutil.rmtree(corpus)
        build_corpus(corpus, seed=args.seed, target_bytes=args.size)
    truth = json.loads((corpus / "truth.json").read_text())
    worst = 0
    for all_roots, label in ((True, "CLAUDE_CONFIG_DIR = all three roots"), (False, "HOME only (default roots)")):
        cc, secs = run_ccusage(corpus, truth, all_roots=all_roots)
        result = compare(corpus, truth, cc, all_roots=all_roots)
        print(report(result, label, secs, args.markdown))
        print()
        worst = max(worst, result["unexplained"])
    cc, secs = run_ccusage(corpus, truth, all_roots=True, tool="codex")
    result = compare_codex(truth, cc)
    print(report(result, "Codex (`ccusage codex session`)", secs, args.markdown))
    worst = max(worst, result["unexplained"])
    return 1 if worst else 0


if __name__ == "__main__":
    sys.exit(main())
