"""The bounded shape check that runs before model validation: first violation only, cost capped."""

from __future__ import annotations

import time
from typing import Any

import pytest

from models.openai import ChatCompletionRequest, EmbeddingRequest
from services.bounds import check_bounds, list_limits
from services.dialects.openai import error_body
from services.errors import InvalidRequestError

LLAMA = "databricks-meta-llama-3-3-70b-instruct"
DEPTH = 128
VALUES = 50_000


def refused(payload: dict[str, Any], model: Any = ChatCompletionRequest) -> dict[str, Any]:
    with pytest.raises(InvalidRequestError) as caught:
        check_bounds(payload, model, DEPTH, VALUES)
    assert caught.value.status == 400
    body: dict[str, Any] = error_body(caught.value)
    return body


def nested(levels: int) -> dict[str, Any]:
    root: dict[str, Any] = {}
    node = root
    for _ in range(levels - 1):
        node["a"] = {}
        node = node["a"]
    return root


def test_limits_are_read_from_the_models() -> None:
    assert list_limits(ChatCompletionRequest) == {
        ("messages",): 2048,
        ("messages", "[]", "thinking_blocks"): 2048,
        ("tools",): 128,
        ("functions",): 128,
        ("stop",): 16,
    }
    assert list_limits(EmbeddingRequest) == {("input",): 2048}


def test_a_hostile_array_is_refused_at_once_naming_the_parameter() -> None:
    payload = {"model": LLAMA, "messages": [1] * 8_000_000}
    started = time.perf_counter()
    body = refused(payload)
    assert time.perf_counter() - started < 1  # O(1): a length check, not a walk (Pydantic took 89 s on this body)
    assert body == {
        "error": {
            "message": "Invalid 'messages': array too long. Expected an array with maximum length 2048, "
            "but got an array with length 8000000 instead.",
            "type": "invalid_request_error",
            "param": "messages",
            "code": "array_above_max_length",
        }
    }


def test_list_limits_apply_inside_lists_too() -> None:
    body = refused({"model": LLAMA, "input": ["x"] * 2049}, EmbeddingRequest)
    assert body["error"]["param"] == "input"
    assert refused({"model": LLAMA, "messages": [], "tools": [{}] * 129})["error"]["param"] == "tools"


def test_values_are_counted_across_the_whole_body_and_the_walk_stops_at_the_budget() -> None:
    payload = {"model": LLAMA, "messages": [{"role": "user", "content": [{"type": "text", "text": "a"}] * 100}] * 600}
    started = time.perf_counter()
    body = refused(payload)
    assert time.perf_counter() - started < 1  # bounded by the value budget, not by the body
    assert body["error"]["code"] == "request_too_complex"
    assert body["error"]["param"] == "messages"
    assert body["error"]["message"].endswith(f"holds more than {VALUES} values in its arrays and objects.")


def test_depth_is_refused_beyond_the_limit_and_accepted_up_to_it() -> None:
    check_bounds({"model": LLAMA, "response_format": nested(DEPTH - 1)}, ChatCompletionRequest, DEPTH, VALUES)
    body = refused({"model": LLAMA, "messages": [], "response_format": nested(300)})
    assert body == {
        "error": {
            "message": "Invalid 'response_format.a.a.a.a.a.a.a...': JSON nested more than 128 levels deep.",
            "type": "invalid_request_error",
            "param": "response_format",
            "code": "invalid_value",
        }
    }


def test_ordinary_requests_pass_quickly() -> None:
    payload = {
        "model": LLAMA,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}] * 2048,
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}] * 128,
    }
    started = time.perf_counter()
    check_bounds(payload, ChatCompletionRequest, DEPTH, VALUES)
    assert time.perf_counter() - started < 1  # bounded by the value budget, not by the body
