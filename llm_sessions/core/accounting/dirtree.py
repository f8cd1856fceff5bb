"""A recursive listing of transcript files that a dashboard poll keeps current cheaply.

A gigabyte of Claude Code history is thousands of files in a thousand folders; listing and
stat-ing all of them on every 2-second poll cost more than everything else a poll does. A
folder's mtime changes when an entry is added, removed or renamed in it, so a poll stats
the folders it wants to check and lists again only those whose mtime moved; files that
exist are stat-ed by the caller, which knows which are worth it (see ClaudeProvider).

A folder listed within `RACY_NS` of its mtime is not trusted on the next check (an entry
added in the same clock tick would not move the mtime), the same rule git uses for racily
clean files; and callers still do a full listing now and then, so a filesystem whose
folder mtimes lie (some network mounts) is only ever late, never wrong for good.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable

from llm_sessions.core.problems import Problem, unreadable_folder

RACY_NS = 2_000_000_000


class _Dir:
    __slots__ = ("mtime_ns", "listed_ns", "subdirs", "files")

    def __init__(self, mtime_ns: int, listed_ns: int, subdirs: list[str], files: list[str]) -> None:
        self.mtime_ns = mtime_ns
        self.listed_ns = listed_ns
        self.subdirs = subdirs
        self.files = files


class DirTree:
    """Files accepted by `wanted(name)` under some top folders, with their folders' mtimes."""

    def __init__(self, wanted: Callable[[str], bool]) -> None:
        self.wanted = wanted
        self.dirs: dict[str, _Dir] = {}
        self.tops: list[str] = []

    def files(self) -> Iterable[str]:
        for d in self.dirs.values():
            yield from d.files

    def full(self, tops: list[str], problems: list[str | Problem]) -> None:
        """List everything under `tops` again."""
        self.tops = tops
        self.dirs = {}
        for top in tops:
            self._list_tree(top, problems)

    def refresh(self, folders: Iterable[str], problems: list[str | Problem]) -> tuple[set[str], set[str]]:
        """Stat `folders` (known ones) and list again those whose mtime moved: new
        subfolders are listed whole, vanished ones forgotten. Returns the files that
        appeared and those that disappeared."""
        added: set[str] = set()
        removed: set[str] = set()
        for folder in list(folders):
            d = self.dirs.get(folder)
            if d is None:
                continue
            try:
                mtime = os.stat(folder).st_mtime_ns
            except OSError:
                removed.update(self._forget(folder))
                continue
            if mtime == d.mtime_ns and d.listed_ns - mtime > RACY_NS:
                continue
            listed = time.time_ns()
            try:
                subdirs, files = self._entries(folder)
            except OSError as exc:
                problems.append(unreadable_folder(folder, exc))
                continue
            old_files, old_subdirs = set(d.files), set(d.subdirs)
            added.update(f for f in files if f not in old_files)
            removed.update(old_files.difference(files))
            for sub in old_subdirs.difference(subdirs):
                removed.update(self._forget(sub))
            for sub in subdirs:
                if sub not in old_subdirs:
                    added.update(self._list_tree(sub, problems))
            self.dirs[folder] = _Dir(mtime, listed, subdirs, files)
        return added - removed, removed - added

    def _entries(self, folder: str) -> tuple[list[str], list[str]]:
        subdirs, files = [], []
        wanted = self.wanted
        for e in os.scandir(folder):
            try:
                if e.is_dir(follow_symlinks=False):
                    subdirs.append(e.path)
                    continue
            except OSError:
                continue
            if wanted(e.name):
                files.append(e.path)
        return subdirs, files

    def _forget(self, folder: str) -> list[str]:
        """Drop a folder and everything below it; return the files it held."""
        out: list[str] = []
        stack = [folder]
        while stack:
            d = self.dirs.pop(stack.pop(), None)
            if d is not None:
                out.extend(d.files)
                stack.extend(d.subdirs)
        return out

    def _list_tree(self, top: str, problems: list[str | Problem]) -> list[str]:
        out: list[str] = []
        stack = [top]
        while stack:
            folder = stack.pop()
            listed = time.time_ns()
            try:
                mtime = os.stat(folder).st_mtime_ns
                subdirs, files = self._entries(folder)
            except OSError as exc:
                problems.append(unreadable_folder(folder, exc))
                continue
            self.dirs[folder] = _Dir(mtime, listed, subdirs, files)
            out.extend(files)
            stack.extend(subdirs)
        return out


__all__ = ["DirTree", "RACY_NS"]
