"""Where a session lives: the host name and OS user that are part of every stored key.

Two machines publishing into one database must never overwrite each other's rows, even when
their session ids are equal (pid-only ids such as `claude-pid1234` repeat across machines),
so every key starts with (host, os_user). The host name comes from `general.host_name`
(env `LLM_SESSION_GENERAL_HOST_NAME`), else the machine's own; the user is the login name
of the process owner. No SQLAlchemy here: the CLI names the identity without loading it.
"""

from __future__ import annotations

import getpass
import os
import socket
from dataclasses import dataclass

MAX_LEN = 255


@dataclass(frozen=True, slots=True)
class Identity:
    host: str
    os_user: str

    def __str__(self) -> str:
        return f"{self.os_user}@{self.host}"


def _clean(value: str, fallback: str) -> str:
    value = "".join(ch for ch in (value or "").strip() if ch.isprintable())
    return (value or fallback)[:MAX_LEN]


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER: a container as a bare uid
        return f"uid{os.getuid()}" if hasattr(os, "getuid") else "unknown"


def local_identity(settings=None, host_name: str | None = None) -> Identity:
    """This machine and user, with `general.host_name` taking precedence over the OS's name."""
    configured = host_name if host_name is not None else getattr(settings, "general_host_name", "")
    return Identity(_clean(configured or socket.gethostname(), "localhost"), _clean(os_user(), "unknown"))


__all__ = ["Identity", "local_identity", "os_user"]
