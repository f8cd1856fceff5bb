"""The Typer options several commands share, spelled once so `--help` reads the same everywhere."""

from __future__ import annotations

from typing import Annotated

import typer

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
NoProcOpt = Annotated[
    bool, typer.Option("--no-processes", help="Do not scan processes (faster; every state is then unknown).")
]
DbOpt = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Store URL (sqlite:///FILE or postgresql://USER@HOST/DB) for every command that uses the store;"
        " may also follow the command.",
    ),
]
