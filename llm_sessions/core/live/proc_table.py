"""Reading the process table: the cheap per-pid row, then the costly look at an assistant.

Discovery decides *which session* a process serves; this module only reads what the kernel
says about processes, so the reading (and its per-platform paths) can be checked on its own.
On Linux the per-pid row is `/proc/<pid>/stat` read directly through one directory handle per
pass, because psutil's per-process objects cost several times the poll budget over two
thousand processes; elsewhere psutil supplies the same fields. Command line, executable,
cwd, terminal and open files are read only for processes whose name can be an assistant.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import contextmanager

import msgspec
import psutil

from llm_sessions.core.live.recognise import Recognition, Rule, recognise

_PSEUDO_FILES = ("/dev/", "/proc/", "/sys/")


class Proc(msgspec.Struct):
    """What is cached about one pid between polls. Mutable on purpose: it is private to
    one Discovery object and never crosses a thread boundary."""

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
    cpu_ticks: int = -1  # Linux: utime+stime at cpu_at, for the next poll's CPU share
    cpu_at: float = 0.0

    @property
    def tool(self) -> str:
        """The assistant it was recognised as; asked only of recognised processes."""
        assert self.recognition is not None, f"pid {self.pid} is not a recognised assistant"
        return self.recognition.tool


def _clock_ticks() -> int:
    try:
        return os.sysconf("SC_CLK_TCK")
    except (ValueError, OSError, AttributeError):
        return 100


class ProcTable:
    """The cheap first look at every process: name, parent and start, nothing else."""

    def __init__(self) -> None:
        self.linux = sys.platform.startswith("linux") and os.path.exists("/proc/self/stat")
        self.boot = psutil.boot_time()
        self.hz = _clock_ticks()
        self.page = os.sysconf("SC_PAGE_SIZE") if self.linux else 4096
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

    def _stat(self, pid: int, name: str = "stat") -> bytes:
        """/proc/<pid>/<name>'s text (OSError when gone or unreadable)."""
        if self._dir is not None:
            fd = os.open(f"{pid}/{name}", os.O_RDONLY, dir_fd=self._dir)
        else:
            fd = os.open(f"/proc/{pid}/{name}", os.O_RDONLY)
        try:
            return os.read(fd, 1024)
        finally:
            os.close(fd)

    def read(self, pid: int) -> tuple[str, int, float, float] | None:
        """(name, ppid, start key, created epoch) or None when the process is gone."""
        if self.linux:
            try:
                raw = self._stat(pid)
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

    def inspect(self, proc: Proc, rules: tuple[Rule, ...]) -> None:
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
                proc.recognition = recognise(proc.name, proc.cmdline, proc.exe, rules)
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
                if not (self.linux and self.usage(proc)):
                    handle.cpu_percent(None)  # primes the counter; the first real value comes next poll
                    proc.rss = handle.memory_info().rss
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            proc.recognition = None
            proc.handle = None

    def usage(self, proc: Proc) -> bool | None:
        """Refresh a recognised assistant's CPU share (since the last call, in % of one core,
        as psutil's `cpu_percent(None)`: 0.0 on the first) and RSS; False when it has gone.

        On Linux they come from /proc/<pid>/stat (utime, stime) and statm (resident pages,
        psutil's source for RSS) read directly: psutil's oneshot, cpu_percent and
        memory_info cost ~110 us a process every poll, these two reads ~15 us. Elsewhere, or
        when /proc denies the read, psutil's handle answers (None: the caller asks psutil)."""
        if not self.linux:
            return None
        try:
            raw = self._stat(proc.pid)
            statm = self._stat(proc.pid, "statm")
        except (FileNotFoundError, ProcessLookupError):
            return False
        except OSError:
            return None
        fields = raw[raw.rfind(b")") + 2 :].split()
        try:
            ticks = int(fields[11]) + int(fields[12])
            rss = int(statm.split()[1]) * self.page
        except (IndexError, ValueError):
            return None
        now = time.monotonic()
        if proc.cpu_ticks >= 0 and now > proc.cpu_at:
            proc.cpu = round((ticks - proc.cpu_ticks) / self.hz / (now - proc.cpu_at) * 100, 1)
        else:
            proc.cpu = 0.0
        proc.cpu_ticks, proc.cpu_at, proc.rss = ticks, now, rss
        return True

    def read_open_files(self, proc: Proc) -> None:
        """The absolute paths a process holds open, pseudo-files left out."""
        paths: set[str] = set()
        try:
            if self.linux:
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
