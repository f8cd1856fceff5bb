"""Live discovery: which running process is which assistant session.

One pass over the process table per poll. The expensive part of a process scan is reading
several files per process, so the pass is split by what each process deserves:

* every process: one read of its one-line kernel status (name, parent, start time). On
  Linux this is `/proc/<pid>/stat` read directly, because going through psutil's
  per-process objects for two thousand processes costs several times the whole budget;
  elsewhere psutil supplies the same three fields.
* processes whose *name* can belong to an assistant (`recognise.is_candidate`): command
  line, executable, cwd and terminal through psutil, once, then the recognition table.
* recognised assistants: their open files once, then only CPU and memory on later polls.

Everything read is cached per pid, keyed by its start time, so a steady-state poll lists
the pids, looks at the new ones and at a small rotating sample of known ones (catching pid
reuse and `exec` without re-reading everyone), and refreshes CPU/RSS of the assistants.

The process source is injectable (`Discovery(pids=...)`): by default every pid of the
machine, but the demo passes only its own children, and tests pass only processes they
started, so neither can see, and no action can reach, anything else.

Which session a process serves is decided with the best evidence available and the
evidence is written into `ProcessInfo.match`, so the UI can say how sure it is:
`<claude root>/sessions/<pid>.json`, then a session id on the command line, then the
transcript files the process holds open, and last the process cwd -> the newest transcript
of that cwd nobody else claimed. When two processes share a cwd and nothing better tells
them apart, both are flagged `ambiguous` instead of silently guessing.

This module runs the pass and ranks the evidence. Reading processes is core.live.proc_table,
Claude's side files core.live.claude_evidence, the weaker clues core.live.session_matching, tmux
panes core.live.tmux_panes, and the working/waiting/idle rule core.live.session_state.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType

import msgspec
import psutil

from llm_sessions.core.accounting.roots import claude_roots
from llm_sessions.core.live.claude_evidence import ClaudeEvidence
from llm_sessions.core.live.proc_table import Proc, ProcTable
from llm_sessions.core.live.recognise import RULES, Rule, candidate_matcher, session_id_from_cmdline
from llm_sessions.core.live.session_matching import Claims, Transcripts, match_by_cwd, match_shared, open_file_evidence
from llm_sessions.core.live.tmux_panes import TmuxPanes, pane_of
from llm_sessions.core.models import ProcessInfo, Session

log = logging.getLogger(__name__)

#: Known, uninteresting pids re-read per poll, to notice pid reuse and `exec` cheaply.
AUDIT_PER_TICK = 64
#: A process younger than this at first sight is looked at again next poll: launchers
#: (`npx`, shell wrappers) often `exec` the assistant a moment after they start.
YOUNG_SECONDS = 3.0


class DiscoveryResult(msgspec.Struct, frozen=True):
    """One discovery pass: session id -> its process, running assistants with no session
    yet (their `tool` set), and what could not be read."""

    matches: Mapping[str, ProcessInfo] = msgspec.field(default_factory=lambda: MappingProxyType({}))
    unmatched: tuple[ProcessInfo, ...] = ()
    problems: tuple[str, ...] = ()


class Discovery:
    """Finds running assistants and ties each to its session. Keep one per monitor: the
    per-pid cache is what makes a steady-state poll cheap."""

    def __init__(
        self,
        env: Mapping[str, str],
        *,
        tmux: bool = True,
        rules: tuple[Rule, ...] = RULES,
        pids: Callable[[], Iterable[int]] | None = None,
    ) -> None:
        """`pids`, when given, is the whole process source: only those pids are ever read."""
        self.env = dict(env)
        self._pid_source = pids
        self.rules = rules
        self._rules_by_tool = {r.tool: r for r in rules if r.tool}
        self._is_candidate = candidate_matcher(rules)
        self._table = ProcTable()
        self._claude = ClaudeEvidence(claude_roots(self.env), linux=self._table.linux)
        tmux_bin = shutil.which("tmux", path=self.env.get("PATH", os.defpath)) if tmux else None
        self._tmux = TmuxPanes(self.env, tmux_bin)
        self._procs: dict[int, Proc] = {}
        self._audit: list[int] = []
        self._young: set[int] = set()
        self._real: dict[str, str] = {}
        self._seen_transcripts: set[str] = set()
        self._tool_gen: dict[str, int] = {}  # bumped when a tool gains a transcript
        self._status: dict[int, str | None] = {}  # group head pid -> status its session file gave


    # ------------------------------------------------------------------ process table
    def _sight(self, pid: int) -> None:
        """First look at a pid (or a fresh look after reuse or exec)."""
        row = self._table.read(pid)
        if row is None:
            self._procs.pop(pid, None)
            return
        name, ppid, start, created = row
        proc = Proc(pid, ppid, name, start, created)
        self._procs[pid] = proc
        if time.time() - created < YOUNG_SECONDS:
            self._young.add(pid)
        if self._is_candidate(name):
            self._table.inspect(proc, self.rules)


    def _refresh_table(self) -> None:
        with self._table.pass_():
            current = set(self._pid_source()) if self._pid_source is not None else set(self._table.pids())
            # Re-look at last poll's young processes and a rotating sample of the rest: a
            # reused pid or a process that exec'd shows a new start time or a new name.
            if not self._audit:
                self._audit = sorted(self._procs)
            recheck = self._young | set(self._audit[-AUDIT_PER_TICK:])
            del self._audit[-AUDIT_PER_TICK:]
            self._young = set()
            for gone in self._procs.keys() - current:
                del self._procs[gone]
            for pid in current - self._procs.keys():
                self._sight(pid)
            for pid in recheck:
                old = self._procs.get(pid)
                if old is None:
                    continue
                row = self._table.read(pid)
                if row is None:
                    self._procs.pop(pid, None)
                elif row[0] != old.name or row[2] != old.start:
                    self._sight(pid)
                elif row[1] != old.ppid:
                    old.ppid = row[1]  # re-parented after its parent exited

    def _refresh_usage(self, proc: Proc) -> bool:
        """CPU and RSS of a known assistant; False when it has gone."""
        if proc.handle is None:
            return False
        done = self._table.usage(proc)
        if done is not None:
            if not done:
                self._procs.pop(proc.pid, None)
            return done
        try:
            with proc.handle.oneshot():
                proc.cpu = proc.handle.cpu_percent(None)
                proc.rss = proc.handle.memory_info().rss
            return True
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            self._procs.pop(proc.pid, None)
            return False
        except psutil.AccessDenied:
            return True

    # ------------------------------------------------------------------ grouping
    def _groups(self) -> list[list[Proc]]:
        """Recognised processes, a child of a same-tool parent folded into the parent's
        group: Codex's node launcher and its binary, Gemini's relaunch, are one session."""
        assistants = {p.pid: p for p in self._procs.values() if p.recognition is not None}
        heads: dict[int, list[Proc]] = {}
        for proc in sorted(assistants.values(), key=lambda p: p.created):
            head = proc
            seen = 0
            while seen < 64:
                parent = assistants.get(head.ppid)
                if parent is None or parent.tool != proc.tool or parent.pid == head.pid:
                    break
                head, seen = parent, seen + 1
            heads.setdefault(head.pid, []).append(proc)
        # The head (the outermost process, e.g. the launcher) first: it stands for the group.
        return [
            [p for p in members if p.pid == head] + sorted((p for p in members if p.pid != head), key=lambda p: p.created)
            for head, members in heads.items()
        ]

    def _descendants(self, roots: Iterable[int], children: Mapping[int, list[int]]) -> list[int]:
        out: list[int] = []
        stack = list(roots)
        seen = set(stack)
        while stack:
            for child in children.get(stack.pop(), ()):
                if child not in seen:
                    seen.add(child)
                    out.append(child)
                    stack.append(child)
        return out

    # ------------------------------------------------------------------ tmux

    def _parent(self, pid: int) -> int | None:
        proc = self._procs.get(pid)
        return proc.ppid if proc is not None else None


    def named_sessions(self, procs: Sequence[ProcessInfo]) -> set[str]:
        """Session ids that running assistants name outright: on a command line, or in
        Claude's `sessions/<pid>.json`. The monitor reads those transcripts even when they
        are old (a resumed session that has not written yet), see core.live.scope."""
        out: set[str] = set()
        for p in procs:
            sid = session_id_from_cmdline(p.cmdline)
            if sid:
                out.add(sid)
            if p.tool == "claude":
                for pid in p.pids or (p.pid,):
                    proc = self._procs.get(pid)
                    hit = self._claude.session_file(proc) if proc is not None else None
                    if hit:
                        out.add(hit[0])
        return out

    # ------------------------------------------------------------------ the pass

    def scan(self, sessions: Sequence[Session]) -> DiscoveryResult:
        """One pass: refresh the process table, then tie each assistant to a session."""
        problems: list[str] = []
        self._status = {}
        self._refresh_table()
        groups = []
        for members in self._groups():
            alive = [m for m in members if self._refresh_usage(m)]
            if alive:
                groups.append(alive)

        by_id = {s.id: s for s in sessions} if groups else {}
        transcripts = Transcripts(sessions, self._real)
        # New transcripts of a tool make its processes' open files worth reading again. With
        # no assistant running nobody asks; counting them later only re-reads sooner.
        for s in sessions if groups else ():
            if s.transcript and s.transcript not in self._seen_transcripts:
                self._seen_transcripts.add(s.transcript)
                self._tool_gen[s.tool] = self._tool_gen.get(s.tool, 0) + 1
        for m in (m for members in groups for m in members):
            problems.extend(m.problems)

        # Evidence is ranked across all processes, not per process: a session named by one
        # process's session file is never first taken by another's weaker clue.
        claimed: Claims = {}
        rest: list[list[Proc]] = []
        for members in groups:
            found = self._strong_evidence(members, members[0].tool, by_id, claimed)
            if found is None:
                rest.append(members)
            else:
                claimed[found[0]] = (members, found[1], False)
        pending: list[list[Proc]] = []
        shared: list[list[Proc]] = []
        for members in rest:
            tool = members[0].tool
            # Open files: read once per process, again only when new transcripts of its
            # tool appeared since, because a fresh session may be the one it holds.
            generation = self._tool_gen.get(tool, 0)
            for m in members:
                if m.files_gen != generation:
                    self._table.read_open_files(m)
                    m.files_gen = generation
            found = open_file_evidence(members, transcripts, claimed)
            if found is not None:
                claimed[found[0]] = (members, found[1], False)
            elif tool in self._rules_by_tool and self._rules_by_tool[tool].shared_process:
                shared.append(members)
            else:
                pending.append(members)

        notes = match_by_cwd(pending, sessions, claimed, self._rules_by_tool, self._claude.project_dirs, self._real)
        match_shared(shared, sessions, claimed)

        panes = self._tmux.panes(frozenset(g[0].pid for g in groups), problems) if groups else {}
        children: dict[int, list[int]] = {}
        if groups:
            for p in self._procs.values():
                children.setdefault(p.ppid, []).append(p.pid)
        infos: dict[tuple[int, str, bool], ProcessInfo] = {}

        def info(members: list[Proc], why: str, ambiguous: bool) -> ProcessInfo:
            head = members[0]
            key = (head.pid, why, ambiguous)
            if key in infos:
                return infos[key]
            own = [m.pid for m in members]
            pids = tuple(own + sorted(set(self._descendants(own, children)) - set(own)))
            cwd = next((m.cwd for m in members if m.cwd), None)
            made = ProcessInfo(
                pid=head.pid,
                pids=pids,
                name=head.name,
                cmdline=head.cmdline,
                cwd=cwd,
                started_at=datetime.fromtimestamp(head.created, UTC),
                cpu_percent=round(sum(m.cpu for m in members), 1),
                rss_bytes=sum(m.rss for m in members),
                terminal=next((m.terminal for m in members if m.terminal), None),
                tmux_pane=pane_of(head.pid, panes, self._parent) if panes else None,
                match=why,
                ambiguous=ambiguous,
                tool=head.tool,
                status=self._status.get(head.pid),
            )
            infos[key] = made
            return made

        matches: dict[str, ProcessInfo] = {}
        used: set[int] = set()
        for sid, (members, why, ambiguous) in claimed.items():
            matches[sid] = info(members, why, ambiguous)
            used.add(members[0].pid)
        unmatched = []
        for members in groups:
            if members[0].pid in used:
                continue
            note = notes.get(members[0].pid, "no transcript yet")
            unmatched.append(info(members, note, note.startswith("ambiguous")))
        return DiscoveryResult(MappingProxyType(matches), tuple(unmatched), tuple(dict.fromkeys(problems)))

    def _strong_evidence(
        self, members: list[Proc], tool: str, by_id: Mapping[str, Session], claimed: Mapping
    ) -> tuple[str, str] | None:
        """A session named outright: Claude's per-pid session file, or an id on the
        command line of any process of the group."""
        if tool == "claude":
            for m in members:
                hit = self._claude.session_file(m)
                if hit and hit[0] in by_id and hit[0] not in claimed:
                    self._status[members[0].pid] = hit[2]
                    return hit[0], f"session file {hit[1]}"
        for m in members:
            sid = session_id_from_cmdline(m.cmdline)
            if not sid:
                continue
            if sid in by_id and sid not in claimed:
                return sid, f"command line names session {sid}"
            for s in by_id.values():
                if s.tool == tool and s.id not in claimed and s.transcript and sid in os.path.basename(s.transcript):
                    return s.id, f"command line names session {sid}"
        return None
