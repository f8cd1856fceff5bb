"""Every keyboard flow of the dashboard, walked in a real terminal at 40x20, 80x24 and 120x36.

Each test starts the real dashboard (tests.terminal.launch) in a private tmux server over a
generated HOME, presses keys with `send-keys` and reads the screen with `capture-pane`: what
a user would do in a tmux side pane, and what the Pilot tests cannot see (a hidden control
holding focus, a toast covering the table, a button outside its dialog).
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta

import pytest

from tests.terminal.harness import SIZES, Terminal, World

pytestmark = pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")


def has_row(screen: str, short: str) -> bool:
    """A table row for `short` is on screen (not merely the id quoted in the notice line)."""
    return any(line.lstrip(" !").startswith(short) for line in screen.split("\n"))


def row_order(term: Terminal, shorts: list[str]) -> list[str]:
    """The table's rows top to bottom, as the screen shows them (all of `shorts`)."""
    screen = term.wait_for(lambda s: all(has_row(s, x) for x in shorts), "every row")
    lines = [line.lstrip(" !") for line in screen.split("\n")]
    return sorted(shorts, key=lambda x: next(i for i, line in enumerate(lines) if line.startswith(x)))


def focused_cursor(term: Terminal, rows: list[str]) -> str:
    """The row under the cursor of the *focused* table (fails when the table has no focus)."""
    term.wait_for(lambda _s: term.cursor_row(rows) is not None, "the table to have focus (its cursor row painted as focused)")
    return term.cursor_row(rows)  # type: ignore[return-value]


def move_and_open(term: Terminal, key: str, rows: list[str]) -> None:
    """Press a move key, see the cursor land where that key says, then Enter opens that row."""
    here = rows.index(focused_cursor(term, rows))
    target = rows[{"Down": min(here + 1, len(rows) - 1), "j": min(here + 1, len(rows) - 1), "Up": max(here - 1, 0),
                   "k": max(here - 1, 0), "g": 0, "G": len(rows) - 1}[key]]
    term.press(key)
    term.wait_for(lambda _s: term.cursor_row(rows) == target, f"{key} to move the cursor to {target}")
    open_row(term, (), target, rows)


def open_row(term: Terminal, keys: tuple[str, ...], expect: str, others: list[str]) -> None:
    """Move with `keys`, press Enter, and check the drilldown is the session `expect`."""
    term.press(*keys, "Enter")
    screen = term.wait_for(lambda s: "─────" in s and "\n".join(s.split("\n")[:2]).strip(), "a drilldown")
    screen = term.wait_for(lambda s: expect in "\n".join(s.split("\n")[:2]), f"the drilldown of {expect}", limit=5)
    heading = "\n".join(screen.split("\n")[:2])
    assert not any(o in heading for o in others if o != expect), screen
    term.press("Escape")
    term.wait_for(lambda s: "─────" not in s and all(has_row(s, o) for o in others), "the table again")


def scroll_until(term: Terminal, text: str, key: str = "j", most: int = 60) -> str:
    """Scroll with `key` until `text` is on screen (each press waits for the screen to move)."""
    screen = term.screen()
    for _ in range(most):
        if text in screen:
            return screen
        before = screen
        term.press(key)
        def moved(s: str, before: str = before) -> bool:
            return s != before or text in s

        screen = term.wait_for(moved, f"{key} to scroll towards {text!r}")
    return term.wait_for(text, f"{text!r} after scrolling")


def notice_line(term: Terminal, text: str) -> int:
    """The index of the screen line holding `text`; it must be in the bottom rows (never over the table)."""
    lines = term.lines()
    index = next(i for i, line in enumerate(lines) if text in line)
    assert index >= term.height - 3, f"the notice is not at the bottom:\n{term.last}"
    return index


