"""The estimate fallback over generated project folders."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from llm_sessions.core.accounting.estimate import Estimator, text_tokens


def _project(root: Path) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "src" / "a.py").write_text("x" * 400)  # 100 tokens
    (root / "README.md").write_text("y" * 41)  # 11 tokens (rounded up)
    (root / "debug.log").write_text("z" * 4000)  # ignored by pattern
    (root / "build").mkdir()
    (root / "build" / "out.js").write_text("w" * 4000)  # ignored folder
    (root / "node_modules").mkdir()
    (root / "node_modules" / "dep.js").write_text("v" * 4000)  # skipped always
    (root / "logo.png").write_bytes(b"\x89PNG\0\0" + b"a" * 400)  # binary
    (root / "huge.txt").write_text("h" * 5000)  # over the cap below
    (root / "keep.log").write_text("k" * 8)  # re-included by negation: 2 tokens
    (root / ".gitignore").write_text("# generated\n*.log\n!keep.log\nbuild/\n")  # 35 chars: 9 tokens
    return root


def test_text_tokens_rounds_up():
    assert [text_tokens(t) for t in ("", "a", "abcd", "abcde")] == [0, 1, 1, 2]


def test_walk_honours_gitignore_binaries_and_size_cap(tmp_path):
    root = _project(tmp_path / "p")
    est = Estimator(max_file_bytes=4096, base_tokens=0, use_git=False)
    files = est.project_files(root)
    assert files == [".gitignore", "README.md", "huge.txt", "keep.log", "logo.png", "src/a.py"]
    assert est.project_tokens(root) == 9 + 11 + 0 + 2 + 0 + 100


def test_git_listing_agrees_with_the_walk(tmp_path):
    if not shutil.which("git"):
        pytest.skip("git not installed")
    root = _project(tmp_path / "p")
    env = {"PATH": os.environ.get("PATH", os.defpath), "HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "init", "-q", str(root)], check=True, env=env)
    (root / "node_modules" / ".gitignore").write_text("*\n")  # git itself does not skip it
    est = Estimator(max_file_bytes=4096, base_tokens=0, env=env)
    assert est.project_files(root) == [".gitignore", "README.md", "huge.txt", "keep.log", "logo.png", "src/a.py"]
    assert est.project_tokens(root) == 122


def test_counts_are_cached_by_mtime(tmp_path):
    root = _project(tmp_path / "p")
    est = Estimator(max_file_bytes=4096, base_tokens=0, use_git=False)
    first = est.project_tokens(root)
    reads = est.reads
    assert est.project_tokens(root) == first and est.reads == reads
    target = root / "src" / "a.py"
    target.write_text("x" * 800)
    os.utime(target, ns=(target.stat().st_atime_ns, target.stat().st_mtime_ns + 10_000_000))
    assert est.project_tokens(root) == first + 100
    assert est.reads == reads + 1


def test_usage_and_context_are_never_exact(tmp_path):
    root = _project(tmp_path / "p")
    est = Estimator(max_file_bytes=4096, base_tokens=1000, use_git=False)
    usage = est.usage(["a" * 40], ["b" * 80], project=root)
    assert usage.exact is False
    assert (usage.input, usage.output) == (1000 + 122 + 10, 20)
    fill = est.context(["a" * 40, "b" * 80], window=200_000, project=root)
    assert fill.exact is False and fill.used == 1000 + 122 + 30 and fill.source == "estimate"
    assert est.usage([], [], project=tmp_path / "missing").input == 1000
