"""Health of a session: a pure function of the session, the settings and the clock."""

from __future__ import annotations


def compaction_point(window: int, reserved_output: int, buffer: int) -> int:
    """Token count at which the assistant auto-compacts: window - reserved output - buffer.

    With the defaults (20k reserved, 13k buffer) a 200k window compacts near 167k, which
    matches what third-party analyses of Claude Code report.
    """
    return max(0, window - reserved_output - buffer)
