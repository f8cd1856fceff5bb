"""Settings: defaults, then `config.toml`, then `LLM_SESSION_*` environment variables.

Every key is declared once in `FIELDS`, which drives the defaults file that
`llm-session config init` writes, the environment override names and `config show`'s
"where did this value come from" column. Settings are frozen: the monitor thread and the UI
read the same object without locks.

A value is checked where it is read, and a bad one is one line naming the key and where it
came from (the file, or the environment variable), exit code 2: a boolean where a number
belongs, NaN or infinity (NaN busy-looped the dashboard, infinity stopped its refresh), a
number outside the key's range, a `db_url` for a database we cannot use, a `pricing.file`
that is not there. Keys we do not know are not errors (a newer config on an older version
must still start), but each is one warning that names the closest known key.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any, TypeVar


class ConfigError(Exception):
    """A config problem worth one clear line to the user (exit code 2), never a traceback."""


@dataclass(frozen=True, slots=True)
class Field:
    section: str
    key: str
    default: Any
    help: str
    # Inclusive range of a number; None: any finite value.
    lo: float | None = None
    hi: float | None = None

    @property
    def attr(self) -> str:
        return f"{self.section}_{self.key}"

    @property
    def env(self) -> str:
        return f"LLM_SESSION_{self.section}_{self.key}".upper()


T = TypeVar("T")


def _setting(default: T, help: str, lo: float | None = None, hi: float | None = None) -> T:
    """One key: its default (whose type is the key's type), the help line of the defaults
    file and, for a number, its inclusive range (None: any finite value)."""
    return field(default=default, metadata={"help": help, "lo": lo, "hi": hi})


@dataclass(frozen=True)
class Settings:
    """Effective settings; `sources[attr]` says default, file or env.

    Declared key by key so type checkers and readers see every one. An attribute is
    `<section>_<key>` (`general_refresh_seconds` is `refresh_seconds` under `[general]`);
    section names are single words, so the first underscore splits them.
    """

    general_refresh_seconds: float = _setting(2.0, "seconds between polls of processes and transcripts", 0.2, 86400)
    general_db_url: str = _setting("", "SQLAlchemy URL of the store; empty = SQLite in the data dir")
    general_workers: int = _setting(0, "processes for a cold scan; 0 = one per core", 0, 256)
    general_host_name: str = _setting("", "this machine's name in the store (team view); empty = the OS host name")
    health_weight_tokens: float = _setting(40.0, "weight of context fill in the health score", 0, 1000)
    health_weight_duration: float = _setting(20.0, "weight of session age", 0, 1000)
    health_weight_activity: float = _setting(20.0, "weight of recent activity and idle time", 0, 1000)
    health_weight_errors: float = _setting(20.0, "weight of recent API and tool errors", 0, 1000)
    health_healthy_min: int = _setting(70, "score at or above which a session is healthy", 0, 100)
    health_warning_min: int = _setting(40, "score at or above which a session is a warning, below: critical", 0, 100)
    health_duration_grace_hours: float = _setting(2.0, "session age before the duration score starts to fall", 0, 8760)
    health_duration_zero_hours: float = _setting(12.0, "session age at which the duration score reaches 0", 0, 8760)
    health_idle_minutes: float = _setting(30.0, "minutes without a turn before a session counts as idle", 0.1, 525600)
    health_recent_turns: int = _setting(20, "how many recent turns the error and activity scores look at", 1, 10000)
    health_compact_buffer_tokens: int = _setting(
        13000, "tokens below the window minus reserved output where auto-compaction fires", 0, 10_000_000
    )
    health_reserved_output_tokens: int = _setting(20000, "output tokens the assistant reserves inside the window", 0, 10_000_000)
    alerts_bell: bool = _setting(False, "ring the terminal bell on an alert")
    alerts_compaction_minutes: float = _setting(10.0, "warn when auto-compaction is predicted within this many minutes", 0, 1440)
    alerts_repeat_seconds: float = _setting(120.0, "seconds before the same alert for the same session toasts again", 0, 86400)
    alerts_limit_minutes: float = _setting(30.0, "warn when a usage-limit window is projected to run out within this many minutes", 0, 1440)
    export_budget_tokens: int = _setting(8000, "token budget of an exported resume brief", 100, 10_000_000)
    pricing_file: str = _setting("", "a JSON price table merged over the bundled one")
    limits_plan: str = _setting("", "Claude plan for estimated 5-hour windows: pro, max5, max20; empty = learn from history")
    limits_claude_five_hour_usd: float = _setting(
        0.0, "Claude 5-hour limit in USD at API prices, for estimates; 0 = plan preset or learned", 0, 1_000_000
    )
    limits_claude_weekly_usd: float = _setting(0.0, "Claude weekly limit in USD at API prices, for estimates; 0 = learned", 0, 10_000_000)
    limits_fresh_minutes: float = _setting(
        10.0, "a status-line reading older than this, with activity since, gives way to an estimate", 0.1, 1440
    )
    limits_auto_continue: bool = _setting(False, "type `continue` into a session's tmux pane when its usage limit resets")
    store_keep_days: float = _setting(30.0, "days of history the store keeps (older samples thinned, then dropped)", 0.01, 36500)
    store_connect_timeout_seconds: float = _setting(5.0, "how long to wait for a database server to answer a connection", 0.1, 3600)
    store_statement_timeout_seconds: float = _setting(15.0, "how long one database statement may take on a server", 0.1, 86400)
    team_share_cwd: bool = _setting(True, "store (and so publish) each session's folder; false hides folder names")
    aider_repos: str = _setting("", "repositories whose .aider.chat.history.md to read, separated by the OS path separator")
    aider_paths: str = _setting("", "folders (globs allowed) whose .aider.chat.history.md to read, separated by the OS path separator")
    sources: dict[str, str] = field(default_factory=dict, compare=False, repr=False)
    price_overrides: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    warnings: tuple[str, ...] = field(default=(), compare=False, repr=False)


def _fields() -> tuple[Field, ...]:
    out = []
    for f in dataclass_fields(Settings):
        if "help" in f.metadata:
            section, key = f.name.split("_", 1)
            out.append(Field(section, key, f.default, f.metadata["help"], f.metadata["lo"], f.metadata["hi"]))
    return tuple(out)


#: Every key, in the order of the defaults file and `config show`.
FIELDS: tuple[Field, ...] = _fields()


_WORDS = {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}
#: Environment variables of ours that are not settings.
_OTHER_ENV = {"LLM_SESSION_HOME", "LLM_SESSION_CONFIG_DIR"}
#: Tables under a known section that hold more than FIELDS (checked by their owners).
_SUBTABLES = {("pricing", "models")}


def _coerce(f: Field, value: Any, origin: str) -> Any:
    want = type(f.default)
    name = f"{f.section}.{f.key}"
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
        if want is str:
            if not isinstance(value, str):
                raise ValueError(value)
            return value
        if isinstance(value, bool):  # TOML `true` is not 1
            raise ValueError(value)
        if isinstance(value, str):  # the environment gives text
            value = float(value.strip()) if want is float else _int_text(value)
        if want is int and isinstance(value, float) and not value.is_integer():
            raise ValueError(value)
        number = want(value)
    except (TypeError, ValueError, OverflowError):
        shown = str(value).lower() if isinstance(value, bool) else repr(value)  # as TOML spells it
        raise ConfigError(f"{origin}: {name} must be {_WORDS.get(want, want.__name__)}, got {shown}") from None
    if isinstance(number, float) and not math.isfinite(number):
        raise ConfigError(f"{origin}: {name} must be a finite number, got {value!r}")
    if (f.lo is not None and number < f.lo) or (f.hi is not None and number > f.hi):
        raise ConfigError(f"{origin}: {name} must be between {f.lo:g} and {f.hi:g}, got {value!r}")
    return number


def _int_text(text: str) -> int:
    number = float(text.strip())
    if not number.is_integer():
        raise ValueError(text)
    return int(number)


def _origin(source: str, path: Path) -> str:
    """Where a value came from, as an error message names it."""
    if source.startswith("env "):
        return f"environment variable {source[4:]}"
    return str(path)


def check_db_url(url: str) -> str | None:
    """Why `url` cannot be a store URL, or None when it can (or is empty: the default).

    Only the form is checked here, without importing SQLAlchemy (that costs 0.3 s): the
    dialect and driver must be ones the store supports. Whether the server answers is the
    store's business when it opens.
    """
    if not url:
        return None
    scheme, sep, _rest = url.partition("://")
    if not sep:
        return f"{url!r} is not a database URL; use sqlite:///path/to/file.db or postgresql://user@host/db"
    dialect, _, driver = scheme.lower().partition("+")
    if dialect == "postgres" and not driver:  # Heroku's spelling, which the store accepts
        dialect = "postgresql"
    drivers = _DRIVERS.get(dialect)
    if drivers is None:
        hint = " (write postgresql+<driver>://)" if dialect == "postgres" else ""
        return f"unknown database {dialect!r}{hint}; llm-session stores history in sqlite or postgresql"
    if driver and driver not in drivers:
        return f"unknown {dialect} driver {driver!r}; use one of {', '.join(drivers)}"
    return None


_DRIVERS = {"sqlite": ("pysqlite",), "postgresql": ("psycopg", "psycopg2", "pg8000")}


MAX_CONFIG_BYTES = 1024 * 1024


def read_toml(path: Path) -> dict:
    """Parse a TOML file, turning syntax errors into one line with the file, line and column."""
    from llm_sessions.core.safeio import read_regular

    try:
        # a regular file of sane size only: a FIFO named config.toml must not hang start-up
        text = read_regular(path, MAX_CONFIG_BYTES).decode("utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    import tomllib  # here: the status line runs on every update and most users have no file

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message already ends "(at line L, column C)"
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def load_settings(path: Path, env: Mapping[str, str] | None = None) -> Settings:
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
            values[f.attr] = _coerce(f, env[f.env], f"environment variable {f.env}")
            sources[f.attr] = f"env {f.env}"
    prices = data.get("pricing", {}).get("models", {}) if isinstance(data.get("pricing"), dict) else {}
    if not isinstance(prices, dict):
        raise ConfigError(f"{path}: [pricing.models] must be a table of model tables")
    settings = Settings(**values, sources=sources, price_overrides=prices, warnings=tuple(_unknown_keys(data, env, path)))
    _validate(settings, path)
    return settings


def _unknown_keys(data: dict, env, path: Path) -> list[str]:
    """One warning per key we do not know, naming the closest known one."""
    known = {f"{f.section}.{f.key}" for f in FIELDS}
    sections = {f.section for f in FIELDS}
    out = []
    for section, table in data.items():
        if section not in sections:
            out.append(f"{path}: unknown section [{section}]{_closest(section, sections)}; it is ignored")
            continue
        if not isinstance(table, dict):
            out.append(f"{path}: {section} must be a table ([{section}]); it is ignored")
            continue
        for key in table:
            name = f"{section}.{key}"
            if name not in known and (section, key) not in _SUBTABLES:
                out.append(f"{path}: unknown key {name}{_closest(name, known)}; it is ignored")
    by_env = {f.env: f"{f.section}.{f.key}" for f in FIELDS}
    prefixes = tuple(f"LLM_SESSION_{s.upper()}_" for s in sections)
    for var in env:
        if var.startswith(prefixes) and var not in by_env and var not in _OTHER_ENV:
            out.append(f"environment variable {var} is not a setting{_closest(var, set(by_env))}; it is ignored")
    return out


def _closest(name: str, known: set[str]) -> str:
    import difflib  # only for a setting that does not exist

    hit = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.6)
    return f" (did you mean {hit[0]}?)" if hit else ""


def _validate(s: Settings, path: Path) -> None:
    """Rules between keys, and string keys that must name something real."""

    def where(*attrs: str) -> str:
        froms = {_origin(s.sources.get(a, "default"), path) for a in attrs if s.sources.get(a, "default") != "default"}
        return ", ".join(sorted(froms)) or str(path)

    if not s.health_warning_min <= s.health_healthy_min:
        raise ConfigError(f"{where('health_warning_min', 'health_healthy_min')}: need health.warning_min <= health.healthy_min")
    names = [f"health_weight_{n}" for n in ("tokens", "duration", "activity", "errors")]
    if sum(getattr(s, n) for n in names) <= 0:
        raise ConfigError(f"{where(*names)}: the health weights must not all be 0")
    if s.health_duration_zero_hours <= s.health_duration_grace_hours:
        raise ConfigError(
            f"{where('health_duration_grace_hours', 'health_duration_zero_hours')}: "
            "need health.duration_grace_hours < health.duration_zero_hours"
        )
    problem = check_db_url(s.general_db_url)
    if problem:
        raise ConfigError(f"{where('general_db_url')}: general.db_url: {problem}")
    if s.pricing_file:
        price_file = Path(s.pricing_file).expanduser()
        if not price_file.is_file():
            state = "does not exist" if not price_file.exists() else "is not a regular file"
            raise ConfigError(f"{where('pricing_file')}: pricing.file {price_file} {state}")
    if s.limits_plan.lower() not in ("", "pro", "max5", "max20"):
        raise ConfigError(f"{where('limits_plan')}: limits.plan must be one of pro, max5, max20 (or empty), got {s.limits_plan!r}")


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
    if path.exists() and not force:
        return False
    try:
        _write_defaults(path)
    except OSError as exc:  # a read-only or full disk: one line, never a traceback
        raise ConfigError(f"cannot write {exc.filename or path}: {exc.strerror or exc}") from None
    return True


def _write_defaults(path: Path) -> None:
    import tomli_w

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
    try:
        tmp.write_text("".join(lines), encoding="utf-8")
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def settings_rows(s: Settings) -> list[dict]:
    return [
        {"key": f"{f.section}.{f.key}", "value": getattr(s, f.attr), "source": s.sources.get(f.attr, "default"), "env": f.env}
        for f in FIELDS
    ]


__all__ = ["ConfigError", "FIELDS", "Settings", "check_db_url", "load_settings", "write_default_config", "settings_rows"]
