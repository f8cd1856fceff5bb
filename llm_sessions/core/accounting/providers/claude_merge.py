"""Files -> sessions for the Claude provider, kept current as files change.

A session is its main file plus its subagent files; a (message.id, requestId) key or an
error line present in several files (resumed sessions copy lines) counts once, for the file
that wrote it first (`_order`), with the largest copy's usage. The cross-file indexes
(crossfile.ItemIndex) say which files hold each key, so an append re-settles only the keys
and sessions the changed files touch (`Merge._update`), not the whole history.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, cast

import msgspec

from llm_sessions.core.accounting.crossfile import ItemIndex
from llm_sessions.core.accounting.health import compaction_point_for
from llm_sessions.core.accounting.pricing import Bill
from llm_sessions.core.accounting.providers.claude_file import NCOLS, ClaudeFile, key_hash
from llm_sessions.core.accounting.providers.claude_state import Group, Head
from llm_sessions.core.models import ContextFill, Session, TurnMark, Usage
from llm_sessions.core.timeparse import parse_ts

_TurnKind = Literal["assistant", "user", "tool_result"]  # TurnMark.kind: what ClaudeFile.recent holds

WINDOW = 200_000
WINDOW_1M = 1_000_000
MARKS_KEEP = 20_000  # parsed turn marks kept between rebuilds (see Merge._turn_marks)


def error_item(uuid: str) -> int:
    return key_hash(uuid, "\x01error")


class _Acc(msgspec.Struct):
    """Per-session accumulator while merging files."""

    sums: dict[Group, list[int]] = msgspec.field(default_factory=dict)
    main: ClaudeFile | None = None
    files: list[ClaudeFile] = msgspec.field(default_factory=list)
    api_errors: int = 0
    tool_errors: int = 0

    def add(self, group: Group, vals: Iterable[int]) -> None:
        s = self.sums.setdefault(group, [0] * (NCOLS + 1))
        for i, v in enumerate(vals):
            s[i] += v


_encode = msgspec.msgpack.Encoder().encode
_decode_file = msgspec.msgpack.Decoder(ClaudeFile).decode


def _order(h: Head) -> tuple[str, str, str]:
    """Files in the order that decides who owns a copied line: copied lines keep their
    timestamps, so a resumed file starts at the same instant as the original; the original
    is the one whose history ends first."""
    return (h.first_ts or "~", h.last_ts, h.path)


def _total(vals: list[int]) -> int:
    """A key's size for "the largest copy wins": the 1-hour column is part of the writes."""
    return sum(vals) - vals[3]


