"""Command palette entries: every key binding of the current screen and the app, by name.

Built from the BINDINGS themselves, so a new key can never be missing from the palette, and
filtered through `check_action`, so the palette never offers an action that is switched off.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.actions import parse
from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider


class SessionCommands(Provider):
    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        seen: set[str] = set()
        out: list[tuple[str, str, Callable[[], object]]] = []
        for node, bindings in ((self.screen, self.screen.BINDINGS), (self.app, self.app.BINDINGS)):
            for b in bindings:
                if not isinstance(b, Binding) or not b.description or b.action in seen:
                    continue
                _namespace, name, params = parse(b.action)
                if not node.check_action(name, params):
                    continue  # e.g. export when no export handler was given
                seen.add(b.action)
                key = b.key_display or b.key
                out.append((b.description, f"key: {key}", partial(node.run_action, b.action)))
        return out

    async def discover(self) -> Hits:
        for title, help_text, run in self._commands():
            yield DiscoveryHit(title, run, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, run in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), run, help=help_text)


__all__ = ["SessionCommands"]
