"""Fixtures for the real-terminal tests: a generated world and dashboards in private tmux servers."""

from __future__ import annotations

import pytest

from tests.terminal.harness import Terminal, World, tmux_available
from tests.unit.conftest import Spawner


@pytest.fixture
def world(tmp_path):
    spawner = Spawner(tmp_path)
    try:
        yield World(tmp_path, spawner)
    finally:
        spawner.close()


@pytest.fixture
def dashboard(world):
    """`dashboard((w, h))` starts the real dashboard at that size; every one is killed at the end."""
    if not tmux_available():
        pytest.skip("tmux is not installed")
    started: list[Terminal] = []

    def start(size: tuple[int, int]) -> Terminal:
        term = Terminal(world, size).start()
        started.append(term)
        return term

    try:
        yield start
    finally:
        for term in started:
            term.close()
