"""Databricks answers -> OpenAI answers: literal Databricks payloads in, literal OpenAI payloads out."""

from __future__ import annotations

import base64
import json
import random
import struct
import time
from array import array
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from openai.types import Completion, CreateEmbeddingResponse
from openai.types.chat import ChatCompletion

from services.pivot.answers import chat_completion, completion, embeddings, encode_base64

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "databricks"
REQUESTED = "databricks-meta-llama-3-3-70b-instruct"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def valid_chat(out: dict[str, Any]) -> ChatCompletion:
    parsed = ChatCompletion.model_validate(out, strict=True)
    for choice in parsed.choices:
        assert choice.message.content is None or isinstance(choice.message.content, str)
    return parsed


# --- chat: real answers -----------------------------------------------------------------------------------------


def test_llama_answer() -> None:
    out = chat_completion(fixture("chat_llama33_nonstream_hello"), requested_model=REQUESTED)
    assert out == {
        "id": "chatcmpl_52eec823-4235-473d-b25a-f0af4ebd4837",
        "object": "chat.completion",
        "created": 1758326506,
        "model": "meta-llama-3.3-70b-instruct-121024",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "Hello! It's great to meet you. Is there something I can help you with, or would you like to chat?",
                    "refusal": None,
                },
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "completion_tokens": 26,
            "prompt_tokens": 14,
            "total_tokens": 40,
            "completion_tokens_details": None,
            "prompt_tokens_details": None,
        },
    }
    parsed = valid_chat(out)
    assert parsed.usage is not None and parsed.usage.total_tokens == 40


def test_llama_tool_call_answer() -> None:
    out = chat_completion(fixture("chat_llama33_nonstream_toolcall"), requested_model=REQUESTED)
    assert out["choices"] == [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": None,
                "refusal": None,
                "tool_calls": [
                    {
                        "id": "call_9c7f9e5f-c6eb-4c3c-a7b3-e9fe0e786b50",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{ "city": "Tokyo" }'},
                    }
                ],
            },
            "logprobs": None,
            "finish_reason": "tool_calls",
        }
    ]
    parsed = valid_chat(out)
    calls = parsed.choices[0].message.tool_calls
    assert calls is not None and json.loads(calls[0].function.arguments) == {"city": "Tokyo"}  # type: ignore[union-attr]


def test_claude_reasoning_answer() -> None:
    raw = fixture("chat_claude37_reasoning_nonstream")
    parts = raw["choices"][0]["message"]["content"]
    out = chat_completion(raw, requested_model="databricks-claude-3-7-sonnet")
    assert out == {
        "id": "msg_bdrk_011G6sGXuygHpvP1Pwq8zwyp",
        "object": "chat.completion",
        "created": 1747070352,
        "model": "us.anthropic.claude-3-7-sonnet-20250219-v1:0",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": parts[1]["text"],
                    "refusal": None,
                    "reasoning_content": parts[0]["summary"][0]["text"],
                },
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {
            "completion_tokens": 421,
            "prompt_tokens": 67,
            "total_tokens": 488,
            "completion_tokens_details": None,
            "prompt_tokens_details": None,
        },
    }
    assert out["choices"][0]["message"]["content"].startswith("申し訳ありませんが")
    message = valid_chat(out).choices[0].message
    assert isinstance(message.content, str)
    assert message.model_extra == {"reasoning_content": parts[0]["summary"][0]["text"]}


def test_claude_reasoning_with_tool_call() -> None:
    raw = fixture("chat_claude37_reasoning_toolcall_nonstream")
    reasoning = raw["choices"][0]["message"]["content"][0]["summary"][0]["text"]
    out = chat_completion(raw, requested_model="databricks-claude-3-7-sonnet")
    assert out["choices"] == [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "東京の現在の天気情報を取得します。",
                "refusal": None,
                "reasoning_content": reasoning,
                "tool_calls": [
                    {
                        "id": "toolu_bdrk_01LMiseooSF8SyS9cUgheyUy",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"location":"東京"}'},
                    }
                ],
            },
            "logprobs": None,
            "finish_reason": "tool_calls",
        }
    ]
    assert out["usage"]["total_tokens"] == 934
    valid_chat(out)


