"""The private tmux server fixture, shared by the core and UI action tests."""

from tests.actions_support import tmux_server  # noqa: F401  (a fixture: importing it registers it)
