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
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

import psutil

from llm_sessions.core.models import ProcessInfo, Session, State
from llm_sessions.core.providers._common import parse_time
from llm_sessions.core.recognise import (
    RULES,
    RULES_BY_TOOL,
    Recognition,
    Rule,
    candidate_matcher,
    recognise,
    session_id_from_cmdline,
)
from llm_sessions.core.roots import claude_project_dirs, claude_roots
from llm_sessions.core.safeio import read_regular
from llm_sessions.core.sanity import MAX_SIDE_FILE_BYTES, decode_record

log = logging.getLogger(__name__)

#: Known, uninteresting pids re-read per poll, to notice pid reuse and `exec` cheaply.
AUDIT_PER_TICK = 64
#: A process younger than this at first sight is looked at again next poll: launchers
#: (`npx`, shell wrappers) often `exec` the assistant a moment after they start.
YOUNG_SECONDS = 3.0
#: A transcript whose last activity is older than the process (minus clock slack) cannot
#: have been written by it, so the cwd fallback does not hand it to that process.
START_SLACK_SECONDS = 5.0
#: CPU share (of one core) above which a process counts as busy.
CPU_BUSY_PERCENT = 5.0
#: Activity this recent counts as "the transcript grew in the last few seconds".
WORKING_SECONDS = 5.0
#: Seconds a tmux pane listing is reused while the set of assistants stays the same.
TMUX_MAX_AGE = 10.0
# The stable `%id` is what actions aim at; a `session:window.pane` position changes when
# windows move, so it is never used as a target.
TMUX_FORMAT = "#{pane_id} #{pane_pid}"
_PSEUDO_FILES = ("/dev/", "/proc/", "/sys/")


@dataclass(frozen=True, slots=True)
class DiscoveryResult:
    """One discovery pass: session id -> its process, running assistants with no session
    yet (their `tool` set), and what could not be read."""

    matches: Mapping[str, ProcessInfo] = field(default_factory=lambda: MappingProxyType({}))
    unmatched: tuple[ProcessInfo, ...] = ()
    problems: tuple[str, ...] = ()


@dataclass(slots=True)
class _Proc:
    """What is cached about one pid between polls. Mutable on purpose: it is private to
    the Discovery object and never crosses a thread boundary."""

    pid: int
    ppid: int
    name: str
    start: float  # identity key: kernel start ticks on Linux, create_time elsewhere
    created: float  # epoch seconds
    recognition: Recognition | None = None
    cmdline: tuple[str, ...] = ()
    exe: str = ""
    cwd: str | None = None
    terminal: str | None = None
    handle: psutil.Process | None = None
    open_files: frozenset[str] = frozenset()
    files_gen: int = -1  # transcript generation of its tool when its fds were last read
    problems: tuple[str, ...] = ()
    cpu: float = 0.0
    rss: int = 0


def _clock_ticks() -> int:
    try:
        return os.sysconf("SC_CLK_TCK")
    except (ValueError, OSError, AttributeError):
        return 100


