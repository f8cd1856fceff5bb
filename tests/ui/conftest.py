import pytest

from llm_sessions.config import load_settings


@pytest.fixture
def settings(tmp_path):
    """Defaults only: a missing config file and an empty environment."""
    return load_settings(tmp_path / "none.toml", env={})
