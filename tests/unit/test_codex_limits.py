"""Codex rate-limit readings from rollouts: windows by length in either slot, old and odd shapes."""

from __future__ import annotations

from datetime import timedelta

from llm_sessions.core.accounting.limits import Sources, build_windows
from llm_sessions.core.accounting.providers.codex import CodexProvider
from tests.limit_fixtures import NOW, codex_rollout, env_for, window


def scan(home):
    prov = CodexProvider(env_for(home))
    res = prov.scan()
    return prov, {s.id: s for s in res.sessions}


def windows(prov):
    samples = sorted(tuple(s) for f in prov.files.values() for s in f.rate_samples)
    return {w.kind: w for w in build_windows(Sources(codex_samples=samples), NOW, None)}


def test_weekly_in_primary_then_in_secondary_is_the_same_window(tmp_path):
    weekly, five = NOW + timedelta(days=3), NOW + timedelta(hours=2)
    turns = [
        (NOW - timedelta(minutes=40), 1000, 100, {"primary": window(70.0, 10080, weekly), "secondary": window(10.0, 300, five)}),
        (NOW - timedelta(minutes=20), 2000, 200, {"primary": window(12.0, 300, five), "secondary": window(71.0, 10080, weekly)}),
        (NOW - timedelta(minutes=5), 3000, 300, {"primary": window(72.0, 10080, weekly), "secondary": None}),
    ]
    prov, sessions = scan(codex_home(tmp_path, turns))
    got = windows(prov)
    assert got["seven_day"].used_percent == 72.0 and got["five_hour"].used_percent == 12.0
    # from the last reading at or before 30 minutes ago (70% at -40 min) to the newest (72% at -5 min)
    assert got["seven_day"].burn_per_hour == round(2 / (35 / 60), 3)
    assert sessions["cx"].usage.total == 3300  # token counting untouched


def codex_home(tmp_path, turns, rates=None):
    home = tmp_path / "home"
    codex_rollout(home, "cx", turns, rates=rates)
    return home


def test_relative_resets_unknown_lengths_limit_ids_plan_and_credits(tmp_path):
    at = NOW - timedelta(minutes=3)
    rates = {
        "limit_id": "codex_mini", "plan_type": "pro", "credits": {"has_credits": True, "unlimited": False, "balance": "12.50"},
        "primary": {"used_percent": 33.0, "window_minutes": 300, "resets_in_seconds": 3600},
        "secondary": {"used_percent": 5.0, "resets_at": int((NOW + timedelta(days=1)).timestamp())},  # no length
    }
    prov, _ = scan(codex_home(tmp_path, [(at, 1000, 100)], rates))
    f = next(iter(prov.files.values()))
    assert (f.plan, f.credits) == ("pro", "12.50")
    got = windows(prov)
    five = got["five_hour:codex_mini"]
    assert five.resets_at == at.replace(microsecond=0) + timedelta(hours=1)
    assert got["window:codex_mini"].used_percent == 5.0  # never guessed from its slot


def test_odd_types_in_the_new_fields_do_not_lose_the_line(tmp_path):
    rates = {"limit_id": 7, "plan_type": ["x"], "credits": "lots",
             "primary": {"used_percent": 50.0, "window_minutes": 300.0, "resets_at": str(int((NOW + timedelta(hours=1)).timestamp()))}}
    prov, sessions = scan(codex_home(tmp_path, [(NOW - timedelta(minutes=2), 1000, 100)], rates))
    assert sessions["cx"].usage.total == 1100 and sessions["cx"].malformed_lines == 0
    assert windows(prov)["five_hour"].used_percent == 50.0


def test_names_from_the_file_are_made_inert(tmp_path):
    rates = {"limit_id": "codex\x1b[31m_x", "plan_type": "pro\x07", "credits": {"balance": "\x1b]52;c;ZXZpbA==\x07 5"},
             "primary": {"used_percent": 5.0, "window_minutes": 300, "resets_at": int((NOW + timedelta(hours=1)).timestamp())}}
    prov, _ = scan(codex_home(tmp_path, [(NOW - timedelta(minutes=2), 1000, 100)], rates))
    f = next(iter(prov.files.values()))
    assert f.plan == "pro" and f.credits == "52cZXZpbA5"
    assert "five_hour:codex31m_x" in windows(prov)


def test_equal_readings_keep_only_the_ends_of_their_run(tmp_path):
    rates = {"primary": window(40.0, 300, NOW + timedelta(hours=2))}
    turns = [(NOW - timedelta(minutes=m), 1000 * (60 - m), 100) for m in (50, 40, 30, 20, 10)]
    prov, _ = scan(codex_home(tmp_path, turns, rates))
    f = next(iter(prov.files.values()))
    assert [s[0] for s in f.rate_samples] == [int((NOW - timedelta(minutes=m)).timestamp()) for m in (50, 10)]
    assert windows(prov)["five_hour"].observed_at == NOW - timedelta(minutes=10)  # the newest reading's age
