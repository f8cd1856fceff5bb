"""Format drift: what the transcript readers met and did not understand.

The assistants change their file formats without notice. A reader written against last
month's files keeps working on this month's, silently missing whatever is new; when the new
thing carries tokens, costs come out low and nobody knows. So the readers count, during the
normal scans and in the per-file state they already keep, every record type, subtype and
usage field they skip, every malformed line, and the assistant versions they saw. This
module only gathers those counts into a report (`llm-session doctor`) and a single number
for the dashboard: usage-bearing records that were not understood.

Counting costs next to nothing on the hot path: known types are a set lookup the readers
already do; a skipped record is rare; usage fields are checked on one sampled line per
(file, version), because a build that adds a field writes it on every line.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ToolDrift:
    """One assistant's side of the report."""

    tool: str
    roots: tuple[tuple[str, bool], ...] = ()  # (folder searched, exists)
    files: int = 0
    lines: int = 0
    malformed: int = 0
    versions: dict[str, int] = field(default_factory=dict)  # version -> lines (or files)
    unknown: dict[str, tuple[int, str]] = field(default_factory=dict)  # what -> (count, an example file)
    usage_unknown: int = 0  # usage-bearing records or usage fields not understood
    skipped: dict[str, tuple[int, str]] = field(default_factory=dict)  # why a file was skipped -> (files, example)

    def as_dict(self) -> dict:
        return {
            "tool": self.tool,
            "roots": [{"path": p, "exists": e} for p, e in self.roots],
            "files": self.files,
            "lines": self.lines,
            "malformed_lines": self.malformed,
            "versions": dict(sorted(self.versions.items(), key=lambda kv: -kv[1])),
            "not_understood": [
                {"what": w, "count": c, "example": ex} for w, (c, ex) in sorted(self.unknown.items(), key=lambda kv: -kv[1][0])
            ],
            "usage_records_not_understood": self.usage_unknown,
            "files_skipped": [{"why": w, "files": c, "example": ex} for w, (c, ex) in sorted(self.skipped.items())],
        }


class Tally:
    """Builds a ToolDrift from many files' counts (each provider feeds its own state in)."""

    def __init__(self, tool: str, roots: Iterable[str] = ()) -> None:
        import os

        self.tool = tool
        self.roots = tuple((str(r), os.path.exists(r)) for r in roots)
        self.files = self.lines = self.malformed = self.usage_unknown = 0
        self.versions: dict[str, int] = {}
        self.unknown: dict[str, tuple[int, str]] = {}
        self.skipped: dict[str, tuple[int, str]] = {}

    def file(self, path: str, *, lines: int = 0, malformed: int = 0, versions: dict[str, int] | None = None,
             unknown: dict[str, int] | None = None, usage_unknown: int = 0) -> None:
        self.files += 1
        self.lines += lines
        self.malformed += malformed
        self.usage_unknown += usage_unknown
        for v, n in (versions or {}).items():
            self.versions[v] = self.versions.get(v, 0) + n
        for what, n in (unknown or {}).items():
            count, example = self.unknown.get(what, (0, path))
            self.unknown[what] = (count + n, example)

    def skip(self, path: str, why: str) -> None:
        count, example = self.skipped.get(why, (0, path))
        self.skipped[why] = (count + 1, example)

    def done(self) -> ToolDrift:
        return ToolDrift(self.tool, self.roots, self.files, self.lines, self.malformed, self.versions, self.unknown,
                         self.usage_unknown, self.skipped)


@dataclass(frozen=True, slots=True)
class DriftReport:
    tools: tuple[ToolDrift, ...] = ()
    problems: tuple[str, ...] = ()

    @property
    def usage_unknown(self) -> int:
        return sum(t.usage_unknown for t in self.tools)

    def as_dict(self) -> dict:
        return {
            "usage_records_not_understood": self.usage_unknown,
            "assistants": [t.as_dict() for t in self.tools],
            "problems": list(self.problems),
        }


def warning_line(count: int) -> str | None:
    """The dashboard's one line when usage-bearing records were skipped, else None."""
    if count <= 0:
        return None
    what = "usage record of a newer format was" if count == 1 else "usage records of a newer format were"
    return f"{count:,} {what} skipped: costs may be low (run `llm-session doctor`)"


__all__ = ["DriftReport", "Tally", "ToolDrift", "warning_line"]