def test_gpt_oss_length_with_only_reasoning() -> None:
    raw = {
        "id": "chatcmpl_7a1c",
        "object": "chat.completion",
        "created": 1758600000,
        "model": "gpt-oss-120b-080525",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": [
                        {
                            "type": "reasoning",
                            "summary": [{"type": "summary_text", "text": "We need to compute 17*23. 17*20=340"}],
                        }
                    ],
                },
                "finish_reason": "length",
            }
        ],
        "usage": {"prompt_tokens": 80, "completion_tokens": 16, "total_tokens": 96},
    }
    out = chat_completion(raw, requested_model="databricks-gpt-oss-120b")
    assert out == {
        "id": "chatcmpl_7a1c",
        "object": "chat.completion",
        "created": 1758600000,
        "model": "gpt-oss-120b-080525",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": None,
                    "refusal": None,
                    "reasoning_content": "We need to compute 17*23. 17*20=340",
                },
                "logprobs": None,
                "finish_reason": "length",
            }
        ],
        "usage": {"prompt_tokens": 80, "completion_tokens": 16, "total_tokens": 96},
    }
    valid_chat(out)


def test_reasoning_parts_are_concatenated_and_encrypted_summaries_dropped() -> None:
    raw = {
        "model": "m",
        "choices": [
            {
                "message": {
                    "content": [
                        {
                            "type": "reasoning",
                            "summary": [
                                {"type": "summary_text", "text": "a", "signature": "s1"},
                                {"type": "summary_encrypted_text", "data": "opaque"},
                                {"type": "summary_text", "text": "b"},
                            ],
                        },
                        {"type": "text", "text": "Hello ", "citations": [{"type": "char_location"}]},
                        {"type": "image", "image_url": "x"},
                        {"type": "text", "text": "world"},
                    ]
                },
                "finish_reason": "stop",
            }
        ],
    }
    message = chat_completion(raw, requested_model="r")["choices"][0]["message"]
    assert message == {"role": "assistant", "content": "Hello world", "refusal": None, "reasoning_content": "ab"}


@pytest.mark.parametrize("key", ["reasoning_content", "reasoning"])
def test_plain_string_reasoning_beside_content(key: str) -> None:
    raw = {"choices": [{"message": {"role": "assistant", "content": "42", key: "6*7"}, "finish_reason": "stop"}]}
    message = chat_completion(raw, requested_model="r")["choices"][0]["message"]
    assert message == {"role": "assistant", "content": "42", "refusal": None, "reasoning_content": "6*7"}


# --- chat: normalisation of odd fields --------------------------------------------------------------------------


def test_null_id_old_object_name_float_created_and_null_finish_reason() -> None:
    raw = {
        "id": None,
        "object": "chat.completions",
        "created": 1758326506.789,
        "model": "dbrx-instruct-071224",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"}, "finish_reason": None}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
    }
    out = chat_completion(raw, requested_model="databricks-dbrx-instruct")
    assert out["id"].startswith("chatcmpl-") and len(out["id"]) == len("chatcmpl-") + 32
    assert {k: v for k, v in out.items() if k != "id"} == {
        "object": "chat.completion",
        "created": 1758326506,
        "model": "dbrx-instruct-071224",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hi", "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
    }
    valid_chat(out)


@pytest.mark.parametrize("created", [None, "1758326506", True, float("nan"), float("inf")])
def test_unusable_created_becomes_now(created: Any) -> None:
    before = int(time.time())
    out = chat_completion({"created": created, "choices": []}, requested_model="r")
    assert before <= out["created"] <= int(time.time())
    assert isinstance(out["created"], int)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("stop", "stop"),
        ("length", "length"),
        ("content_filter", "content_filter"),
        ("tool_calls", "tool_calls"),
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("something_new", "stop"),
        (None, "stop"),
        (7, "stop"),
    ],
)
def test_finish_reasons(raw: Any, expected: str) -> None:
    out = chat_completion({"choices": [{"message": {"content": "x"}, "finish_reason": raw}]}, requested_model="r")
    assert out["choices"][0]["finish_reason"] == expected


