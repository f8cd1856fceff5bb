"""What CI and a fresh machine rely on: README's commands, .ci/run, the shipped stylesheet."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return re.findall(r"```(?:sh|bash)\n(.+?)\n```", text, re.S)[:2]


def test_readme_opens_with_two_commands_and_ci_runs_the_second():
    first, second = readme_commands()
    assert "llm-session" in first and "pip install" in first
    assert "pytest" in second and "pip install" in second
    # the static checks run before the tests, in the same command CI runs
    assert second.index("ruff check") < second.index("mypy") < second.index("pytest")
    ci = (ROOT / ".ci" / "run").read_text()
    assert second.strip() in ci.splitlines()


def test_wheel_ships_the_stylesheet(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True)
    wheel = next(tmp_path.glob("llm_session-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "llm_sessions/textual.css" in names
    assert "llm_sessions/core/accounting/data/prices.json" in names
    assert "llm_sessions/py.typed" in names  # the annotations are part of what ships
    # the store's migrations run on open from the installed package
    assert {"llm_sessions/core/store/migrations/env.py", "llm_sessions/core/store/migrations/script.py.mako",
            "llm_sessions/core/store/migrations/versions/0001_baseline.py"} <= set(names)
    css = zipfile.ZipFile(wheel).read("llm_sessions/textual.css").decode()
    assert css.strip() and not re.search(r"#[0-9a-fA-F]{3,8}\b", css), "theme variables only, no hex colours"


def test_sdist_holds_what_its_tests_read(tmp_path):
    """The tests run from an unpacked sdist: README's command needs .ci/run, the README's
    images and their generator live in screenshots/, the pricing tests load scripts/."""
    import tarfile

    from hatchling.builders.sdist import SdistBuilder

    (sdist,) = SdistBuilder(str(ROOT)).build(directory=str(tmp_path))
    names = {n.split("/", 1)[1] for n in tarfile.open(sdist).getnames() if "/" in n}
    assert {".ci/run", "screenshots/dashboard.svg", "scripts/regenerate_prices.py", "CHANGELOG.md", "llm_sessions/py.typed",
            "tests/unit/test_packaging.py"} <= names
    assert not any(n.startswith((".venv", ".git/")) for n in names)
