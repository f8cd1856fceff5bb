"""`git status` in a folder named by a transcript, with nothing the repository configures run.

A brief records the working tree's state, but the folder comes from a transcript and its
repository may be hostile: hooks, an fsmonitor, a pager, clean/smudge filters and external
diff drivers would each run code of its choosing. Every one of them is switched off.
"""

from __future__ import annotations

import logging
import os
import subprocess

from llm_sessions.core.inert import control_char

log = logging.getLogger(__name__)

# git runs in a folder named by a transcript, so nothing the repository configures may run:
# no fsmonitor hook, no hooks, no pager, no optional index write (which would also fire the
# post-index-change hook), no submodule recursion. Clean/smudge filters are disabled one by
# one below, by the names the repository's config gives them.
_GIT_SAFE = (
    "--no-pager",
    "--no-optional-locks",
    "-c", "core.fsmonitor=false",
    "-c", "core.hooksPath=/dev/null",
    "-c", "core.untrackedCache=false",
    "-c", "core.quotePath=true",
    "-c", "status.submoduleSummary=false",
    "-c", "diff.external=",
)


def _git_env() -> dict[str, str]:
    """Our environment without any GIT_* variable (GIT_DIR, GIT_CONFIG_*, GIT_EXTERNAL_DIFF,
    GIT_SSH_COMMAND ... would each redirect or extend what git runs), never prompting."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_TERMINAL_PROMPT="0", GIT_OPTIONAL_LOCKS="0", GIT_CONFIG_NOSYSTEM="1")
    return env


def _git(cwd: str, args: list[str], timeout: float) -> subprocess.CompletedProcess | None:
    try:
        return subprocess.run(
            ["git", *_GIT_SAFE, "-C", cwd, *args],
            capture_output=True, text=True, timeout=timeout, check=False, env=_git_env(),
            stdin=subprocess.DEVNULL,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log.debug("git %s in %s failed: %s", args[0], cwd, exc)
        return None


def git_status(cwd: str | None, timeout: float = 5.0) -> str | None:
    """`git status --porcelain` in `cwd`, or None when there is no cwd, no git or no repo.

    The folder comes from a transcript and its repository may be hostile: see `_GIT_SAFE`.
    Reading the config runs nothing; it names the filter drivers to switch off.
    """
    if not cwd or control_char(cwd) or not os.path.isdir(cwd):
        return None
    found = _git(cwd, ["config", "--null", "--name-only", "--get-regexp", r"^filter\..*\.(clean|smudge|process)$"], timeout)
    off: list[str] = []
    if found is not None and found.returncode == 0:
        for key in filter(None, found.stdout.split("\0")):
            off += ["-c", f"{key.strip()}="]
    done = _git(cwd, [*off, "status", "--porcelain", "--ignore-submodules=all"], timeout)
    if done is None or done.returncode != 0:
        return None
    return done.stdout


__all__ = ["git_status"]
