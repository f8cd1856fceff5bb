"""Config values that used to be accepted or crash (issue 11, item 5): one line each, naming
the key and where it came from; unknown keys warn once with the closest known name."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from llm_sessions.config import ConfigError, check_db_url, load_settings


def settings_from(tmp_path: Path, toml: str = "", env: dict | None = None):
    path = tmp_path / "config.toml"
    path.write_text(toml)
    return load_settings(path, env or {}), path


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ("[general]\nrefresh_seconds = true\n", "general.refresh_seconds must be a number, got true"),
        ("[general]\nrefresh_seconds = nan\n", "must be a finite number"),
        ("[general]\nrefresh_seconds = inf\n", "must be a finite number"),
        ("[general]\nrefresh_seconds = 1e-9\n", "must be between 0.2 and 86400"),
        ("[general]\nworkers = 1.5\n", "general.workers must be a whole number"),
        ("[general]\nworkers = false\n", "general.workers must be a whole number, got false"),
        ("[health]\nhealthy_min = 101\n", "health.healthy_min must be between 0 and 100"),
        ("[health]\nweight_errors = -1\n", "health.weight_errors must be between 0 and 1000"),
        ("[health]\nduration_grace_hours = 12.0\nduration_zero_hours = 2.0\n", "duration_grace_hours < health.duration_zero_hours"),
        ("[alerts]\nbell = 3\n", "alerts.bell must be true or false"),
        ("[general]\ndb_url = 7\n", "general.db_url must be a string"),
        ('[general]\ndb_url = "mysql://u@h/db"\n', "unknown database 'mysql'"),
        ('[general]\ndb_url = "postgresql+asyncpg://h/db"\n', "unknown postgresql driver 'asyncpg'"),
        ('[general]\ndb_url = "just-a-path.db"\n', "is not a database URL"),
        ('[pricing]\nfile = "/no/such/prices.json"\n', "pricing.file /no/such/prices.json does not exist"),
    ],
)
def test_bad_values_in_the_file_are_one_line_naming_the_key_and_the_file(tmp_path, toml, words):
    with pytest.raises(ConfigError) as err:
        settings_from(tmp_path, toml)
    message = str(err.value)
    assert words in message and str(tmp_path / "config.toml") in message and "\n" not in message


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "true", "1e-9", "1e400"])
def test_bad_values_in_the_environment_name_the_variable(tmp_path, value):
    with pytest.raises(ConfigError) as err:
        settings_from(tmp_path, env={"LLM_SESSION_GENERAL_REFRESH_SECONDS": value})
    message = str(err.value)
    assert message.startswith("environment variable LLM_SESSION_GENERAL_REFRESH_SECONDS:")
    assert "config.toml" not in message


def test_a_rule_between_keys_names_each_source(tmp_path):
    with pytest.raises(ConfigError) as err:
        settings_from(tmp_path, "[health]\nwarning_min = 80\n", {"LLM_SESSION_HEALTH_HEALTHY_MIN": "50"})
    assert "environment variable LLM_SESSION_HEALTH_HEALTHY_MIN" in str(err.value)
    assert str(tmp_path / "config.toml") in str(err.value)
    with pytest.raises(ConfigError) as only_env:
        settings_from(tmp_path, "", {"LLM_SESSION_HEALTH_WARNING_MIN": "90"})
    assert "config.toml" not in str(only_env.value)


def test_good_values_still_load(tmp_path):
    s, _ = settings_from(tmp_path, '[general]\nrefresh_seconds = 5\ndb_url = "sqlite:///x.db"\nworkers = 2\n',
                         {"LLM_SESSION_HEALTH_IDLE_MINUTES": " 45 "})
    assert (s.general_refresh_seconds, s.general_workers, s.health_idle_minutes) == (5.0, 2, 45.0)
    assert s.warnings == ()
    for url in ("", "sqlite:////tmp/x.db", "postgresql://u@h/db", "postgresql+psycopg://h/db", "POSTGRESQL+PSYCOPG2://h"):
        assert check_db_url(url) is None, url


def test_unknown_keys_warn_with_the_closest_known_name(tmp_path):
    s, path = settings_from(
        tmp_path,
        "[general]\nrefresh_secs = 3\n[helth]\nx = 1\n[pricing.models.my-model]\ninput = 1\noutput = 2\n",
        {"LLM_SESSION_GENERAL_REFRESH_SECOND": "3", "LLM_SESSION_HOME": "/x", "LLM_SESSION_SOMETHING_ELSE": "1"},
    )
    assert s.general_refresh_seconds == 2.0  # ignored, not guessed
    assert list(s.warnings) == [
        f"{path}: unknown key general.refresh_secs (did you mean general.refresh_seconds?); it is ignored",
        f"{path}: unknown section [helth] (did you mean health?); it is ignored",
        "environment variable LLM_SESSION_GENERAL_REFRESH_SECOND is not a setting "
        "(did you mean LLM_SESSION_GENERAL_REFRESH_SECONDS?); it is ignored",
    ]


def _cli(args, env):
    return subprocess.run([sys.executable, "-m", "llm_sessions", *args], env=env, capture_output=True, text=True, timeout=60)


def test_cli_says_one_line_for_price_and_store_problems_never_unexpected_error(fake_home):
    cfg = fake_home / ".llm-session" / "config" / "config.toml"
    cfg.parent.mkdir(parents=True)
    env = dict(os.environ)
    for toml in ('[pricing.models.foo]\ninput = "cheap"\n', "[pricing.models.foo]\ninput = true\n",
                 '[pricing.models.foo]\nbogus = 1\n', '[pricing]\nfile = "/nope.json"\n', "[pricing.models]\nfoo = 3\n"):
        cfg.write_text(toml)
        res = _cli(["list", "--all"], env)
        assert res.returncode == 2 and res.stderr.count("\n") == 1, (toml, res.stderr)
        assert "unexpected" not in res.stderr and "Traceback" not in res.stderr
    cfg.write_text("[general]\nrefresh_secs = 3\n")
    warned = _cli(["list", "--all"], env)
    assert warned.returncode == 0 and warned.stderr.count("did you mean general.refresh_seconds?") == 1
    cfg.unlink()
    res = _cli(["history", "--db", "oracle://scott@tiger/db"], env)
    assert res.returncode == 2 and res.stderr.startswith("llm-session: --db: unknown database 'oracle'")


def test_show_reports_the_environment_as_the_source(fake_home):
    import json

    env = dict(os.environ, LLM_SESSION_GENERAL_REFRESH_SECONDS="7")
    rows = {r["key"]: r for r in json.loads(_cli(["config", "show", "--json"], env).stdout)["settings"]}
    assert rows["general.refresh_seconds"]["source"] == "env LLM_SESSION_GENERAL_REFRESH_SECONDS"
