"""The commands that report on the accounting itself: `limits`, `prices` and `doctor`.

Each reads every transcript without a process scan (what they answer does not depend on
what runs) and imports its core report and its text rendering (`cli_reports`) only when
it runs, so none of them costs the other commands anything at start-up.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from llm_sessions.cli_base import UserError, _context, _emit_json, _monitor, _Progress, _snapshot
from llm_sessions.cli_options import JsonOpt

if TYPE_CHECKING:
    from llm_sessions.core.live.monitor import Monitor
    from llm_sessions.core.models import Snapshot


def register(app: typer.Typer) -> None:
    """Add this module's commands to the app, in the order `--help` lists them."""
    app.command()(limits)
    app.command()(prices)
    app.command()(doctor)


def limits(as_json: JsonOpt = False) -> None:
    """Usage-limit windows: used %, reset, source, burn rate, time to 100% and who used them."""
    from llm_sessions.core.accounting.limit_report import text_report, window_dict
    from llm_sessions.core.ids import unique_prefixes

    snap, _ = _snapshot(processes=False, learn_limits=True)
    if as_json:
        _emit_json({"taken_at": snap.taken_at.isoformat().replace("+00:00", "Z"),
                    "windows": [window_dict(w, snap.taken_at) for w in snap.limits]})
        return
    ids = unique_prefixes(list(dict.fromkeys(s.session_id for w in snap.limits for s in w.shares)))
    sys.stdout.write(text_report(snap.limits, snap.taken_at, ids) + "\n")


def prices(
    all_: Annotated[bool, typer.Option("--all", "-a", help="Also list every model in the table.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """The price table in use (date, source, overrides) and the models in your transcripts without a price."""
    from llm_sessions.cli_reports import prices_text
    from llm_sessions.core.accounting.price_report import price_report

    snap, mon = _scan_for_report()
    report = price_report(mon.prices, snap.sessions, all_models=all_)
    if as_json:
        _emit_json(report)
    else:
        sys.stdout.write(prices_text(report) + "\n")


def doctor(as_json: JsonOpt = False) -> None:
    """Format drift: per assistant and version, what was read and what was not understood."""
    from dataclasses import replace

    from llm_sessions.cli_reports import doctor_text

    snap, mon = _scan_for_report()
    report = replace(mon.drift_report(), problems=snap.problems)
    if as_json:
        _emit_json(report.as_dict())
    else:
        sys.stdout.write(doctor_text(report.as_dict()) + "\n")


def _scan_for_report() -> tuple[Snapshot, Monitor]:
    """Every session in the transcripts, and the monitor that read them (prices, drift)."""
    from llm_sessions.config import ConfigError

    paths, settings = _context()
    try:
        mon = _monitor(paths, settings, discovery=False)
    except ConfigError as exc:  # a broken pricing.file or [pricing.models] table
        raise UserError(str(exc), code=2) from None
    meter = _Progress(True)
    try:
        snap = mon.scan_files(progress=meter)
    finally:
        meter.close()
    return snap, mon
