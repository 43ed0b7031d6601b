"""Cache counts from either shape Databricks may report them in, and each door's fields."""

from __future__ import annotations

from services.caching.usage import CacheCounts, cache_counts, with_cache_counts
from services.dialects.anthropic.answers import usage as anthropic_usage
from services.dialects.responses.common import usage_of as responses_usage

TOP_LEVEL = {
    "prompt_tokens": 1000,
    "completion_tokens": 5,
    "cache_read_input_tokens": 900,
    "cache_creation_input_tokens": 60,
}
DETAILS = {
    "prompt_tokens": 1000,
    "completion_tokens": 5,
    "prompt_tokens_details": {"cached_tokens": 900, "cache_creation_tokens": 60},
}
# Anthropic's meaning of the prompt count (the uncached rest only): smaller than the cache counts.
UNCACHED_REST = {
    "prompt_tokens": 40,
    "completion_tokens": 5,
    "cache_read_input_tokens": 900,
    "cache_creation_input_tokens": 60,
}


def test_every_shape_gives_the_same_counts() -> None:
    for usage in (TOP_LEVEL, DETAILS, UNCACHED_REST):
        assert cache_counts(usage) == CacheCounts(prompt=1000, read=900, written=60)
        assert cache_counts(usage).uncached == 40


def test_no_cache_use_leaves_usage_alone() -> None:
    usage = {"prompt_tokens": 10, "completion_tokens": 1, "prompt_tokens_details": None}
    assert with_cache_counts(usage) is usage
    assert cache_counts(None) == CacheCounts(0, 0, 0)
    assert cache_counts({"prompt_tokens": True, "cache_read_input_tokens": -3}) == CacheCounts(0, 0, 0)


def test_pivot_usage_is_openai_shaped_with_the_anthropic_counts_beside() -> None:
    for usage in (TOP_LEVEL, DETAILS, UNCACHED_REST):
        out = with_cache_counts(dict(usage))
        assert out["prompt_tokens"] == 1000
        assert out["prompt_tokens_details"]["cached_tokens"] == 900
        assert out["cache_read_input_tokens"] == 900 and out["cache_creation_input_tokens"] == 60


def test_each_door_reports_the_counts_in_its_own_fields() -> None:
    for usage in (TOP_LEVEL, DETAILS, UNCACHED_REST):
        assert anthropic_usage(usage) == {
            "input_tokens": 40,
            "output_tokens": 5,
            "cache_creation_input_tokens": 60,
            "cache_read_input_tokens": 900,
        }
        responses = responses_usage(usage)
        assert responses["input_tokens"] == 1000
        assert responses["input_tokens_details"] == {"cached_tokens": 900, "cache_write_tokens": 60}
        assert responses["total_tokens"] == 1005
