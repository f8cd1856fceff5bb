"""Regenerate screenshots/*.svg from deterministic fake data (frozen clock, fixed sessions).

    python screenshots/make_screenshots.py            # writes next to this script
    python screenshots/make_screenshots.py OUT_DIR

Uses the same fake monitor as the UI tests, so a screenshot never shows anything from this
machine's real assistant folders.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from llm_sessions.config import load_settings  # noqa: E402
from llm_sessions.ui.app import LLMSessionApp  # noqa: E402
from tests.fakes import FakeMonitor, fleet, frozen_clock, linear_predictor, ramp, snapshot  # noqa: E402

B = fleet()[1].id

# name, terminal size, keys pressed after the first snapshot is shown, snapshots served
SHOTS = [
    ("dashboard", (120, 36), (), None),
    ("dashboard-all", (120, 36), ("a",), None),
    ("dashboard-narrow", (40, 20), (), None),
    ("dashboard-limits", (80, 12), (), None),
    ("detail", (120, 36), ("down", "enter"), None),
    ("detail-narrow", (40, 20), ("down", "enter"), None),
    ("confirm-compact", (120, 36), ("down", "c"), None),
    ("empty", (120, 36), (), [snapshot([], searched=("~/.claude/projects", "~/.codex/sessions", "~/.gemini/tmp"))]),
]


def transcript(session):
    return {"Last turns": ["user: add retries to the gateway", "assistant: added exponential backoff, tests pass"]}


async def shoot(out: Path, name: str, size, keys, snapshots) -> Path:
    settings = load_settings(out / ".no-config.toml", env={"LLM_SESSION_GENERAL_REFRESH_SECONDS": "3600"})
    monitor = FakeMonitor(snapshots, history={B: ramp(180_000)})
    app = LLMSessionApp(monitor, settings, clock=frozen_clock, predictor=linear_predictor, transcript_reader=transcript)
    async with app.run_test(size=size) as pilot:
        for _ in range(2):
            await pilot.pause()
            await app.workers.wait_for_complete()
        if keys:
            await pilot.press(*keys)
            for _ in range(2):
                await pilot.pause()
                await app.workers.wait_for_complete()
        return Path(app.save_screenshot(filename=f"{name}.svg", path=str(out)))


def main(argv: list[str]) -> None:
    out = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent
    out.mkdir(parents=True, exist_ok=True)
    for name, size, keys, snaps in SHOTS:
        path = asyncio.run(shoot(out, name, size, keys, snaps))
        sys.stdout.write(f"{path}\n")


if __name__ == "__main__":
    main(sys.argv)
