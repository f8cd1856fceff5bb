"""Untrusted text made inert before it reaches a terminal, a brief or a command.

Transcripts, bundles and process tables are written by other programs, by tool output and by
whoever wrote the repository an assistant worked in. A title, a cwd or a line of tool output
can hold terminal control sequences (set the window title, write the clipboard with OSC 52,
clear the screen, move the cursor over what was printed). Printed as is, they act on the
user's terminal. So every string from outside is shown with its control characters spelled
out, the way `ls` and git show odd file names: `\\x1b]0;title\\x07` instead of a new title.

`inert()` is for one string; `InertStream` wraps an output stream so that everything the CLI
prints goes through it (one chokepoint instead of one call per print). `control_char()`
finds the first control character in a value that is about to be used as a path or an id,
so an action can refuse it with a message instead of escaping it into something else.
"""

from __future__ import annotations

import re
from typing import Any, TextIO

# C0 controls, DEL and the C1 range (U+0080-U+009F: some terminals read U+009B as CSI).
_ALL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# The same, minus tab and newline: the layout of multi-line text is kept.
_LAYOUT_KEPT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _spell(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    # \u00XX for C1 so that JSON printed through InertStream stays valid JSON.
    return f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}"


def inert(text: str, *, multiline: bool = False) -> str:
    """`text` with every control character spelled out (`\\x1b`, `\\x07`, `\\u009b`).

    `multiline=True` keeps tabs and newlines (a brief, tool output); otherwise they are
    spelled out too, which is what a one-line cell or a path needs.
    """
    if not text:
        return text
    return (_LAYOUT_KEPT if multiline else _ALL).sub(_spell, text)


def inert_tree(value: Any) -> Any:
    """`inert(multiline=True)` applied to every string inside lists and dicts (JSON-like)."""
    if isinstance(value, str):
        return inert(value, multiline=True)
    if isinstance(value, list):
        return [inert_tree(v) for v in value]
    if isinstance(value, dict):
        return {k: inert_tree(v) for k, v in value.items()}
    return value


def control_char(text: str | None) -> str | None:
    """The first control character of `text`, spelled out, or None when there is none."""
    if not text:
        return None
    found = _ALL.search(text)
    return inert(found.group()) if found else None


class InertStream:
    """A text stream whose `write` makes what it is given inert (layout kept).

    Installed over sys.stdout and sys.stderr by the CLI entry point, so every line the CLI
    prints (tables, errors, an imported brief) is safe for the terminal however it was built.
    JSON is unaffected: an encoder never writes raw C0 characters, and C1 ones become the
    JSON escape `\\u00XX`. Everything but `write` is the wrapped stream's.
    """

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    @property
    def raw(self) -> TextIO:
        """The wrapped stream, for output that is ours alone (a progress meter's `\\r`)."""
        return self._stream

    def write(self, text: str) -> int:
        self._stream.write(inert(text, multiline=True))
        return len(text)

    def writelines(self, lines) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


__all__ = ["InertStream", "control_char", "inert", "inert_tree"]
