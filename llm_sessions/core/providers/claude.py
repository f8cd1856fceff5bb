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

import logging
import os
from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from hashlib import blake2b
from pathlib import Path

from llm_sessions.core import tailer
from llm_sessions.core.health import compaction_point_for
from llm_sessions.core.models import ContextFill, Session, TurnMark, Usage
from llm_sessions.core.pricing import Bill
from llm_sessions.core.problems import cannot_parse, unreadable_file, unreadable_folder
from llm_sessions.core.providers.base import ScanResult
from llm_sessions.core.providers.claude_parse import NCOLS, ClaudeFile, FileParser
from llm_sessions.core.roots import claude_roots, existing_dir
from llm_sessions.core.safeio import printable
from llm_sessions.core.timeparse import parse_ts

log = logging.getLogger(__name__)

WINDOW = 200_000
WINDOW_1M = 1_000_000

Group = tuple[str, int, str, str, bool]  # model, prompt-size bucket, speed, day, advisor call


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
        if real in seen_roots or not existing_dir(projects, problems):
            continue  # two configured roots that are one folder are scanned once
        seen_roots.add(real)
        stack = [projects]
        while stack:
            folder = stack.pop()
            try:
                entries = list(os.scandir(folder))
            except OSError as exc:
                problems.append(unreadable_folder(folder, exc))
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
                # A session id comes from a file name, which may not be UTF-8: ids are shown,
                # stored and printed as JSON, so they hold the name escaped; the path stays raw.
                stem = printable(e.name[:-6])
                parent = os.path.basename(folder)
                if parent == "subagents":
                    out.append((e.path, True, printable(os.path.basename(os.path.dirname(folder)))))
                elif stem.startswith("agent-"):
                    out.append((e.path, True, ""))
                else:
                    out.append((e.path, False, stem))
    return out


def parse_file(f: ClaudeFile, st: os.stat_result) -> ClaudeFile:
    """Read what was appended to one file since its cursor and fold it into `f`."""
    parser = FileParser(f, legacy_agent=f.subagent and os.path.basename(f.path).startswith("agent-") and os.path.basename(os.path.dirname(f.path)) != "subagents")
    failed = tailer.fold(f.path, f.cursor, st, parser.feed)  # feed counts what it rejects
    f.malformed += failed
    return parser.finish()


def parse_one(f: ClaudeFile, st: os.stat_result, problems: list) -> ClaudeFile:
    """`parse_file` isolated per file: a file that cannot be read or parsed is one problem.

    A parse that fails outright (a bug, since lines are isolated) forgets what the file gave
    and is not retried until the file changes, so the others and later polls go on.
    """
    try:
        return parse_file(f, st)
    except OSError as exc:
        problems.append(unreadable_file(f.path, exc))
    except Exception as exc:  # noqa: BLE001
        log.exception("cannot parse %s", f.path)
        problems.append(cannot_parse(f.path, exc))
        f.reset()
        f.cursor = tailer.Cursor(dev=st.st_dev, ino=st.st_ino, size=st.st_size, mtime_ns=st.st_mtime_ns)
    return f


def _in_scope(found: list[tuple[str, bool, str]], roots: Iterable[Path], scope) -> tuple[list, list]:
    """(files of the project folders that may hold a running session, files active within
    the usage-limit windows): see core.scope."""
    tops = [os.path.join(r, "projects") + os.sep for r in roots]
    folders: dict[str, list[tuple[str, bool, str]]] = {}
    for item in found:
        path = item[0]
        top = next((t for t in tops if path.startswith(t)), "")
        folder = path[: len(top)] + path[len(top) :].split(os.sep, 1)[0]
        folders.setdefault(folder, []).append(item)
    live, recent = [], []
    for folder, items in folders.items():
        hot = scope.wants_claude_dir(os.path.basename(folder))
        for item in items:
            try:
                st = os.stat(item[0])
            except OSError:
                continue
            if scope.for_limits(st):
                recent.append(item)
            hot = hot or scope.wants_file(os.path.basename(item[0]), st)
        if hot:
            live.extend(items)
    return live, recent


