"""Regenerate screenshots/*.svg from deterministic fake data (frozen clock, fixed sessions).

    python screenshots/make_screenshots.py            # writes next to this script
    python screenshots/make_screenshots.py OUT_DIR

Uses the same fake monitor as the UI tests, so a screenshot never shows anything from this
machine's real assistant folders. The drilldown's session gets a generated transcript (in a
temporary folder) so its chart shows context per turn with a compaction, as a real one does.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from llm_sessions.config import load_settings  # noqa: E402
from llm_sessions.dashboard import session_actions  # noqa: E402
from llm_sessions.ui.app import LLMSessionApp  # noqa: E402
from tests.fakes import NOW, FakeMonitor, fleet, frozen_clock, health, linear_predictor, ramp, snapshot  # noqa: E402
from tests.unit.claude_lines import assistant, compact, user, write  # noqa: E402

A, B, C = (s.id for s in fleet()[:3])
EXPORTS = Path("/home/dev/.local/share/llm-session/exports")  # shown in the wizard, never written


def transcript_of_c(folder: Path) -> str:
    """40 turns of the ml-pipeline session: context climbs, compacts once, climbs to 160k."""
    contexts = [24_000 + 4_100 * i for i in range(35)] + [31_000 + 14_000 * i for i in range(10)]
    records = []
    start = NOW - timedelta(minutes=400)
    for i, ctx in enumerate(contexts):
        at = (start + timedelta(minutes=8 * i)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        records.append(user(at, f"step {i}", sid=C, uuid=f"u{i}"))
        records.append(assistant(f"m{i}", f"r{i}", at, cr=ctx, sid=C, uuid=f"a{i}"))
        if i == 34:
            records.append(compact(at, 31_000, sid=C))
    return str(write(folder / f"{C}.jsonl", records))


def transcript(session):
    return {"Last turns": ["user: add retries to the gateway", "assistant: added exponential backoff, tests pass"]}


def worse(sessions):
    return [s.with_(health=health(45)) if s.id == A else s for s in sessions]


# name, terminal size, keys pressed after the first snapshot is shown, snapshots served after it
SHOTS = [
    ("dashboard", (120, 36), (), None),
    ("dashboard-all", (120, 36), ("a",), None),
    ("dashboard-80", (80, 24), (), None),
    ("dashboard-limits", (80, 12), (), None),
    ("dashboard-narrow", (40, 20), (), "alert"),
    ("detail", (120, 36), ("enter",), None),
    ("detail-narrow", (40, 20), ("enter",), None),
    ("help-narrow", (40, 20), ("question_mark",), None),
    ("export-narrow", (40, 20), ("e", "enter"), None),
    ("confirm-compact", (120, 36), ("down", "c"), None),
    ("empty", (120, 36), (), "empty"),
]


async def shoot(out: Path, name: str, size, keys, then, folder: Path) -> Path:
    settings = load_settings(out / ".no-config.toml", env={"LLM_SESSION_GENERAL_REFRESH_SECONDS": "3600"})
    sessions = [s.with_(transcript=transcript_of_c(folder)) if s.id == C else s for s in fleet()]
    first = snapshot(sessions) if then != "empty" else snapshot([], searched=("~/.claude/projects", "~/.codex/sessions", "~/.gemini/tmp"))
    monitor = FakeMonitor([first], history={B: ramp(180_000)})
    app = LLMSessionApp(
        monitor, settings, clock=frozen_clock, predictor=linear_predictor, transcript_reader=transcript,
        session_actions=session_actions(EXPORTS, 8000, None),
    )
    async with app.run_test(size=size) as pilot:
        for _ in range(2):
            await pilot.pause()
            await app.workers.wait_for_complete()
        if then == "alert":  # a later poll: one session turns warning, the notice line says so
            monitor.push(snapshot(worse(sessions)))
            app.request_poll()
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
        for _ in range(3):
            await pilot.pause()
            await app.workers.wait_for_complete()
        return Path(app.save_screenshot(filename=f"{name}.svg", path=str(out)))


def main(argv: list[str]) -> None:
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="llm-session-shots-") as tmp:
        for name, size, keys, then in SHOTS:
            path = asyncio.run(shoot(out, name, size, keys, then, Path(tmp)))
            sys.stdout.write(f"{path}\n")


if __name__ == "__main__":
    main(sys.argv)
