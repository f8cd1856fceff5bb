"""Where llm-session keeps its own files: config, data (the store, exports), cache and logs.

Directories come from platformdirs and are created only when something is written, so a
read-only command on a fresh machine leaves no trace. `LLM_SESSION_HOME` moves all of them
under one folder, which is what tests and the demo use.
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


def ensure_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


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
