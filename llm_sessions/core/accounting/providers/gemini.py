"""Gemini CLI sessions, with the exact token counts its chat recordings carry.

Files: `<gemini dir>/tmp/<project-id>/chats/session-<date>-<id8>.json` (legacy: one JSON
object with `messages[]`) or `.jsonl` (append log). The append log is replayed the way the
CLI itself reads it: the first line is the session metadata; a line with an `id` is a
message, and a message re-appended after an update replaces the earlier copy in place
(last copy wins, so a turn whose tool calls were updated three times counts once);
`{"$set": {...}}` patches the metadata (and `$set.messages` is a batch of messages, upserted
by id like bare records); `{"$rewindTo": id}` drops that message and everything after it
from the conversation (an unknown id clears it) but not from the usage: those requests
were made and billed. Anything else is skipped and counted in `malformed_lines`, never fatal.

Token mapping. A `gemini` message carries `tokens{input, output, cached, thoughts, tool,
total}` where `input` is the whole prompt *including* the cached part and `tool` is the
tool-use prompt. So that `Usage.total` means the same for every assistant:

    input       = input - cached + tool
    cache_read  = cached
    output      = output + thoughts      (thinking is billed as output)

which sums to Gemini's own `total`. Context fill is the prompt of the latest turn
(`input + tool`, cached included) over the model's window when the window is known.
Output, as reported here, *includes* thoughts; Gemini's own `output` excludes them.

Subagents (2026): a recording's metadata says `kind: main|subagent`; a subagent's file sits
in `chats/<parent sessionId>/`. Its usage and cost count toward the parent session, never
its context, and it is not a session of its own. The project folder comes from the
metadata's `directories`, else the `.project_root` file in `tmp/<project-id>/`, else
`projects.json`.

Cost is priced per message: its model, its prompt-size bucket (Gemini bills the whole
request at the long-context rate above 200k prompt tokens) and the day it was written.
"""

from __future__ import annotations

import hashlib
import logging
import operator
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

from llm_sessions.core.accounting.pricing import Bill, size_bucket
from llm_sessions.core.accounting.providers._common import LineTail, WindowLookup, as_int, collect, loads, mtime, parse_time, stat_key
from llm_sessions.core.accounting.providers.base import ScanResult
from llm_sessions.core.accounting.roots import gemini_dir
from llm_sessions.core.accounting.sanity import MAX_DOCUMENT_BYTES, MAX_SIDE_FILE_BYTES
from llm_sessions.core.fields import list_at, str_at
from llm_sessions.core.models import ContextFill, Session, TurnMark, Usage
from llm_sessions.core.safeio import read_regular

log = logging.getLogger(__name__)
RECENT = 50
_TOKEN_FIELDS = frozenset({"input", "output", "cached", "thoughts", "tool", "total"})
_MESSAGE_TYPES = frozenset({"user", "gemini", "error", "info", "warning"})


class _File(msgspec.Struct):
    key: tuple[int, int, int] | None = None
    tail: LineTail | None = None
    meta: dict = msgspec.field(default_factory=dict)
    messages: dict[str, dict] = msgspec.field(default_factory=dict)
    rewound: dict[str, dict] = msgspec.field(default_factory=dict)  # cut by $rewindTo: gone from the chat, not from the bill
    skipped: int = 0
    lines: int = 0
    unknown: dict[str, int] = msgspec.field(default_factory=dict)  # record shapes not understood
    drift: dict[str, int] = msgspec.field(default_factory=dict)  # derived from the messages at build
    usage_drift: int = 0
    session: Session | None = None


def gemini_usage(tokens: Mapping[str, Any]) -> Usage:
    """One message's `tokens` object as Usage (see the module docstring for the mapping)."""
    cached = as_int(tokens.get("cached"))
    prompt = as_int(tokens.get("input"))
    return Usage(
        input=max(0, prompt - cached) + as_int(tokens.get("tool")),
        output=as_int(tokens.get("output")) + as_int(tokens.get("thoughts")),
        cache_read=cached,
    )