class _ProcTable:
    """The cheap first look at every process: name, parent and start, nothing else."""

    def __init__(self) -> None:
        self.linux = sys.platform.startswith("linux") and os.path.exists("/proc/self/stat")
        self.boot = psutil.boot_time()
        self.hz = _clock_ticks()
        self._dir: int | None = None

    @contextmanager
    def pass_(self):
        """One pass over the table: /proc is opened once and every per-pid file is opened
        relative to it, which saves a path walk per process."""
        if self.linux:
            try:
                self._dir = os.open("/proc", os.O_RDONLY | os.O_DIRECTORY)
            except OSError:
                self._dir = None
        try:
            yield self
        finally:
            if self._dir is not None:
                os.close(self._dir)
                self._dir = None

    def pids(self) -> list[int]:
        if self.linux:
            try:
                return [int(n) for n in os.listdir(self._dir if self._dir is not None else "/proc") if n.isdigit()]
            except OSError:
                pass
        return psutil.pids()

    def read(self, pid: int) -> tuple[str, int, float, float] | None:
        """(name, ppid, start key, created epoch) or None when the process is gone."""
        if self.linux:
            try:
                if self._dir is not None:
                    fd = os.open(f"{pid}/stat", os.O_RDONLY, dir_fd=self._dir)
                else:
                    fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
                try:
                    raw = os.read(fd, 1024)
                finally:
                    os.close(fd)
            except OSError:
                return None
            # "pid (comm) state ppid ..."; comm may hold spaces and parentheses.
            open_, close = raw.find(b"("), raw.rfind(b")")
            fields = raw[close + 2 :].split()
            try:
                ticks = int(fields[19])
                return (
                    raw[open_ + 1 : close].decode("utf-8", "replace"),
                    int(fields[1]),
                    float(ticks),
                    self.boot + ticks / self.hz,
                )
            except (IndexError, ValueError):
                return None
        try:
            proc = psutil.Process(pid)
            with proc.oneshot():
                created = proc.create_time()
                return proc.name(), proc.ppid(), created, created
        except psutil.Error:
            return None


def _epoch(dt: datetime | None) -> float | None:
    return dt.timestamp() if dt is not None else None


