"""Claude Code transcript files: which files are transcripts, whose session each belongs
to, and reading one file's new bytes into its partial result (`parse_one` isolates a file
that cannot be read or parsed as one problem). The provider (claude.py) decides which
files to read and merges them; the pool (pool.py) runs `parse_one` in worker processes.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from llm_sessions.core.accounting import tailer
from llm_sessions.core.accounting.dirtree import DirTree
from llm_sessions.core.accounting.providers.claude_file import ClaudeFile
from llm_sessions.core.accounting.roots import existing_dir
from llm_sessions.core.problems import cannot_parse, unreadable_file
from llm_sessions.core.safeio import printable

if TYPE_CHECKING:
    from llm_sessions.core.accounting.providers.claude_parse import FileParser

log = logging.getLogger(__name__)


def classify(path: str) -> tuple[bool, str]:
    """(is a subagent file, session id guess) from where a transcript sits: nested
    `<sessionId>/subagents/agent-*.jsonl`, legacy flat `agent-*.jsonl` (named inside), or
    `<sessionId>.jsonl`."""
    folder, name = os.path.split(path)
    stem = name[:-6]
    # A session id comes from a file name, which may not be UTF-8: ids are shown, stored
    # and printed as JSON, so they hold the name escaped; the path stays raw.
    if os.path.basename(folder) == "subagents":
        return True, printable(os.path.basename(os.path.dirname(folder)))
    if stem.startswith("agent-"):
        return True, ""
    return False, printable(stem)


def project_dirs(roots: Iterable[Path], problems: list) -> list[str]:
    """Each root's projects/ folder that exists, once per real folder (two configured roots
    that are one folder are scanned once)."""
    out: list[str] = []
    seen: set[str] = set()
    for root in roots:
        projects = os.path.join(root, "projects")
        real = os.path.realpath(projects)
        if real not in seen and existing_dir(projects, problems):
            seen.add(real)
            out.append(projects)
    return out


def _is_transcript(name: str) -> bool:
    return name.endswith(".jsonl")


def list_transcripts(roots: Iterable[Path], problems: list) -> list[tuple[str, bool, str]]:
    """(path, is_subagent, session id guess) for every .jsonl under each root's projects/."""
    tree = DirTree(_is_transcript)
    tree.full(project_dirs(roots, problems), problems)
    return [(path, *classify(path)) for path in tree.files()]


def parse_file(f: ClaudeFile, st: os.stat_result) -> ClaudeFile:
    """Read what was appended to one file since its cursor and fold it into `f`."""
    # the parser is imported by the first file that has bytes to read: a warm run with
    # nothing changed never loads it (nor the line records and key tables it brings)
    from llm_sessions.core.accounting.providers.claude_parse import FileParser

    name, folder = os.path.basename(f.path), os.path.basename(os.path.dirname(f.path))
    parser = FileParser(f, legacy_agent=f.subagent and name.startswith("agent-") and folder != "subagents")
    failed = 0
    for block, lines in tailer.read_blocks(f.path, f.cursor, st):
        try:
            parser.feed_block(block, lines)
        except Exception:  # a bug in one line must cost that line only
            failed += _feed_lines(parser, bytes(block))
    f.malformed += failed
    return parser.finish()


def _feed_lines(parser: FileParser, block: bytes) -> int:
    """A block the block parser raised on, line by line: how many lines raised too."""
    failed = 0
    for line in block.split(b"\n"):
        if line:
            try:
                parser.feed(line)
            except Exception:  # the same, line by line
                failed += 1
    return failed


def parse_one(f: ClaudeFile, st: os.stat_result, problems: list) -> ClaudeFile:
    """`parse_file` isolated per file: a file that cannot be read or parsed is one problem.

    A parse that fails outright (a bug, since lines are isolated) forgets what the file gave
    and is not retried until the file changes, so the others and later polls go on.
    """
    try:
        return parse_file(f, st)
    except OSError as exc:
        problems.append(unreadable_file(f.path, exc))
    except Exception as exc:  # a bug: this file is one problem, the others go on
        log.exception("cannot parse %s", f.path)
        problems.append(cannot_parse(f.path, exc))
        f.reset()
        f.cursor = tailer.Cursor(dev=st.st_dev, ino=st.st_ino, size=st.st_size, mtime_ns=st.st_mtime_ns)
    return f


def _in_scope(tree: DirTree, scope) -> tuple[list[str], list[str]]:
    """(files of the project folders that may hold a running session, files active within
    the usage-limit windows): see core.live.scope. Walks the listing's own folders, so
    100,000 paths are not cut up again to find their project folder."""
    live: list[str] = []
    recent: list[str] = []
    for top in tree.tops:
        entry = tree.dirs.get(top)
        if entry is None:
            continue
        groups = [(path, [path]) for path in entry.files]  # a stray file directly in projects/
        groups.extend((sub, _files_under(tree, sub)) for sub in entry.subdirs)
        for folder, items in groups:
            hot = scope.wants_claude_dir(os.path.basename(folder))
            for path in items:
                try:
                    st = os.stat(path)
                except OSError:
                    continue
                if scope.for_limits(st):
                    recent.append(path)
                hot = hot or scope.wants_file(os.path.basename(path), st)
            if hot:
                live.extend(items)
    return live, recent


def _files_under(tree: DirTree, folder: str) -> list[str]:
    """The listed files in `folder` and below (a project folder: its transcripts, each
    session's subagents/)."""
    out: list[str] = []
    stack = [folder]
    while stack:
        entry = tree.dirs.get(stack.pop())
        if entry is not None:
            out.extend(entry.files)
            stack.extend(entry.subdirs)
    return out
