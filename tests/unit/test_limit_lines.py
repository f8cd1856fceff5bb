"""API-error and user lines that record a usage limit: detection, reset time, window kind."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from llm_sessions.core.accounting.limit_lines import limit_hit, limit_kind, reset_from_text
from tests.limit_fixtures import api_limit_line, iso

AT = datetime(2026, 11, 20, 14, 3, 25, tzinfo=UTC)


def raw(rec: dict) -> bytes:
    return json.dumps(rec).encode()


def test_rate_limit_error_with_reset_in_a_named_zone():
    hit = limit_hit(raw(api_limit_line(AT, "s", "You've hit your limit · resets 8:50pm (UTC)")))
    assert hit is not None
    assert hit.at == int(AT.timestamp())
    assert datetime.fromtimestamp(hit.resets_at, UTC) == datetime(2026, 11, 20, 20, 50, tzinfo=UTC)


def test_reset_earlier_in_the_day_means_tomorrow_and_zones_are_honoured():
    got = reset_from_text("5-hour limit reached ∙ resets 3am (Europe/Berlin)", AT)
    # 14:03 UTC is 15:03 in Berlin; the next 03:00 Berlin is 02:00 UTC tomorrow
    assert datetime.fromtimestamp(got, UTC) == datetime(2026, 11, 21, 2, 0, tzinfo=UTC)


@pytest.mark.parametrize("status, error", [(429, None), (None, "rate_limit"), (429, "rate_limit")])
def test_either_structured_field_marks_a_limit(status, error):
    assert limit_hit(raw(api_limit_line(AT, "s", "limit reached", status=status, error=error))) is not None


def test_other_api_errors_are_not_limits():
    assert limit_hit(raw(api_limit_line(AT, "s", "Overloaded", status=529, error="overloaded"))) is None
    # prose alone never marks a limit
    assert limit_hit(raw(api_limit_line(AT, "s", "You've hit your limit · resets 8pm", status=None, error=None))) is None


def test_old_epoch_marker_as_api_error_and_as_user_line():
    epoch = 1795000000
    api = api_limit_line(AT, "s", f"Claude AI usage limit reached|{epoch}", status=None, error=None)
    assert limit_hit(raw(api)).resets_at == epoch
    user = {"type": "user", "timestamp": iso(AT), "message": {"role": "user", "content": f"Claude AI usage limit reached|{epoch}"}}
    assert limit_hit(raw(user)) == (int(AT.timestamp()), epoch, "unknown")


def test_marker_inside_a_tool_result_or_mid_text_is_not_a_limit():
    block = {"type": "tool_result", "tool_use_id": "t", "content": "grep: Claude AI usage limit reached|1795000000"}
    tool = {"type": "user", "timestamp": iso(AT), "message": {"role": "user", "content": [block]}}
    assert limit_hit(raw(tool)) is None
    chat = {"type": "user", "timestamp": iso(AT), "message": {"role": "user", "content": "why did I see 'usage limit reached|1795000000'?"}}
    assert limit_hit(raw(chat)) is None


def test_unreadable_lines_are_no_limit():
    assert limit_hit(b"not json") is None
    assert limit_hit(b"[1, 2]") is None
    assert limit_hit(raw({"type": "assistant", "isApiErrorMessage": True, "error": "rate_limit"})) is None  # no time


@pytest.mark.parametrize("text, want", [
    ("5-hour limit reached · resets 3pm", "five_hour"),
    ("Weekly limit reached · resets Mon 9am", "seven_day"),
    ("Opus weekly limit reached", "seven_day_opus"),
    ("You've reached your Sonnet 7-day limit", "seven_day_sonnet"),
    ("Claude AI usage limit reached|1795000000", "unknown"),
])
def test_kind_from_text(text, want):
    assert limit_kind(text) == want


@pytest.mark.parametrize("text, want", [
    ("resets 8:50pm (UTC)", datetime(2026, 11, 20, 20, 50, tzinfo=UTC)),
    ("resets at 15:30 (UTC)", datetime(2026, 11, 20, 15, 30, tzinfo=UTC)),
    ("resets Nov 23, 9am (UTC)", datetime(2026, 11, 23, 9, 0, tzinfo=UTC)),
    ("try again in 45 minutes", datetime(2026, 11, 20, 14, 48, 25, tzinfo=UTC)),
    ("resets 2h", None),
    ("resets 13pm (UTC)", None),
    ("resets 9am (Not/AZone)", None),
])
def test_reset_texts(text, want):
    got = reset_from_text(text, AT)
    assert (datetime.fromtimestamp(got, UTC) if got else None) == want
