from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from llm_sessions.ui.format import bar, human_cost, human_duration, human_tokens, short_folder, short_id


def test_short_folder_keeps_the_tail():
    assert short_folder("/home/dev/projects/webshop", 40) == "/home/dev/projects/webshop"
    assert short_folder("/home/dev/projects/webshop", 20) == "…/projects/webshop"
    assert short_folder(None) == "-"
    assert short_folder("/", 10) == "/"


@given(st.lists(st.text(alphabet="abcxyz-", min_size=1, max_size=30), min_size=1, max_size=8), st.integers(4, 40))
def test_short_folder_never_exceeds_width(parts, width):
    assert len(short_folder("/" + "/".join(parts), width)) <= max(width, 1)


def test_numbers():
    assert human_tokens(999) == "999"
    assert human_tokens(12_345) == "12.3k"
    assert human_tokens(1_250_000) == "1.2M"
    assert human_tokens(None) == "-"
    assert human_cost(3.1) == "$3.10"
    assert human_cost(None) == "-"
    assert short_id("a1b2c3d4-0000") == "a1b2c3d4"


def test_durations():
    assert human_duration(timedelta(seconds=45)) == "45s"
    assert human_duration(timedelta(minutes=7)) == "7m"
    assert human_duration(timedelta(hours=3, minutes=5)) == "3h 05m"
    assert human_duration(timedelta(days=2, hours=4)) == "2d 4h"
    assert human_duration(timedelta(seconds=-5)) == "0s"
    assert human_duration(None) == "-"


@given(st.floats(-1, 2), st.integers(1, 30))
def test_bar_has_fixed_width(fraction, width):
    out = bar(fraction, width)
    assert len(out) == width
    if fraction > 0:
        assert out[0] == "█"


def test_clip_and_short_model():
    from llm_sessions.ui.format import clip, short_model

    assert clip("feat/rate-limits", 11) == "feat/rate-…"
    assert clip("main", 11) == "main"
    assert short_model("claude-sonnet-4-5", "claude") == "sonnet-4-5"
    assert short_model("gpt-5-codex", "codex") == "gpt-5-codex"
    assert short_model(None) == "-"


def test_unique_prefixes_grow_only_where_ids_collide():
    from llm_sessions.ui.format import unique_prefixes

    ids = ["d3m0c1a0-0001", "d3m0c1a0-0002", "7c1a2e90-0003"]
    out = unique_prefixes(ids)
    assert out["7c1a2e90-0003"] == "7c1a2e90"
    assert out["d3m0c1a0-0001"] == "d3m0c1a0-0001" and out["d3m0c1a0-0002"] == "d3m0c1a0-0002"
    assert len(set(out.values())) == 3
    assert unique_prefixes(["abc"]) == {"abc": "abc"}


@given(st.lists(st.text(alphabet="ab", min_size=1, max_size=12), unique=True, max_size=12))
def test_unique_prefixes_are_unique_and_prefixes(ids):
    from llm_sessions.ui.format import unique_prefixes

    out = unique_prefixes(ids)
    assert all(sid.startswith(p) for sid, p in out.items())
    # a prefix can only equal another id's prefix when it is the whole (shorter) id
    for sid, p in out.items():
        clashes = [o for o in ids if o != sid and o.startswith(p)]
        assert not clashes or p == sid
