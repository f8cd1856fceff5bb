"""Settings: defaults, then `config.toml`, then `LLM_SESSION_*` environment variables.

Every key is declared once in `FIELDS`, which drives the defaults file that
`llm-session config init` writes, the environment override names and `config show`'s
"where did this value come from" column. Settings are frozen: the monitor thread and the UI
read the same object without locks.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    """A config problem worth one clear line to the user (exit code 2), never a traceback."""


@dataclass(frozen=True, slots=True)
class Field:
    section: str
    key: str
    default: Any
    help: str

    @property
    def attr(self) -> str:
        return f"{self.section}_{self.key}"

    @property
    def env(self) -> str:
        return f"LLM_SESSION_{self.section}_{self.key}".upper()


FIELDS: tuple[Field, ...] = (
    Field("general", "refresh_seconds", 2.0, "seconds between polls of processes and transcripts"),
    Field("general", "db_url", "", "SQLAlchemy URL of the store; empty = SQLite in the data dir"),
    Field("general", "workers", 0, "processes for a cold scan; 0 = one per core"),
    Field("general", "host_name", "", "this machine's name in the store (team view); empty = the OS host name"),
    Field("health", "weight_tokens", 40.0, "weight of context fill in the health score"),
    Field("health", "weight_duration", 20.0, "weight of session age"),
    Field("health", "weight_activity", 20.0, "weight of recent activity and idle time"),
    Field("health", "weight_errors", 20.0, "weight of recent API and tool errors"),
    Field("health", "healthy_min", 70, "score at or above which a session is healthy"),
    Field("health", "warning_min", 40, "score at or above which a session is a warning, below: critical"),
    Field("health", "duration_grace_hours", 2.0, "session age before the duration score starts to fall"),
    Field("health", "duration_zero_hours", 12.0, "session age at which the duration score reaches 0"),
    Field("health", "idle_minutes", 30.0, "minutes without a turn before a session counts as idle"),
    Field("health", "recent_turns", 20, "how many recent turns the error and activity scores look at"),
    Field("health", "compact_buffer_tokens", 13000, "tokens below the window minus reserved output where auto-compaction fires"),
    Field("health", "reserved_output_tokens", 20000, "output tokens the assistant reserves inside the window"),
    Field("alerts", "bell", False, "ring the terminal bell on an alert"),
    Field("alerts", "compaction_minutes", 10.0, "warn when auto-compaction is predicted within this many minutes"),
    Field("alerts", "repeat_seconds", 120.0, "seconds before the same alert for the same session toasts again"),
    Field("alerts", "limit_minutes", 30.0, "warn when a usage-limit window is projected to run out within this many minutes"),
    Field("export", "budget_tokens", 8000, "token budget of an exported resume brief"),
    Field("pricing", "file", "", "a JSON price table merged over the bundled one"),
    Field("limits", "plan", "", "Claude plan for estimated 5-hour windows: pro, max5, max20; empty = learn from history"),
    Field("limits", "claude_five_hour_usd", 0.0, "Claude 5-hour limit in USD at API prices, for estimates; 0 = plan preset or learned"),
    Field("limits", "claude_weekly_usd", 0.0, "Claude weekly limit in USD at API prices, for estimates; 0 = learned"),
    Field("limits", "fresh_minutes", 10.0, "a status-line reading older than this, with activity since, gives way to an estimate"),
    Field("limits", "auto_continue", False, "type `continue` into a session's tmux pane when its usage limit resets"),
    Field("store", "keep_days", 30.0, "days of history the store keeps (older samples thinned, then dropped)"),
    Field("store", "connect_timeout_seconds", 5.0, "how long to wait for a database server to answer a connection"),
    Field("store", "statement_timeout_seconds", 15.0, "how long one database statement may take on a server"),
    Field("team", "share_cwd", True, "store (and so publish) each session's folder; false hides folder names"),
    Field("aider", "repos", "", "repositories whose .aider.chat.history.md to read, separated by the OS path separator"),
    Field("aider", "paths", "", "folders (globs allowed) whose .aider.chat.history.md to read, separated by the OS path separator"),
)


def _settings_class():
    ns = {"__annotations__": {}}
    for f in FIELDS:
        ns["__annotations__"][f.attr] = type(f.default)
        ns[f.attr] = field(default=f.default)
    ns["__annotations__"]["sources"] = dict
    ns["sources"] = field(default_factory=dict, compare=False, repr=False)
    ns["price_overrides"] = field(default_factory=dict, compare=False, repr=False)
    ns["__annotations__"]["price_overrides"] = dict
    ns["__doc__"] = "Effective settings; `sources[attr]` says default, file or env."
    return dataclass(frozen=True)(type("Settings", (), ns))


Settings = _settings_class()


def _coerce(f: Field, value: Any, origin: str) -> Any:
    want = type(f.default)
    try:
        if want is bool:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off", ""}:
                return False
            raise ValueError(value)
        if want is int and isinstance(value, float) and not value.is_integer():
            raise ValueError(value)
        return want(value)
    except (TypeError, ValueError):
        raise ConfigError(
            f"{origin}: {f.section}.{f.key} must be {want.__name__}, got {value!r}"
        ) from None


def read_toml(path: Path) -> dict:
    """Parse a TOML file, turning syntax errors into one line with the file, line and column."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    import tomllib  # here: the status line runs on every update and most users have no file

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already ends "(at line L, column C)"
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def load_settings(path: Path, env: dict[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    data = read_toml(path)
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for f in FIELDS:
        values[f.attr], sources[f.attr] = f.default, "default"
        section = data.get(f.section)
        if isinstance(section, dict) and f.key in section:
            values[f.attr] = _coerce(f, section[f.key], str(path))
            sources[f.attr] = f"file {path}"
        if f.env in env:
            values[f.attr] = _coerce(f, env[f.env], f"environment {f.env}")
            sources[f.attr] = f"env {f.env}"
    prices = data.get("pricing", {}).get("models", {}) if isinstance(data.get("pricing"), dict) else {}
    if not isinstance(prices, dict):
        raise ConfigError(f"{path}: [pricing.models] must be a table of model tables")
    settings = Settings(**values, sources=sources, price_overrides=prices)
    _validate(settings, path)
    return settings


def _validate(s: Settings, path: Path) -> None:
    if s.general_refresh_seconds <= 0:
        raise ConfigError(f"{path}: general.refresh_seconds must be > 0")
    if not 0 <= s.health_warning_min <= s.health_healthy_min <= 100:
        raise ConfigError(f"{path}: need 0 <= health.warning_min <= health.healthy_min <= 100")
    if s.limits_plan.lower() not in ("", "pro", "max5", "max20"):
        raise ConfigError(f"{path}: limits.plan must be one of pro, max5, max20 (or empty), got {s.limits_plan!r}")
    for key in ("store_keep_days", "store_connect_timeout_seconds", "store_statement_timeout_seconds"):
        if not getattr(s, key) > 0:
            raise ConfigError(f"{path}: {key.replace('_', '.', 1)} must be > 0")
    weights = [getattr(s, f"health_weight_{n}") for n in ("tokens", "duration", "activity", "errors")]
    if min(weights) < 0 or sum(weights) <= 0:
        raise ConfigError(f"{path}: health weights must be >= 0 and not all 0")


def default_toml() -> dict:
    out: dict[str, dict] = {}
    for f in FIELDS:
        out.setdefault(f.section, {})[f.key] = f.default
    return out


def write_default_config(path: Path, force: bool = False) -> bool:
    """Write the defaults with tomli-w; never overwrite the user's file unless forced.

    The write goes to a temporary file first and is renamed into place, so a crash cannot
    leave half a config behind.
    """
    import tomli_w

    if path.exists() and not force:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# llm-session configuration. Every key can be overridden by LLM_SESSION_<SECTION>_<KEY>.\n"]
    body = tomli_w.dumps(default_toml())
    helps = {(f.section, f.key): f.help for f in FIELDS}
    section = ""
    for line in body.splitlines():
        if line.startswith("["):
            section = line.strip("[]")
        elif "=" in line:
            key = line.split("=", 1)[0].strip()
            if (section, key) in helps:
                lines.append(f"# {helps[(section, key)]}\n")
        lines.append(line + "\n")
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text("".join(lines), encoding="utf-8")
    os.replace(tmp, path)
    return True


def settings_rows(s: Settings) -> list[dict]:
    return [
        {"key": f"{f.section}.{f.key}", "value": getattr(s, f.attr), "source": s.sources.get(f.attr, "default"), "env": f.env}
        for f in FIELDS
    ]


__all__ = ["ConfigError", "FIELDS", "Settings", "load_settings", "write_default_config", "settings_rows"]
