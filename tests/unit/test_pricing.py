"""Prices: normalisation of model ids, the 200k tier, unknown models and overrides."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from llm_sessions.config import ConfigError
from llm_sessions.core.accounting.price_sources import PriceFileError, normalise
from llm_sessions.core.accounting.pricing import ModelPrice, PriceTable, is_above_200k
from llm_sessions.core.models import Usage


@pytest.fixture(scope="module")
def table() -> PriceTable:
    return PriceTable.load()


def test_bundled_file_is_dated_and_names_its_source():
    from importlib import resources

    doc = json.loads(resources.files("llm_sessions.core.accounting").joinpath("data/prices.json").read_text())
    assert doc["_source"] == "BerriAI/litellm model_prices_and_context_window.json"
    assert doc["_as_of"][:2] == "20"


@pytest.mark.parametrize(
    "model",
    [
        "claude-opus-4-6", "claude-opus-4-5-20251101", "claude-opus-4-1-20250805",
        "claude-opus-4-20250514", "claude-sonnet-4-20250514", "claude-sonnet-4-5-20250929",
        "claude-haiku-4-5-20251001", "claude-3-5-haiku-20241022", "claude-3-7-sonnet-20250219",
        "claude-3-opus-20240229", "claude-3-haiku-20240307", "gpt-5", "gpt-5-codex",
        "gpt-5.1-codex", "gpt-5.1-codex-mini", "gpt-5.1-codex-max", "gpt-4.1", "o3", "o4-mini",
        "codex-mini-latest", "gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-3-flash",
        "gemini-3.1-pro-preview",
        "gemini-3-pro-preview",
    ],
)
def test_every_family_the_assistants_use_is_priced(table, model):
    price = table.lookup(model)
    assert price is not None, model
    assert price.input > 0 and price.output > price.input
    assert price.window and price.window >= 128_000


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("claude-sonnet-4-5-20250929", "claude-sonnet-4-5"),
        ("claude-opus-4-6[1m]", "claude-opus-4-6"),
        ("anthropic/claude-opus-4-5-20251101", "claude-opus-4-5"),
        ("openai/gpt-5-codex", "gpt-5-codex"),
        ("gemini/gemini-2.5-pro", "gemini-2.5-pro"),
        ("claude-sonnet-4-5@20250929", "claude-sonnet-4-5"),
        ("gpt-4.1-2025-04-14", "gpt-4.1"),
        ("  Claude-Haiku-4-5  ", "claude-haiku-4-5"),
    ],
)
def test_normalise(raw, key):
    assert normalise(raw) == key


def test_lookup_normalises_and_finds_aliases(table):
    assert table.lookup("anthropic/claude-sonnet-4-5-20250929[1m]").name == "claude-sonnet-4-5"
    assert table.lookup("claude-sonnet-4-5@20250929").name == "claude-sonnet-4-5"
    assert table.lookup("gemini-3-pro").name == "gemini-3-pro-preview"
    assert table.lookup("gemini-2.5-pro-preview-06-05").name == "gemini-2.5-pro"


def test_synthetic_and_unknown_models_have_no_price(table):
    assert table.lookup("<synthetic>") is None
    assert table.lookup(None) is None
    assert table.lookup("") is None
    # no prefix guessing: a future opus is not silently priced like opus 4
    assert table.lookup("claude-opus-4-9") is None
    assert table.cost("totally-new-model", Usage(input=1000)) is None
    assert table.cost("<synthetic>", Usage()) is None


def test_cost_uses_each_kind_of_token(table):
    usage = Usage(input=1_000_000, output=1_000_000, cache_creation=1_000_000, cache_read=1_000_000)
    # Sonnet 4.5: $3 in, $15 out, $3.75 cache write, $0.30 cache read per million
    assert table.cost("claude-sonnet-4-5-20250929", usage) == pytest.approx(3 + 15 + 3.75 + 0.30)
    # Opus 4.5: $5 / $25 / $6.25 / $0.50
    assert table.cost("claude-opus-4-5", usage) == pytest.approx(5 + 25 + 6.25 + 0.5)
    # Codex has no cache writes in practice; reads at $0.125
    assert table.cost("gpt-5-codex", Usage(input=2_000_000, output=100_000, cache_read=4_000_000)) == pytest.approx(
        2.5 + 1.0 + 0.5
    )


def test_above_200k_tier_applies_to_all_tokens(table):
    usage = Usage(input=10_000, output=1_000_000, cache_creation=0, cache_read=1_000_000)
    # Opus 4.6 paid the long-context tier until 2026-03-13 ($10 / $37.50 / cache read $1)
    before = table.lookup("claude-opus-4-6", "2026-03-12")
    assert before.cost(usage) == pytest.approx(0.05 + 25 + 0.5)
    assert before.cost(usage, above_200k=True) == pytest.approx(0.1 + 37.5 + 1.0)
    gem = table.cost("gemini-2.5-pro", Usage(input=1_000_000, output=1_000_000), above_200k=True)
    assert gem == pytest.approx(2.5 + 15)


def test_tier_flag_is_ignored_for_models_without_a_tier(table):
    usage = Usage(input=300_000, output=1_000)
    assert table.cost("claude-haiku-4-5", usage, above_200k=True) == table.cost("claude-haiku-4-5", usage)


def test_request_cost_decides_tier_from_the_input_side():
    price = PriceTable.load().lookup("claude-sonnet-4")  # kept by an override: litellm dropped it
    at_limit = Usage(input=100_000, cache_creation=50_000, cache_read=50_000, output=10)
    over = Usage(input=100_000, cache_creation=50_000, cache_read=50_001, output=10)
    assert not is_above_200k(at_limit) and is_above_200k(over)
    assert price.request_cost(at_limit) == pytest.approx(price.cost(at_limit))
    assert price.request_cost(over) == pytest.approx(price.cost(over, above_200k=True))
    assert price.request_cost(over) > price.request_cost(at_limit) * 1.9


def test_missing_cache_rates_fall_back_to_input_rate():
    price = ModelPrice(name="x", input=1e-6, output=2e-6)
    assert price.cost(Usage(cache_creation=1_000_000, cache_read=1_000_000)) == pytest.approx(2.0)


def test_window(table):
    assert table.window("claude-sonnet-4-5-20250929") == 200_000
    assert table.window("claude-sonnet-4-5-20250929[1m]") == 1_000_000
    assert table.window("gemini-2.5-pro") == 1_048_576
    assert table.window("gpt-5-codex") == 272_000
    assert table.window("no-such-model") is None


def test_config_overrides_are_per_million_and_merge(table):
    t = PriceTable.load(
        overrides={
            "claude-sonnet-4-5": {"input": 1.0, "window": 1_000_000},
            "my-local-model": {"input": 0.5, "output": 1.5, "cache_read": 0.05},
        }
    )
    s = t.lookup("claude-sonnet-4-5-20250929")
    assert s.input == pytest.approx(1e-6)
    assert s.output == pytest.approx(table.lookup("claude-sonnet-4-5").output)  # untouched
    assert s.window == 1_000_000
    assert t.cost("my-local-model", Usage(input=1_000_000, output=1_000_000)) == pytest.approx(2.0)
    assert "config [pricing.models]" in t.sources


@pytest.mark.parametrize(
    ("overrides", "needle"),
    [
        ({"m": {"inptu": 1}}, "unknown key 'inptu'"),
        ({"m": {"input": "cheap", "output": 1}}, "input must be a non-negative number"),
        ({"m": {"input": -1, "output": 1}}, "input must be a non-negative number"),
        ({"brand-new": {"input": 1}}, "needs input and output"),
        ({"m": 3}, "must be a table"),
    ],
)
def test_bad_overrides_say_what_is_wrong(overrides, needle):
    with pytest.raises(PriceFileError, match=needle) as info:
        PriceTable.load(overrides=overrides)
    assert isinstance(info.value, ConfigError)
    assert "pricing.models" in str(info.value)


def test_litellm_format_file_is_merged(tmp_path):
    f = tmp_path / "prices.json"
    f.write_text(
        json.dumps(
            {
                "sample_spec": {"input_cost_per_token": 0.0, "max_input_tokens": "max input tokens"},
                "claude-sonnet-4-5-20250929": {
                    "input_cost_per_token": 4e-06,
                    "output_cost_per_token": 2e-05,
                    "max_input_tokens": 200000,
                },
                "bedrock/claude-sonnet-4-5": {"input_cost_per_token": 9e-06, "output_cost_per_token": 9e-05},
                "gemini/gemini-9-ultra": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06},
                "dall-e-3": {"output_cost_per_image": 0.04},
            }
        )
    )
    t = PriceTable.load(file=str(f))
    assert t.lookup("claude-sonnet-4-5").input == pytest.approx(4e-06)
    # the file is merged field by field: rates it does not give stay as bundled
    assert t.lookup("claude-sonnet-4-5").cache_read == pytest.approx(3e-07)
    assert t.lookup("claude-sonnet-4-5").cache_write_1h == pytest.approx(6e-06)
    assert t.lookup("gemini-9-ultra").output == pytest.approx(2e-06)
    assert t.lookup("dall-e-3") is None
    assert t.lookup("claude-opus-4-5") is not None  # bundled entries stay
    assert str(f) in t.sources


def test_config_overrides_win_over_the_file(tmp_path):
    f = tmp_path / "p.json"
    f.write_text(json.dumps({"models": {"gpt-5": {"input_cost_per_token": 1e-05, "output_cost_per_token": 1e-04}}}))
    t = PriceTable.load(overrides={"gpt-5": {"input": 2.0}}, file=f)
    assert t.lookup("gpt-5").input == pytest.approx(2e-6)
    assert t.lookup("gpt-5").output == pytest.approx(1e-4)


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"{not json", "invalid JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b'{"m": {"input_cost_per_token": "x", "output_cost_per_token": 1}}', "m.input_cost_per_token"),
    ],
)
def test_bad_file_names_the_file(tmp_path, content, needle):
    f = tmp_path / "bad-prices.json"
    f.write_bytes(content)
    with pytest.raises(PriceFileError, match=needle) as info:
        PriceTable.load(file=str(f))
    assert "bad-prices.json" in str(info.value)


def test_missing_file_names_the_file(tmp_path):
    with pytest.raises(PriceFileError, match="missing.json"):
        PriceTable.load(file=str(tmp_path / "missing.json"))


def test_pricing_imports_no_heavy_modules():
    code = (
        "import sys; import llm_sessions.core.accounting.pricing as p; p.PriceTable.load();"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'sqlmodel', 'textual')];"
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- 2026: 1-hour cache writes, dated prices, speed tiers, the wider slice -----------------


def test_one_hour_cache_writes_use_each_models_own_rate(table):
    million = Usage(cache_creation=1_000_000)
    # Opus 4.6: 5-minute write $6.25, 1-hour write $10 (2x the $5 input)
    assert table.charge("claude-opus-4-6", million) == pytest.approx(6.25)
    assert table.charge("claude-opus-4-6", million, cache_1h=1_000_000) == pytest.approx(10.0)
    assert table.charge("claude-opus-4-6", million, cache_1h=400_000) == pytest.approx(0.6 * 6.25 + 0.4 * 10)
    # the rate is the model's, never a global factor: Haiku 3.5 (fixed by an override)
    assert table.charge("claude-3-5-haiku-20241022", million, cache_1h=1_000_000) == pytest.approx(1.6)
    assert table.charge("claude-sonnet-5", million, cache_1h=1_000_000) == pytest.approx(4.0)


def test_a_one_hour_write_without_a_known_rate_has_no_price():
    price = ModelPrice(name="x", input=1e-6, output=2e-6, cache_write=1.25e-6)
    assert price.charge(Usage(cache_creation=10), cache_1h=0) == pytest.approx(1.25e-5)
    assert price.charge(Usage(cache_creation=10), cache_1h=5) is None


def test_dated_prices_pick_the_period_in_force_on_the_day(table):
    big = Usage(input=250_000, output=1_000)
    before = table.charge("claude-opus-4-6", big, bucket=1, day="2026-03-12")
    after = table.charge("claude-opus-4-6", big, bucket=1, day="2026-03-13")
    assert before == pytest.approx(250_000 * 10e-6 + 1_000 * 37.5e-6)
    assert after == pytest.approx(250_000 * 5e-6 + 1_000 * 25e-6)  # flat 1M pricing from 2026-03-13
    assert table.charge("claude-sonnet-4-6", big, bucket=1, day="2026-02-20") == pytest.approx(250_000 * 6e-6 + 1_000 * 22.5e-6)
    assert [p.valid_from for p in table.periods("claude-opus-4-6")] == ["", "2026-03-13"]


def test_fast_speed_multiplies_every_rate_by_the_models_multiplier(table):
    u = Usage(input=1_000_000, output=1_000_000)
    assert table.charge("claude-opus-4-6", u, speed="fast") == pytest.approx(6 * 30)  # override: 6x
    assert table.charge("claude-opus-4-8", u, speed="fast") == pytest.approx(2 * 30)  # litellm: 2x
    assert table.charge("claude-sonnet-4-6", u, speed="fast") is None  # no fast price known


def test_priority_service_tier_uses_priority_rates(table):
    u = Usage(input=1_000_000, output=1_000_000, cache_read=1_000_000)
    assert table.charge("gpt-5.3-codex", u) == pytest.approx(1.75 + 14 + 0.175)
    assert table.charge("gpt-5.3-codex", u, speed="priority") == pytest.approx(3.5 + 28 + 0.35)
    no_priority = ModelPrice(name="x", input=1e-6, output=2e-6)
    assert no_priority.charge(u, speed="priority") is None  # a tier without a known price has none


def test_openai_long_context_starts_at_272k(table):
    u = Usage(input=250_000, output=1_000)
    price = table.lookup("gpt-5.5")
    assert price.long_threshold == 272_000
    assert table.charge("gpt-5.5", u, bucket=1) == pytest.approx(250_000 * 5e-6 + 1_000 * 30e-6)
    assert table.charge("gpt-5.5", u, bucket=2) == pytest.approx(250_000 * 10e-6 + 1_000 * 45e-6)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("claude-sonnet-4.6", "claude-sonnet-4-6"),
        ("claude-opus-4.6-1m", "claude-opus-4-6"),
        ("claude-haiku-4.5-1m-internal", "claude-haiku-4-5"),
        ("gpt-5.2", "gpt-5.2"),
        ("gpt-5.3-codex", "gpt-5.3-codex"),
    ],
)
def test_normalise_copilot_ids(raw, key):
    assert normalise(raw) == key


@pytest.mark.parametrize(
    "model",
    [
        "gpt-5.2", "gpt-5.2-codex", "gpt-5.3-codex", "gpt-5.4", "gpt-5.4-mini", "gpt-5.5", "gpt-5.6",
        "claude-opus-4-8", "claude-opus-5", "claude-sonnet-5", "claude-fable-5", "gemini-3.5-flash", "gemini-3.6-flash",
        "claude-sonnet-4.6", "claude-opus-4-7",
    ],
)
def test_2026_models_are_priced(table, model):
    price = table.lookup(model)
    assert price is not None and price.input > 0 and price.output > price.input


def test_bill_names_what_could_not_be_priced(table):
    from llm_sessions.core.accounting.pricing import Bill

    bill = Bill()
    bill.add(table, "claude-opus-4-6", Usage(input=10, output=10))
    assert bill.usd == pytest.approx(10 * 5e-6 + 10 * 25e-6)
    bill.add(table, "claude-sonnet-4-6", Usage(input=1), speed="fast")
    bill.add(table, "claude-opus-9", Usage(input=1))
    bill.add(table, "claude-opus-9", Usage())  # nothing used: nothing to price
    assert bill.usd is None and bill.rounded is None
    assert bill.unpriced == {"claude-sonnet-4-6 (fast)", "claude-opus-9"}


def test_every_override_has_a_source_a_date_and_a_reason():
    from importlib import resources

    doc = json.loads(resources.files("llm_sessions.core.accounting").joinpath("data/price_overrides.json").read_text())
    table = PriceTable.load()
    assert doc["overrides"]
    for o in doc["overrides"]:
        assert o["source"] and o["why"] and o["checked"][:2] == "20", o["model"]
        assert table.lookup(o["model"]) is not None, o["model"]


def test_bundled_slice_is_wide_small_and_from_litellm():
    from importlib import resources

    raw = resources.files("llm_sessions.core.accounting").joinpath("data/prices.json").read_bytes()
    doc = json.loads(raw)
    assert len(raw) < 150_000
    assert len(doc["models"]) >= 80
    assert doc["_litellm_version"] and len(doc["_source_sha256"]) == 64
    assert {e["litellm_provider"] for e in doc["models"].values()} >= {"anthropic", "openai"}


def test_regenerate_script_slices_litellm(tmp_path):
    sys.path.insert(0, "scripts")
    try:
        import regenerate_prices as regen
    finally:
        sys.path.pop(0)
    doc = {
        "claude-x-9": {"litellm_provider": "anthropic", "mode": "chat", "input_cost_per_token": 1e-6,
                       "output_cost_per_token": 5e-6, "cache_creation_input_token_cost_above_1hr": 2e-6,
                       "provider_specific_entry": {"fast": 2, "us": 1.1}, "supports_vision": True},
        "claude-x-9-20260101": {"litellm_provider": "anthropic", "mode": "chat", "input_cost_per_token": 1e-6,
                                "output_cost_per_token": 5e-6, "cache_creation_input_token_cost_above_1hr": 2e-6,
                                "provider_specific_entry": {"fast": 2, "us": 1.1}},
        "gemini/gemini-z": {"litellm_provider": "gemini", "mode": "chat", "input_cost_per_token": 1e-7, "output_cost_per_token": 1e-6},
        "bedrock/claude-x-9": {"litellm_provider": "bedrock", "mode": "chat", "input_cost_per_token": 9.0, "output_cost_per_token": 9.0},
        "gpt-image-1": {"litellm_provider": "openai", "mode": "image_generation", "input_cost_per_token": 1e-6},
        "gpt-4o-audio-preview": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 1e-6, "output_cost_per_token": 1e-6},
    }
    models = regen.build_slice(doc)
    assert list(models) == ["claude-x-9", "gemini-z"]
    assert models["claude-x-9"]["provider_specific_entry"] == {"fast": 2, "us": 1.1}
    assert "supports_vision" not in models["claude-x-9"]
    src = tmp_path / "litellm.json"
    src.write_text(json.dumps(doc))
    out = tmp_path / "prices.json"
    assert regen.main([str(src), "--out", str(out), "--version", "9.9.9"]) == 0
    written = json.loads(out.read_text())
    assert written["_litellm_version"] == "9.9.9" and set(written["models"]) == {"claude-x-9", "gemini-z"}
