"""Claude Code: transcripts under `<root>/projects/<encoded cwd>/`, exact token counts.

The provider keeps one `ClaudeFile` per transcript (see claude_parse), re-reads only bytes
appended since the last scan, and merges the files into sessions:
- a session is a main file `<sessionId>.jsonl` plus its subagent files (the nested
  `<sessionId>/subagents/agent-*.jsonl` and the older flat `agent-*.jsonl`, whose records
  name the parent in `sessionId`): subagent usage counts toward the parent's totals, never
  toward its context fill, and subagents are never sessions of their own;
- a (message.id, requestId) key seen in several files is counted once, with its largest
  usage, for the file that wrote it first (files ordered by first, then last timestamp), so
  a resumed session's copied lines stay with the original session.
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from hashlib import blake2b
from pathlib import Path

from llm_sessions.core import tailer
from llm_sessions.core.health import compaction_point_for
from llm_sessions.core.models import ContextFill, Session, TurnMark, Usage
from llm_sessions.core.providers.base import ScanResult
from llm_sessions.core.providers.claude_parse import ClaudeFile, FileParser
from llm_sessions.core.roots import claude_roots
from llm_sessions.core.timeparse import parse_ts

WINDOW = 200_000
WINDOW_1M = 1_000_000

CostFn = Callable[[str, Usage, bool], "float | None"]


def list_transcripts(roots: Iterable[Path], problems: list[str]) -> list[tuple[str, bool, str]]:
    """(path, is_subagent, session id guess) for every .jsonl under each root's projects/.

    os.scandir instead of Path.rglob: a gigabyte of history is thousands of files, and the
    warm path is dominated by listing and stat-ing them.
    """
    out: list[tuple[str, bool, str]] = []
    seen_roots: set[str] = set()
    for root in roots:
        projects = os.path.join(root, "projects")
        real = os.path.realpath(projects)
        if real in seen_roots or not os.path.isdir(projects):
            continue  # two configured roots that are one folder are scanned once
        seen_roots.add(real)
        stack = [projects]
        while stack:
            folder = stack.pop()
            try:
                entries = list(os.scandir(folder))
            except OSError as exc:
                problems.append(f"cannot list {folder}: {exc.strerror or exc}")
                continue
            for e in entries:
                try:
                    if e.is_dir(follow_symlinks=False):
                        stack.append(e.path)
                        continue
                except OSError:
                    continue
                if not e.name.endswith(".jsonl"):
                    continue
                stem = e.name[:-6]
                parent = os.path.basename(folder)
                if parent == "subagents":
                    out.append((e.path, True, os.path.basename(os.path.dirname(folder))))
                elif stem.startswith("agent-"):
                    out.append((e.path, True, ""))
                else:
                    out.append((e.path, False, stem))
    return out


def parse_file(f: ClaudeFile, st: os.stat_result) -> ClaudeFile:
    """Read what was appended to one file since its cursor and fold it into `f`."""
    parser = FileParser(f, legacy_agent=f.subagent and os.path.basename(f.path).startswith("agent-") and os.path.basename(os.path.dirname(f.path)) != "subagents")
    feed = parser.feed_block
    for block, lines in tailer.read_blocks(f.path, f.cursor, st):
        feed(block, lines)
    return parser.finish()


def _fingerprint(files: list[ClaudeFile]) -> str:
    h = blake2b(digest_size=16)
    for f in files:
        h.update(f"{f.path}\0{f.cursor.ino}\0{f.cursor.offset}\0".encode())
    return h.hexdigest()


@dataclass(slots=True)
class _Acc:
    """Per-session accumulator while merging files."""

    sums: dict[tuple[str, int], list[int]] = field(default_factory=dict)
    main: ClaudeFile | None = None
    files: list[ClaudeFile] = field(default_factory=list)
    api_errors: int = 0
    tool_errors: int = 0

    def add(self, model: str, tier: int, vals: Iterable[int]) -> None:
        s = self.sums.setdefault((model, tier), [0, 0, 0, 0, 0])
        for i, v in enumerate(vals):
            s[i] += v


class ClaudeProvider:
    tool = "claude"

    def __init__(self, env: Mapping[str, str], settings=None, cost: CostFn | None = None) -> None:
        self.env = env
        self.settings = settings
        self.cost = cost
        self.files: dict[str, ClaudeFile] = {}
        self.settled: tuple[str, list] | None = None
        self.parsed_bytes = 0
        self.changed = False

    def roots(self) -> list[Path]:
        return claude_roots(self.env)

    # -- persistence (the scan cache stores self.files between runs) --------------------
    def state(self) -> list[ClaudeFile]:
        return list(self.files.values())

    def restore(self, files: Iterable[ClaudeFile], settled: tuple[str, list] | None = None) -> None:
        self.files = {f.path: f for f in files}
        self.settled = settled

    # -- scanning ----------------------------------------------------------------------
    def scan(self, pool=None, progress=None, meanwhile=None) -> ScanResult:
        """`meanwhile()` runs while pool workers parse (a big cold scan), if they do."""
        result = ScanResult(searched=[str(r / "projects") for r in self.roots()])
        listing = ((path, (sub, sid)) for path, sub, sid in list_transcripts(self.roots(), result.problems))
        todo, gone = tailer.plan_reads(
            listing, self.files, lambda path, x: ClaudeFile(path=path, subagent=x[0], session=x[1]), result.problems
        )
        self.parsed_bytes = sum(st.st_size - f.cursor.offset for f, st in todo)
        self.changed = bool(todo or gone)
        if todo:
            for f in self._parse_all(todo, pool, progress, result.problems, meanwhile):
                self.files[f.path] = f
        result.sessions = self._merge()
        for f in self.files.values():
            if f.malformed:
                result.problems.append(f"{f.path}: {f.malformed} malformed line(s) skipped")
        return result

    def _parse_all(self, todo, pool, progress, problems: list[str], meanwhile=None) -> list[ClaudeFile]:
        if pool is not None and len(todo) > 1 and pool.wanted(self.parsed_bytes):
            return pool.parse(todo, progress, problems, meanwhile)
        out = []
        for f, st in todo:
            try:
                out.append(parse_file(f, st))
            except OSError as exc:
                problems.append(f"cannot read {f.path}: {exc.strerror or exc}")
                out.append(f)
            if progress:
                progress(st.st_size)
        return out

    # -- merging -----------------------------------------------------------------------
    def _merge(self) -> list[Session]:
        # Copied lines keep their timestamps, so a resumed file starts at the same instant as
        # the original; the original is the one whose history ends first.
        files = sorted(self.files.values(), key=lambda f: (f.first_ts or "~", f.last_ts, f.path))
        accs: dict[str, _Acc] = {}
        for f in files:
            sid = f.session or Path(f.path).stem
            acc = accs.setdefault(sid, _Acc())
            acc.files.append(f)
            if not f.subagent and (acc.main is None or f.last_ts > acc.main.last_ts):
                acc.main = f
            for k, s in f.sums.items():
                mi, tier = k.split(":")
                acc.add(f.models[int(mi)], int(tier), s)
        fp = _fingerprint(files)
        if self.settled is None or self.settled[0] != fp:
            self.settled = (fp, self._settle_duplicates(files))
        for sid, model, tier, deltas in self.settled[1]:
            accs[sid].add(model, tier, deltas)
        seen_errors: set[str] = set()
        for f in files:
            sid = f.session or Path(f.path).stem
            for uuid, api, tool in f.errors:
                if uuid not in seen_errors:
                    seen_errors.add(uuid)
                    accs[sid].api_errors += api
                    accs[sid].tool_errors += tool
        # A file with no readable record (empty, or only garbage) is not a session yet.
        return [self._session(sid, acc) for sid, acc in accs.items() if any(f.first_ts for f in acc.files)]

    @staticmethod
    def _settle_duplicates(files: list[ClaudeFile]) -> list[tuple[str, str, int, list[int]]]:
        """Count a key found in several files once: the first file owns it at its max usage.

        Returns corrections to the per-file sums, as (session, model, tier, deltas). They
        depend only on the files' contents, so they are cached under a fingerprint of the
        files and a warm run with nothing new skips this pass over every key.
        """
        seen: set[int] = set()
        dups: set[int] = set()
        arrays = []
        for f in files:
            keys = array("Q", f.keys)
            arrays.append(keys)
            if seen:
                dups.update(seen.intersection(keys))
            seen.update(keys)
        out: list[tuple[str, str, int, list[int]]] = []
        if not dups:
            return out
        first: dict[int, tuple[ClaudeFile, int, int]] = {}  # key -> (owner, pos, best total)
        for f, keys in zip(files, arrays):
            if dups.isdisjoint(keys):
                continue
            cols, meta = array("q", f.cols), array("I", f.meta)
            sid = f.session or Path(f.path).stem
            for pos, key in enumerate(keys):
                if key not in dups:
                    continue
                vals = list(cols[pos * 4 : pos * 4 + 4])
                model, tier = f.models[meta[pos] >> 1], meta[pos] & 1
                owner = first.get(key)
                if owner is None:
                    first[key] = (f, pos, sum(vals))
                    continue
                # Not the owner: take this copy out of its own session ...
                out.append((sid, model, tier, [-v for v in vals] + [-1]))
                of, opos, best = owner
                if sum(vals) > best:
                    # ... and if it is larger, it becomes the owner's figure.
                    ocols = list(array("q", of.cols)[opos * 4 : opos * 4 + 4])
                    ometa = array("I", of.meta)[opos]
                    osid = of.session or Path(of.path).stem
                    out.append((osid, of.models[ometa >> 1], ometa & 1, [-v for v in ocols] + [0]))
                    out.append((osid, model, tier, vals + [0]))
                    first[key] = (of, opos, sum(vals))
        return out

    def _session(self, sid: str, acc: _Acc) -> Session:
        main = acc.main
        files = acc.files
        usage = Usage()
        cost: float | None = 0.0
        responses = 0
        for (model, tier), s in acc.sums.items():
            part = Usage(s[0], s[1], s[2], s[3])
            responses += s[4]
            usage = usage + part
            if part.total == 0:
                continue
            c = self.cost(model, part, bool(tier)) if self.cost else None
            cost = None if c is None or cost is None else cost + c
        if self.cost is None:
            cost = None
        first = min((f.first_ts for f in files if f.first_ts), default="")
        last = max((f.last_ts for f in files), default="")
        context = None
        recent: tuple[TurnMark, ...] = ()
        if main is not None:
            model = main.model
            window = WINDOW_1M if (model or "").endswith("[1m]") or main.ctx_max > WINDOW else WINDOW
            if main.ctx >= 0:
                context = ContextFill(main.ctx, window, compaction_point_for(window, self.settings), True, main.ctx_source)
            recent = tuple(
                TurnMark(at, kind, api, tool)
                for ts, kind, api, tool in main.recent
                if (at := parse_ts(ts)) is not None
            )
        src = main or files[0]
        return Session(
            id=sid,
            tool="claude",
            transcript=main.path if main else None,
            cwd=src.cwd,
            model=src.model,
            git_branch=src.branch,
            title=src.title,
            started_at=parse_ts(first),
            last_activity=parse_ts(last),
            turns=responses,
            usage=usage,
            context=context,
            cost_usd=round(cost, 6) if cost is not None else None,
            api_errors=acc.api_errors,
            tool_errors=acc.tool_errors,
            compactions=main.compactions if main else 0,
            limit_resets_at=datetime.fromtimestamp(reset, UTC) if (reset := max(f.limit_reset for f in files)) else None,
            recent=recent,
            subagent_files=sum(1 for f in files if f.subagent),
            malformed_lines=sum(f.malformed for f in files),
            awaiting_user=bool(main and main.awaiting),
        )
