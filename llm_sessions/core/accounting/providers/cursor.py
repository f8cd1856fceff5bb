"""Cursor composer sessions, from its SQLite state databases.

Cursor keeps chats in `<user dir>/globalStorage/state.vscdb`, table `cursorDiskKV(key,
value)`: `composerData:<id>` holds a composer's name, times, model and (in newer builds)
its context figures; `bubbleId:<composerId>:<bubbleId>` holds each message with `text`,
`type` (1 user, 2 assistant) and `tokenCount{inputTokens, outputTokens}`. Each
`workspaceStorage/<hash>/state.vscdb` lists, in `ItemTable` under
`composer.composerData`, the composers opened in that workspace, and `workspace.json`
beside it names the folder: that is the session's cwd.

Cursor runs the databases in WAL mode and writes while we read, so they are opened
read-only through a `file:...?mode=ro` URI (never locking Cursor out), only when the
database or its `-wal` file changed, and a composer's messages are re-read only when its
`lastUpdatedAt` moved.

Counts: `tokenCount` is often 0, so a message without counts is estimated from its text
(~4 characters per token, `estimate.py`) and the session's `Usage.exact` is then False.
Context fill is exact from `contextTokensUsed`/`contextTokenLimit` when present, derived
from `contextUsagePercent` otherwise (marked inexact), and estimated from the messages as
a last resort when the model's window is known.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlparse

import msgspec

from llm_sessions.core.accounting.estimate import Estimator, text_tokens
from llm_sessions.core.accounting.providers._common import WindowLookup, as_int, parse_time, stat_key
from llm_sessions.core.accounting.providers.base import ScanResult
from llm_sessions.core.accounting.roots import cursor_user_dir
from llm_sessions.core.accounting.sanity import MAX_SIDE_FILE_BYTES
from llm_sessions.core.fields import dict_at, str_at
from llm_sessions.core.models import ContextFill, Session, TurnMark, Usage
from llm_sessions.core.problems import Problem
from llm_sessions.core.safeio import read_regular

RECENT = 50
USER, ASSISTANT = 1, 2


def open_readonly(path: Path) -> sqlite3.Connection:
    """A read-only connection that never writes, locks or creates the file."""
    uri = f"file:{quote(str(path))}?mode=ro"
    conn = sqlite3.connect(uri, uri=True, timeout=1.0, check_same_thread=False)
    conn.execute("PRAGMA query_only = 1")
    return conn


def _json(value: Any) -> Any:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return None
    try:
        return json.loads(value)
    except ValueError:
        return None


class _Composer(msgspec.Struct):
    updated: Any = None
    session: Session | None = None


class _Db(msgspec.Struct):
    key: tuple | None = None
    composers: dict[str, _Composer] = msgspec.field(default_factory=dict)


class CursorProvider:
    tool = "cursor"

    def __init__(
        self,
        env: Mapping[str, str],
        settings=None,
        *,
        context_window: WindowLookup | None = None,
        estimator: Estimator | None = None,
    ) -> None:
        self.env = dict(env)
        self.settings = settings
        self.context_window = context_window
        self.estimator = estimator or Estimator(env=self.env)
        self.user_dir = cursor_user_dir(self.env)
        self._global = _Db()
        self._workspaces: dict[str, tuple[tuple | None, str | None, frozenset[str]]] = {}
        self.queries = 0  # composers whose messages were (re)read, for tests

    def roots(self) -> list[Path]:
        return [self.user_dir / "globalStorage", self.user_dir / "workspaceStorage"]

    @staticmethod
    def _db_key(path: Path) -> tuple | None:
        main = stat_key(path)
        return None if main is None else (main, stat_key(Path(f"{path}-wal")))

    def _workspace_folders(self, problems: list[str | Problem]) -> dict[str, str]:
        """composer id -> workspace folder, from every workspace database that changed."""
        base = self.user_dir / "workspaceStorage"
        out: dict[str, str] = {}
        seen = set()
        for db in sorted(base.glob("*/state.vscdb")) if base.is_dir() else ():
            name = str(db)
            seen.add(name)
            key = self._db_key(db)
            cached = self._workspaces.get(name)
            if cached is None or cached[0] != key:
                folder = None
                try:
                    meta = _json(read_regular(db.parent / "workspace.json", MAX_SIDE_FILE_BYTES))
                except OSError:
                    meta = None
                if isinstance(meta, dict) and isinstance(meta.get("folder"), str):
                    uri = urlparse(meta["folder"])
                    folder = unquote(uri.path) if uri.scheme == "file" else meta["folder"]
                ids: set[str] = set()
                try:
                    conn = open_readonly(db)
                    try:
                        row = conn.execute("SELECT value FROM ItemTable WHERE key = 'composer.composerData'").fetchone()
                    finally:
                        conn.close()
                    data = _json(row[0]) if row else None
                    for c in (data or {}).get("allComposers", ()) if isinstance(data, dict) else ():
                        if isinstance(c, dict) and isinstance(c.get("composerId"), str):
                            ids.add(c["composerId"])
                except sqlite3.Error as exc:
                    problems.append(f"{db}: cannot read: {exc}")
                cached = self._workspaces[name] = (key, folder, frozenset(ids))
            _, folder, composers = cached
            if folder:
                for cid in composers:
                    out[cid] = folder
        for gone in self._workspaces.keys() - seen:
            del self._workspaces[gone]
        return out

    def scan(self) -> ScanResult:
        result = ScanResult(searched=[str(p) for p in self.roots()])
        db = self.user_dir / "globalStorage" / "state.vscdb"
        key = self._db_key(db)
        folders = self._workspace_folders(result.problems)
        if key is None:
            self._global = _Db()
            return result
        if key != self._global.key:
            try:
                self._read(db, folders)
                self._global.key = key
            except sqlite3.Error as exc:
                result.problems.append(f"{db}: cannot read: {exc}")
        for composer in self._global.composers.values():
            if composer.session is not None:
                s = composer.session
                if s.cwd is None and s.id in folders:
                    s = composer.session = s.with_(cwd=folders[s.id])
                result.sessions.append(s)
        return result

    def _read(self, db: Path, folders: Mapping[str, str]) -> None:
        conn = open_readonly(db)
        try:
            rows = conn.execute(
                "SELECT key, value FROM cursorDiskKV WHERE key >= 'composerData:' AND key < 'composerData;'"
            ).fetchall()
            alive = set()
            for key, value in rows:
                cid = key.split(":", 1)[1]
                alive.add(cid)
                data = _json(value)
                state = self._global.composers.setdefault(cid, _Composer())
                if not isinstance(data, dict):
                    state.session = None
                    continue
                updated = data.get("lastUpdatedAt")
                if state.session is not None and updated == state.updated and updated is not None:
                    continue
                self.queries += 1
                bubbles = conn.execute(
                    "SELECT key, value FROM cursorDiskKV WHERE key >= ? AND key < ?",
                    (f"bubbleId:{cid}:", f"bubbleId:{cid};"),
                ).fetchall()
                state.updated = updated
                state.session = self._session(db, cid, data, bubbles, folders.get(cid))
            for gone in self._global.composers.keys() - alive:
                del self._global.composers[gone]
        finally:
            conn.close()

    def _session(self, db: Path, cid: str, data: dict, rows: list, folder: str | None) -> Session:
        order = {
            h.get("bubbleId"): i
            for i, h in enumerate(data.get("fullConversationHeadersOnly") or ())
            if isinstance(h, dict)
        }
        bubbles = []
        skipped = 0
        for key, value in rows:
            bubble = _json(value)
            if not isinstance(bubble, dict):
                skipped += 1
                continue
            bid = key.rsplit(":", 1)[-1]
            bubbles.append((order.get(bid, len(order)), parse_time(bubble.get("createdAt")), bubble))
        if not bubbles and isinstance(data.get("conversation"), list):  # older builds: inline
            bubbles = [(i, parse_time(b.get("createdAt")), b) for i, b in enumerate(data["conversation"]) if isinstance(b, dict)]
        bubbles.sort(key=lambda t: (t[0], t[1].timestamp() if t[1] else 0.0))

        usage = Usage()
        estimated = False
        texts: list[str] = []
        turns = 0
        recent: list[TurnMark] = []
        last_type = None
        for _, at, bubble in bubbles:
            kind = bubble.get("type")
            text = str_at(bubble, "text", "")
            texts.append(text)
            counts = dict_at(bubble, "tokenCount")
            got_in, got_out = as_int(counts.get("inputTokens")), as_int(counts.get("outputTokens"))
            if got_in or got_out:
                usage = usage + Usage(input=got_in, output=got_out)
            elif kind == ASSISTANT:
                usage = usage + Usage(output=text_tokens(text), exact=False)
                estimated = True
            elif kind == USER:
                usage = usage + Usage(input=text_tokens(text), exact=False)
                estimated = True
            if kind == ASSISTANT:
                turns += 1
            if kind in (USER, ASSISTANT):
                last_type = kind
                if at:
                    recent.append(TurnMark(at, "assistant" if kind == ASSISTANT else "user"))
        if estimated:
            usage = usage + Usage(input=self.estimator.base_tokens, exact=False)

        model = None
        config = data.get("modelConfig")
        if isinstance(config, dict) and isinstance(config.get("modelName"), str):
            model = config["modelName"]
        context = self._context(data, model, texts, folder)
        return Session(
            id=cid,
            tool="cursor",
            transcript=str(db),
            cwd=folder,
            model=model,
            title=str_at(data, "name"),
            started_at=parse_time(data.get("createdAt")),
            last_activity=parse_time(data.get("lastUpdatedAt")) or parse_time(data.get("createdAt")),
            turns=turns,
            usage=usage,
            context=context,
            recent=tuple(recent[-RECENT:]),
            malformed_lines=skipped,
            awaiting_user=last_type == ASSISTANT,
        )

    def _context(self, data: dict, model: str | None, texts: list[str], folder: str | None) -> ContextFill | None:
        used, limit = as_int(data.get("contextTokensUsed")), as_int(data.get("contextTokenLimit"))
        if used and limit:
            return ContextFill(used=used, window=limit, source="cursor")
        window = limit or (self.context_window(model) if (self.context_window and model) else None)
        percent = data.get("contextUsagePercent")
        if window and isinstance(percent, (int, float)) and not isinstance(percent, bool) and percent > 0:
            return ContextFill(used=round(window * percent / 100), window=window, exact=False, source="cursor percent")
        if window and texts:
            return self.estimator.context(texts, window, project=folder)
        return None