def test_tool_calls_with_a_null_finish_reason_finish_with_tool_calls() -> None:
    raw = {
        "choices": [
            {
                "message": {
                    "content": None,
                    "tool_calls": [{"id": "c1", "function": {"name": "f", "arguments": "{}"}}],
                },
                "finish_reason": None,
            }
        ]
    }
    assert chat_completion(raw, requested_model="r")["choices"][0]["finish_reason"] == "tool_calls"


def test_tool_calls_are_normalised() -> None:
    raw = {
        "choices": [
            {
                "message": {
                    "content": None,
                    "tool_calls": [
                        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": {"city": "Tokyo"}}},
                        {"function": {"name": "g", "arguments": None}},
                        {"id": "c3", "function": {"name": None}},
                        "junk",
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ]
    }
    calls = chat_completion(raw, requested_model="r")["choices"][0]["message"]["tool_calls"]
    assert calls[0] == {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"city":"Tokyo"}'}}
    assert calls[1]["id"].startswith("call-")
    assert calls[1]["type"] == "function"
    assert calls[1]["function"] == {"name": "g", "arguments": ""}
    assert calls[2] == {"id": "c3", "type": "function", "function": {"name": "", "arguments": ""}}
    assert len(calls) == 3


def test_usage_with_null_counts() -> None:
    raw = {"choices": [], "usage": {"prompt_tokens": 2067, "completion_tokens": None, "total_tokens": None}}
    assert chat_completion(raw, requested_model="r")["usage"] == {
        "prompt_tokens": 2067,
        "completion_tokens": 0,
        "total_tokens": 2067,
    }


def test_usage_total_is_never_below_the_sum_and_extras_are_kept() -> None:
    raw = {
        "choices": [],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 3, "cache_read_input_tokens": 8},
    }
    assert chat_completion(raw, requested_model="r")["usage"] == {
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "total_tokens": 15,
        "cache_read_input_tokens": 8,
        "cache_creation_input_tokens": 0,
        "prompt_tokens_details": {"cached_tokens": 8},
    }
    assert "usage" not in chat_completion({"choices": []}, requested_model="r")
    assert chat_completion({"choices": [], "usage": {}}, requested_model="r")["usage"] == {
        "prompt_tokens": 0,
        "completion_tokens": 0,
        "total_tokens": 0,
    }


def test_legacy_functions_answer_with_function_call() -> None:
    out = chat_completion(fixture("chat_llama33_nonstream_toolcall"), requested_model=REQUESTED, legacy_functions=True)
    assert out["choices"] == [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": None,
                "refusal": None,
                "function_call": {"name": "get_weather", "arguments": '{ "city": "Tokyo" }'},
            },
            "logprobs": None,
            "finish_reason": "function_call",
        }
    ]
    message = valid_chat(out).choices[0].message
    assert message.function_call is not None and message.function_call.name == "get_weather"
    assert message.tool_calls is None


def test_legacy_functions_without_a_call_stay_stop() -> None:
    out = chat_completion(fixture("chat_llama33_nonstream_hello"), requested_model=REQUESTED, legacy_functions=True)
    assert out["choices"][0]["finish_reason"] == "stop"
    assert "function_call" not in out["choices"][0]["message"]


def test_refusal_logprobs_and_optional_top_level_fields() -> None:
    logprobs = {"content": [{"token": "Hi", "logprob": -0.1, "bytes": [72, 105], "top_logprobs": []}], "refusal": None}
    raw = {
        "choices": [
            {
                "message": {"content": None, "refusal": "I can't help with that."},
                "finish_reason": "stop",
                "logprobs": logprobs,
            },
            {"message": {"content": "ok", "refusal": 5}, "finish_reason": "stop", "logprobs": "junk"},
        ],
        "system_fingerprint": "fp_1",
        "service_tier": None,
    }
    out = chat_completion(raw, requested_model="r")
    assert [c["index"] for c in out["choices"]] == [0, 1]
    assert out["choices"][0]["message"]["refusal"] == "I can't help with that."
    assert out["choices"][0]["logprobs"] == logprobs
    assert out["choices"][1]["message"]["refusal"] is None
    assert out["choices"][1]["logprobs"] is None
    assert out["system_fingerprint"] == "fp_1"
    assert "service_tier" not in out
    valid_chat(out)


