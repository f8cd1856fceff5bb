"""Real-terminal tests: the dashboard in a private tmux server, driven by keys, read from the screen."""