def _real(path: str | None, cache: dict[str, str]) -> str | None:
    if not path:
        return None
    hit = cache.get(path)
    if hit is None:
        hit = cache[path] = os.path.realpath(path)
    return hit


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
        self.claude_roots = claude_roots(self.env)
        self.tmux_bin = shutil.which("tmux", path=self.env.get("PATH", os.defpath)) if tmux else None
        self._table = _ProcTable()
        self._procs: dict[int, _Proc] = {}
        self._audit: list[int] = []
        self._young: set[int] = set()
        self._real: dict[str, str] = {}
        self._claude_files: dict[str, tuple[tuple[int, int, float], str | None, str | None]] = {}
        self._cwd_dirs: dict[str, tuple[str, ...]] = {}
        self._seen_transcripts: set[str] = set()
        self._tool_gen: dict[str, int] = {}  # bumped when a tool gains a transcript
        self._tmux_cache: tuple[frozenset[int], float, dict[int, str]] | None = None
        self._status: dict[int, str | None] = {}  # group head pid -> status its session file gave

    # ------------------------------------------------------------------ process table
    def _sight(self, pid: int) -> None:
        """First look at a pid (or a fresh look after reuse or exec)."""
        row = self._table.read(pid)
        if row is None:
            self._procs.pop(pid, None)
            return
        name, ppid, start, created = row
        proc = _Proc(pid, ppid, name, start, created)
        self._procs[pid] = proc
        if time.time() - created < YOUNG_SECONDS:
            self._young.add(pid)
        if self._is_candidate(name):
            self._inspect(proc)

    def _inspect(self, proc: _Proc) -> None:
        """Command line and executable of a candidate, then cwd, terminal and open files
        of a recognised assistant. Runs once per process."""
        try:
            handle = psutil.Process(proc.pid)
            with handle.oneshot():
                try:
                    proc.cmdline = tuple(handle.cmdline())
                except psutil.AccessDenied:
                    proc.problems += (f"pid {proc.pid} ({proc.name}): command line unreadable (access denied)",)
                    return
                try:
                    proc.exe = handle.exe()
                except (psutil.AccessDenied, OSError):
                    proc.exe = ""
                proc.recognition = recognise(proc.name, proc.cmdline, proc.exe, self.rules)
                if proc.recognition is None:
                    return
                proc.handle = handle
                try:
                    proc.cwd = handle.cwd() or None
                except (psutil.AccessDenied, OSError) as exc:
                    proc.problems += (f"pid {proc.pid} ({proc.recognition.tool}): cwd unreadable ({type(exc).__name__})",)
                try:
                    proc.terminal = handle.terminal()
                except (psutil.AccessDenied, OSError):
                    proc.terminal = None
                handle.cpu_percent(None)  # primes the counter; the first real value comes next poll
                proc.rss = handle.memory_info().rss
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            proc.recognition = None
            proc.handle = None

    def _read_open_files(self, proc: _Proc) -> None:
        paths: set[str] = set()
        try:
            if self._table.linux:
                base = f"/proc/{proc.pid}/fd"
                for fd in os.listdir(base):
                    try:
                        target = os.readlink(f"{base}/{fd}")
                    except OSError:
                        continue
                    if target.startswith("/") and not target.startswith(_PSEUDO_FILES):
                        paths.add(target.removesuffix(" (deleted)"))
            elif proc.handle is not None:
                paths.update(f.path for f in proc.handle.open_files())
        except (OSError, psutil.Error) as exc:
            tool = proc.recognition.tool if proc.recognition else proc.name
            note = f"pid {proc.pid} ({tool}): open files unreadable ({type(exc).__name__})"
            if note not in proc.problems:
                proc.problems += (note,)
        proc.open_files = frozenset(paths)

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

    def _refresh_usage(self, proc: _Proc) -> bool:
        """CPU and RSS of a known assistant; False when it has gone."""
        if proc.handle is None:
            return False
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
    def _groups(self) -> list[list[_Proc]]:
        """Recognised processes, a child of a same-tool parent folded into the parent's
        group: Codex's node launcher and its binary, Gemini's relaunch, are one session."""
        assistants = {p.pid: p for p in self._procs.values() if p.recognition is not None}
        heads: dict[int, list[_Proc]] = {}
        for proc in sorted(assistants.values(), key=lambda p: p.created):
            head = proc
            seen = 0
            while seen < 64:
                parent = assistants.get(head.ppid)
                if parent is None or parent.recognition.tool != proc.recognition.tool or parent.pid == head.pid:
                    break
                head, seen = parent, seen + 1
            heads.setdefault(head.pid, []).append(proc)
        # The head (the outermost process, e.g. the launcher) first: it stands for the group.
        return [
            sorted(members, key=lambda p, head=head: (p.pid != head, p.created))
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
    def _tmux_socket(self) -> str | None:
        """The server socket a plain `tmux` command would talk to: the one named in $TMUX
        (inside tmux), else `$TMUX_TMPDIR/tmux-<uid>/default`."""
        inside = self.env.get("TMUX", "")
        if inside:
            return inside.split(",", 1)[0]
        getuid = getattr(os, "getuid", None)
        if getuid is None:
            return None
        base = self.env.get("TMUX_TMPDIR") or "/tmp"
        return f"{base.rstrip('/')}/tmux-{getuid()}/default"

    def _tmux_panes(self, heads: frozenset[int], problems: list[str]) -> dict[int, str]:
        """pane pid -> pane id (`%3`), from one `tmux list-panes -a` call.

        No tmux binary, or no server socket, is the normal case outside tmux: empty map, no
        problem and no subprocess. With a server, the answer is reused while the set of
        assistants is unchanged and younger than TMUX_MAX_AGE, because a fork+exec of tmux
        is most of a steady poll's CPU.
        """
        if not self.tmux_bin:
            return {}
        socket = self._tmux_socket()
        if socket is not None and not os.path.exists(socket):
            self._tmux_cache = None
            return {}
        now = time.monotonic()
        if self._tmux_cache and self._tmux_cache[0] == heads and now - self._tmux_cache[1] < TMUX_MAX_AGE:
            return self._tmux_cache[2]
        try:
            done = subprocess.run(
                [self.tmux_bin, "list-panes", "-a", "-F", TMUX_FORMAT],
                env=self.env,
                capture_output=True,
                text=True,
                timeout=2,
                check=False,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            problems.append(f"tmux list-panes failed: {exc}")
            return {}
        panes: dict[int, str] = {}
        if done.returncode != 0:
            err = done.stderr.strip()
            if err and "no server running" not in err and "error connecting" not in err:
                problems.append(f"tmux list-panes: {err}")
        else:
            for line in done.stdout.splitlines():
                parts = line.split(" ")
                if len(parts) == 2 and parts[1].isdigit() and parts[0].startswith("%"):
                    panes[int(parts[1])] = parts[0]
        self._tmux_cache = (heads, now, panes)
        return panes

    def _pane_of(self, pid: int, panes: Mapping[int, str]) -> str | None:
        for _ in range(64):
            if pid in panes:
                return panes[pid]
            proc = self._procs.get(pid)
            if proc is None or proc.ppid in (0, pid):
                return None
            pid = proc.ppid
        return None

    # ------------------------------------------------------------------ evidence
    def _claude_session_file(self, proc: _Proc) -> tuple[str, str, str | None] | None:
        """(sessionId, file, status) from `<root>/sessions/<pid>.json`, re-read only when it changed.

        A file left behind by a crashed process whose pid was reused names the wrong
        session. Newer builds write `procStart` (on Linux field 22 of /proc/<pid>/stat, the
        process's start in clock ticks): the file is trusted only when it equals this
        process's. Files without it fall back to `startedAt`: one clearly before this process
        started is ignored. `status` (idle, busy, shell) comes from a trusted file only.
        """
        pid, created = proc.pid, proc.created
        for root in self.claude_roots:
            path = str(root / "sessions" / f"{pid}.json")
            try:
                st = os.stat(path)
            except OSError:
                self._claude_files.pop(path, None)
                continue
            key = (st.st_mtime_ns, st.st_size, created)
            cached = self._claude_files.get(path)
            if cached is None or cached[0] != key:
                sid = status = None
                try:
                    # a FIFO named <pid>.json must not hang discovery; see core.safeio
                    data = decode_record(read_regular(path, MAX_SIDE_FILE_BYTES))
                    if isinstance(data, dict) and isinstance(data.get("sessionId"), str) and data.get("pid") in (None, pid):
                        if self._same_process(data, proc):
                            sid = data["sessionId"]
                            status = data["status"] if data.get("status") in ("idle", "busy", "shell") else None
                except (OSError, ValueError):
                    sid = None
                cached = self._claude_files[path] = (key, sid, status)
            if cached[1]:
                return cached[1], path, cached[2]
        return None

    def _same_process(self, data: dict, proc: _Proc) -> bool:
        """Whether a session file was written by this very process (not an earlier holder of the pid)."""
        ps = data.get("procStart")
        if ps is not None and self._table.linux:
            try:
                return int(str(ps)) == int(proc.start)
            except ValueError:
                return False
        started = parse_time(data.get("startedAt") or None)  # epoch s/ms or ISO
        return started is None or started.timestamp() >= proc.created - START_SLACK_SECONDS

    def _claude_dirs(self, cwd: str) -> tuple[str, ...]:
        """Real paths of the Claude project folders of a cwd; only hits are cached, the
        folder appears when the first transcript is written."""
        hit = self._cwd_dirs.get(cwd)
        if hit:
            return hit
        dirs = tuple(
            os.path.realpath(d) for root in self.claude_roots for d in claude_project_dirs(root, cwd)
        )
        if dirs:
            self._cwd_dirs[cwd] = dirs
        return dirs

    def _cwd_related(self, rule: Rule | None, cwd: str, session: Session, transcript_real: str | None) -> bool:
        if session.tool == "claude" and transcript_real:
            if os.path.dirname(transcript_real) in self._claude_dirs(cwd):
                return True
        scwd = _real(session.cwd, self._real)
        if not scwd:
            return False
        if scwd == cwd:
            return True
        return bool(rule and rule.cwd_match == "ancestor" and cwd.startswith(scwd.rstrip("/") + "/"))

    def named_sessions(self, procs: Sequence[ProcessInfo]) -> set[str]:
        """Session ids that running assistants name outright: on a command line, or in
        Claude's `sessions/<pid>.json`. The monitor reads those transcripts even when they
        are old (a resumed session that has not written yet), see core.scope."""
        out: set[str] = set()
        for p in procs:
            sid = session_id_from_cmdline(p.cmdline)
            if sid:
                out.add(sid)
            if p.tool == "claude":
                for pid in p.pids or (p.pid,):
                    proc = self._procs.get(pid)
                    hit = self._claude_session_file(proc) if proc is not None else None
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

        by_id = {s.id: s for s in sessions}
        transcripts: dict[str, Session] = {}
        for s in sessions:
            real = _real(s.transcript, self._real)
            if real:
                transcripts[real] = s
                if real not in self._seen_transcripts:
                    self._seen_transcripts.add(real)
                    self._tool_gen[s.tool] = self._tool_gen.get(s.tool, 0) + 1
        for m in (m for members in groups for m in members):
            problems.extend(m.problems)

        # Evidence is ranked across all processes, not per process: a session named by one
        # process's session file is never first taken by another's weaker clue.
        claimed: dict[str, tuple[list[_Proc], str, bool]] = {}
        rest: list[list[_Proc]] = []
        for members in groups:
            found = self._strong_evidence(members, members[0].recognition.tool, by_id, claimed)
            if found is None:
                rest.append(members)
            else:
                claimed[found[0]] = (members, found[1], False)
        pending: list[list[_Proc]] = []
        shared: list[list[_Proc]] = []
        for members in rest:
            tool = members[0].recognition.tool
            # Open files: read once per process, again only when new transcripts of its
            # tool appeared since, because a fresh session may be the one it holds.
            generation = self._tool_gen.get(tool, 0)
            for m in members:
                if m.files_gen != generation:
                    self._read_open_files(m)
                    m.files_gen = generation
            found = self._open_file_evidence(members, transcripts, claimed)
            if found is not None:
                claimed[found[0]] = (members, found[1], False)
            elif tool in self._rules_by_tool and self._rules_by_tool[tool].shared_process:
                shared.append(members)
            else:
                pending.append(members)

        notes = self._match_by_cwd(pending, sessions, claimed)
        self._match_shared(shared, sessions, claimed)

        panes = self._tmux_panes(frozenset(g[0].pid for g in groups), problems) if groups else {}
        children: dict[int, list[int]] = {}
        if groups:
            for p in self._procs.values():
                children.setdefault(p.ppid, []).append(p.pid)
        infos: dict[tuple[int, str, bool], ProcessInfo] = {}

        def info(members: list[_Proc], why: str, ambiguous: bool) -> ProcessInfo:
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
                tmux_pane=self._pane_of(head.pid, panes) if panes else None,
                match=why,
                ambiguous=ambiguous,
                tool=head.recognition.tool,
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
        self, members: list[_Proc], tool: str, by_id: Mapping[str, Session], claimed: Mapping
    ) -> tuple[str, str] | None:
        """A session named outright: Claude's per-pid session file, or an id on the
        command line of any process of the group."""
        if tool == "claude":
            for m in members:
                hit = self._claude_session_file(m)
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

    def _open_file_evidence(
        self, members: list[_Proc], transcripts: Mapping[str, Session], claimed: Mapping
    ) -> tuple[str, str] | None:
        held = [transcripts[p] for m in members for p in m.open_files if p in transcripts]
        held = [s for s in held if s.id not in claimed]
        if not held:
            return None
        best = max(held, key=lambda s: _epoch(s.last_activity) or 0.0)
        return best.id, f"holds {best.transcript} open"

    def _match_by_cwd(
        self, pending: list[list[_Proc]], sessions: Sequence[Session], claimed: dict
    ) -> dict[int, str]:
        """The weakest clue: the newest unclaimed transcript of the process's cwd that is
        not older than the process. Processes sharing a (tool, cwd) are all flagged.
        Returns why each process left without a session got none."""
        notes: dict[int, str] = {}
        buckets: dict[tuple[str, str], list[list[_Proc]]] = {}
        for members in pending:
            cwd = next((m.cwd for m in members if m.cwd), None)
            if cwd is None:
                notes[members[0].pid] = "cwd unreadable: no transcript can be tied to it"
                continue
            buckets.setdefault((members[0].recognition.tool, cwd), []).append(members)
        for (tool, cwd), procs in buckets.items():
            rule = self._rules_by_tool.get(tool)
            candidates = [
                s
                for s in sessions
                if s.tool == tool
                and s.id not in claimed
                and self._cwd_related(rule, cwd, s, _real(s.transcript, self._real))
            ]
            candidates.sort(key=lambda s: _epoch(s.last_activity) or 0.0, reverse=True)
            procs.sort(key=lambda ms: ms[0].created, reverse=True)
            ambiguous = len(procs) > 1
            for members in procs:
                started = members[0].created - START_SLACK_SECONDS
                pick = next(
                    (
                        s
                        for s in candidates
                        if s.id not in claimed and (s.last_activity is None or _epoch(s.last_activity) >= started)
                    ),
                    None,
                )
                if ambiguous:
                    why = f"ambiguous: {len(procs)} {tool} processes share cwd {cwd}; guessed newest process -> newest transcript"
                else:
                    why = f"cwd {cwd} -> newest transcript"
                if pick is None:
                    notes[members[0].pid] = (
                        f"ambiguous: {len(procs)} {tool} processes share cwd {cwd}; no transcript yet"
                        if ambiguous
                        else "no transcript yet"
                    )
                    continue
                claimed[pick.id] = (members, why, ambiguous)
        return notes

    def _match_shared(self, shared: list[list[_Proc]], sessions: Sequence[Session], claimed: dict) -> None:
        """An app process hosting many sessions (Cursor) serves every session of its tool
        active since it started. Two app processes of one tool cannot be told apart."""
        by_tool: dict[str, list[list[_Proc]]] = {}
        for members in shared:
            by_tool.setdefault(members[0].recognition.tool, []).append(members)
        for tool, apps in by_tool.items():
            apps.sort(key=lambda ms: ms[0].created)
            ambiguous = len(apps) > 1
            app = apps[-1]
            started = app[0].created - START_SLACK_SECONDS
            why = (
                f"ambiguous: {len(apps)} {tool} app processes; chose the newest"
                if ambiguous
                else f"{tool} app process; session active since it started"
            )
            for s in sessions:
                if s.tool == tool and s.id not in claimed and (s.last_activity is None or _epoch(s.last_activity) >= started):
                    claimed[s.id] = (app, why, ambiguous)


def session_state(session: Session, process: ProcessInfo | None, now: datetime, grew_recently: bool) -> State:
    """`ended` when the process is gone; `waiting` when the last main-chain turn ended and
    the assistant waits for the user (and is not busy); `working` when the process burns CPU
    or the transcript grew in the last few seconds; otherwise `idle`.

    A Claude session file that was trusted (its `procStart` matched) says it directly:
    `busy`/`shell` is working, `idle` is waiting when a turn has ended, else idle.

    Waiting is checked before growth because the transcript grows when the final turn is
    written, which is exactly the moment the assistant starts waiting. The CPU of an app
    process that hosts many sessions (Cursor) says nothing about any one of them, so only
    growth counts there.
    """
    if process is None:
        return "ended"
    if process.status is not None:  # the assistant's own word (a trusted Claude session file)
        if process.status in ("busy", "shell"):
            return "working"
        return "waiting" if session.awaiting_user else "idle"
    rule = RULES_BY_TOOL.get(process.tool)
    busy = process.cpu_percent >= CPU_BUSY_PERCENT and not (rule and rule.shared_process)
    if session.awaiting_user and not busy:
        return "waiting"
    recent = (
        session.last_activity is not None
        and 0 <= now.timestamp() - session.last_activity.timestamp() <= WORKING_SECONDS
    )
    if busy or grew_recently or recent:
        return "working"
    return "idle"
