"""`limits [--json]` and the window shares in `list --json` / `health --json`, as users run them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from llm_sessions.core.accounting import statusline_state
from tests.limit_fixtures import claude_turns, codex_rollout, env_for, window

A, B, CX = "aaaa1111-0000-4000-8000-000000000001", "bbbb2222-0000-4000-8000-000000000002", "cccc3333-0000-4000-8000-000000000003"


def run(args, env):
    return subprocess.run([sys.executable, "-m", "llm_sessions", *args], env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def env(tmp_path):
    now = datetime.now(UTC)
    home = tmp_path / "home"
    claude_turns(home, A, [(now - timedelta(minutes=m), 30_000, 500) for m in (50, 20, 5)])
    claude_turns(home, B, [(now - timedelta(minutes=15), 10_000, 500, "claude-opus-4-1-20250805")], project="-w-b", cwd="/w/b")
    rates = {"primary": window(81.0, 10080, now + timedelta(days=2)), "secondary": window(12.0, 300, now + timedelta(hours=3)),
             "plan_type": "plus"}
    codex_rollout(home, CX, [(now - timedelta(minutes=9), 2000, 100), (now - timedelta(minutes=1), 4000, 200)], rates=rates)
    e = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE", "CODEX", "LLM_SESSION"))}
    e.update(env_for(home), LLM_SESSION_HOME=str(tmp_path / "ls"))
    statusline_state.record(tmp_path / "ls" / "data" / "statusline.json", now=now.timestamp() - 30,
                            windows={"five_hour": (64.0, int((now + timedelta(hours=2)).timestamp()))}, session_id=A, session={})
    return e


def test_limits_json_lists_every_window_with_its_source_and_shares(env):
    out = run(["limits", "--json"], env)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    got = {(w["assistant"], w["window"]): w for w in data["windows"]}
    five = got[("claude", "five_hour")]
    assert (five["source"], five["exact"], five["used_percent"]) == ("statusline", True, 64.0)
    assert 25 <= five["age_seconds"] < 120
    assert {s["session"] for s in five["sessions"]} == {A, B}
    assert sum(s["share"] for s in five["sessions"]) == pytest.approx(1.0, abs=1e-3)
    assert got[("claude", "seven_day")]["source"] == "estimate" and got[("claude", "seven_day")]["exact"] is False
    assert got[("codex", "seven_day")]["used_percent"] == 81.0 and "plan plus" in got[("codex", "seven_day")]["basis"]
    assert got[("codex", "five_hour")]["sessions"][0]["session"] == CX
    for w in data["windows"]:
        assert set(w) >= {"resets_at", "burn_percent_per_hour", "projected_full_at", "tokens_per_minute", "limit_hit"}


def test_limits_text(env):
    out = run(["limits"], env)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split()[:4] == ["ASSISTANT", "WINDOW", "USED", "RESETS"]
    row = next(line for line in lines if line.startswith("claude") and "5-hour" in line)
    assert "64%" in row and "statusline" in row
    assert any("sessions since it began: aaaa1111" in line for line in lines)


def test_list_and_health_json_carry_the_shares(env):
    listed = {s["id"]: s for s in json.loads(run(["list", "--all", "--json"], env).stdout)["sessions"]}
    windows = {x["window"] for x in listed[A]["limit_shares"]}
    assert windows == {"claude/five_hour", "claude/seven_day"}
    assert {x["window"] for x in listed[CX]["limit_shares"]} == {"codex/five_hour", "codex/seven_day"}
    health = json.loads(run(["health", A, "--json"], env).stdout)
    assert {x["window"] for x in health["limit_shares"]} == windows


def test_limits_with_nothing_to_show(tmp_path):
    e = {k: v for k, v in os.environ.items() if not k.startswith(("CLAUDE", "CODEX", "LLM_SESSION"))}
    e.update(env_for(tmp_path / "empty"), LLM_SESSION_HOME=str(tmp_path / "ls"))
    out = run(["limits"], e)
    assert out.returncode == 0 and "No usage-limit window known yet" in out.stdout
    assert json.loads(run(["limits", "--json"], e).stdout)["windows"] == []
