"""Gemini GenerateContentRequest -> chat pivot (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from services.databricks.families import family_of
from services.dialects.gemini import signatures
from services.dialects.gemini.fields import camel_keys
from services.dialects.gemini.requests import ChatTranslation, json_schema, to_chat
from services.errors import InvalidRequestError, UnsupportedParameterError

CLAUDE = "databricks-claude-sonnet-4-5"
LLAMA = "databricks-meta-llama-3-3-70b-instruct"
GPT_OSS = "databricks-gpt-oss-120b"


def translate(payload: dict[str, Any], endpoint: str, *, stream: bool) -> ChatTranslation:
    return to_chat(payload, family_of(endpoint), model=endpoint, stream=stream)


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "parts": [{"text": text}]}


def test_text_system_and_generation_config() -> None:
    payload = {
        "contents": [user("Hi")],
        "systemInstruction": {"parts": [{"text": "be brief"}]},
        "generationConfig": {
            "temperature": 0.3,
            "topP": 0.9,
            "topK": 40,
            "maxOutputTokens": 100,
            "stopSequences": ["END"],
            "candidateCount": 2,
            "seed": 7,
        },
        "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
        "unknownExtra": {"a": 1},
    }
    translation = translate(payload, CLAUDE, stream=True)
    assert translation.body == {
        "model": CLAUDE,
        "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "Hi"}],
        "temperature": 0.3,
        "top_p": 0.9,
        "top_k": 40,
        "max_tokens": 100,
        "stop": ["END"],
        "n": 2,
        "seed": 7,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    assert translation.dropped == ("safetySettings (Databricks' guardrails apply)",)
    llama = translate(payload, LLAMA, stream=False)
    assert "top_k" not in llama.body and "topK" in llama.dropped


def test_function_call_round_trip_matches_ids_by_name_when_absent() -> None:
    payload = {
        "contents": [
            user("weather?"),
            {"role": "model", "parts": [{"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}]},
            {"role": "user", "parts": [{"functionResponse": {"name": "get_weather", "response": {"output": "sunny"}}}]},
        ],
        "tools": [
            {
                "functionDeclarations": [
                    {
                        "name": "get_weather",
                        "description": "Weather",
                        "parameters": {
                            "type": "OBJECT",
                            "properties": {"city": {"type": "STRING", "nullable": True}},
                            "required": ["city"],
                        },
                    }
                ]
            },
            {"googleSearch": {}},
        ],
        "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["get_weather"]}},
    }
    body = translate(payload, LLAMA, stream=False).body
    assistant, tool = body["messages"][1:]
    assert assistant == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'}}
        ],
    }
    assert tool == {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "parameters": {
                    "type": "object",
                    "properties": {"city": {"type": ["string", "null"]}},
                    "required": ["city"],
                },
                "description": "Weather",
            },
        }
    ]
    assert body["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}


def test_tool_modes() -> None:
    tools = [{"functionDeclarations": [{"name": "a"}, {"name": "b", "parametersJsonSchema": {"type": "object"}}]}]
    for mode, choice in (("NONE", "none"), ("ANY", "required")):
        body = translate(
            {"contents": [user("x")], "tools": tools, "toolConfig": {"functionCallingConfig": {"mode": mode}}},
            LLAMA,
            stream=False,
        ).body
        assert body["tool_choice"] == choice
    auto = translate({"contents": [user("x")], "tools": tools}, LLAMA, stream=False).body
    assert "tool_choice" not in auto and auto["tools"][1]["function"]["parameters"] == {"type": "object"}
    with pytest.raises(InvalidRequestError, match="allowedFunctionNames"):
        translate(
            {
                "contents": [user("x")],
                "tools": tools,
                "toolConfig": {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": ["zzz"]}},
            },
            LLAMA,
            stream=False,
        )


def test_thinking_blocks_come_back_from_the_signature_for_claude_only() -> None:
    blocks = [{"type": "thinking", "thinking": "Hmm.", "signature": "Sig+/="}]
    signature = signatures.encode(blocks).replace("+", "-").replace("/", "_")  # as an SDK may send bytes back
    payload = {
        "contents": [
            user("x"),
            {
                "role": "model",
                "parts": [
                    {"text": "Hmm.", "thought": True},
                    {"functionCall": {"id": "toolu_1", "name": "f", "args": {}}, "thoughtSignature": signature},
                ],
            },
            {"role": "user", "parts": [{"functionResponse": {"id": "toolu_1", "name": "f", "response": {"a": 1}}}]},
        ]
    }
    claude = translate(payload, CLAUDE, stream=False).body["messages"]
    assert claude[1]["thinking_blocks"] == blocks and claude[1]["content"] is None
    assert claude[2] == {"role": "tool", "tool_call_id": "toolu_1", "content": '{"a":1}'}
    assert "thinking_blocks" not in translate(payload, LLAMA, stream=False).body["messages"][1]
    assert signatures.decode("not-ours") == [] and signatures.decode("Q2lw") == []


def test_thinking_config_per_family() -> None:
    def reasoning(config: dict[str, Any], endpoint: str) -> dict[str, Any]:
        body = translate({"contents": [user("x")], "generationConfig": config}, endpoint, stream=False).body
        return {k: v for k, v in body.items() if k not in ("model", "messages")}

    assert reasoning({"thinkingConfig": {"thinkingBudget": 2048}}, CLAUDE) == {
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "max_tokens": 10240,
    }
    assert reasoning({"thinkingConfig": {"thinkingLevel": "low"}}, GPT_OSS) == {"reasoning_effort": "low"}
    assert reasoning({"thinkingConfig": {"thinkingBudget": 0}}, CLAUDE) == {}
    assert reasoning({"thinkingConfig": {"thinkingLevel": "high"}}, "databricks-claude-opus-4-6") == {
        "thinking": {"type": "adaptive"},
        "output_config": {"effort": "high"},
    }
    assert reasoning({"thinkingConfig": {"thinkingBudget": 20000}}, "databricks-gpt-5-2") == {
        "reasoning_effort": "high"
    }
    assert reasoning({"thinkingConfig": {"thinkingBudget": -1}}, "databricks-gemini-2-5-pro") == {}
    with pytest.raises(InvalidRequestError, match="thinkingBudget"):
        reasoning({"maxOutputTokens": 1000, "thinkingConfig": {"thinkingBudget": 2048}}, CLAUDE)


def test_structured_output_and_media() -> None:
    schema = {"type": "OBJECT", "properties": {"n": {"type": "INTEGER"}}, "propertyOrdering": ["n"]}
    body = translate(
        {
            "contents": [
                {
                    "parts": [
                        {"text": "look"},
                        {"inlineData": {"mimeType": "image/png", "data": "iVBOR"}},
                        {"fileData": {"mimeType": "application/pdf", "fileUri": "gs://b/f.pdf"}},
                    ]
                }
            ],
            "generationConfig": {"responseMimeType": "application/json", "responseSchema": schema},
        },
        LLAMA,
        stream=False,
    ).body
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "output", "schema": {"type": "object", "properties": {"n": {"type": "integer"}}}},
    }
    assert body["messages"][0]["content"] == [
        {"type": "text", "text": "look"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBOR"}},
    ]


def test_refusals() -> None:
    with pytest.raises(UnsupportedParameterError, match="cachedContent"):
        translate({"contents": [user("x")], "cachedContent": "cachedContents/1"}, LLAMA, stream=False)
    with pytest.raises(InvalidRequestError, match=r"contents\[0\]\.parts"):
        translate({"contents": [{"role": "user", "parts": [{"text": ""}]}]}, LLAMA, stream=False)
    with pytest.raises(UnsupportedParameterError, match="responseMimeType"):
        translate(
            {"contents": [user("x")], "generationConfig": {"responseMimeType": "text/x-enum"}}, LLAMA, stream=False
        )


def test_snake_case_is_read_as_camel_case_but_not_inside_client_data() -> None:
    payload = {
        "contents": [{"parts": [{"function_call": {"name": "f", "args": {"file_path": "a"}}}]}],
        "generation_config": {"thinking_config": {"thinking_budget": 10}},
        "tools": [{"function_declarations": [{"name": "f", "parameters_json_schema": {"max_items": 1}}]}],
    }
    assert camel_keys(payload) == {
        "contents": [{"parts": [{"functionCall": {"name": "f", "args": {"file_path": "a"}}}]}],
        "generationConfig": {"thinkingConfig": {"thinkingBudget": 10}},
        "tools": [{"functionDeclarations": [{"name": "f", "parametersJsonSchema": {"max_items": 1}}]}],
    }
    assert json_schema({"type": "ARRAY", "max_items": 2, "items": {"any_of": [{"type": "STRING"}]}}) == {
        "type": "array",
        "maxItems": 2,
        "items": {"anyOf": [{"type": "string"}]},
    }
