"""Aider sessions, from the `.aider.chat.history.md` it keeps in each repository.

Aider has no central folder, so the provider has to be told where to look:
- the folders named in config (`[aider] paths`, globs allowed, e.g. `~/code/*`; the older
  `[aider] repos` still works), separated by the OS path separator;
- the cwd of every running Aider process (from discovery), and
- every cwd any other assistant's transcripts mention: people who use Aider usually use
  another assistant in the same repositories, so finished Aider runs are found without
  any setup. The monitor hands both over with `note_cwds()`.
A cwd inside a repository finds the history at the repository root, where Aider writes it.

One history file holds every run in that repository; each run starts with
`# aider chat started at <time>` and is one session. The counts come from lines like

    > Tokens: 4.5k sent, 1.2k cache write, 3.3k cache hit, 429 received. Cost: $0.0018 message, $0.0020 session.

`sent` -> input, `cache write` -> cache_creation, `cache hit` -> cache_read, `received` ->
output; the run's cost is its last `session` figure. Aider prints counts of 1,000 and more
rounded with a `k` (or `M`) suffix, so a run whose figures went through a suffix has
`Usage.exact = False`: the numbers are Aider's own, but rounded. Context fill is the last
message's prompt (`sent` + cache) when the model's window is known.
"""

from __future__ import annotations

import glob
import hashlib
import os
import re
import time
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path

import msgspec

from llm_sessions.core.accounting.providers._common import LineTail, WindowLookup, mtime, refresh
from llm_sessions.core.accounting.providers.base import ScanResult
from llm_sessions.core.models import ContextFill, Session, TurnMark, Usage

HISTORY = ".aider.chat.history.md"
RECENT = 50
#: Seconds a folder's answer "no history here" is trusted before looking again.
RECHECK_SECONDS = 60.0

_START = re.compile(r"^# aider chat started at (\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d)")
_TOKENS = re.compile(r"^> Tokens: (.*?)(?:\.\s*Cost: (.*))?$")
_PART = re.compile(r"([\d.,]+)\s*([kKmM]?)\s+(sent|received|cache write|cache hit)")
_SESSION_COST = re.compile(r"\$([\d.,]+)\s+session")
_MODEL = re.compile(r"^> (?:Main model|Model): (\S+)")
_USER = re.compile(r"^#### ")
_ERROR = re.compile(r"^> .*(?:litellm\.\w+Error|APIError|RateLimitError|API provider)", re.I)


def parse_count(number: str, suffix: str) -> tuple[int, bool]:
    """('4.5', 'k') -> (4500, False): a suffixed figure was rounded by Aider."""
    value = float(number.replace(",", ""))
    if suffix.lower() == "k":
        return round(value * 1_000), False
    if suffix.lower() == "m":
        return round(value * 1_000_000), False
    return round(value), True


class _Run(msgspec.Struct):
    started: datetime
    line: int
    model: str | None = None
    usage: Usage = msgspec.field(default_factory=Usage)
    cost: float | None = None
    messages: int = 0
    last_prompt: int | None = None
    api_errors: int = 0
    recent: list[TurnMark] = msgspec.field(default_factory=list)
    awaiting: bool = False
    skipped: int = 0


class _File(msgspec.Struct):
    key: tuple[int, int, int] | None = None
    tail: LineTail | None = None
    runs: list[_Run] = msgspec.field(default_factory=list)
    lines: int = 0
    sessions: list[Session] = msgspec.field(default_factory=list)