class Merge:
    """The provider's merge step (a mixin of ClaudeProvider, which owns the state below)."""

    settings: Any
    prices: Any
    heads: dict[str, Head]
    raw: dict[str, msgspec.Raw]
    files: dict[str, ClaudeFile]
    sessions: dict[str, Session]
    members: dict[str, set[str]]
    by_fid: dict[int, str]
    keys: ItemIndex
    errors: ItemIndex
    corrections: dict[int, list[tuple[str, Group, list[int]]]]
    error_owners: dict[int, int]
    next_fid: int
    _shared_keys: dict[int, list[int]]
    _shared_errors: dict[int, list[int]]
    _arrays: dict[str, tuple[array, array, array]]
    _early: dict[str, tuple[ClaudeFile, array, list[int], tuple[TurnMark, ...]]]
    changed: bool
    rebuilt: int
    _marks: dict[tuple[str, str, bool, bool], TurnMark | None]

    def _file(self, path: str) -> ClaudeFile:
        """A file's partial result, decoded from the cache the first time it is needed."""
        f = self.files.get(path)
        if f is None:
            f = self.files[path] = _decode_file(self.raw[path])
        return f

    # -- scanning ----------------------------------------------------------------------

    def _arrived(self, f: ClaudeFile, _encoded: bytes | None = None) -> None:
        """The part of the merge that needs only this file, done as a pool's result arrives
        (the parent would otherwise wait for the workers): its keys as an array, its error
        items, its last turns as TurnMarks. `_update` and `_rebuild` use them while `f` is
        the file they merge; a scan drops them when it ends."""
        self._early[f.path] = (f, array("Q", f.keys), [error_item(e[0]) for e in f.errors],
                               () if f.subagent else self._turn_marks(f.recent))

    def _early_for(self, f: ClaudeFile) -> tuple[ClaudeFile, array, list[int], tuple[TurnMark, ...]] | None:
        early = self._early.get(f.path)
        return early if early is not None and early[0] is f else None

    def _update(self, parsed: list[tuple[ClaudeFile, bytes | None]], gone: set[str]) -> set[str]:
        """Fold re-read and vanished files into the indexes; return the sessions to rebuild.

        A changed file's new keys are looked up in the key index: a key some other file
        holds too (a resumed session's copy) is settled again, as is every shared key the
        file held before (its usage or its place in the order may have moved). Work is
        proportional to what changed, never to the size of the history.
        """
        dirty: set[str] = set()
        touched_keys: set[int] = set()
        touched_errors: set[int] = set()
        cold = not self.heads
        fresh: list[tuple[int, array]] = []
        fresh_errors: list[tuple[int, list[int]]] = []
        self._arrays = {}
        if not cold and (parsed or gone):
            # Which shared items each file holds: those are settled again when it changes.
            self._shared_keys = self._by_holder(self.keys, self.corrections)
            self._shared_errors = self._by_holder(self.errors, self.error_owners)
        for path in gone:
            head = self.heads.pop(path)
            self.raw.pop(path, None)
            self.files.pop(path, None)
            self._retire(head, touched_keys, touched_errors)
            self._leave(head, dirty)
        for f, encoded in parsed:
            self.files[f.path] = f
            if encoded is None:
                self.raw.pop(f.path, None)
            else:
                self.raw[f.path] = msgspec.Raw(encoded)
            old = self.heads.get(f.path)
            sid = f.session or Path(f.path).stem
            if old is None or old.generation != f.generation:
                if old is not None:
                    self._retire(old, touched_keys, touched_errors)
                fid, nkeys, nerrors = self.next_fid, 0, 0
                self.next_fid += 1
            else:
                fid, nkeys, nerrors = old.fid, old.nkeys, old.nerrors
                touched_keys.update(self._shared_keys.get(fid, ()))
                touched_errors.update(self._shared_errors.get(fid, ()))
            if old is not None:
                self._leave(old, dirty)
            early = self._early_for(f)
            keys = array("Q", f.keys) if early is None else early[1]
            head = Head(f.path, fid, f.generation, sid, f.subagent, f.first_ts, f.last_ts, len(keys), len(f.errors),
                        f.malformed, f.usage_drift, f.convo, f.limit_hits, f.cursor)
            self.heads[f.path] = head
            self.by_fid[fid] = f.path
            self.members.setdefault(sid, set()).add(f.path)
            dirty.add(sid)
            if early is None:
                new_errors = [error_item(uuid) for uuid, _, _ in f.errors[nerrors:]]
            else:
                new_errors = early[2][nerrors:]
            if cold:
                fresh.append((fid, keys))
                fresh_errors.append((fid, new_errors))
            else:
                touched_keys.update(self.keys.add(fid, keys[nkeys:]))
                touched_errors.update(self.errors.add(fid, new_errors))
        if cold:
            self.keys = ItemIndex.build(fresh)
            self.errors = ItemIndex.build(fresh_errors)
            touched_keys.update(self.keys.shared())
            touched_errors.update(self.errors.shared())
        for key in touched_keys:
            self._settle_key(key, dirty)
        for item in touched_errors:
            self._settle_error(item, dirty)
        return dirty

    def _retire(self, head: Head, touched_keys: set[int], touched_errors: set[int]) -> None:
        """A file's old content is gone: its shared items need settling without it."""
        fid = head.fid
        touched_keys.update(self._shared_keys.get(fid, ()))
        touched_errors.update(self._shared_errors.get(fid, ()))
        self.keys.drop(fid)
        self.errors.drop(fid)
        self.by_fid.pop(fid, None)

    def _leave(self, head: Head, dirty: set[str]) -> None:
        members = self.members.get(head.session)
        if members is not None:
            members.discard(head.path)
            if not members:
                del self.members[head.session]
        dirty.add(head.session)

    @staticmethod
    def _by_holder(index: ItemIndex, items) -> dict[int, list[int]]:
        out: dict[int, list[int]] = {}
        for item in items:
            for fid in index.holders(item):
                out.setdefault(fid, []).append(item)
        return out

    def _holders(self, index: ItemIndex, item: int) -> list[Head]:
        heads = [self.heads[self.by_fid[fid]] for fid in index.holders(item) if fid in self.by_fid]
        heads.sort(key=_order)
        return heads

    def _settle_key(self, key: int, dirty: set[str]) -> None:
        """Count a key found in several files once: the first file owns it at its max usage.

        The corrections (session, price group, deltas) take each copy out of its own
        session and, when a later copy is larger, give the owner that larger figure.
        """
        for sid, *_ in self.corrections.pop(key, ()):
            dirty.add(sid)
        holders = self._holders(self.keys, key)
        if len(holders) < 2:
            return
        copies = []
        for h in holders:
            f = self._file(h.path)
            arrays = self._arrays.get(h.path)
            if arrays is None:
                arrays = self._arrays[h.path] = (array("Q", f.keys), array("q", f.cols), array("I", f.meta))
            keys, cols, metas = arrays
            pos = keys.index(key)
            copies.append((h.session, f.groups[metas[pos]], list(cols[pos * NCOLS : (pos + 1) * NCOLS])))
        owner = copies[0]
        best = max(copies, key=lambda c: _total(c[2]))  # the first of the largest
        out = [(sid, group, [-v for v in vals] + [-1]) for sid, group, vals in copies[1:]]
        if _total(best[2]) > _total(owner[2]):
            out.append((owner[0], owner[1], [-v for v in owner[2]] + [0]))
            out.append((owner[0], best[1], best[2] + [0]))
        self.corrections[key] = out
        dirty.update(c[0] for c in out)

    def _settle_error(self, item: int, dirty: set[str]) -> None:
        """An error line found in several files counts once, for the first of them."""
        self.error_owners.pop(item, None)
        holders = self._holders(self.errors, item)
        dirty.update(h.session for h in holders)
        if len(holders) > 1:
            self.error_owners[item] = holders[0].fid

    def _rebuild(self, dirty: set[str]) -> None:
        """Build the Session of each dirty session id from its files and the corrections."""
        self.rebuilt = len(dirty)
        if not dirty:
            return
        by_sid: dict[str, list] = {}
        for corrections in self.corrections.values():
            for c in corrections:
                if c[0] in dirty:
                    by_sid.setdefault(c[0], []).append(c)
        for sid in dirty:
            paths = self.members.get(sid)
            heads = sorted((self.heads[p] for p in paths), key=_order) if paths else []
            # A file with no conversation record (empty, only garbage, or a ghost stub holding
            # only ai-title/agent-name lines that background sessions leave) is not a session.
            if not any(h.convo and h.first_ts for h in heads):
                self.sessions.pop(sid, None)
                continue
            acc = _Acc()
            for h in heads:
                f = self._file(h.path)
                acc.files.append(f)
                if not f.subagent and (acc.main is None or f.last_ts > acc.main.last_ts):
                    acc.main = f
                for k, s in f.sums.items():
                    acc.add(f.groups[k], s)
                counted: set[str] = set()
                early = self._early_for(f)
                items = early[2] if early is not None else [error_item(e[0]) for e in f.errors]
                for (uuid, api, tool), item in zip(f.errors, items, strict=True):
                    if uuid in counted:
                        continue
                    counted.add(uuid)
                    owner = self.error_owners.get(item)
                    if owner is None or owner == h.fid:
                        acc.api_errors += api
                        acc.tool_errors += tool
            for _, group, deltas in by_sid.get(sid, ()):
                acc.add(tuple(group), deltas)
            self.sessions[sid] = self._session(sid, acc)

    def _turn_marks(self, recent: list[tuple[str, str, bool, bool]]) -> tuple[TurnMark, ...]:
        """A main file's recent turns as TurnMarks. A live session is rebuilt every poll
        with the same ~RECENT_KEEP marks but one or two new ones: each (time, kind, flags)
        entry is parsed once and its TurnMark (immutable) reused, not re-parsed every poll."""
        memo = self._marks
        if len(memo) > MARKS_KEEP:
            memo.clear()
        out = []
        for entry in recent:
            if entry in memo:
                mark = memo[entry]
            else:
                ts, kind, api, tool = entry
                at = parse_ts(ts)
                mark = memo[entry] = None if at is None else TurnMark(at, cast(_TurnKind, kind), api, tool)
            if mark is not None:
                out.append(mark)
        return tuple(out)

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
            window = WINDOW_1M if (main.model or "").endswith("[1m]") or main.ctx_max > WINDOW else WINDOW
            if main.ctx >= 0:
                context = ContextFill(main.ctx, window, compaction_point_for(window, self.settings), True, main.ctx_source)
            early = self._early_for(main)
            recent = early[3] if early is not None else self._turn_marks(main.recent)
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
