"""Live: which sessions are running now, and what changed since the last poll.

Owns process discovery and recognition (psutil, tmux panes), the live scope, the monitor
that turns a poll into a Snapshot, file watching, alerts on crossings, and the dashboard's
summaries and series.

May import: the kernel, accounting, llm_sessions.config and llm_sessions.paths. Never
export, actions, store, the UI or Textual.
"""
