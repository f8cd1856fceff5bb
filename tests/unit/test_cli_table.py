"""The CLI's plain tables: aligned by terminal cells, cut with an ellipsis, inert."""

from __future__ import annotations

from llm_sessions.cli_table import Col, cell_width, cut, printable, render


def test_cut_keeps_the_start_or_the_end_and_marks_the_cut():
    assert cut("claude-sonnet-4-5-20250929", 10) == "claude-so…"
    assert cut("/home/dev/projects/webshop", 12, keep="end") == "…cts/webshop"
    assert cut("short", 10) == "short"


def test_wide_characters_count_two_cells_and_columns_stay_aligned():
    assert cell_width("日本") == 4 and cell_width("café") == 4
    text = render([Col("ID"), Col("COST", right=True), Col("CWD")], [["a", "$1.00", "/日本/x"], ["bbbb", "$10.00", "/w"]])
    lines = text.split("\n")
    assert [line.index("$") if "$" in line else None for line in lines[1:]] == [7, 6]
    assert all(not line.endswith(" ") for line in lines)
    assert lines[0] == "ID      COST  CWD"


def test_control_characters_cannot_reach_the_terminal():
    assert printable("evil\x1b[2Jname\n") == "evil\\x1b[2Jname\\n"
    table = render([Col("X"), Col("Y")], [["\x1b]52;c;Zm9v\x07", "y"], ["plain", "y"]])
    assert "\x1b" not in table
    assert len({line.index("y") for line in table.split("\n")[1:]}) == 1  # measured after spelling out