class AiderProvider:
    tool = "aider"

    def __init__(
        self,
        env: Mapping[str, str],
        settings=None,
        *,
        repos: Iterable[str] = (),
        context_window: WindowLookup | None = None,
    ) -> None:
        self.env = dict(env)
        self.settings = settings
        self.context_window = context_window
        configured = [getattr(settings, f"aider_{k}", "") if settings is not None else "" for k in ("paths", "repos")]
        self._patterns: list[str] = [p.strip() for c in configured for p in str(c).split(os.pathsep) if p.strip()]
        self._repos: set[str] = set(repos)
        self._noted: set[str] = set()  # cwds from discovery and other assistants' sessions
        self._where: dict[str, tuple[float, Path | None]] = {}  # folder -> (checked at, history)
        self._files: dict[str, _File] = {}
        self.parses = 0

    def note_cwds(self, cwds: Iterable[str | None]) -> bool:
        """Folders worth a look (running Aider processes, cwds of other assistants'
        sessions); True when one of them is new."""
        new = {c for c in cwds if c and c not in self._noted}
        self._noted |= new
        return bool(new)

    def _folders(self) -> set[str]:
        folders = set(self._repos) | self._noted
        for pattern in self._patterns:
            expanded = os.path.expanduser(pattern)
            if glob.has_magic(expanded):
                folders.update(p for p in glob.glob(expanded, recursive=True) if os.path.isdir(p))
            else:
                folders.add(expanded)
        return folders

    def _histories(self) -> list[Path]:
        """The history files that exist for the folders to look at (misses re-checked once a minute)."""
        now = time.monotonic()
        found: set[Path] = set()
        walked: dict[str, str | None] = {}  # parents shared by many folders are looked at once
        for folder in self._folders():
            hit = self._where.get(folder)
            if hit is None or (hit[1] is None and now - hit[0] > RECHECK_SECONDS):
                path = self._history_of(Path(folder), walked)
                hit = self._where[folder] = (now, path if path.is_file() else None)
            if hit[1] is not None:
                found.add(hit[1])
        return sorted(found)

    def roots(self) -> list[Path]:
        return sorted({h.parent for h in self._histories()} | {Path(p) for p in self._repos})

    @staticmethod
    def _history_of(folder: Path, walked: dict[str, str | None] | None = None) -> Path:
        """The history file for a folder: in it, or at the root of its git repository.

        `walked` remembers, per directory, where a walk up from it ends (a history file or a
        git root, None past the top): a poll looks at the cwd of every session, and those
        share most of their parents. String paths: this runs for hundreds of folders.
        """
        folder = folder.expanduser()
        walked = {} if walked is None else walked
        seen: list[str] = []
        candidate = str(folder)
        while True:
            if candidate in walked:
                end = walked[candidate]
                break
            seen.append(candidate)
            if os.path.isfile(os.path.join(candidate, HISTORY)) or os.path.exists(os.path.join(candidate, ".git")):
                end = candidate
                break
            parent = os.path.dirname(candidate)
            if parent == candidate:
                end = None
                break
            candidate = parent
        for d in seen:
            walked[d] = end
        return Path(end) / HISTORY if end is not None else folder / HISTORY

    def scan(self) -> ScanResult:
        result = ScanResult()
        histories = self._histories()
        result.searched = [str(h) for h in histories] or [f"{HISTORY} in {p}" for p in self._patterns]
        for path in histories:
            state = self._files.setdefault(str(path), _File())
            if refresh(path, state, self._read, result.problems):
                modified = mtime(path)
                state.sessions = [
                    self._session(path, run, state.runs[i + 1].started if i + 1 < len(state.runs) else modified)
                    for i, run in enumerate(state.runs)
                ]
            result.sessions.extend(state.sessions)
        return result

    def usage_drift(self) -> int:
        return 0  # a Tokens line Aider prints in a new way is counted as skipped, not as usage

    def drift(self):
        from llm_sessions.core.accounting.drift import Tally

        t = Tally(self.tool, [str(h) for h in self._histories()] or self._patterns)
        for path, st in self._files.items():
            skipped = sum(r.skipped for r in st.runs)
            t.file(path, lines=st.lines, versions={"history.md": len(st.runs)},
                   unknown={"Tokens line not understood": skipped} if skipped else None)
            if st.lines and not st.runs:
                t.skip(path, "no '# aider chat started at' line")
        return t.done()

    def _read(self, path: Path, state: _File, key: tuple[int, int, int]) -> None:
        self.parses += 1
        if state.tail is None:
            state.tail = LineTail(path)
        raw, restarted = state.tail.read(key)
        if restarted:
            state.runs, state.lines = [], 0
        # The history has no per-message times: lines first seen in this read are dated
        # by the file's mtime now, which is exact for a live run polled every few seconds.
        at = mtime(path)
        for line in raw:
            state.lines += 1
            self._line(state, line.decode("utf-8", "replace").rstrip("\r"), state.lines, at)

    def _line(self, state: _File, text: str, number: int, at: datetime | None) -> None:
        start = _START.match(text)
        if start:
            state.runs.append(_Run(datetime.fromisoformat(start.group(1).replace(" ", "T")).astimezone(), number))
            return
        if not state.runs:
            return
        run = state.runs[-1]
        if _USER.match(text):
            run.messages += 1
            run.awaiting = False
            run.recent.append(TurnMark(max(at or run.started, run.started), "user"))
            return
        model = _MODEL.match(text)
        if model:
            run.model = model.group(1)
            return
        tokens = _TOKENS.match(text)
        if tokens:
            counts = {"sent": 0, "received": 0, "cache write": 0, "cache hit": 0}
            exact = True
            parts = _PART.findall(tokens.group(1))
            if not parts:
                run.skipped += 1
                return
            for figure, suffix, label in parts:
                try:
                    value, precise = parse_count(figure, suffix)
                except ValueError:
                    run.skipped += 1
                    return
                counts[label] += value
                exact = exact and precise
            run.usage = run.usage + Usage(
                input=counts["sent"],
                output=counts["received"],
                cache_creation=counts["cache write"],
                cache_read=counts["cache hit"],
                exact=exact,
            )
            run.last_prompt = counts["sent"] + counts["cache write"] + counts["cache hit"]
            if tokens.group(2):
                cost = _SESSION_COST.search(tokens.group(2))
                if cost:
                    run.cost = float(cost.group(1).replace(",", ""))
            run.awaiting = True
            run.recent.append(TurnMark(max(at or run.started, run.started), "assistant"))
            return
        if _ERROR.match(text):
            run.api_errors += 1
            run.recent.append(TurnMark(max(at or run.started, run.started), "assistant", api_error=True))

    def _session(self, path: Path, run: _Run, last_activity: datetime | None) -> Session:
        repo = str(path.parent)
        digest = hashlib.sha1(repo.encode()).hexdigest()[:8]
        window = self.context_window(run.model) if (self.context_window and run.model) else None
        context = (
            ContextFill(used=run.last_prompt, window=window, exact=run.usage.exact, source="last message")
            if run.last_prompt is not None and window
            else None
        )
        return Session(
            id=f"aider-{digest}-{run.started.strftime('%Y%m%dT%H%M%S')}",
            tool="aider",
            transcript=str(path),
            cwd=repo,
            model=run.model,
            started_at=run.started,
            # One timestamp per run in the file: a run ends when the next starts, the last
            # one at the file's mtime.
            last_activity=last_activity,
            turns=run.messages,
            usage=run.usage,
            context=context,
            cost_usd=run.cost,
            models_used=(run.model,) if run.model and run.usage.total else (),
            api_errors=run.api_errors,
            recent=tuple(run.recent[-RECENT:]),
            malformed_lines=run.skipped,
            awaiting_user=run.awaiting,
        )
