"""Fixtures shared with the core action tests: a private tmux server, a spawned sleep."""

from tests.actions_support import sleeper, tmux_server  # noqa: F401  (fixtures: importing registers them)
