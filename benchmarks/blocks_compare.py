"""Compare our 5-hour blocks with `ccusage blocks` (20.0.24) on a synthetic corpus.

    python benchmarks/blocks_compare.py [--corpus DIR | --seed N [--size 1GB]] [--markdown]

Runs `ccusage blocks --json --offline` with HOME and CLAUDE_CONFIG_DIR pointed at the corpus
(never at the real home; ccusage is installed into benchmarks/out/ by ccusage_compare.py's
`ensure_ccusage`), builds our blocks from the same transcripts (core.accounting.activity +
core.accounting.blocks), and compares every block: start, end, last activity, tokens of each kind and
the number of entries. A difference gets a cause or is reported as unexplained (exit 1).

The one known cause: ccusage counts API-error lines (model `<synthetic>`, zero usage) as
entries, we count only model calls. Those lines are found here from the raw transcripts,
independently of both tools, and must account for the whole entry difference. Cost is
reported, not compared: the two price tables differ (1-hour cache writes, dated models).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

from ccusage_compare import OUT, corpus_env, ensure_ccusage  # noqa: E402

KINDS = ("inputTokens", "outputTokens", "cacheCreationInputTokens", "cacheReadInputTokens")


def ms_of(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


def run_ccusage(corpus: Path, truth: dict) -> tuple[list[dict], float]:
    env = corpus_env(corpus, truth, all_roots=True)
    t0 = time.perf_counter()
    out = subprocess.run([str(ensure_ccusage()), "blocks", "--json", "--offline"], env=env, capture_output=True, text=True, check=True)
    return [b for b in json.loads(out.stdout)["blocks"] if not b.get("isGap")], time.perf_counter() - t0


def our_blocks(corpus: Path, truth: dict):
    from llm_sessions.config import load_settings
    from llm_sessions.core.accounting.activity import claude_calls
    from llm_sessions.core.accounting.blocks import five_hour_blocks, spend
    from llm_sessions.core.live.monitor import Monitor

    env = corpus_env(corpus, truth, all_roots=True)
    settings = load_settings(corpus / ".no-config.toml", env={})
    mon = Monitor(settings, env)
    t0 = time.perf_counter()
    mon.scan_files()
    calls = claude_calls(mon.claude.file_views())
    blocks = five_hour_blocks(calls)
    secs = time.perf_counter() - t0
    return [(b, spend(b.calls, mon.prices)) for b in blocks], secs, mon.claude.roots()


def api_error_stamps(roots) -> list[int]:
    """Times of API-error lines that carry a usage object, deduplicated as ccusage does."""
    seen: set[tuple] = set()
    out = []
    for root in roots:
        for path in sorted(Path(root, "projects").rglob("*.jsonl")):
            with path.open("rb") as fh:
                for raw in fh:
                    if b'"usage"' not in raw or (b"isApiErrorMessage" not in raw and b"<synthetic>" not in raw):
                        continue
                    try:
                        rec = json.loads(raw)
                    except ValueError:
                        continue
                    msg = rec.get("message") if isinstance(rec, dict) else None
                    if not isinstance(msg, dict) or not isinstance(msg.get("usage"), dict):
                        continue
                    if not (rec.get("isApiErrorMessage") or msg.get("model") == "<synthetic>"):
                        continue
                    key = (msg.get("id"), rec.get("requestId"))
                    if key[0] and key[1] and key in seen:
                        continue
                    seen.add(key)
                    out.append(ms_of(rec["timestamp"]))
    return sorted(out)


def compare(ours, theirs, errors: list[int]) -> dict:
    by_start = {b.start_ms: (b, usd) for b, usd in ours}
    rows, unexplained = [], 0
    counts = {"blocks_ccusage": len(theirs), "blocks_ours": len(ours), "start_end_agree": 0, "tokens_agree": 0,
              "last_activity_agree": 0, "entries_agree": 0, "entries_explained": 0}
    for cc in theirs:
        start = ms_of(cc["startTime"])
        mine = by_start.pop(start, None)
        cause0 = ""
        if mine is None:
            # ccusage starts a block at an API-error line; we start it at the first model call
            first_err = next((e for e in errors if e - e % 3_600_000 == start), None)
            later = min((s for s in by_start if first_err is not None and first_err < s + 5 * 3_600_000 and s > start), default=None)
            if later is None or first_err is None:
                unexplained += 1
                rows.append({"start": cc["startTime"], "cause": "unexplained: block missing on our side"})
                continue
            mine = by_start.pop(later)
            counts["started_by_api_error"] = counts.get("started_by_api_error", 0) + 1
            cause0 = (f"ccusage's block starts at an API-error line ({datetime.fromtimestamp(first_err / 1000, UTC):%H:%M}); "
                      f"ours at the first model call ({datetime.fromtimestamp(later / 1000, UTC):%H:%M})")
        b, usd = mine
        tok = tuple(cc["tokenCounts"][k] for k in KINDS)
        end_ok = ms_of(cc["endTime"]) == b.end_ms
        tok_ok = tok == b.tokens
        last_ok = ms_of(cc["actualEndTime"]) in (b.last_ms,) or any(b.last_ms < e <= ms_of(cc["actualEndTime"]) for e in errors)
        lo = min(b.start_ms, start)
        in_block = sum(1 for e in errors if lo <= e <= lo + 5 * 3_600_000)
        entries_ok = cc["entries"] == len(b.calls)
        explained = cc["entries"] == len(b.calls) + in_block
        counts["start_end_agree"] += end_ok
        counts["tokens_agree"] += tok_ok
        counts["last_activity_agree"] += last_ok
        counts["entries_agree"] += entries_ok
        counts["entries_explained"] += explained and not entries_ok
        causes = [cause0] if cause0 else []
        if not entries_ok:
            causes.append(f"{in_block} API-error line(s) counted as entries by ccusage" if explained else "unexplained entries")
        if not ((end_ok or cause0) and tok_ok and last_ok and (entries_ok or explained)):
            unexplained += 1
            causes.append("unexplained")
        rows.append({"start": cc["startTime"], "entries": (cc["entries"], len(b.calls)), "tokens": tok_ok,
                     "cost": (round(cc["costUSD"], 2), round(usd, 2)), "cause": "; ".join(causes) or "agrees"})
    for start, (_b, _usd) in by_start.items():
        unexplained += 1
        rows.append({"start": datetime.fromtimestamp(start / 1000, UTC).isoformat(), "cause": "unexplained: block only on our side"})
    cc_cost = sum(c["costUSD"] for c in theirs)
    our_cost = sum(usd for _b, usd in ours)
    return {"rows": rows, "counts": counts, "unexplained": unexplained, "cost": (cc_cost, our_cost)}


def _line(sid: str, at: str, mid: str, rid: str | None, *, inp=100, out=10, cc=0, cr=0, side=False, error=False) -> str:
    msg = {"id": mid, "type": "message", "role": "assistant", "model": "<synthetic>" if error else "claude-sonnet-4-5-20250929",
           "content": [{"type": "text", "text": "usage limit" if error else "ok"}], "stop_reason": "end_turn",
           "usage": {"input_tokens": 0 if error else inp, "output_tokens": 0 if error else out,
                     "cache_creation_input_tokens": 0 if error else cc, "cache_read_input_tokens": 0 if error else cr}}
    rec = {"type": "assistant", "uuid": f"{mid}-{out}", "sessionId": sid, "timestamp": at, "cwd": "/w/edge",
           "isSidechain": side, "message": msg}
    if rid:
        rec["requestId"] = rid
    if error:
        rec.update(isApiErrorMessage=True, error="rate_limit", apiErrorStatus=429)
    return json.dumps(rec, separators=(",", ":"))  # compact, as Claude Code writes (ccusage needs it)


def edge_corpus(root: Path) -> None:
    """Transcripts built to sit on every block boundary: exactly 5 h after a start, a
    millisecond past it, activity every 50 minutes for 20 hours (blocks tile), a call on
    the hour, streamed lines with growing output, a resumed copy in a second file, a
    subagent, and an API-error line as the first activity after a long gap."""
    proj = root / "home" / ".claude" / "projects" / "-w-edge"
    files: dict[str, list[str]] = {}

    def put(name: str, line: str) -> None:
        files.setdefault(name, []).append(line)

    put("e1", _line("e1", "2026-03-02T09:00:00.000Z", "m1", "r1"))
    put("e1", _line("e1", "2026-03-02T13:59:59.999Z", "m2", "r2"))
    put("e1", _line("e1", "2026-03-02T14:00:00.000Z", "m3", "r3"))  # exactly 5 h after 09:00: same block
    put("e1", _line("e1", "2026-03-02T14:00:00.001Z", "m4", "r4"))  # 1 ms later: the next block
    for i in range(25):  # every 50 minutes from 00:10 for 20 hours
        minutes = 10 + 50 * i
        put("e2", _line("e2", f"2026-03-04T{minutes // 60:02d}:{minutes % 60:02d}:00.000Z", f"t{i}", f"tr{i}", cr=5000))
    for out in (5, 40, 120):  # one response streamed on three lines, output growing
        put("e3", _line("e3", "2026-03-06T10:30:00.000Z", "s1", "sr1", out=out))
    put("e3", _line("e3", "2026-03-06T11:00:00.000Z", "s2", "sr2"))
    put("e4", _line("e4", "2026-03-06T10:30:00.000Z", "s1", "sr1", out=120))  # resumed copy of e3's first response
    put("e4", _line("e4", "2026-03-06T12:15:00.000Z", "s3", "sr3"))
    put("e3/subagents/agent-a1", _line("e3", "2026-03-06T11:20:00.000Z", "sub1", "subr1", side=True, cc=3000))
    put("e5", _line("e5", "2026-03-08T08:00:00.000Z", "g0", "gr0"))
    put("e5", _line("e5", "2026-03-08T16:40:00.000Z", "gerr", None, error=True))  # refused: first line after the gap
    put("e5", _line("e5", "2026-03-08T17:20:00.000Z", "g1", "gr1"))
    for name, lines in files.items():
        path = proj / f"{name}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n")
    env = {"HOME": "home", "CODEX_HOME": "home/.codex", "CLAUDE_CONFIG_DIR": "home/.claude"}
    (root / "truth.json").write_text(json.dumps({"env": env}))


def main(argv: list[str] | None = None) -> int:
    from llm_sessions.synth.__main__ import parse_size
    from llm_sessions.synth.corpus import build_corpus

    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--corpus", type=Path)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--size", type=parse_size, default=None)
    p.add_argument("--markdown", action="store_true")
    p.add_argument("--rows", action="store_true", help="print every block")
    p.add_argument("--edges", action="store_true", help="a small corpus placed on every block boundary")
    args = p.parse_args(argv)
    corpus = args.corpus
    if args.edges:
        corpus = OUT / "corpus-edges"
        if corpus.exists():
            shutil.rmtree(corpus)
        edge_corpus(corpus)
    elif corpus is None:
        corpus = OUT / (f"corpus-seed{args.seed}" + ("" if args.size is None else f"-{args.size}"))
        if corpus.exists():
            shutil.rmtree(corpus)
        build_corpus(corpus, seed=args.seed, target_bytes=args.size)
    truth = json.loads((corpus / "truth.json").read_text())
    theirs, cc_secs = run_ccusage(corpus, truth)
    ours, our_secs, roots = our_blocks(corpus, truth)
    result = compare(ours, theirs, api_error_stamps(roots))
    c = result["counts"]
    cc_cost, our_cost = result["cost"]
    lines = [
        f"corpus {corpus.name}: ccusage {c['blocks_ccusage']} blocks in {cc_secs:.2f}s, ours {c['blocks_ours']} in {our_secs:.2f}s",
        f"start+end agree {c['start_end_agree']}/{c['blocks_ccusage']}, tokens (4 kinds) agree {c['tokens_agree']}, "
        f"last activity agrees {c['last_activity_agree']}, entries agree {c['entries_agree']} "
        f"(+{c['entries_explained']} differ only by API-error lines), started by an API-error line in ccusage only "
        f"{c.get('started_by_api_error', 0)}, unexplained {result['unexplained']}",
        f"cost over all blocks: ccusage ${cc_cost:,.2f}, ours ${our_cost:,.2f} (price tables differ; not compared)",
    ]
    if args.markdown:
        lines = ["| figure | value |", "|---|---|"] + [f"| {k.replace('_', ' ')} | {v} |" for k, v in c.items()] + \
                [f"| unexplained | {result['unexplained']} |", f"| cost ccusage / ours | ${cc_cost:,.2f} / ${our_cost:,.2f} |"]
    sys.stdout.write("\n".join(lines) + "\n")
    if args.rows:
        for r in result["rows"]:
            sys.stdout.write(f"  {r}\n")
    return 1 if result["unexplained"] else 0


if __name__ == "__main__":
    sys.exit(main())
