"""The import contract: which part of the package may import which, so the flow reads one way.

    ui, cli ──> core                  (the core knows nothing of Textual, Typer or the screens)
    actions ──> live ──> accounting ──> kernel, config, paths
    actions ──> export ──> accounting
    store   ──> kernel

Inside `llm_sessions/core/`, a module's stage is the sub-package it lives in (`accounting`,
`live`, `export`, `actions`, `store`); a module directly in `core/` is the kernel (models,
safe I/O, time parsing, ids), which every stage may use and which uses no stage. Lazy
imports inside functions count: they are dependencies all the same.

The rules are data (ALLOWED), checked over the parsed source, so the test needs no import
of the package and names every offending line. Its own tests build a small package with a
forbidden import and show that the check reports it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PKG = "llm_sessions"
STAGES = ("accounting", "live", "export", "actions", "store")

# Which parts each part may import (besides itself, the standard library and third parties).
# `config` (the settings) and `paths` (where our own files live) sit beside the kernel: pure,
# importing only the kernel themselves.
ALLOWED: dict[str, set[str]] = {
    "kernel": {"config", "paths"},
    "config": {"kernel"},
    "paths": {"kernel"},
    "accounting": {"kernel", "config", "paths"},
    "store": {"kernel"},
    "live": {"kernel", "accounting", "config", "paths"},
    "export": {"kernel", "accounting"},
    "actions": {"kernel", "accounting", "live", "export"},
    "ui": {"kernel", *STAGES, "config", "paths"},
}
# Outside llm_sessions: the core never imports the terminal UI library.
FORBIDDEN_THIRD_PARTY: dict[str, tuple[str, ...]] = {part: ("textual", "typer") for part in ("kernel", "config", "paths", *STAGES)}


def part_of(module: str, stages: set[str]) -> str:
    """The contract's name for the part of the package that `module` belongs to; `stages`
    are the stage packages that exist (until the relayout, `core/actions.py` is a module)."""
    names = module.split(".")
    if names[0] != PKG:
        return "third-party"
    if len(names) == 1 or names[1].startswith("_"):
        return "root"  # `llm_sessions` itself (its __version__): importable from anywhere
    if names[1] == "core":
        if len(names) >= 3 and names[2] in stages:
            return names[2]
        return "kernel"
    if names[1] == "ui":
        return "ui"
    if names[1] in ("config", "paths"):
        return names[1]
    return "app"  # cli*, entry, dashboard, demo, synth: the outer layer, checked elsewhere


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path, module: str) -> list[tuple[int, str]]:
    """(line, imported module) for every import in the file, relative ones resolved."""
    out: list[tuple[int, str]] = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from llm_sessions.core import tailer` imports the module core.tailer, and
            # `from llm_sessions.core.models import Session` a name of core.models: either
            # way the name belongs to the part its base says
            out.extend((node.lineno, f"{base}.{alias.name}") for alias in node.names)
    return out


def violations(root: Path) -> list[str]:
    """Every import in `root/llm_sessions/{core,ui}` that the contract forbids."""
    found = []
    stages = {name for name in STAGES if (root / PKG / "core" / name / "__init__.py").is_file()}
    for path in sorted((root / PKG).rglob("*.py")):
        module = module_name(path, root)
        importer = part_of(module, stages)
        if importer not in ALLOWED:
            continue
        for line, target in imports_of(path, module):
            top = target.split(".")[0]
            if top != PKG:
                if top in FORBIDDEN_THIRD_PARTY.get(importer, ()):
                    found.append(f"{path.relative_to(root)}:{line}: {importer} imports {target}")
                continue
            imported = part_of(target, stages)
            if imported in (importer, "root") or imported in ALLOWED[importer]:
                continue
            found.append(f"{path.relative_to(root)}:{line}: {importer} imports {target} ({imported})")
    return found


def test_the_package_keeps_the_contract():
    assert violations(ROOT) == []


def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in {"llm_sessions/__init__.py": "", "llm_sessions/core/__init__.py": "", **files}.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


ALLOWED_TREE = {
    "llm_sessions/core/models.py": "import msgspec\n",
    "llm_sessions/core/accounting/__init__.py": "",
    "llm_sessions/core/accounting/pricing.py": "from llm_sessions.core.models import x\nfrom llm_sessions import config\n",
    "llm_sessions/core/live/__init__.py": "",
    "llm_sessions/core/live/monitor.py": "from llm_sessions.core.accounting import pricing\nfrom . import other\n",
    "llm_sessions/core/live/other.py": "",
    "llm_sessions/core/actions/__init__.py": "",
    "llm_sessions/core/actions/restart.py": "def f():\n    from llm_sessions.core.live.monitor import M\n",
    "llm_sessions/ui/__init__.py": "",
    "llm_sessions/ui/app.py": "import textual\nfrom llm_sessions.core.actions import restart\n",
}


def test_a_tree_that_follows_the_flow_passes(tmp_path):
    assert violations(_package(tmp_path, ALLOWED_TREE)) == []


@pytest.mark.parametrize(
    ("path", "text", "expected"),
    [
        # back up the flow: accounting must not know about live discovery
        ("llm_sessions/core/accounting/health.py", "from llm_sessions.core.live.monitor import M\n",
         "accounting imports llm_sessions.core.live.monitor.M (live)"),
        # a lazy import inside a function is a dependency all the same
        ("llm_sessions/core/live/scan.py", "def f():\n    from llm_sessions.core.actions import restart\n",
         "live imports llm_sessions.core.actions.restart (actions)"),
        # relative imports are resolved before they are judged
        ("llm_sessions/core/accounting/rel.py", "from ..live import monitor\n",
         "accounting imports llm_sessions.core.live.monitor (live)"),
        # the core never imports the UI, nor Textual
        ("llm_sessions/core/models2.py", "from llm_sessions.ui.app import App\n", "kernel imports llm_sessions.ui.app.App (ui)"),
        ("llm_sessions/core/live/view.py", "import textual.app\n", "live imports textual.app"),
        # the kernel uses no stage
        ("llm_sessions/core/ids.py", "from llm_sessions.core.accounting import pricing\n",
         "kernel imports llm_sessions.core.accounting.pricing (accounting)"),
        # the UI does not reach into the command line
        ("llm_sessions/ui/screen.py", "from llm_sessions.cli import app\n", "ui imports llm_sessions.cli.app (app)"),
    ],
)
def test_a_forbidden_import_is_reported_with_its_line(tmp_path, path, text, expected):
    root = _package(tmp_path, {**ALLOWED_TREE, path: text})
    found = violations(root)
    assert len(found) == 1 and found[0].startswith(path + ":") and found[0].endswith(expected), found