@pytest.mark.parametrize(
    ("tier", "kept"), [("default", True), ("priority", True), ("standard", False), ("", False), (["x"], False)]
)
def test_service_tier_is_kept_only_when_openai_defines_it(tier: Any, kept: bool) -> None:
    out = chat_completion({"choices": [], "service_tier": tier}, requested_model="r")
    assert ("service_tier" in out) is kept
    if kept:
        assert out["service_tier"] == tier
    valid_chat(out)


@pytest.mark.parametrize(
    ("served", "expected"),
    [("gpt-oss-120b-080525", "gpt-oss-120b-080525"), (None, "asked"), ("", "asked"), (3, "asked")],
)
def test_model_is_the_served_model_else_the_requested_one(served: Any, expected: str) -> None:
    raw: dict[str, Any] = {"choices": []}
    if served is not None:
        raw["model"] = served
    assert chat_completion(raw, requested_model="asked")["model"] == expected
    assert completion(raw, requested_model="asked")["model"] == expected
    assert embeddings(raw, requested_model="asked", encoding_format="float")["model"] == expected


def test_garbage_top_level_shapes_give_an_empty_valid_answer() -> None:
    out = chat_completion({"choices": "nope", "usage": [1]}, requested_model="r")
    assert out["choices"] == []
    assert "usage" not in out
    assert out["model"] == "r"
    valid_chat(out)


# --- completions ------------------------------------------------------------------------------------------------


def test_completion_answer() -> None:
    raw = {
        "id": "cmpl_8f2e",
        "object": "text_completion",
        "created": 1758326510,
        "model": "mpt-7b-instruct-012345",
        "choices": [
            {"text": " there was a fox.", "index": 0, "finish_reason": "length", "logprobs": None},
            {"text": None, "index": 1, "finish_reason": "tool_calls"},
            {"index": 2, "finish_reason": None, "logprobs": {"tokens": ["a"], "token_logprobs": [-0.5]}},
        ],
        "usage": {"prompt_tokens": 4, "completion_tokens": 6, "total_tokens": 10},
    }
    out = completion(raw, requested_model="databricks-mpt")
    assert out == {
        "id": "cmpl_8f2e",
        "object": "text_completion",
        "created": 1758326510,
        "model": "mpt-7b-instruct-012345",
        "choices": [
            {"index": 0, "text": " there was a fox.", "logprobs": None, "finish_reason": "length"},
            {"index": 1, "text": "", "logprobs": None, "finish_reason": "stop"},
            {
                "index": 2,
                "text": "",
                "logprobs": {"tokens": ["a"], "token_logprobs": [-0.5]},
                "finish_reason": "stop",
            },
        ],
        "usage": {"prompt_tokens": 4, "completion_tokens": 6, "total_tokens": 10},
    }
    parsed = Completion.model_validate(out, strict=True)
    assert parsed.choices[0].text == " there was a fox."


def test_completion_without_id_or_usage() -> None:
    out = completion({"choices": [{"text": "x", "finish_reason": "content_filter"}]}, requested_model="r")
    assert out["id"].startswith("cmpl-")
    assert out["object"] == "text_completion"
    assert out["choices"][0]["finish_reason"] == "content_filter"
    assert "usage" not in out
    Completion.model_validate(out, strict=True)


# --- embeddings -------------------------------------------------------------------------------------------------


def test_embeddings_float_from_the_real_batch() -> None:
    raw = fixture("embeddings_bge_float_batch3")
    out = embeddings(raw, requested_model="databricks-bge-large-en", encoding_format="float")
    assert out == {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": raw["data"][i]["embedding"]} for i in range(3)],
        "model": "bge-large-en-v1.5",
        "usage": {"prompt_tokens": 20, "total_tokens": 20},
    }
    parsed = CreateEmbeddingResponse.model_validate(out, strict=True)
    assert [len(item.embedding) for item in parsed.data] == [1024, 1024, 1024]
    assert all(isinstance(x, float) for x in parsed.data[0].embedding)


