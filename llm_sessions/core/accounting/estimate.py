"""The fallback token estimate, for assistants whose files carry no counts (Cursor's empty
`tokenCount`, Copilot CLI): a fixed base + the conversation text + the project files, at
about four characters per token.

It exists because "unknown" is less useful than a labelled guess, and every number it
makes says so: `Usage.exact` and `ContextFill.exact` are always False here. Providers that
have exact counts must never call it.

Project files are what an assistant is likely to read into its context: the files of the
repository that git would track. The listing honours `.gitignore` (through `git ls-files`
when the folder is a repository, else a simple reading of `.gitignore` files), skips binary
files (a NUL byte in the first 8 KB) and files over a size cap, and every file's count is
cached by (mtime, size) so re-estimating a project costs one `stat` per file.
"""

from __future__ import annotations

import fnmatch
import logging
import math
import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

import msgspec

from llm_sessions.core.models import ContextFill, Usage
from llm_sessions.core.safeio import open_binary, read_regular

log = logging.getLogger(__name__)

CHARS_PER_TOKEN = 4
#: System prompt and tool definitions every assistant sends before any message.
BASE_TOKENS = 3_000
#: Files larger than this are generated data or logs, not something read into context.
MAX_FILE_BYTES = 256 * 1024
#: A project is listed up to this many files: the estimate is a guess, the walk is bounded.
MAX_FILES = 5_000
BINARY_SNIFF = 8192
#: Folders skipped when there is no git to ask, ignored or not.
ALWAYS_SKIP = frozenset({".git", "node_modules", ".venv", "venv", "__pycache__", ".mypy_cache", ".tox", ".hg", ".svn"})


