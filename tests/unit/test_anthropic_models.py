"""Anthropic model ids -> Databricks endpoints; the Anthropic model list; the count_tokens estimate."""

from __future__ import annotations

import pytest

from services.dialects.anthropic.model_ids import endpoint_for, is_anthropic_id, model_infos, model_page
from services.dialects.anthropic.tokens import estimate_input_tokens

SERVED = [
    "databricks-meta-llama-3-3-70b-instruct",
    "databricks-claude-3-7-sonnet",
    "databricks-claude-sonnet-4-5",
    "databricks-claude-opus-4-1",
    "databricks-claude-opus-4-6",
    "databricks-claude-haiku-4-5",
    "databricks-gpt-oss-120b",
]


@pytest.mark.parametrize(
    ("model", "endpoint"),
    [
        ("claude-sonnet-4-5", "databricks-claude-sonnet-4-5"),
        ("claude-sonnet-4-5-20250929", "databricks-claude-sonnet-4-5"),
        ("claude-haiku-4-5-20251001", "databricks-claude-haiku-4-5"),
        ("claude-3-5-haiku-20241022", "databricks-claude-haiku-4-5"),
        ("claude-opus-4-8", "databricks-claude-opus-4-6"),
        ("claude-opus-4-8[1m]", "databricks-claude-opus-4-6"),
        ("claude-3-7-sonnet-latest", "databricks-claude-3-7-sonnet"),
        ("anthropic.claude-opus-4-1", "databricks-claude-opus-4-1"),
        ("claude-sonnet-5", "databricks-claude-sonnet-4-5"),
        ("claude-instant-1", "databricks-claude-opus-4-6"),
    ],
)
def test_endpoint_for(model: str, endpoint: str) -> None:
    assert endpoint_for(model, SERVED) == endpoint


def test_only_sonnet_served_and_nothing_served() -> None:
    assert endpoint_for("claude-haiku-4-5", ["databricks-claude-3-7-sonnet"]) == "databricks-claude-3-7-sonnet"
    assert endpoint_for("claude-haiku-4-5", ["databricks-meta-llama-3-3-70b-instruct"]) is None
    assert is_anthropic_id("claude-x") and is_anthropic_id("Anthropic.claude-x") and not is_anthropic_id("gpt-4o")


def test_model_list_and_pages() -> None:
    chat = [
        {"id": "databricks-claude-3-7-sonnet", "created": 1718236800},
        {"id": "databricks-meta-llama-3-3-70b-instruct", "created": 1718236800},
        {"id": "my-alias", "created": 0},
    ]
    infos = model_infos(chat)
    assert infos == [
        {
            "type": "model",
            "id": "claude-3-7-sonnet",
            "display_name": "databricks-claude-3-7-sonnet",
            "created_at": "2024-06-13T00:00:00Z",
            "lifecycle": "active",
        },
        {
            "type": "model",
            "id": "databricks-claude-3-7-sonnet",
            "display_name": "databricks-claude-3-7-sonnet",
            "created_at": "2024-06-13T00:00:00Z",
            "lifecycle": "active",
        },
        {
            "type": "model",
            "id": "databricks-meta-llama-3-3-70b-instruct",
            "display_name": "databricks-meta-llama-3-3-70b-instruct",
            "created_at": "2024-06-13T00:00:00Z",
            "lifecycle": "active",
        },
        {
            "type": "model",
            "id": "my-alias",
            "display_name": "my-alias",
            "created_at": "1970-01-01T00:00:00Z",
            "lifecycle": "active",
        },
    ]
    assert model_page(infos) == {
        "data": infos,
        "has_more": False,
        "first_id": "claude-3-7-sonnet",
        "last_id": "my-alias",
    }
    assert model_page(infos, limit=2) == {
        "data": infos[:2],
        "has_more": True,
        "first_id": "claude-3-7-sonnet",
        "last_id": "databricks-claude-3-7-sonnet",
    }
    assert model_page(infos, limit=2, after_id="databricks-claude-3-7-sonnet")["data"] == infos[2:]
    assert model_page(infos, limit=1, before_id="my-alias") == {
        "data": infos[2:3],
        "has_more": True,
        "first_id": "databricks-meta-llama-3-3-70b-instruct",
        "last_id": "databricks-meta-llama-3-3-70b-instruct",
    }
    assert model_page([], limit=0) == {"data": [], "has_more": False, "first_id": None, "last_id": None}


def test_count_tokens_estimate() -> None:
    payload = {
        "model": "m",
        "system": "You are terse.",  # 14 chars
        "messages": [
            {"role": "user", "content": "Hello there"},  # 11
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "abc", "signature": "S"},  # 3
                    {"type": "tool_use", "id": "t", "name": "f", "input": {"a": 1}},  # 1 + 7
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "t", "content": [{"type": "text", "text": "done"}]},  # 4
                    {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}},
                ],
            },
        ],
        "tools": [{"name": "f", "description": "does", "input_schema": {}}],  # 1 + 4 + 2
    }
    # 47 characters / 3.5 -> 14, + 3 messages * 3, + 1 image * 1600
    assert estimate_input_tokens(payload) == 14 + 9 + 1600