def _fingerprint(files: list[ClaudeFile]) -> str:
    h = blake2b(digest_size=16)
    for f in files:
        h.update(f"{f.path}\0{f.cursor.ino}\0{f.cursor.offset}\0".encode("utf-8", "surrogateescape"))
    return h.hexdigest()


@dataclass(slots=True)
class _Acc:
    """Per-session accumulator while merging files."""

    sums: dict[Group, list[int]] = field(default_factory=dict)
    main: ClaudeFile | None = None
    files: list[ClaudeFile] = field(default_factory=list)
    api_errors: int = 0
    tool_errors: int = 0

    def add(self, group: Group, vals: Iterable[int]) -> None:
        s = self.sums.setdefault(group, [0] * (NCOLS + 1))
        for i, v in enumerate(vals):
            s[i] += v


class ClaudeProvider:
    tool = "claude"

    def __init__(self, env: Mapping[str, str], settings=None, prices=None) -> None:
        self.env = env
        self.settings = settings
        self.prices = prices
        self.files: dict[str, ClaudeFile] = {}
        self.settled: tuple[str, list] | None = None
        self.parsed_bytes = 0
        self.changed = False
        # after a scan limited to live sessions: the files the usage limits need (else None)
        self.limit_paths: list[str] | None = None

    def roots(self) -> list[Path]:
        return claude_roots(self.env)

    # -- persistence (the scan cache stores self.files between runs) --------------------
    def state(self) -> list[ClaudeFile]:
        return list(self.files.values())

    def restore(self, files: Iterable[ClaudeFile], settled: tuple[str, list] | None = None) -> None:
        self.files = {f.path: f for f in files}
        self.settled = settled

    # -- scanning ----------------------------------------------------------------------
    def scan(self, pool=None, progress=None, meanwhile=None, scope=None) -> ScanResult:
        """`meanwhile()` runs while pool workers parse (a big cold scan), if they do.

        With `scope` (a core.scope.LiveScope) only the project folders that may hold a
        running session are read and merged; what is known of the others is kept.
        """
        result = ScanResult(searched=[str(r / "projects") for r in self.roots()])
        found = list_transcripts(self.roots(), result.problems)
        self.limit_paths = None
        if scope is not None:
            found, recent = _in_scope(found, self.roots(), scope)
            self.limit_paths = [p for p, _, _ in recent]
            wanted = {p for p, _, _ in found}
            found_all = found + [item for item in recent if item[0] not in wanted]
        listing = ((path, (sub, sid)) for path, sub, sid in (found if scope is None else found_all))
        todo, gone = tailer.plan_reads(
            listing, self.files, lambda path, x: ClaudeFile(path=path, subagent=x[0], session=x[1]), result.problems,
            prune=scope is None,
        )
        self.parsed_bytes = sum(st.st_size - f.cursor.offset for f, st in todo)
        self.changed = bool(todo or gone)
        if todo:
            for f in self._parse_all(todo, pool, progress, result.problems, meanwhile):
                self.files[f.path] = f
        result.sessions = self._merge(None if scope is None else [self.files[p] for p, _, _ in found if p in self.files])
        return result

    def _parse_all(self, todo, pool, progress, problems: list[str], meanwhile=None) -> list[ClaudeFile]:
        if pool is not None and len(todo) > 1 and pool.wanted(self.parsed_bytes):
            parsed = pool.parse(todo, progress, problems, meanwhile)
            if parsed is not None:
                return parsed
        out = []
        for f, st in todo:
            out.append(parse_one(f, st, problems))
            if progress:
                progress(st.st_size)
        return out

    # -- format drift ------------------------------------------------------------------
    def usage_drift(self) -> int:
        return sum(f.usage_drift for f in self.files.values())

    def drift(self):
        from llm_sessions.core.drift import Tally

        t = Tally(self.tool, [str(r / "projects") for r in self.roots()])
        for f in self.files.values():
            t.file(f.path, lines=f.lines, malformed=f.malformed, versions=f.versions, unknown=f.drift,
                   usage_unknown=f.usage_drift)
            if not f.convo and not f.subagent:
                t.skip(f.path, "empty file" if not f.lines else "no conversation record (ghost stub or junk)")
        return t.done()

    # -- merging -----------------------------------------------------------------------
    def _merge(self, subset: list[ClaudeFile] | None = None) -> list[Session]:
        # Copied lines keep their timestamps, so a resumed file starts at the same instant as
        # the original; the original is the one whose history ends first.
        chosen = self.files.values() if subset is None else subset
        files = sorted(chosen, key=lambda f: (f.first_ts or "~", f.last_ts, f.path))
        accs: dict[str, _Acc] = {}
        for f in files:
            sid = f.session or Path(f.path).stem
            acc = accs.setdefault(sid, _Acc())
            acc.files.append(f)
            if not f.subagent and (acc.main is None or f.last_ts > acc.main.last_ts):
                acc.main = f
            for k, s in f.sums.items():
                acc.add(tuple(f.groups[k]), s)
        if subset is None:
            fp = _fingerprint(files)
            if self.settled is None or self.settled[0] != fp:
                self.settled = (fp, self._settle_duplicates(files))
            settled = self.settled[1]
        else:  # a few folders: settle them alone, keep the cached settlement of everything
            settled = self._settle_duplicates(files)
        for sid, group, deltas in settled:
            accs[sid].add(tuple(group), deltas)
        seen_errors: set[str] = set()
        for f in files:
            sid = f.session or Path(f.path).stem
            for uuid, api, tool in f.errors:
                if uuid not in seen_errors:
                    seen_errors.add(uuid)
                    accs[sid].api_errors += api
                    accs[sid].tool_errors += tool
        # A file with no conversation record (empty, only garbage, or a ghost stub holding
        # only ai-title/agent-name lines that background sessions leave) is not a session.
        return [self._session(sid, acc) for sid, acc in accs.items() if any(f.convo and f.first_ts for f in acc.files)]

    @staticmethod
    def _settle_duplicates(files: list[ClaudeFile]) -> list[tuple[str, Group, list[int]]]:
        """Count a key found in several files once: the first file owns it at its max usage.

        Returns corrections to the per-file sums, as (session, price group, deltas). They
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
        out: list[tuple[str, Group, list[int]]] = []
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
                vals = list(cols[pos * NCOLS : (pos + 1) * NCOLS])
                total = sum(vals) - vals[3]  # the 1-hour column is part of the writes
                group = tuple(f.groups[meta[pos]])
                owner = first.get(key)
                if owner is None:
                    first[key] = (f, pos, total)
                    continue
                # Not the owner: take this copy out of its own session ...
                out.append((sid, group, [-v for v in vals] + [-1]))
                of, opos, best = owner
                if total > best:
                    # ... and if it is larger, it becomes the owner's figure.
                    ocols = list(array("q", of.cols)[opos * NCOLS : (opos + 1) * NCOLS])
                    ogroup = tuple(of.groups[array("I", of.meta)[opos]])
                    osid = of.session or Path(of.path).stem
                    out.append((osid, ogroup, [-v for v in ocols] + [0]))
                    out.append((osid, group, vals + [0]))
                    first[key] = (of, opos, total)
        return out

    def _session(self, sid: str, acc: _Acc) -> Session:
        main = acc.main
        files = acc.files
        usage = Usage()
        bill = Bill()
        responses = 0
        models: dict[str, None] = {}
        for (model, bucket, speed, day, advisor), s in acc.sums.items():
            part = Usage(s[0], s[1], s[2], s[4])
            if not advisor:
                responses += s[NCOLS]
            usage = usage + part
            if part.total:
                models.setdefault(model)
                bill.add(self.prices, model, part, bucket=bucket, cache_1h=s[3], speed=speed, day=day or None)
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
            cost_usd=bill.rounded,
            models_used=tuple(models),
            unpriced=tuple(sorted(bill.unpriced)),
            api_errors=acc.api_errors,
            tool_errors=acc.tool_errors,
            compactions=main.compactions if main else 0,
            limit_resets_at=datetime.fromtimestamp(reset, UTC) if (reset := max(f.limit_reset for f in files)) else None,
            recent=recent,
            subagent_files=sum(1 for f in files if f.subagent),
            malformed_lines=sum(f.malformed for f in files),
            awaiting_user=bool(main and main.awaiting),
        )
