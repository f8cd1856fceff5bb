"""llm-session: a live monitor for AI coding sessions.

Only the version lives here so that `import llm_sessions` stays free: the CLI's fast paths
(list, health) must not pay for Textual or SQLModel imports they never use.
"""

__version__ = "0.1.0"
