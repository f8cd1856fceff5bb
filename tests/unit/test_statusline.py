"""`llm-session statusline`: recorded inputs of every shape, the line, the state file."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from llm_sessions import cli_statusline
from llm_sessions.core.accounting import statusline_state
from llm_sessions.core.accounting.statusline import assistant_pid, parse_input
from tests.limit_fixtures import claude_turns, env_for

DATA = Path(__file__).parent.parent / "data" / "statusline"
SID = "5e55a1b0-0000-4000-8000-00000000abcd"


def shape(name: str, transcript: Path | None = None) -> bytes:
    text = (DATA / name).read_text()
    return text.replace("{session_id}", SID).replace("{transcript}", str(transcript or "/nowhere.jsonl")).encode()


@pytest.fixture
def home(tmp_path) -> tuple[dict[str, str], Path]:
    h = tmp_path / "home"
    env = env_for(h) | {"LLM_SESSION_HOME": str(tmp_path / "ls"), "NO_COLOR": "1"}
    now = datetime.now(UTC)
    transcript = claude_turns(h, SID, [(now - timedelta(minutes=9), 40_000, 800), (now - timedelta(minutes=2), 50_000, 1200)])
    return env, transcript


def run(raw: bytes, env, argv=()) -> str:
    out = io.StringIO()
    assert cli_statusline.run(list(argv), stdin=io.BytesIO(raw), stdout=out, env=env) == 0
    return out.getvalue()


def test_window_names_that_are_not_plain_are_dropped():
    inp = parse_input(b'{"rate_limits": {"five_hour\\u001b[2J": {"used_percentage": 50}, "seven_day": {"used_percentage": 5}}}')
    assert inp.windows == {"seven_day": (5.0, None)}


def test_full_shape_is_parsed():
    inp = parse_input(shape("full.json"))
    assert inp.session_id == SID and inp.model_id == "claude-sonnet-4-5-20250929"
    assert inp.cost_usd == 3.4127 and inp.window_size == 200_000 and inp.current_tokens == 84_012
    assert inp.windows == {"five_hour": (23.5, 1795716000), "seven_day": (41.2, 1796140800), "seven_day_sonnet": (12.0, 1796140800)}


def test_shapes_without_limits_with_nulls_and_with_odd_types():
    assert parse_input(shape("no_rate_limits.json")).windows == {}
    nulls = parse_input(shape("nulls.json"))
    assert nulls.windows == {"seven_day_opus": (3.0, None)} and nulls.transcript is None and nulls.cost_usd is None
    odd = parse_input(shape("odd_types.json"))
    assert odd.session_id is None and odd.transcript is None and odd.model_id is None and odd.cost_usd is None
    assert odd.windows == {
        "five_hour": (55.0, int(datetime(2026, 11, 20, 20, tzinfo=UTC).timestamp())),
        "seven_day": (78.0, 1796140800),
    }


@pytest.mark.parametrize("raw", [b"", b"   \n", b"not json", b"[1,2,3]", b'"a string"', b"{\"session_id\": ", b"\xff\xfe"])
def test_bad_input_prints_the_fallback_and_exits_zero(raw, tmp_path):
    assert run(raw, {"HOME": str(tmp_path), "LLM_SESSION_HOME": str(tmp_path / "ls")}) == cli_statusline.FALLBACK + "\n"


def test_line_shows_context_tokens_cost_health_and_five_hour(home):
    env, transcript = home
    line = run(shape("full.json", transcript), env)
    assert line.count("\n") == 1
    assert "ctx 25%" in line  # 50k of 200k, from the transcript, not the input's 42%
    assert "92.0k tok" in line and "$3.41" in line and "health " in line and "5h 24%" in line
    assert "\x1b[" not in line  # NO_COLOR


def test_state_file_records_limits_session_and_pid(home):
    env, transcript = home
    run(shape("full.json", transcript), env)
    state = statusline_state.load(Path(env["LLM_SESSION_HOME"]) / "data" / "statusline.json")
    assert state["windows"]["five_hour"]["pct"] == 23.5 and state["windows"]["five_hour"]["resets_at"] == 1795716000
    assert set(state["windows"]) == {"five_hour", "seven_day", "seven_day_sonnet"}
    me = state["sessions"][SID]
    assert me["pid"] == assistant_pid()[0] and me["transcript"] == str(transcript) and me["context"] == [50_000, 200_000]
    assert me["tokens"] == 92_000


def test_without_rate_limits_there_is_no_five_hour_figure(home):
    env, transcript = home
    line = run(shape("no_rate_limits.json", transcript), env)
    assert "5h" not in line and "ctx 25%" in line and "$4.27" in line


def test_nulls_and_a_missing_transcript_still_give_a_line(home):
    env, _ = home
    assert run(shape("nulls.json"), env).strip() == cli_statusline.FALLBACK
    line = run(shape("full.json", Path("/does/not/exist.jsonl")), env)
    assert "ctx 42%" in line and "$3.41" in line  # from the input's own figures


def test_our_window_rule_not_context_window_size(home):
    env, transcript = home
    line = run(shape("one_m.json", transcript), env)
    assert "ctx 5%" in line  # 50k of the 1M window, though the input says 200000 and 100%
    assert "5h 97% (resets" in line


def test_second_call_reads_only_what_was_appended(home):
    env, transcript = home
    run(shape("full.json", transcript), env)
    cache = next((Path(env["LLM_SESSION_HOME"]) / "cache" / "statusline").glob("*.msgpack"))
    size = transcript.stat().st_size
    from tests.unit.claude_lines import assistant, dumps

    with transcript.open("a") as fh:
        fh.write(dumps(assistant("m-new", "r-new", datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                                 inp=120_000, out=10, sid=SID, stop="end_turn")) + "\n")
    line = run(shape("full.json", transcript), env)
    assert "ctx 60%" in line and "212k tok" in line
    import msgspec

    from llm_sessions.core.accounting.providers.claude_parse import ClaudeFile

    files = msgspec.msgpack.decode(cache.read_bytes(), type=list[ClaudeFile])
    assert files[0].cursor.offset == transcript.stat().st_size > size


def test_a_chained_command_keeps_its_output_and_sees_the_same_input(home, tmp_path):
    env, transcript = home
    seen = tmp_path / "seen.json"
    line = run(shape("full.json", transcript), env, ["--chain", f"cat > {seen}; echo 'my  old line'"])
    assert line.startswith("my  old line | ctx 25%")
    assert json.loads(seen.read_text())["session_id"] == SID
    multi = run(shape("full.json", transcript), env, ["--chain", "printf 'one\\ntwo\\n'"])
    assert multi.splitlines()[:2] == ["one", "two"] and multi.splitlines()[2].startswith("ctx")
    broken = run(shape("full.json", transcript), env, ["--chain", "exit 3"])
    assert broken.startswith("ctx 25%")
    alone = run(b"{}", env, ["--chain", "echo mine"])
    assert alone == "mine\n"  # nothing of ours to add


def test_limit_hit_in_the_transcript_shows_until_when(tmp_path):
    h = tmp_path / "home"
    env = env_for(h) | {"LLM_SESSION_HOME": str(tmp_path / "ls"), "NO_COLOR": "1"}
    now = datetime.now(UTC)
    reset = int((now + timedelta(hours=2)).timestamp())
    from tests.limit_fixtures import api_limit_line

    refusal = api_limit_line(now - timedelta(minutes=1), SID, f"Claude AI usage limit reached|{reset}")
    transcript = claude_turns(h, SID, [(now - timedelta(minutes=5), 1000, 10)], extra=[refusal])
    line = run(shape("full.json", transcript), env)
    assert f"5h LIMIT until {datetime.fromtimestamp(reset).strftime('%H:%M')}" in line


def test_assistant_pid_skips_the_shell_in_between():
    code = "from llm_sessions.core.accounting.statusline import assistant_pid; print(assistant_pid()[0])"
    out = subprocess.run(["sh", "-c", f"{sys.executable} -c '{code}'; true"], capture_output=True, text=True, check=True)
    assert int(out.stdout) == os.getpid()  # python's parent is sh; past it, this test process


def test_fast_path_imports_neither_typer_nor_textual_nor_sqlmodel(home):
    env, transcript = home
    code = (
        "import io, sys\n"
        "sys.argv = ['llm-session', 'statusline']\n"
        f"sys.stdin = io.TextIOWrapper(io.BytesIO({shape('full.json', transcript)!r}))\n"
        "from llm_sessions.entry import main\n"
        "try:\n    main()\nexcept SystemExit as e:\n    assert e.code == 0\n"
        "print('MODULES', *sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, **env}, check=True)
    line, modules = out.stdout.split("MODULES")
    assert "ctx 25%" in line
    loaded = set(modules.split())
    for heavy in ("typer", "textual", "sqlmodel", "sqlalchemy", "psutil", "llm_sessions.core.live.monitor"):
        assert heavy not in loaded, heavy


def test_state_of_sessions_gone_for_two_weeks_is_dropped(home, tmp_path):
    env, transcript = home
    folder = Path(env["LLM_SESSION_HOME"]) / "cache" / "statusline"
    folder.mkdir(parents=True)
    old, recent = folder / "0ld.msgpack", folder / "recent.msgpack"
    for f in (old, recent):
        f.write_bytes(b"x")
    os.utime(old, (1, 1))
    run(shape("full.json", transcript), env)
    assert not old.exists() and recent.exists() and len(list(folder.glob("*.msgpack"))) == 2
