"""Export: a session's context as a resume brief (Markdown) and a bundle (JSON).

Owns the transcript digest (goal, todos, files, commands, errors), redaction of secrets,
building, rendering, reading and writing bundles.

May import: the kernel and accounting. Never live, actions, store, the UI or Textual.
"""
