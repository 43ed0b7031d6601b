"""Chat pivot answers -> Anthropic Messages: exact JSON."""

from __future__ import annotations

from typing import Any

from services.dialects.anthropic.answers import message


def answer(msg: dict[str, Any], finish: str = "stop", **usage: int) -> dict[str, Any]:
    return {
        "id": "chatcmpl_abc",
        "object": "chat.completion",
        "created": 1,
        "model": "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
        "choices": [{"index": 0, "message": {"role": "assistant", **msg}, "logprobs": None, "finish_reason": finish}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 4, "total_tokens": 14, **usage},
    }


USAGE = {"input_tokens": 10, "output_tokens": 4, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}


def test_text() -> None:
    assert message(answer({"content": "Hello", "refusal": None}), model="claude-sonnet-4-5", thinking=False) == {
        "id": "msg_chatcmpl_abc",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [{"type": "text", "text": "Hello"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": USAGE,
    }


def test_thinking_with_signature_text_and_tool_use() -> None:
    pivot = answer(
        {
            "content": "Let me check.",
            "reasoning_content": "Need weather.",
            "thinking_blocks": [
                {"type": "thinking", "thinking": "Need weather.", "signature": "EqQB+/=="},
                {"type": "redacted_thinking", "data": "ENC"},
            ],
            "tool_calls": [
                {
                    "id": "toolu_bdrk_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{ "city": "Paris" }'},
                }
            ],
        },
        "tool_calls",
        cache_read_input_tokens=6,
        cache_creation_input_tokens=2,
    )
    assert message(pivot, model="claude-sonnet-4-5", thinking=True) == {
        "id": "msg_chatcmpl_abc",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": [
            {"type": "thinking", "thinking": "Need weather.", "signature": "EqQB+/=="},
            {"type": "redacted_thinking", "data": "ENC"},
            {"type": "text", "text": "Let me check."},
            {"type": "tool_use", "id": "toolu_bdrk_1", "name": "get_weather", "input": {"city": "Paris"}},
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 2,  # Anthropic's: the prompt's 10 tokens less those read (6) and written (2)
            "output_tokens": 4,
            "cache_creation_input_tokens": 2,
            "cache_read_input_tokens": 6,
        },
    }


def test_reasoning_without_blocks_is_an_unsigned_thinking_block_and_only_when_asked() -> None:
    pivot = answer({"content": "4", "reasoning_content": "2+2"})
    assert message(pivot, model="m", thinking=True)["content"] == [
        {"type": "thinking", "thinking": "2+2", "signature": ""},
        {"type": "text", "text": "4"},
    ]
    assert message(pivot, model="m", thinking=False)["content"] == [{"type": "text", "text": "4"}]


def test_max_tokens_with_only_reasoning() -> None:
    """gpt-oss can run out of tokens while reasoning: no text at all."""
    pivot = answer({"content": None, "reasoning_content": "Thinking about"}, "length")
    out = message(pivot, model="m", thinking=True)
    assert (out["content"], out["stop_reason"]) == (
        [{"type": "thinking", "thinking": "Thinking about", "signature": ""}],
        "max_tokens",
    )


def test_tool_input_that_is_not_an_object_and_a_stop_that_called_tools() -> None:
    pivot = answer(
        {
            "content": None,
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "a", "arguments": "not json"}},
                {"id": "call_2", "type": "function", "function": {"name": "b", "arguments": "[1]"}},
                {"id": "call_3", "type": "function", "function": {"name": "c", "arguments": ""}},
            ],
        }
    )
    out = message(pivot, model="m", thinking=False)
    assert out["content"] == [
        {"type": "tool_use", "id": "call_1", "name": "a", "input": {}},
        {"type": "tool_use", "id": "call_2", "name": "b", "input": {}},
        {"type": "tool_use", "id": "call_3", "name": "c", "input": {}},
    ]
    assert out["stop_reason"] == "tool_use"


def test_content_filter_and_odd_ids() -> None:
    pivot = answer({"content": ""}, "content_filter")
    pivot["id"] = "82a834f5-0000"
    out = message(pivot, model="m", thinking=False)
    assert (out["id"], out["content"], out["stop_reason"]) == ("msg_82a834f5-0000", [], "refusal")
    pivot["id"] = "msg_bdrk_01X"
    assert message(pivot, model="m", thinking=False)["id"] == "msg_bdrk_01X"
    pivot["id"] = "has space"
    assert message(pivot, model="m", thinking=False)["id"].startswith("msg_")