def text_tokens(text: str) -> int:
    """~4 characters per token, rounded up (a non-empty text is at least one token)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


class _Ignore(msgspec.Struct, frozen=True):
    """One `.gitignore` pattern, the simple subset: globs, `dir/`, `/anchored`, `!negate`."""

    base: str  # folder of the .gitignore, relative to the project root ("" for the root)
    pattern: str
    negate: bool
    dir_only: bool
    anchored: bool

    def matches(self, rel: str, is_dir: bool) -> bool:
        if self.dir_only and not is_dir:
            return False
        if self.base:
            if not rel.startswith(self.base + "/"):
                return False
            rel = rel[len(self.base) + 1 :]
        if self.anchored:
            return fnmatch.fnmatchcase(rel, self.pattern)
        return fnmatch.fnmatchcase(rel.rsplit("/", 1)[-1], self.pattern) or fnmatch.fnmatchcase(rel, self.pattern)


def _read_gitignore(path: Path, base: str) -> list[_Ignore]:
    try:
        lines = read_regular(path, 4 * 1024 * 1024).decode("utf-8", "replace").splitlines()
    except OSError:
        return []
    rules = []
    for line in lines:
        line = line.rstrip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        line = line[1:] if negate else line
        dir_only = line.endswith("/")
        line = line.rstrip("/")
        anchored = "/" in line
        rules.append(_Ignore(base, line.lstrip("/"), negate, dir_only, anchored))
    return rules


def _ignored(rules: list[_Ignore], rel: str, is_dir: bool) -> bool:
    verdict = False
    for rule in rules:  # last match wins, as in git
        if rule.matches(rel, is_dir):
            verdict = not rule.negate
    return verdict


class Estimator:
    """Counts project files once per change. Keep one per monitor: the cache is the point."""

    def __init__(
        self,
        *,
        max_file_bytes: int = MAX_FILE_BYTES,
        max_files: int = MAX_FILES,
        base_tokens: int = BASE_TOKENS,
        use_git: bool = True,
        env: dict[str, str] | None = None,
    ) -> None:
        self.max_file_bytes = max_file_bytes
        self.max_files = max_files
        self.base_tokens = base_tokens
        self.env = env
        self.git = shutil.which("git", path=(env or {}).get("PATH", os.defpath)) if use_git else None
        self._files: dict[str, tuple[int, int, int]] = {}  # path -> (mtime_ns, size, tokens)
        self._listings: dict[str, tuple[tuple[int, ...], list[str]]] = {}
        self.reads = 0  # files actually opened, for tests and the benchmark

    # ---------------------------------------------------------------- listing
    def _listing_key(self, root: Path) -> tuple[int, ...]:
        """What must change for the file list to change: the root folder, the git index
        and the root .gitignore. Cheap to check, good enough for an estimate."""
        key = []
        for p in (root, root / ".git" / "index", root / ".gitignore"):
            try:
                key.append(p.stat().st_mtime_ns)
            except OSError:
                key.append(0)
        return tuple(key)

    def project_files(self, root: Path) -> list[str]:
        """Project files, relative to `root`, that git would track (or, without git, that
        the `.gitignore` files do not exclude)."""
        root = Path(root)
        key = self._listing_key(root)
        cached = self._listings.get(str(root))
        if cached and cached[0] == key:
            return cached[1]
        files = self._git_files(root) if (root / ".git").exists() else None
        if files is None:
            files = self._walk(root)
        files = files[: self.max_files]
        self._listings[str(root)] = (key, files)
        return files

    def _git_files(self, root: Path) -> list[str] | None:
        if not self.git:
            return None
        try:
            done = subprocess.run(
                [self.git, "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                capture_output=True,
                timeout=10,
                check=False,
                env=self.env,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            log.debug("git ls-files failed in %s: %s", root, exc)
            return None
        if done.returncode != 0:
            return None
        return [f for f in done.stdout.decode("utf-8", "replace").split("\0") if f]

    def _walk(self, root: Path) -> list[str]:
        out: list[str] = []
        stack: list[tuple[str, list[_Ignore]]] = [("", _read_gitignore(root / ".gitignore", ""))]
        while stack and len(out) < self.max_files:
            rel_dir, rules = stack.pop()
            folder = root / rel_dir if rel_dir else root
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                except OSError:
                    continue
                if is_dir:
                    if entry.name in ALWAYS_SKIP or _ignored(rules, rel, True):
                        continue
                    stack.append((rel, rules + _read_gitignore(Path(entry.path) / ".gitignore", rel)))
                elif entry.is_file(follow_symlinks=False) and not _ignored(rules, rel, False):
                    out.append(rel)
        return sorted(out)

    # ---------------------------------------------------------------- counting
    def file_tokens(self, path: Path) -> int:
        """Tokens of one file, 0 for binaries and files over the cap; cached by mtime."""
        try:
            st = path.stat()
        except OSError:
            return 0
        key = str(path)
        hit = self._files.get(key)
        if hit and hit[0] == st.st_mtime_ns and hit[1] == st.st_size:
            return hit[2]
        tokens = 0
        if st.st_size <= self.max_file_bytes:
            try:
                with open_binary(path) as fh:  # a FIFO or device (behind a symlink) is refused
                    self.reads += 1
                    data = fh.read(self.max_file_bytes + 1)
                if b"\0" not in data[:BINARY_SNIFF]:
                    tokens = text_tokens(data.decode("utf-8", "replace"))
            except OSError:
                tokens = 0
        self._files[key] = (st.st_mtime_ns, st.st_size, tokens)
        return tokens

    def project_tokens(self, root: Path | str | None) -> int:
        if not root:
            return 0
        root = Path(root)
        if not root.is_dir():
            return 0
        return sum(self.file_tokens(root / rel) for rel in self.project_files(root))

    # ---------------------------------------------------------------- results
    def usage(self, inputs: Iterable[str], outputs: Iterable[str], project: Path | str | None = None) -> Usage:
        """Estimated usage of a conversation: the base, the project and the user side as
        input, the assistant side as output. Always `exact=False`."""
        sent = self.base_tokens + self.project_tokens(project) + sum(text_tokens(t) for t in inputs)
        received = sum(text_tokens(t) for t in outputs)
        return Usage(input=sent, output=received, exact=False)

    def context(self, texts: Iterable[str], window: int, project: Path | str | None = None) -> ContextFill:
        """Estimated context fill: base + project + every message still in the window."""
        used = self.base_tokens + self.project_tokens(project) + sum(text_tokens(t) for t in texts)
        return ContextFill(used=used, window=window, exact=False, source="estimate")
