"""Where llm-session keeps its own files: config, data (the store, exports), cache and logs.

Directories come from platformdirs and are created only when something is written, so a
read-only command on a fresh machine leaves no trace. `LLM_SESSION_HOME` moves all of them
under one folder, which is what tests and the demo use.

What llm-session writes describes private work (prompts in the store, briefs, paths in the
scan cache and the log), so all of it is the user's alone: files 0600, folders 0700. That is
one mechanism, not a chmod in every writer: the CLI entry point sets the process umask to
077 (`private_umask`), so every file and folder any writer creates (SQLite and its journal,
the scan cache, the log, exports, temp files) is born private, and `secure_app_dirs` tightens
folders left 0755 by an older version once, on the first run that finds them open.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

APP = "llm-session"


@dataclass(frozen=True, slots=True)
class AppPaths:
    config_dir: Path
    data_dir: Path
    cache_dir: Path
    log_dir: Path

    @property
    def config_file(self) -> Path:
        return self.config_dir / "config.toml"

    @property
    def db_file(self) -> Path:
        return self.data_dir / "llm-session.db"

    @property
    def exports_dir(self) -> Path:
        return self.data_dir / "exports"

    @property
    def scan_cache(self) -> Path:
        return self.cache_dir / "scan-cache.msgpack"


def app_paths(env: dict[str, str] | None = None) -> AppPaths:
    env = os.environ if env is None else env
    base = env.get("LLM_SESSION_HOME")
    if base:
        root = Path(base).expanduser()
        return AppPaths(root / "config", root / "data", root / "cache", root / "log")
    config = env.get("LLM_SESSION_CONFIG_DIR")
    import platformdirs

    return AppPaths(
        Path(config).expanduser() if config else Path(platformdirs.user_config_dir(APP)),
        Path(platformdirs.user_data_dir(APP)),
        Path(platformdirs.user_cache_dir(APP)),
        Path(platformdirs.user_log_dir(APP)),
    )


PRIVATE_UMASK = 0o077


def private_umask() -> int:
    """Make every file and folder this process creates private; returns the old umask."""
    return os.umask(PRIVATE_UMASK)


def ensure_dir(path: Path) -> Path:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def _tighten(folder: Path) -> None:
    """chmod a folder of ours that is open to others to 0700, and what is in it to 0700/0600.

    Only what this user owns; symlinks are never followed. A folder already private is
    left as is without walking it, so this costs one stat per folder on every later run.
    """
    try:
        st = os.lstat(folder)
    except OSError:
        return
    import stat

    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or not st.st_mode & 0o077:
        return
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name, mode in [(d, 0o700) for d in dirs] + [(f, 0o600) for f in files]:
            path = os.path.join(root, name)
            try:
                sub = os.lstat(path)
                if not stat.S_ISLNK(sub.st_mode) and sub.st_uid == os.getuid() and sub.st_mode & 0o077:
                    os.chmod(path, stat.S_IMODE(sub.st_mode) & ~0o077 | (mode & 0o700))
            except OSError:
                continue
    try:
        os.chmod(folder, 0o700)
    except OSError:
        pass


def secure_app_dirs(paths: AppPaths) -> None:
    """Tighten llm-session's own data, cache and log folders, and its config file.

    The config folder itself may be one the user chose (`LLM_SESSION_CONFIG_DIR`) and shares
    with other things, so only our file in it is touched.
    """
    for folder in (paths.data_dir, paths.cache_dir, paths.log_dir):
        _tighten(folder)
    try:
        st = os.lstat(paths.config_file)
        if st.st_uid == os.getuid() and st.st_mode & 0o077 and not os.path.islink(paths.config_file):
            os.chmod(paths.config_file, 0o600)
    except OSError:
        pass


def clean_debris(folder: Path, prefix: str, min_age_seconds: float = 600.0) -> int:
    """Remove temp files named `prefix*` in `folder` that a crash left behind.

    Atomic writes go through a temp file renamed into place; kill -9 or a power cut between
    the two leaves the temp file forever. Only files older than `min_age_seconds` go, so a
    write in progress in another process is never touched. Returns how many were removed.
    """
    import time

    removed = 0
    cutoff = time.time() - min_age_seconds
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        if not entry.name.startswith(prefix):
            continue
        try:
            if entry.is_file(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_mtime < cutoff:
                os.unlink(entry.path)
                removed += 1
        except OSError:
            pass
    return removed