def test_focus_after_the_empty_state_and_every_table_key(world: World, dashboard, size):
    ended = world.claude("archive", contexts=[10_000, 12_000], running=False, ago=timedelta(days=1))
    term = dashboard(size)
    term.wait_for("Only ended sessions were found", "the empty state (ended only)")

    # `a` shows the ended session: the table takes focus at once, Enter opens the highlighted row
    term.press("a")
    term.wait_for(lambda s: has_row(s, ended.short), "the ended row after a")
    open_row(term, (), ended.short, [ended.short])
    term.press("a")
    term.wait_for("Only ended sessions were found", "the empty state again after a")

    # keys that cannot act say why, in the bottom line
    term.press("j")
    term.wait_for("no rows to move through", "why j does nothing")
    notice_line(term, "no rows to move through")

    # sessions appear while the dashboard is open: arrows and j/k move at once, no Tab needed
    a = world.claude("webshop", contexts=[20_000, 40_000, 60_000])
    b = world.codex("gateway", contexts=[30_000, 90_000])
    c = world.claude("notes", contexts=[5_000])
    shorts = [a.short, b.short, c.short]
    term.wait_for(lambda s: all(has_row(s, x) for x in shorts), "three live rows")
    rows = row_order(term, shorts)
    assert "claude" in term.row(a.short) and "codex" in term.row(b.short)  # the tool is shown at every width
    focused_cursor(term, rows)  # focus is on the table the moment its rows appear
    for key in ("Down", "j", "k", "Up", "G", "g"):
        move_and_open(term, key, rows)

    # ? lists every key of the screen, including the ones the footer hides
    term.press("?")
    helpscreen = term.wait_for("Keys: Sessions", "the help overlay")
    for key, words in (("K", "Kill"), ("S", "Reverse sort"), ("G", "Bottom")):
        assert any(line.strip("│ ").startswith(key) and words in line for line in helpscreen.split("\n")), (key, helpscreen)
    term.press("Escape")
    term.wait_gone("Keys: Sessions")

    # s sorts by the next column and marks it; S reverses it
    ctx = "Ctx" if size[0] < 80 else "Context"
    term.press("s")
    term.wait_for(f"{ctx}▼", "the sort marker on the context column")
    by_context = row_order(term, shorts)
    assert by_context[0] == b.short  # 33% of the window: the fullest first
    term.press("S")
    term.wait_for(f"{ctx}▲", "the reversed sort marker")
    assert row_order(term, shorts) == by_context[::-1]

    # K asks first (and k no longer kills); n keeps the process
    term.press("g", "K")
    question = term.wait_for("Send SIGTERM", "the kill confirmation")
    assert "(y)" in question and "No (n)" in question
    term.press("n")
    term.wait_gone("Send SIGTERM")
    assert all(s.proc.poll() is None for s in (a, b, c))

    # t and x cannot act on this row: the bottom line says why
    term.press("t")
    term.wait_for("t: no tmux pane", "why t cannot jump")
    notice_line(term, "t: no tmux pane")
    term.press("x")
    term.wait_for("x: only ended rows", "why x cannot dismiss")

    term.press("q")
    term.wait_exit()


def test_export_wizard_by_keys_alone(world: World, dashboard, size):
    a = world.claude("shop", contexts=[20_000, 30_000], prompt="make the export button work")
    term = dashboard(size)
    term.wait_for(lambda s: has_row(s, a.short), "the row")

    # Escape on a later step leaves without writing
    term.press("e")
    term.wait_for("1/4", "the wizard's first step")
    term.press("Enter")
    term.wait_for("2/4", "Enter goes on to the format step")
    term.press("Escape")
    term.wait_gone("2/4")
    assert not world.exports.exists() or not any(world.exports.iterdir())

    # Enter, Enter, Enter: the defaults make a brief, and every step's buttons are on screen
    # (each wait holds until the whole step is drawn: tmux can be read between the chunks
    # of one frame, and a step seen before its buttons failed CI once at 120x36)
    def step(n: str, *buttons: str) -> None:
        term.wait_for(lambda s: n in s and all(b in s for b in buttons), f"step {n} with {', '.join(buttons)} on screen")

    term.press("e")
    step("1/4", "Next", "Cancel")
    term.press("Enter")
    step("2/4", "Next", "Back")
    term.press("Enter")
    step("3/4", "Write", "Back")
    term.press("Enter")
    screen = term.wait_for(lambda s: "4/4" in s and "Wrote:" in s, "the done step")
    assert "Close" in screen
    written = sorted(world.exports.iterdir())
    assert len(written) == 1 and written[0].suffix == ".md"
    brief = written[0].read_text()
    assert "make the export button work" in brief

    # Enter closes; the table has focus again, so Enter opens the highlighted row
    term.press("Enter")
    term.wait_gone("4/4")
    open_row(term, (), a.short, [a.short])

    # the restart dialog fits too: every choice and Cancel on screen; Escape leaves it
    term.press("r")
    screen = term.wait_for(lambda s: "Restart claude session" in s and "Cancel" in s, "the restart dialog, Cancel included")
    assert "Compact in place" in screen and "resume the same" in screen
    term.press("Escape")
    term.wait_gone("Restart claude session")
    assert a.proc.poll() is None


