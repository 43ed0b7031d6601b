"""Chat pivot answer -> Response object (exact JSON)."""

from __future__ import annotations

from typing import Any

from openai.types.responses import Response

from models.responses import Response as ResponseModel
from services.databricks.families import family_of
from services.dialects.responses import from_chat, to_chat
from services.dialects.responses.common import Ids
from services.dialects.responses.reasoning import encode

LLAMA = "databricks-meta-llama-3-3-70b-instruct"


def answer(message: dict[str, Any], finish: str = "stop", usage: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "served-1",
        "choices": [
            {"index": 0, "message": {"role": "assistant", **message}, "logprobs": None, "finish_reason": finish}
        ],
        "usage": usage or {"prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14},
    }


def render(payload: dict[str, Any], pivot: dict[str, Any]) -> dict[str, Any]:
    out = from_chat(pivot, to_chat(payload, family_of(payload["model"])), Ids("t"))
    Response.model_validate(out)
    ResponseModel.model_validate(out)
    return out


USAGE = {
    "input_tokens": 10,
    "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
    "output_tokens": 4,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 14,
}


def test_text_answer_exact() -> None:
    out = render(
        {"model": LLAMA, "input": "Hi", "instructions": "Be brief.", "metadata": {"run": "1"}},
        answer({"content": "Hello"}),
    )
    assert out == {
        "id": "resp_t",
        "object": "response",
        "created_at": 1700000000,
        "status": "completed",
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": "Be brief.",
        "max_output_tokens": None,
        "model": "served-1",
        "output": [
            {
                "type": "message",
                "id": "msg_t1",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": "Hello", "annotations": [], "logprobs": []}],
            }
        ],
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": False,
        "temperature": None,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": None,
        "truncation": "disabled",
        "usage": USAGE,
        "metadata": {"run": "1"},
        "max_tool_calls": None,
        "prompt_cache_key": None,
        "prompt_cache_retention": None,
        "safety_identifier": None,
        "service_tier": "default",
        "top_logprobs": None,
        "user": None,
    }


def test_tool_calls_and_text_exact_output() -> None:
    tools = [
        {"type": "function", "name": "get_weather", "parameters": {"type": "object"}},
        {"type": "custom", "name": "apply_patch"},
    ]
    pivot = answer(
        {
            "content": "Checking.",
            "tool_calls": [
                {
                    "id": "toolu_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                },
                {
                    "id": "toolu_2",
                    "type": "function",
                    "function": {"name": "apply_patch", "arguments": '{"input":"*** Begin Patch"}'},
                },
                {"id": "toolu_3", "type": "function", "function": {"name": "get_weather", "arguments": ""}},
            ],
        },
        "tool_calls",
    )
    out = render({"model": LLAMA, "input": "x", "tools": tools}, pivot)
    assert out["status"] == "completed"
    assert out["tools"] == tools
    assert out["output"] == [
        {
            "type": "message",
            "id": "msg_t1",
            "role": "assistant",
            "status": "completed",
            "content": [{"type": "output_text", "text": "Checking.", "annotations": [], "logprobs": []}],
        },
        {
            "type": "function_call",
            "id": "fc_t2",
            "call_id": "toolu_1",
            "name": "get_weather",
            "arguments": '{"city":"Paris"}',
            "status": "completed",
        },
        {
            "type": "custom_tool_call",
            "id": "ctc_t3",
            "call_id": "toolu_2",
            "name": "apply_patch",
            "input": "*** Begin Patch",
            "status": "completed",
        },
        {
            "type": "function_call",
            "id": "fc_t4",
            "call_id": "toolu_3",
            "name": "get_weather",
            "arguments": "{}",
            "status": "completed",
        },
    ]


def test_reasoning_answer_carries_blocks_in_encrypted_content() -> None:
    blocks = [
        {"type": "thinking", "thinking": "Because sky.", "signature": "ErcBsig"},
        {"type": "redacted_thinking", "data": "R"},
    ]
    pivot = answer(
        {"content": "Blue.", "reasoning_content": "Because sky.", "thinking_blocks": blocks},
        usage={
            "prompt_tokens": 10,
            "completion_tokens": 4,
            "total_tokens": 14,
            "completion_tokens_details": {"reasoning_tokens": 2},
            "prompt_tokens_details": {"cached_tokens": 3},
        },
    )
    out = render({"model": LLAMA, "input": "why"}, pivot)
    assert out["output"][0] == {
        "type": "reasoning",
        "id": "rs_t1",
        "summary": [{"type": "summary_text", "text": "Because sky."}],
        "encrypted_content": encode(blocks),
        "status": "completed",
    }
    assert out["output"][1]["id"] == "msg_t2"
    assert out["usage"]["output_tokens_details"] == {"reasoning_tokens": 2}
    assert out["usage"]["input_tokens_details"] == {"cached_tokens": 3, "cache_write_tokens": 0}


def test_length_finish_without_text_is_incomplete() -> None:
    """gpt-oss can run out of tokens while reasoning: only the reasoning item, status incomplete."""
    out = render(
        {"model": LLAMA, "input": "x", "max_output_tokens": 3},
        answer({"content": None, "reasoning_content": "Thinking about"}, "length"),
    )
    assert out["status"] == "incomplete"
    assert out["incomplete_details"] == {"reason": "max_output_tokens"}
    assert out["max_output_tokens"] == 3
    assert [item["type"] for item in out["output"]] == ["reasoning"]


def test_missing_usage_is_zeros_and_no_choices_is_empty_output() -> None:
    pivot = answer({"content": "x"})
    pivot["choices"] = []
    del pivot["usage"]
    out = render({"model": LLAMA, "input": "x"}, pivot)
    assert out["output"] == []
    assert out["usage"]["total_tokens"] == 0