def test_embeddings_are_ordered_by_index() -> None:
    raw = fixture("embeddings_bge_float_batch3")
    vectors = [item["embedding"] for item in raw["data"]]
    shuffled = dict(raw, data=[raw["data"][2], raw["data"][0], raw["data"][1]])
    out = embeddings(shuffled, requested_model="r", encoding_format="float")
    assert [item["index"] for item in out["data"]] == [0, 1, 2]
    assert [item["embedding"] for item in out["data"]] == vectors


def float32(values: list[float]) -> list[float]:
    return [struct.unpack("<f", struct.pack("<f", v))[0] for v in values]


def test_embeddings_base64_is_little_endian_float32() -> None:
    raw = fixture("embeddings_bge_float_batch3")
    out = embeddings(raw, requested_model="r", encoding_format="base64")
    assert [set(item) for item in out["data"]] == [{"object", "index", "embedding"}] * 3
    for item, source in zip(out["data"], raw["data"], strict=True):
        packed = base64.b64decode(item["embedding"], validate=True)
        assert len(packed) == 4 * 1024
        decoded = list(struct.unpack("<1024f", packed))
        assert decoded == float32(source["embedding"])
        assert decoded == source["embedding"]  # bge's values are exact in float32


def test_encode_base64_literal() -> None:
    assert encode_base64([1.0, -2.0, 0.5]) == base64.b64encode(struct.pack("<3f", 1.0, -2.0, 0.5)).decode()
    assert encode_base64([1.0, -2.0, 0.5]) == "AACAPwAAAMAAAAA/"
    assert encode_base64([]) == ""
    assert array("f", base64.b64decode(encode_base64([0.1]))).tolist() == float32([0.1])


def test_the_openai_sdk_decodes_the_base64_answer() -> None:
    raw = fixture("embeddings_bge_float_batch3")

    def handler(request: httpx.Request) -> httpx.Response:
        sent = json.loads(request.content)
        assert request.url.path == "/v1/embeddings"
        body = embeddings(raw, requested_model=sent["model"], encoding_format=sent.get("encoding_format") or "float")
        return httpx.Response(200, json=body)

    client = openai.OpenAI(
        api_key="test",
        base_url="http://proxy.test/v1",
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        max_retries=0,
    )
    with client:
        # Without encoding_format the SDK asks for base64 and decodes it itself.
        implicit = client.embeddings.create(model="databricks-bge-large-en", input=["a", "b", "c"])
        explicit = client.embeddings.create(model="databricks-bge-large-en", input=["a"], encoding_format="float")
    assert [item.embedding for item in implicit.data] == [float32(item["embedding"]) for item in raw["data"]]
    assert explicit.data[0].embedding == raw["data"][0]["embedding"]
    assert implicit.model == "bge-large-en-v1.5"


def test_embeddings_odd_shapes() -> None:
    raw = {
        "data": [
            {"index": 1, "embedding": [0.5]},
            "junk",
            {"index": 0, "embedding": None},
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 0, "total_tokens": None},
    }
    out = embeddings(raw, requested_model="r", encoding_format="float")
    assert out == {
        "object": "list",
        "data": [
            {"object": "embedding", "index": 0, "embedding": []},
            {"object": "embedding", "index": 1, "embedding": [0.5]},
        ],
        "model": "r",
        "usage": {"prompt_tokens": 3, "total_tokens": 3},
    }
    CreateEmbeddingResponse.model_validate(out, strict=True)
    assert embeddings({}, requested_model="r", encoding_format="float") == {
        "object": "list",
        "data": [],
        "model": "r",
        "usage": {"prompt_tokens": 0, "total_tokens": 0},
    }


def test_embeddings_without_indices_keep_their_order() -> None:
    vectors = [[random.random()] for _ in range(5)]
    raw = {"data": [{"embedding": v} for v in vectors]}
    out = embeddings(raw, requested_model="r", encoding_format="float")
    assert [item["embedding"] for item in out["data"]] == vectors
    assert [item["index"] for item in out["data"]] == list(range(5))