def test_alerts_ids_and_the_drilldown_chart(world: World, dashboard, size):
    a = world.claude("webshop", contexts=[20_000, 40_000, 60_000])
    bare = world.bare("claude", "scratch")
    old = world.claude(
        "legacy", contexts=[30_000, 60_000, 100_000, 140_000, 160_000, 35_000, 50_000, 70_000], running=False,
        ago=timedelta(days=3), compaction_after=4,
    )
    term = dashboard(size)
    # the process-only row reads `pid N`, whole, never cut into another number
    term.wait_for(lambda s: has_row(s, a.short) and has_row(s, f"pid {bare.pid}"), "the live rows")
    assert f"pid {bare.pid} " in term.row(f"pid {bare.pid}") + " "

    # the first poll was the baseline; crossing 90% of the compaction point is news
    world.claude_turn(a, 152_000)  # 91% of 167k: never healthy
    term.wait_for("health warning", "the alert in the notice line")
    line = notice_line(term, "health warning")
    screen = term.last
    assert "▲1" in screen.split("\n")[line], screen
    assert a.short in screen and f"pid {bare.pid}" in screen  # the table is still all there
    assert "!" in term.row(a.short)  # the row is flagged too

    # n: the whole story of this run; one alert, no start-up burst
    term.press("n")
    screen = term.wait_for("Alerts and messages", "the alerts overlay")
    lines = screen.split("\n")
    top = next(i for i, line in enumerate(lines) if "Alerts and messages" in line)
    log = "\n".join(lines[top : next(i for i, line in enumerate(lines) if "esc closes" in line)])
    assert "(1 alert)" in log and log.count("health warning") == 1 and "waiting for input" not in log, screen
    term.press("Escape")
    term.wait_gone("Alerts and messages")
    assert "▲1" not in term.screen()  # read now

    # K on the pid row names the pid it would signal, and asks
    term.press("/")
    term.wait_for("filter:", "the filter box")  # then type, as a person would once it is there
    term.press(f"pid{bare.pid}")
    term.press("Enter")
    term.wait_for(lambda s: not has_row(s, a.short) and has_row(s, f"pid {bare.pid}"), "the filter to leave the pid row")
    term.press("K")
    term.wait_for(f"Send SIGTERM to claude pid {bare.pid}?", "the kill confirmation naming the pid")
    term.press("Escape")
    term.wait_gone("Send SIGTERM")
    assert bare.proc.poll() is None
    term.press("Escape")  # clears the filter
    term.wait_for(lambda s: has_row(s, a.short), "every row again")

    # an ended session's drilldown: per-turn context from its transcript, compaction marked,
    # its own span, and the same health the CLI reports
    cli = subprocess.run([sys.executable, "-m", "llm_sessions", "health", old.short, "--json"], env=world.env,
                         capture_output=True, text=True, timeout=120)
    report = json.loads(cli.stdout)
    assert report["state"] == "ended" and report["running"] is False
    term.press("a")
    term.wait_for(lambda s: has_row(s, old.short), "the ended row after a")
    term.press("/")
    term.wait_for("filter:", "the filter box")
    term.press(old.short)
    term.press("Enter")
    term.wait_for(lambda s: not has_row(s, a.short) and has_row(s, old.short), "the filter to leave the ended row")
    term.press("Enter")
    screen = term.wait_for(f"health {report['health']['status']} {report['health']['score']}", "the CLI's health in the drilldown")
    assert "ended" in screen
    scroll_until(term, "▲ 1 compaction")
    assert "9 turns" in term.row("turns ·"), term.last  # 8 replies and the size after the compaction
    assert "╌ compacts at 167k" in term.last, term.last
    scroll_until(term, "ran for")
    assert "ran for" in term.row("ran for") and "running for" not in term.last
