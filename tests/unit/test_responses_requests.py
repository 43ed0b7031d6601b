"""Responses request -> chat pivot request: every parameter's rule, items, tools, Databricks quirks."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from models.responses import ResponseCreateRequest
from services.databricks.families import family_of
from services.dialects.responses import to_chat
from services.dialects.responses.reasoning import encode
from services.errors import InvalidRequestError
from services.pivot.requests import chat_request

LLAMA = "databricks-meta-llama-3-3-70b-instruct"
CLAUDE = "databricks-claude-3-7-sonnet"


def chat(payload: dict[str, Any], endpoint: str | None = None) -> dict[str, Any]:
    ResponseCreateRequest.model_validate(payload)
    return to_chat(payload, family_of(endpoint or payload["model"])).chat


def refused(payload: dict[str, Any]) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as caught:
        to_chat(payload, family_of(payload["model"]))
    return caught.value


def test_string_input_and_instructions() -> None:
    assert chat({"model": LLAMA, "input": "Hi", "instructions": "Be brief."}) == {
        "model": LLAMA,
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
    }


def test_sampling_parameters_and_streaming() -> None:
    assert chat(
        {"model": LLAMA, "input": "Hi", "max_output_tokens": 50, "temperature": 0.2, "top_p": 0.9, "stream": True}
    ) == {
        "model": LLAMA,
        "messages": [{"role": "user", "content": "Hi"}],
        "temperature": 0.2,
        "top_p": 0.9,
        "max_tokens": 50,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_fields_with_no_databricks_meaning_are_not_sent() -> None:
    body = chat(
        {
            "model": LLAMA,
            "input": "Hi",
            "store": True,
            "include": ["reasoning.encrypted_content", "message.output_text.logprobs"],
            "metadata": {"k": "v"},
            "parallel_tool_calls": False,
            "prompt_cache_key": "thread-1",
            "user": "u",
            "safety_identifier": "s",
            "service_tier": "auto",
            "truncation": "auto",
            "client_metadata": {"x-codex-installation-id": "1"},
            "text": {"format": {"type": "text"}, "verbosity": "low"},
            "reasoning": {"summary": "auto"},
            "top_k": 5,
        }
    )
    assert body == {"model": LLAMA, "messages": [{"role": "user", "content": "Hi"}], "top_k": 5}


def test_conversation_items_become_chat_messages() -> None:
    body = chat(
        {
            "model": LLAMA,
            "input": [
                {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "Rules."}]},
                {
                    "role": "user",
                    "content": [
                        {"type": "input_text", "text": "Look"},
                        {"type": "input_image", "image_url": "data:image/png;base64,AA==", "detail": "low"},
                    ],
                },
                {
                    "type": "message",
                    "id": "msg_1",
                    "role": "assistant",
                    "status": "completed",
                    "content": [{"type": "output_text", "text": "Let me check.", "annotations": []}],
                },
                {
                    "type": "function_call",
                    "id": "fc_1",
                    "call_id": "call_1",
                    "name": "get_weather",
                    "arguments": '{"city":"Paris"}',
                    "status": "completed",
                },
                {"type": "function_call", "call_id": "call_2", "name": "get_time", "arguments": ""},
                {"type": "function_call_output", "call_id": "call_1", "output": "sunny"},
                {
                    "type": "function_call_output",
                    "id": "fco_1",
                    "call_id": "call_2",
                    "output": [{"type": "input_text", "text": "noon"}],
                },
                {"role": "user", "content": "thanks"},
            ],
        }
    )
    assert body["messages"] == [
        {"role": "system", "content": "Rules."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Look"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA==", "detail": "low"}},
            ],
        },
        {
            "role": "assistant",
            "content": "Let me check.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                },
                {"id": "call_2", "type": "function", "function": {"name": "get_time", "arguments": "{}"}},
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "sunny"},
        {"role": "tool", "tool_call_id": "call_2", "content": "noon"},
        {"role": "user", "content": "thanks"},
    ]


def test_tool_output_with_an_image_keeps_its_parts() -> None:
    image = {"type": "input_image", "image_url": "data:image/png;base64,AA=="}
    body = chat(
        {
            "model": LLAMA,
            "input": [
                {"role": "user", "content": "look"},
                {"type": "function_call", "call_id": "c", "name": "view_image", "arguments": '{"path":"a.png"}'},
                {
                    "type": "function_call_output",
                    "call_id": "c",
                    "output": [{"type": "input_text", "text": "a.png"}, image],
                },
            ],
        }
    )
    assert body["messages"][-1] == {
        "role": "tool",
        "tool_call_id": "c",
        "content": [
            {"type": "text", "text": "a.png"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}},
        ],
    }


def test_empty_text_blocks_never_reach_databricks() -> None:
    """Databricks refuses empty text blocks for Claude: empty parts and empty messages are left out."""
    body = chat(
        {
            "model": CLAUDE,
            "input": [
                {"role": "user", "content": [{"type": "input_text", "text": ""}, {"type": "input_text", "text": "Hi"}]},
                {"role": "user", "content": ""},
                {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": ""}]},
                {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
                {"type": "function_call_output", "call_id": "c", "output": "ok"},
                {"type": "message", "role": "assistant", "content": ""},
                {"role": "user", "content": "more"},
            ],
        }
    )
    assert body["messages"] == [
        {"role": "user", "content": "Hi"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        },
        {"role": "tool", "tool_call_id": "c", "content": "ok"},
        {"role": "user", "content": "more"},
    ]
    upstream = chat_request(body).body["messages"]
    assert all(m.get("content") != "" for m in upstream)


def test_reasoning_items_replay_signatures_verbatim_to_databricks() -> None:
    blocks = [
        {"type": "thinking", "thinking": "First.", "signature": "EqoBCkgIARAB+/=="},
        {"type": "redacted_thinking", "data": "EmwKAhgBEgy"},
    ]
    payload = {
        "model": CLAUDE,
        "input": [
            {"role": "user", "content": "q"},
            {
                "type": "reasoning",
                "id": "rs_1",
                "summary": [{"type": "summary_text", "text": "First."}],
                "encrypted_content": encode(blocks),
            },
            {"type": "function_call", "call_id": "toolu_1", "name": "f", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "toolu_1", "output": "r"},
        ],
    }
    body = chat(payload)
    assert body["messages"][1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "toolu_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        "thinking_blocks": blocks,
    }
    upstream = chat_request(body).body["messages"][1]
    assert upstream["content"][0] == {
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": "First.", "signature": "EqoBCkgIARAB+/=="}],
    }


def test_reasoning_from_elsewhere_is_left_out_and_altered_reasoning_is_refused() -> None:
    base = [{"role": "user", "content": "q"}]
    foreign = {"type": "reasoning", "id": "rs_x", "summary": [], "encrypted_content": "gAAAAABo-openai-blob"}
    plain = {"type": "reasoning", "id": "rs_y", "summary": [{"type": "summary_text", "text": "t"}]}
    answer = {"role": "assistant", "content": "a"}
    body = chat({"model": CLAUDE, "input": [*base, foreign, plain, answer]})
    assert body["messages"][1] == {"role": "assistant", "content": "a"}
    error = refused({"model": CLAUDE, "input": [*base, {**foreign, "encrypted_content": "dbxr1.!!!"}, answer]})
    assert error.param == "input[1].encrypted_content"
    assert error.status == 400


def test_unsigned_thinking_reaches_claude_never_and_other_families_get_no_reasoning() -> None:
    blocks = [
        {"type": "thinking", "thinking": "cut off", "signature": ""},
        {"type": "thinking", "thinking": "signed", "signature": "Sig"},
        {"type": "redacted_thinking", "data": "R"},
    ]
    items = [
        {"role": "user", "content": "q"},
        {"type": "reasoning", "summary": [], "encrypted_content": encode(blocks)},
        {"role": "assistant", "content": "a"},
    ]
    claude = chat({"model": CLAUDE, "input": items})["messages"][1]
    assert claude == {"role": "assistant", "content": "a", "thinking_blocks": blocks[1:]}
    for endpoint in (LLAMA, "databricks-gpt-oss-120b"):
        assert chat({"model": "alias", "input": items}, endpoint)["messages"][1] == {
            "role": "assistant",
            "content": "a",
        }


def test_empty_tool_output_is_not_an_empty_text_block() -> None:
    items = [
        {"role": "user", "content": "q"},
        {"type": "function_call", "call_id": "c", "name": "f", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c", "output": ""},
    ]
    assert chat({"model": CLAUDE, "input": items})["messages"][-1] == {
        "role": "tool",
        "tool_call_id": "c",
        "content": "(no output)",
    }


def test_reasoning_alone_is_no_assistant_turn() -> None:
    blocks = [{"type": "thinking", "thinking": "cut off", "signature": ""}]
    body = chat(
        {
            "model": LLAMA,
            "input": [
                {"role": "user", "content": "a"},
                {"type": "reasoning", "summary": [], "encrypted_content": encode(blocks)},
                {"role": "user", "content": "b"},
            ],
        }
    )
    assert body["messages"] == [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]


def test_stateful_parameters_are_refused_with_the_way_out() -> None:
    for param, value in (("previous_response_id", "resp_1"), ("conversation", "conv_1")):
        error = refused({"model": LLAMA, "input": "x", param: value})
        assert error.status == 400
        assert error.param == param
        assert "store: false" in error.message and "whole conversation" in error.message
    assert refused({"model": LLAMA, "input": "x", "background": True}).param == "background"
    assert refused({"model": LLAMA, "input": "x", "prompt": {"id": "pmpt_1"}}).param == "prompt"


def test_item_references() -> None:
    """Only a reasoning reference can go: the conversation stays valid without it."""
    body = chat(
        {
            "model": LLAMA,
            "input": [
                {"role": "user", "content": "a"},
                {"type": "item_reference", "id": "rs_123"},
                {"role": "assistant", "content": "b"},
            ],
        }
    )
    assert [m["role"] for m in body["messages"]] == ["user", "assistant"]
    error = refused(
        {"model": LLAMA, "input": [{"role": "user", "content": "a"}, {"type": "item_reference", "id": "msg_123"}]}
    )
    assert error.param == "input[1]"
    assert "store: false" in error.message


def test_unsupported_items_and_parts_are_refused_by_name() -> None:
    assert refused({"model": LLAMA, "input": [{"type": "web_search_call", "id": "ws_1"}]}).param == "input[0].type"
    part = {"type": "input_file", "file_id": "file_1"}
    assert refused({"model": LLAMA, "input": [{"role": "user", "content": [part]}]}).param == "input[0].content[0].type"
    image = {"type": "input_image", "file_id": "file_1"}
    assert (
        refused({"model": LLAMA, "input": [{"role": "user", "content": [image]}]}).param
        == "input[0].content[0].image_url"
    )
    assert refused({"model": LLAMA, "input": []}).param == "input"
    assert refused({"model": LLAMA, "instructions": "only this"}).param == "input"


FUNCTION = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather",
    "parameters": {"type": "object", "properties": {}},
    "strict": True,
}


def test_tools_function_custom_namespace_and_hosted() -> None:
    call = to_chat(
        {
            "model": LLAMA,
            "input": "x",
            "tools": [
                FUNCTION,
                {
                    "type": "custom",
                    "name": "apply_patch",
                    "description": "Patch",
                    "format": {"type": "grammar", "syntax": "lark", "definition": "start: x"},
                },
                {"type": "custom", "name": "note"},
                {
                    "type": "namespace",
                    "name": "agents",
                    "description": "d",
                    "tools": [{"type": "function", "name": "spawn"}, {"type": "web_search"}],
                },
                {"type": "web_search", "external_web_access": False},
                {"type": "mcp", "server_label": "s"},
            ],
        },
        family_of(LLAMA),
    )
    string_input = {
        "type": "object",
        "properties": {"input": {"type": "string", "description": "The tool's whole input, as text."}},
        "required": ["input"],
    }
    assert call.chat["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather",
                "parameters": {"type": "object", "properties": {}},
            },
        },
        {
            "type": "function",
            "function": {
                "name": "apply_patch",
                "description": "Patch\n\nThe input must follow this lark grammar:\nstart: x",
                "parameters": string_input,
            },
        },
        {
            "type": "function",
            "function": {"name": "note", "description": "Free-form text input.", "parameters": string_input},
        },
        {"type": "function", "function": {"name": "agents__spawn", "parameters": {"type": "object", "properties": {}}}},
    ]
    assert call.dropped_tools == ("agents.web_search", "web_search", "mcp")
    assert [t["type"] for t in call.echo["tools"]] == ["function", "custom", "custom", "namespace"]


def test_only_hosted_tools_means_no_tools_and_no_tool_choice() -> None:
    call = to_chat(
        {"model": LLAMA, "input": "x", "tools": [{"type": "web_search"}], "tool_choice": "required"}, family_of(LLAMA)
    )
    assert "tools" not in call.chat and "tool_choice" not in call.chat
    assert call.dropped_tools == ("web_search",)


def test_tool_choice_forms() -> None:
    tools = [
        FUNCTION,
        {"type": "custom", "name": "note"},
        {"type": "namespace", "name": "ns", "tools": [{"type": "function", "name": "f"}]},
    ]

    def choice(value: Any) -> Any:
        body = chat({"model": LLAMA, "input": "x", "tools": tools, "tool_choice": value})
        return body.get("tool_choice"), [t["function"]["name"] for t in body["tools"]]

    names = ["get_weather", "note", "ns__f"]
    assert choice("none") == ("none", names)
    assert choice("auto") == ("auto", names)
    assert choice("required") == ("required", names)
    assert choice({"type": "function", "name": "get_weather"}) == (
        {"type": "function", "function": {"name": "get_weather"}},
        names,
    )
    assert choice({"type": "custom", "name": "note"}) == ({"type": "function", "function": {"name": "note"}}, names)
    assert choice({"type": "function", "name": "f", "namespace": "ns"}) == (
        {"type": "function", "function": {"name": "ns__f"}},
        names,
    )
    allowed = {"type": "allowed_tools", "mode": "required", "tools": [{"type": "function", "name": "get_weather"}]}
    assert choice(allowed) == ("required", ["get_weather"])
    assert choice({"type": "web_search"}) == ("auto", names)
    error = refused({"model": LLAMA, "input": "x", "tools": tools, "tool_choice": {"type": "function", "name": "nope"}})
    assert error.param == "tool_choice"


def test_replayed_custom_and_namespaced_calls_use_the_offered_names() -> None:
    body = chat(
        {
            "model": LLAMA,
            "input": [
                {"role": "user", "content": "x"},
                {"type": "custom_tool_call", "call_id": "c1", "name": "apply_patch", "input": "*** Begin Patch"},
                {"type": "custom_tool_call_output", "call_id": "c1", "output": "done"},
                {"type": "function_call", "call_id": "c2", "name": "spawn", "namespace": "agents", "arguments": "{}"},
                {"type": "function_call_output", "call_id": "c2", "output": "ok"},
            ],
            "tools": [
                {"type": "custom", "name": "apply_patch"},
                {"type": "namespace", "name": "agents", "tools": [{"type": "function", "name": "spawn"}]},
            ],
        }
    )
    assert body["messages"][1]["tool_calls"] == [
        {
            "id": "c1",
            "type": "function",
            "function": {"name": "apply_patch", "arguments": '{"input":"*** Begin Patch"}'},
        }
    ]
    assert body["messages"][3]["tool_calls"] == [
        {"id": "c2", "type": "function", "function": {"name": "agents__spawn", "arguments": "{}"}}
    ]


def test_text_format_json_schema_is_nested_for_chat() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "string", "pattern": "^[a-z]+$"}}, "required": ["n"]}
    body = chat(
        {
            "model": LLAMA,
            "input": "x",
            "text": {"format": {"type": "json_schema", "name": "out", "schema": schema, "strict": True}},
        }
    )
    # Passed on verbatim: Databricks' own 400 for keywords it refuses (e.g. "pattern") names them better than a guess.
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "out", "schema": schema, "strict": True},
    }
    body = chat({"model": LLAMA, "input": "x", "text": {"format": {"type": "json_object"}}})
    assert body["response_format"] == {"type": "json_object"}
    assert "response_format" not in chat({"model": LLAMA, "input": "x", "text": {"format": {"type": "text"}}})


def test_text_format_for_claude_4_6_and_later_is_output_config_beside_the_effort() -> None:
    """Those models refuse ``response_format``; the schema goes where the Anthropic door sends it too."""
    schema = {"type": "object", "properties": {"n": {"type": "string"}}}
    payload = {
        "model": "alias",
        "input": "x",
        "reasoning": {"effort": "high"},
        "text": {"format": {"type": "json_schema", "name": "out", "schema": schema, "strict": True}},
    }
    body = to_chat(payload, family_of("databricks-claude-opus-4-6")).chat
    assert body["output_config"] == {"effort": "high", "format": {"type": "json_schema", "schema": schema}}
    assert body["thinking"] == {"type": "adaptive"}
    assert "response_format" not in body
    older = to_chat(payload, family_of("databricks-claude-sonnet-4-5")).chat
    assert older["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "out", "schema": schema, "strict": True},
    }
    assert "output_config" not in older


@pytest.mark.parametrize(
    ("endpoint", "effort", "max_output", "expected"),
    [
        (
            "databricks-claude-3-7-sonnet",
            "low",
            None,
            {"thinking": {"type": "enabled", "budget_tokens": 4096}, "max_tokens": 12288},
        ),
        (
            "databricks-claude-sonnet-4-5",
            "high",
            4000,
            {"thinking": {"type": "enabled", "budget_tokens": 3999}, "max_tokens": 4000},
        ),
        ("databricks-claude-sonnet-4-5", "high", 1000, {"max_tokens": 1000}),
        (
            "databricks-claude-opus-4-6",
            "minimal",
            None,
            {"thinking": {"type": "adaptive"}, "output_config": {"effort": "low"}},
        ),
        (
            "databricks-claude-opus-5",
            "max",
            None,
            {"thinking": {"type": "adaptive"}, "output_config": {"effort": "max"}},
        ),
        ("databricks-gpt-oss-120b", "minimal", None, {"reasoning_effort": "low"}),
        ("databricks-gpt-oss-120b", "xhigh", None, {"reasoning_effort": "high"}),
        ("databricks-gpt-5", "minimal", None, {"reasoning_effort": "minimal"}),
        ("databricks-gemini-2-5-pro", "high", None, {}),
        ("databricks-meta-llama-3-3-70b-instruct", "high", None, {}),
        ("databricks-claude-3-7-sonnet", "none", None, {}),
    ],
)
def test_reasoning_effort_per_model_family(
    endpoint: str, effort: str, max_output: int | None, expected: dict[str, Any]
) -> None:
    payload: dict[str, Any] = {"model": "alias", "input": "x", "reasoning": {"effort": effort}}
    if max_output is not None:
        payload["max_output_tokens"] = max_output
    body = to_chat(payload, family_of(endpoint)).chat
    assert {k: v for k, v in body.items() if k not in ("model", "messages")} == expected


def test_explicit_model_extras_win_over_the_effort_mapping() -> None:
    body = chat(
        {
            "model": CLAUDE,
            "input": "x",
            "reasoning": {"effort": "high"},
            "thinking": {"type": "enabled", "budget_tokens": 1500},
        },
        CLAUDE,
    )
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 1500}
    assert "max_tokens" not in body


def test_echoed_settings() -> None:
    call = to_chat(
        {
            "model": LLAMA,
            "input": "x",
            "instructions": "I",
            "metadata": {"a": "b"},
            "parallel_tool_calls": False,
            "temperature": 0.5,
            "text": {"format": {"type": "json_object"}, "verbosity": "low"},
            "reasoning": {"effort": "low", "summary": "auto"},
            "tool_choice": "none",
            "user": "u-1",
            "safety_identifier": "s-1",
            "prompt_cache_key": "k-1",
            "prompt_cache_retention": "24h",
            "top_logprobs": 3,
            "max_tool_calls": 5,
            "truncation": "auto",
            "service_tier": "flex",
        },
        family_of(LLAMA),
    )
    assert call.echo == {
        "instructions": "I",
        "max_output_tokens": None,
        "parallel_tool_calls": False,
        "reasoning": {"effort": "low", "summary": "auto"},
        "temperature": 0.5,
        "text": {"format": {"type": "json_object"}, "verbosity": "low"},
        "tool_choice": "none",
        "tools": [],
        "top_p": None,
        "metadata": {"a": "b"},
        "max_tool_calls": 5,
        "prompt_cache_key": "k-1",
        "prompt_cache_retention": "24h",
        "safety_identifier": "s-1",
        "top_logprobs": 3,
        "user": "u-1",
    }


def test_request_model_names_the_bad_parameter() -> None:
    for payload, where in (
        ({"model": LLAMA, "input": [{"type": "message", "role": "robot", "content": "x"}]}, "role"),
        ({"model": LLAMA, "input": [{"type": "function_call", "name": "f", "arguments": "{}"}]}, "call_id"),
        ({"model": LLAMA, "input": "x", "metadata": {str(i): "v" for i in range(17)}}, "metadata"),
        ({"model": LLAMA, "input": "x", "max_output_tokens": 0}, "max_output_tokens"),
        ({"model": LLAMA, "input": "x", "tools": [{"type": "function"}]}, "name"),
    ):
        with pytest.raises(ValidationError) as caught:
            ResponseCreateRequest.model_validate(payload)
        assert any(where in str(error["loc"]) for error in caught.value.errors())
    ResponseCreateRequest.model_validate(
        {
            "model": LLAMA,
            "input": [{"type": "local_shell_call", "id": "x"}],
            "tools": [{"type": "web_search"}],
            "client_metadata": {},
        }
    )
