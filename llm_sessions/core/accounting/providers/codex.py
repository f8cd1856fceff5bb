"""OpenAI Codex CLI: rollout files under `$CODEX_HOME/sessions/YYYY/MM/DD/`, exact counts.

Codex writes a cumulative counter (`total_token_usage`) in every `token_count` event, so a
session's totals are its last counter, never a sum of events: re-emitted events repeat the
counter unchanged and summing `last_token_usage` would count them twice.

The provider finds the rollouts (live and archived), folds each file's new lines into its
`CodexFile` (codex_file.py: forks, replays, resumes, history_base cuts, MultiAgent children,
compaction records, aborted turns, service tiers; the lines' typed shape and guards are
codex_lines.py's, rate limits codex_rates.py's), and makes one session per thread from the
files that share its id (codex_thread.py).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import partial
from pathlib import Path

from llm_sessions.core.accounting import tailer
from llm_sessions.core.accounting.providers.base import ScanResult
from llm_sessions.core.accounting.providers.codex_file import RECENT_KEEP, CodexFile
from llm_sessions.core.accounting.providers.codex_lines import TIERS
from llm_sessions.core.accounting.providers.codex_thread import thread_session
from llm_sessions.core.accounting.roots import codex_home, existing_dir
from llm_sessions.core.accounting.sanity import MAX_SIDE_FILE_BYTES
from llm_sessions.core.problems import unreadable_file, unreadable_folder
from llm_sessions.core.safeio import printable, read_regular


def list_rollouts(home: Path, problems: list) -> list[tuple[str, tuple[bool]]]:
    """Every rollout under sessions/ and archived_sessions/, as (path, (archived,))."""
    out = []
    for sub, archived in (("sessions", False), ("archived_sessions", True)):
        top = home / sub
        if not existing_dir(top, problems):
            continue
        for folder, _dirs, names in os.walk(top, onerror=lambda e: problems.append(unreadable_folder(e.filename, e))):
            for n in names:
                if n.endswith(".jsonl"):
                    out.append((os.path.join(folder, n), (archived,)))
    return out


class CodexProvider:
    tool = "codex"

    def __init__(self, env: Mapping[str, str], settings=None, prices=None) -> None:
        self.env = env
        self.settings = settings
        self.prices = prices
        self.files: dict[str, CodexFile] = {}
        self._built: tuple[list, list] | None = None  # last scan's sessions and problems
        self.changed = False
        self.parsed_bytes = 0

    def roots(self) -> list[Path]:
        return [codex_home(self.env) / "sessions", codex_home(self.env) / "archived_sessions"]

    def state(self) -> list[CodexFile]:
        return list(self.files.values())

    def restore(self, files) -> None:
        """Per-file states from the scan cache: a path -> state mapping (decoded lazily, see
        scancache.LazyStates) or a list of states."""
        self.files = files if isinstance(files, dict) else {f.path: f for f in files}
        self._built = None

    def default_tier(self) -> str:
        """The service tier Codex applies when a rollout records none: config.toml's."""
        try:  # a regular file of sane size only: a FIFO there must not hang the scan
            text = read_regular(codex_home(self.env) / "config.toml", MAX_SIDE_FILE_BYTES).decode()
        except (OSError, UnicodeDecodeError):
            return ""
        import tomllib  # here: most machines have no config.toml, and every scan asks

        try:
            tier = tomllib.loads(text).get("service_tier")
        except tomllib.TOMLDecodeError:
            return ""
        return TIERS.get(tier, "") if isinstance(tier, str) else ""

    def scan(self, pool=None, progress=None) -> ScanResult:
        home = codex_home(self.env)
        result = ScanResult(searched=[str(r) for r in self.roots()])
        # ScanResult types its problems as text, but the scan reports Problem values too
        # (as every provider does); this list is the same object, typed as what it holds.
        problems: list = result.problems
        todo, gone = tailer.plan_reads(
            list_rollouts(home, problems), self.files, lambda path, extra: CodexFile(path=path, archived=extra[0]), problems,
        )
        self.changed = bool(todo or gone)
        self.parsed_bytes = sum(st.st_size - f.cursor.offset for f, st in todo)
        if not self.changed and self._built is not None:
            # Nothing grew: last scan's sessions stand (a dashboard polls every few seconds).
            result.sessions, built_problems = self._built
            problems.extend(built_problems)
            return result
        tier = self.default_tier() if todo else ""
        for f, st in todo:
            try:
                failed = tailer.fold(f.path, f.cursor, st, partial(f.feed, default_tier=tier))  # feed counts what it rejects
                f.malformed += failed
            except OSError as exc:
                problems.append(unreadable_file(f.path, exc))
            if progress:
                progress(st.st_size)
            if len(f.recent) > RECENT_KEEP:
                del f.recent[:-RECENT_KEEP]
        # The same rollout can sit in sessions/ and archived_sessions/: one copy counts, the
        # live one. Files that differ but share an id are pages of one thread (or resumes
        # written to a new file): they make one session together.
        start = len(problems)
        copies: dict[str, CodexFile] = {}
        for f in self.files.values():
            name = os.path.basename(f.path)
            other = copies.get(name)
            if other is None or (other.archived, other.last_ts) > (f.archived, f.last_ts):
                copies[name] = f
        by_id: dict[str, list[CodexFile]] = {}
        for f in copies.values():
            by_id.setdefault(f.id or printable(Path(f.path).stem), []).append(f)
        result.sessions = [thread_session(sid, sorted(fs, key=lambda f: (f.first_ts, f.path)), by_id, problems,
                                          self.settings, self.prices)
                           for sid, fs in by_id.items()]
        self._built = (list(result.sessions), problems[start:])
        return result

    def usage_drift(self) -> int:
        return sum(f.usage_drift for f in self.files.values())

    def drift(self):
        from llm_sessions.core.accounting.drift import Tally

        t = Tally(self.tool, [str(r) for r in self.roots()])
        for f in self.files.values():
            t.file(f.path, lines=f.ordinal, malformed=f.malformed, versions=f.versions, unknown=f.drift,
                   usage_unknown=f.usage_drift)
            if not f.id:
                t.skip(f.path, "no session_meta record")
        return t.done()
