"""Actions: everything that touches another process or the user's settings.

Owns target verification (a pane by id, a process by pid and start time), jump / compact /
terminate, restart plans, auto-continue after a limit resets, and status-line install.

May import: the kernel, accounting, live and export. Nothing imports actions but the UI
and the CLI.
"""