class GeminiProvider:
    tool = "gemini"

    def __init__(self, env: Mapping[str, str], settings=None, *, context_window: WindowLookup | None = None,
                 prices=None) -> None:
        self.env = dict(env)
        self.settings = settings
        self.context_window = context_window
        self.prices = prices
        self.base = gemini_dir(self.env)
        self._files: dict[str, _File] = {}
        self._folded: dict[str, tuple[tuple[Session, ...], Session]] = {}  # parent id -> (sessions in, folded)
        self._projects_key: tuple | None = None
        self._projects: dict[str, str] = {}
        self.parses = 0  # files (re)read, for tests

    def roots(self) -> list[Path]:
        return [self.base / "tmp"]

    # -------------------------------------------------------------- project names
    def _project_roots(self) -> dict[str, str]:
        """project id -> folder, from `projects.json` (newer builds use short slugs) and
        the sha256 of each folder listed there (older builds name the folder by hash)."""
        path = self.base / "projects.json"
        key = stat_key(path)
        if key == self._projects_key:
            return self._projects
        self._projects_key, self._projects = key, {}
        try:
            data = loads(read_regular(path, MAX_SIDE_FILE_BYTES)) if key else None
        except OSError:
            data = None
        table = data.get("projects", data) if isinstance(data, dict) else None
        if isinstance(table, dict):
            for folder, slug in table.items():
                if isinstance(folder, str):
                    if isinstance(slug, str):
                        self._projects[slug] = folder
                    self._projects[hashlib.sha256(folder.encode()).hexdigest()] = folder
        return self._projects

    # -------------------------------------------------------------- scan
    def scan(self) -> ScanResult:
        result = ScanResult(searched=[str(p) for p in self.roots()])
        tmp = self.base / "tmp"
        if not tmp.is_dir():
            return result
        projects = self._project_roots()
        paths = [p for p in sorted(tmp.glob("*/chats/session-*.json*")) if p.suffix in (".json", ".jsonl")]
        paths += sorted(tmp.glob("*/chats/*/*.jsonl"))  # subagents, in chats/<parent session id>/
        found = ScanResult()
        collect(paths, self._files, _File, self._read, lambda path, state: self._session(path, state, projects), found)
        result.problems.extend(found.problems)
        result.sessions = self._fold_subagents(found.sessions)
        return result

    def usage_drift(self) -> int:
        return sum(st.usage_drift for st in self._files.values())

    def drift(self):
        from llm_sessions.core.accounting.drift import Tally

        t = Tally(self.tool, [str(r) for r in self.roots()])
        for path, st in self._files.items():
            t.file(path, lines=st.lines or int(bool(st.meta)), malformed=st.skipped - sum(st.unknown.values()),
                   unknown=st.drift, usage_unknown=st.usage_drift,
                   versions={"json (legacy)" if path.endswith(".json") else "jsonl": 1})
            if st.session is None and st.key is not None:
                t.skip(path, "no session metadata")
        return t.done()

    def _fold_subagents(self, sessions: list[Session]) -> list[Session]:
        """Add each subagent file's usage and cost to its parent; parents stay sessions.
        A parent whose own and subagents' sessions are last scan's objects is last scan's
        folded object, so an idle poll hands on the same sessions (the monitor skips those)."""
        main = [s for s in sessions if not self._is_subagent(s)]
        by_id = {s.id: i for i, s in enumerate(main)}
        subs: dict[int, list[Session]] = {}
        for sub in (s for s in sessions if self._is_subagent(s)):
            path = sub.transcript or ""  # a subagent is known by its file, so it has one
            parent = self._files[path].meta.get("parentSessionId") or Path(path).parent.name
            i = by_id.get(parent)
            if i is not None:  # else its parent's file is gone: nothing to add it to
                subs.setdefault(i, []).append(sub)
        folded: dict[str, tuple[tuple[Session, ...], Session]] = {}
        for i, own in subs.items():
            key = (main[i], *own)
            memo = self._folded.get(main[i].id)
            if memo is not None and len(memo[0]) == len(key) and all(map(operator.is_, memo[0], key)):
                main[i] = memo[1]
            else:
                for sub in own:
                    main[i] = _fold(main[i], sub)
            folded[main[i].id] = (key, main[i])
        self._folded = folded
        return main

    def _is_subagent(self, s: Session) -> bool:
        state = self._files.get(s.transcript or "")
        return state is not None and (state.meta.get("kind") == "subagent" or Path(s.transcript or "").parent.name != "chats")

    def _read(self, path: Path, state: _File, key: tuple[int, int, int]) -> None:
        self.parses += 1
        if path.suffix == ".json":
            data = loads(read_regular(path, MAX_DOCUMENT_BYTES))
            state.meta, state.messages, state.rewound, state.skipped, state.unknown = {}, {}, {}, 0, {}
            if not isinstance(data, dict):
                state.skipped = 1
                return
            state.meta = {k: v for k, v in data.items() if k != "messages"}
            for msg in data.get("messages") or ():
                self._add(state, msg)
            return
        if state.tail is None:
            state.tail = LineTail(path)
        lines, restarted = state.tail.read(key)
        if restarted:
            state.meta, state.messages, state.rewound, state.skipped, state.unknown = {}, {}, {}, 0, {}
        for line in lines:
            state.lines += 1
            self._apply(state, loads(line))

    def _add(self, state: _File, msg: Any) -> None:
        if isinstance(msg, dict) and isinstance(msg.get("id"), str):
            state.messages[msg["id"]] = msg  # a re-appended id keeps its place, last copy wins
        else:
            state.skipped += 1

    def _apply(self, state: _File, record: Any) -> None:
        if not isinstance(record, dict):
            state.skipped += 1
            return
        if isinstance(record.get("$rewindTo"), str):
            ids = list(state.messages)
            target = record["$rewindTo"]
            cut = ids.index(target) if target in ids else 0
            for mid in ids[cut:]:
                state.rewound[mid] = state.messages.pop(mid)
        elif isinstance(record.get("id"), str):
            self._add(state, record)
        elif isinstance(record.get("$set"), dict):
            patch = record["$set"]
            state.meta.update({k: v for k, v in patch.items() if k != "messages"})
            if isinstance(patch.get("messages"), list):
                for msg in patch["messages"]:  # a batch: upserted by id like bare records
                    self._add(state, msg)
        elif not state.meta and ("sessionId" in record or "startTime" in record):
            state.meta = {k: v for k, v in record.items() if k != "messages"}
            for msg in record.get("messages") or ():
                self._add(state, msg)
        else:
            state.skipped += 1
            shape = "record:" + ",".join(sorted(str(k) for k in record)[:4])
            state.unknown[shape] = state.unknown.get(shape, 0) + 1

    def _session(self, path: Path, state: _File, projects: Mapping[str, str]) -> Session | None:
        meta = state.meta
        sid = str_at(meta, "sessionId", path.stem)
        usage = Usage()
        bill = Bill()
        models: dict[str, None] = {}
        turns = api_errors = tool_errors = 0
        model = None
        last_prompt = None
        recent: list[TurnMark] = []
        drift: dict[str, int] = dict(state.unknown)
        usage_drift = 0
        last_time = None
        last_kind = None
        last_has_tools = False
        # Rewound messages first: they were billed (usage, cost, errors), but the current
        # conversation (context, model, last turn) is what the messages still say.
        rewound = [m for mid, m in state.rewound.items() if mid not in state.messages]
        for msg in (*rewound, *state.messages.values()):
            kind = msg.get("type")
            if kind not in _MESSAGE_TYPES:
                drift[f"message:{kind}"] = drift.get(f"message:{kind}", 0) + 1
                usage_drift += isinstance(msg.get("tokens"), dict)
            at = parse_time(msg.get("timestamp"))
            last_time = at or last_time
            if kind == "gemini":
                turns += 1
                tokens = msg.get("tokens") if isinstance(msg.get("tokens"), dict) else None
                if isinstance(msg.get("model"), str):
                    model = msg["model"]
                for name in tokens or ():
                    if name not in _TOKEN_FIELDS:
                        drift[f"usage:{name}"] = drift.get(f"usage:{name}", 0) + 1
                        usage_drift += 1
                if tokens:
                    part = gemini_usage(tokens)
                    usage = usage + part
                    last_prompt = as_int(tokens.get("input")) + as_int(tokens.get("tool"))
                    if part.total:
                        models.setdefault(model or "unknown")
                        day = msg["timestamp"][:10] if isinstance(msg.get("timestamp"), str) else None
                        bill.add(self.prices, model, part, bucket=size_bucket(last_prompt), day=day)
                calls = list_at(msg, "toolCalls")
                failed = sum(1 for c in calls if isinstance(c, dict) and c.get("status") == "error")
                tool_errors += failed
                last_has_tools = bool(calls)
                if at:
                    recent.append(TurnMark(at, "assistant", tool_error=failed > 0))
            elif kind == "user":
                if at:
                    recent.append(TurnMark(at, "user"))
            elif kind == "error":
                api_errors += 1
                if at:
                    recent.append(TurnMark(at, "assistant", api_error=True))
            if kind in ("gemini", "user", "error"):
                last_kind = kind
        cwd = None
        dirs = meta.get("directories")
        project = path.parent.parent if path.parent.name == "chats" else path.parent.parent.parent
        if isinstance(dirs, list) and dirs and isinstance(dirs[0], str):
            cwd = dirs[0]
        else:
            cwd = (_project_root(project) or projects.get(project.name)
                   or projects.get(str(meta.get("projectHash", ""))))
        state.drift, state.usage_drift = drift, usage_drift
        context = None
        window = self.context_window(model) if (self.context_window and model) else None
        if last_prompt is not None and window:
            context = ContextFill(used=last_prompt, window=window, source="last turn")
        return Session(
            id=sid,
            tool="gemini",
            transcript=str(path),
            cwd=cwd,
            model=model,
            title=str_at(meta, "summary"),
            started_at=parse_time(meta.get("startTime")),
            last_activity=parse_time(meta.get("lastUpdated")) or last_time or mtime(path),
            turns=turns,
            usage=usage,
            context=context,
            cost_usd=bill.rounded,
            models_used=tuple(models),
            unpriced=tuple(sorted(bill.unpriced)),
            api_errors=api_errors,
            tool_errors=tool_errors,
            recent=tuple(recent[-RECENT:]),
            malformed_lines=state.skipped,
            awaiting_user=last_kind == "gemini" and not last_has_tools,
        )


def _project_root(project: Path) -> str | None:
    """The folder a project id stands for, from the `.project_root` file newer builds write."""
    try:
        text = read_regular(project / ".project_root", MAX_SIDE_FILE_BYTES).decode("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return text or None


def _fold(p: Session, sub: Session) -> Session:
    """A parent session with one subagent's usage, cost and counts added."""
    cost = None if p.cost_usd is None or sub.cost_usd is None else round(p.cost_usd + sub.cost_usd, 6)
    return p.with_(
        usage=p.usage + sub.usage, cost_usd=cost, turns=p.turns + sub.turns,
        models_used=tuple(dict.fromkeys(p.models_used + sub.models_used)),
        unpriced=tuple(sorted(set(p.unpriced) | set(sub.unpriced))),
        subagent_files=p.subagent_files + 1, tool_errors=p.tool_errors + sub.tool_errors,
        api_errors=p.api_errors + sub.api_errors, malformed_lines=p.malformed_lines + sub.malformed_lines,
    )
