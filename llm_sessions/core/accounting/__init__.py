"""Accounting: what each session used and cost, read from the assistants' own files.

Owns the providers (one per assistant, transcript -> Session), pricing and its bundled price
table, health scores, usage limits (5-hour blocks, weekly windows, the status-line feed),
the tailer that reads growing files, the scan cache and the parallel cold scan.

May import: the kernel (llm_sessions.core.models, safeio, timeparse, ...), llm_sessions.config
and llm_sessions.paths. Never live, export, actions, store, the UI or Textual: accounting
works on files alone, so `list --no-processes` and the tests need no process table.
"""
