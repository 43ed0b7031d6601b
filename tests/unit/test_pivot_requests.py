"""OpenAI request -> Databricks request: the policy table row by row, messages, tools, legacy functions."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from services.databricks.client import check_endpoint_name
from services.databricks.surfaces import with_fields
from services.dialects.openai import error_body
from services.errors import InvalidRequestError, UnsupportedParameterError
from services.pivot.policy import CHAT, COMPLETIONS, EMBEDDINGS, Action
from services.pivot.requests import (
    UpstreamRequest,
    chat_request,
    completion_request,
    embedding_request,
    take_attribution,
    translate_messages,
)

USER_HI = {"role": "user", "content": "hi"}
WEATHER_PARAMS = {
    "type": "object",
    "properties": {"city": {"type": "string", "description": "The city to get the weather for"}},
}


def chat(**fields: Any) -> UpstreamRequest:
    payload: dict[str, Any] = {"model": "databricks-meta-llama-3-3-70b-instruct", "messages": [USER_HI]}
    payload.update(fields)
    return chat_request(payload)


def body_of(**fields: Any) -> dict[str, Any]:
    return chat(**fields).body


# --- the policy table, row by row -------------------------------------------------------------------------------

CHAT_FORWARDED = {
    "max_tokens": 256,
    "temperature": 0.2,
    "top_p": 0.9,
    "top_k": 40,
    "stop": ["\n\n", "END"],
    "n": 2,
    "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}},
    "logprobs": True,
    "top_logprobs": 3,
    "reasoning_effort": "low",
}
CHAT_DROPPED = {
    "seed": 42,
    "user": "user-123",
    "store": True,
    "metadata": {"team": "search"},
    "service_tier": "auto",
    "parallel_tool_calls": False,
    "prompt_cache_key": "k1",
    "safety_identifier": "sid-1",
    "prompt_cache_retention": "24h",
}
# field -> (a value that is refused, the neutral values that are accepted and dropped)
CHAT_REFUSED: dict[str, tuple[Any, tuple[Any, ...]]] = {
    "presence_penalty": (0.5, (0, 0.0)),
    "frequency_penalty": (-1.0, (0, 0.0)),
    "logit_bias": ({"50256": -100}, ({},)),
    "modalities": (["text", "audio"], (["text"],)),
    "audio": ({"voice": "alloy", "format": "wav"}, ()),
    "prediction": ({"type": "content", "content": "x"}, ()),
    "web_search_options": ({}, ()),
    "verbosity": ("low", ("medium",)),
}
CHAT_SPECIAL = {
    "model",
    "messages",
    "stream",
    "stream_options",
    "max_completion_tokens",
    "tools",
    "tool_choice",
    "functions",
    "function_call",
}


def test_every_chat_policy_row_has_a_test() -> None:
    covered = set(CHAT_FORWARDED) | set(CHAT_DROPPED) | set(CHAT_REFUSED) | CHAT_SPECIAL
    assert covered == set(CHAT)
    assert {k for k, r in CHAT.items() if r.action is Action.FORWARD} == set(CHAT_FORWARDED) | {
        "messages",
        "stream",
        "tools",
        "tool_choice",
    }
    assert {k for k, r in CHAT.items() if r.action is Action.DROP} == set(CHAT_DROPPED)
    assert {k for k, r in CHAT.items() if r.action is Action.REJECT} == set(CHAT_REFUSED)


@pytest.mark.parametrize(("field", "value"), CHAT_FORWARDED.items())
def test_forwarded_fields_go_upstream_unchanged(field: str, value: Any) -> None:
    assert body_of(**{field: value}) == {"messages": [USER_HI], field: value}


@pytest.mark.parametrize("field", CHAT_FORWARDED)
def test_forwarded_fields_set_to_null_are_not_sent(field: str) -> None:
    assert body_of(**{field: None}) == {"messages": [USER_HI]}


@pytest.mark.parametrize(("field", "value"), CHAT_DROPPED.items())
def test_dropped_fields_are_not_sent(field: str, value: Any) -> None:
    assert body_of(**{field: value}) == {"messages": [USER_HI]}


@pytest.mark.parametrize(("field", "refused", "neutral"), [(k, *v) for k, v in CHAT_REFUSED.items()])
def test_refused_fields_raise_unless_neutral(field: str, refused: Any, neutral: tuple[Any, ...]) -> None:
    with pytest.raises(UnsupportedParameterError) as caught:
        chat(**{field: refused})
    error = caught.value
    assert error.param == field
    assert error.status == 400
    assert error_body(error) == {
        "error": {
            "message": error.message,
            "type": "invalid_request_error",
            "param": field,
            "code": "unsupported_parameter",
        }
    }
    assert f"'{field}'" in error.message
    for value in (*neutral, None):
        assert body_of(**{field: value}) == {"messages": [USER_HI]}


def test_model_is_not_sent_in_the_body() -> None:
    assert "model" not in body_of()


def test_max_completion_tokens_is_renamed_to_max_tokens() -> None:
    assert body_of(max_completion_tokens=300) == {"messages": [USER_HI], "max_tokens": 300}


def test_max_tokens_wins_over_max_completion_tokens() -> None:
    assert body_of(max_tokens=100, max_completion_tokens=300) == {"messages": [USER_HI], "max_tokens": 100}


def test_max_completion_tokens_is_used_when_max_tokens_is_null() -> None:
    # JSON clients send explicit nulls for unset fields; null must not hide the renamed value.
    assert body_of(max_tokens=None, max_completion_tokens=300) == {"messages": [USER_HI], "max_tokens": 300}


def test_non_openai_fields_are_passed_through() -> None:
    extras = {
        "thinking": {"type": "enabled", "budget_tokens": 10240},
        "extra_params": {"foo": 1},
        "client_request_id": "req-1",
        "usage_context": {"project": "p"},
    }
    assert body_of(**extras) == {"messages": [USER_HI], **extras}
    assert body_of(thinking=None) == {"messages": [USER_HI]}


# --- streaming flags --------------------------------------------------------------------------------------------


def test_stream_without_stream_options() -> None:
    plan = chat(stream=True)
    assert plan.body == {"messages": [USER_HI], "stream": True}
    assert (plan.stream, plan.include_usage, plan.legacy_functions) == (True, False, False)


def test_stream_options_are_never_forwarded_and_set_include_usage() -> None:
    plan = chat(stream=True, stream_options={"include_usage": True})
    assert plan.body == {"messages": [USER_HI], "stream": True}
    assert plan.include_usage is True
    assert chat(stream=True, stream_options={"include_usage": False}).include_usage is False
    assert chat(stream=True, stream_options={}).include_usage is False
    assert chat(stream=True, stream_options=None).include_usage is False


def test_include_usage_needs_stream() -> None:
    plan = chat(stream=False, stream_options={"include_usage": True})
    assert plan.body == {"messages": [USER_HI], "stream": False}
    assert (plan.stream, plan.include_usage) == (False, False)


def test_non_streaming_plan() -> None:
    plan = chat()
    assert (plan.stream, plan.include_usage, plan.legacy_functions, plan.encoding_format) == (
        False,
        False,
        False,
        "float",
    )


def test_n_above_one_is_refused_when_streaming() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        chat(stream=True, n=2)
    assert caught.value.param == "n"
    assert caught.value.status == 400
    assert error_body(caught.value)["error"]["type"] == "invalid_request_error"
    assert chat(stream=True, n=1).body == {"messages": [USER_HI], "n": 1, "stream": True}
    assert chat(stream=False, n=3).body == {"messages": [USER_HI], "n": 3, "stream": False}


# --- messages ---------------------------------------------------------------------------------------------------


def test_developer_role_becomes_system() -> None:
    assert translate_messages([{"role": "developer", "content": "Be brief."}, USER_HI]) == [
        {"role": "system", "content": "Be brief."},
        USER_HI,
    ]


def test_text_parts_are_joined_for_every_non_assistant_role() -> None:
    parts = [{"type": "text", "text": "first"}, {"type": "text", "text": "second"}]
    messages = [
        {"role": "system", "content": parts},
        {"role": "user", "content": parts},
        {"role": "tool", "tool_call_id": "call_1", "content": parts},
    ]
    assert translate_messages(messages) == [
        {"role": "system", "content": "first\nsecond"},
        {"role": "user", "content": "first\nsecond"},
        {"role": "tool", "content": "first\nsecond", "tool_call_id": "call_1"},
    ]


def test_image_parts_are_kept_as_a_list() -> None:
    content = [
        {"type": "text", "text": "What is in this picture?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "low"}},
    ]
    assert translate_messages([{"role": "user", "content": content}]) == [{"role": "user", "content": content}]


def test_assistant_reasoning_content_is_replayed_as_a_reasoning_part() -> None:
    message = {"role": "assistant", "content": "Paris.", "reasoning_content": "The user asks for a capital."}
    assert translate_messages([USER_HI, message]) == [
        USER_HI,
        {
            "role": "assistant",
            "content": [
                {"type": "reasoning", "summary": [{"type": "summary_text", "text": "The user asks for a capital."}]},
                {"type": "text", "text": "Paris."},
            ],
        },
    ]


def test_assistant_reasoning_key_is_replayed_too() -> None:
    message = {"role": "assistant", "content": "Paris.", "reasoning": "Capital question."}
    assert translate_messages([message]) == [
        {
            "role": "assistant",
            "content": [
                {"type": "reasoning", "summary": [{"type": "summary_text", "text": "Capital question."}]},
                {"type": "text", "text": "Paris."},
            ],
        }
    ]


def test_thinking_blocks_keep_their_signature_and_win_over_reasoning_content() -> None:
    message = {
        "role": "assistant",
        "content": "東京の現在の天気情報を取得します。",
        "reasoning_content": "ignored: the thinking blocks carry the same text with signatures",
        "thinking_blocks": [
            {"type": "thinking", "thinking": "First thought.", "signature": "ErcBCkgIAxABGAIiQH1P"},
            {"type": "thinking", "thinking": "Second thought."},
            {"type": "redacted_thinking", "data": "opaque"},
        ],
    }
    assert translate_messages([message]) == [
        {
            "role": "assistant",
            "content": [
                {
                    "type": "reasoning",
                    "summary": [
                        {"type": "summary_text", "text": "First thought.", "signature": "ErcBCkgIAxABGAIiQH1P"}
                    ],
                },
                {"type": "reasoning", "summary": [{"type": "summary_text", "text": "Second thought."}]},
                {"type": "reasoning", "summary": [{"type": "summary_encrypted_text", "data": "opaque"}]},
                {"type": "text", "text": "東京の現在の天気情報を取得します。"},
            ],
        }
    ]


def test_assistant_reasoning_with_tool_calls_and_no_text() -> None:
    message = {
        "role": "assistant",
        "content": None,
        "reasoning_content": "I should call get_weather.",
        "tool_calls": [
            {
                "id": "toolu_bdrk_01LMiseooSF8SyS9cUgheyUy",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"location":"東京"}'},
            }
        ],
    }
    assert translate_messages([message]) == [
        {
            "role": "assistant",
            "content": [
                {"type": "reasoning", "summary": [{"type": "summary_text", "text": "I should call get_weather."}]}
            ],
            "tool_calls": [
                {
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"location":"東京"}'},
                    "id": "toolu_bdrk_01LMiseooSF8SyS9cUgheyUy",
                }
            ],
        }
    ]


def test_assistant_reasoning_with_a_content_list() -> None:
    message = {"role": "assistant", "content": [{"type": "text", "text": "A"}], "reasoning_content": "R"}
    assert translate_messages([message]) == [
        {
            "role": "assistant",
            "content": [
                {"type": "reasoning", "summary": [{"type": "summary_text", "text": "R"}]},
                {"type": "text", "text": "A"},
            ],
        }
    ]


def test_openai_only_message_keys_are_dropped() -> None:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": "Hello!",
        "refusal": None,
        "annotations": [],
        "audio": None,
        "function_call": None,
        "tool_calls": None,
        "name": "bot",
        "reasoning_content": None,
        "thinking_blocks": None,
    }
    assert translate_messages([message]) == [{"role": "assistant", "content": "Hello!"}]


def test_name_is_kept_only_on_user_messages() -> None:
    messages = [
        {"role": "system", "content": "s", "name": "sys"},
        {"role": "user", "content": "u", "name": "alice"},
        {"role": "assistant", "content": "a", "name": "bot"},
        {"role": "tool", "content": "t", "tool_call_id": "call_1", "name": "get_weather"},
    ]
    assert translate_messages(messages) == [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "u", "name": "alice"},
        {"role": "assistant", "content": "a"},
        {"role": "tool", "content": "t", "tool_call_id": "call_1"},
    ]


def test_tool_call_arguments_given_as_a_dict_become_a_json_string() -> None:
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {"id": "call_a", "type": "function", "index": 0, "function": {"name": "f", "arguments": {"city": "Tokyo"}}},
            {"type": "function", "function": {"name": "g", "arguments": "{}"}},
            {"id": "call_c", "function": {"name": "h"}},
        ],
    }
    assert translate_messages([message]) == [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"type": "function", "function": {"name": "f", "arguments": '{"city":"Tokyo"}'}, "id": "call_a"},
                {"type": "function", "function": {"name": "g", "arguments": "{}"}},
                {"type": "function", "function": {"name": "h", "arguments": ""}, "id": "call_c"},
            ],
        }
    ]


def test_legacy_function_messages_become_tool_messages() -> None:
    messages = [
        {"role": "user", "content": "Weather in Tokyo?"},
        {
            "role": "assistant",
            "content": None,
            "function_call": {"name": "get_weather", "arguments": '{"city":"Tokyo"}'},
        },
        {"role": "function", "name": "get_weather", "content": '{"temp": 21}'},
        {"role": "function", "name": "never_called", "content": "orphan"},
    ]
    assert translate_messages(messages) == [
        {"role": "user", "content": "Weather in Tokyo?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Tokyo"}'},
                    "id": "call_1",
                }
            ],
        },
        {"role": "tool", "content": '{"temp": 21}', "tool_call_id": "call_1"},
        {"role": "tool", "content": "orphan", "tool_call_id": "call_3"},
    ]


def test_the_request_payload_is_not_mutated() -> None:
    payload = {
        "model": "m",
        "messages": [
            {"role": "developer", "content": [{"type": "text", "text": "x"}]},
            {
                "role": "assistant",
                "content": None,
                "reasoning_content": "r",
                "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": {"a": 1}}}],
            },
        ],
        "tools": [{"type": "function", "function": {"name": "f", "strict": True}}],
        "max_completion_tokens": 5,
    }
    before = copy.deepcopy(payload)
    chat_request(payload)
    assert payload == before


# --- tools and legacy functions ---------------------------------------------------------------------------------


def test_tools_lose_strict_and_get_parameters() -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Get the weather in a given city",
                "parameters": WEATHER_PARAMS,
                "strict": True,
            },
        },
        {"type": "function", "function": {"name": "now", "description": None}},
        {"function": {"name": "ping", "parameters": None}},
    ]
    assert body_of(tools=tools, tool_choice="auto") == {
        "messages": [USER_HI],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Get the weather in a given city",
                    "parameters": WEATHER_PARAMS,
                },
            },
            {"type": "function", "function": {"name": "now", "parameters": {"type": "object", "properties": {}}}},
            {"type": "function", "function": {"name": "ping", "parameters": {"type": "object", "properties": {}}}},
        ],
        "tool_choice": "auto",
    }


def test_tool_choice_without_tools() -> None:
    assert body_of(tools=[], tool_choice="auto") == {"messages": [USER_HI]}
    assert body_of(tool_choice="none") == {"messages": [USER_HI]}
    assert body_of(tools=None, tool_choice=None) == {"messages": [USER_HI]}


def test_legacy_functions_become_tools_and_function_call_becomes_tool_choice() -> None:
    function = {"name": "get_weather", "description": "Get the weather", "parameters": WEATHER_PARAMS}
    plan = chat(functions=[function], function_call={"name": "get_weather"})
    assert plan.legacy_functions is True
    assert plan.body == {
        "messages": [USER_HI],
        "tools": [{"type": "function", "function": function}],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
    }


@pytest.mark.parametrize("mode", ["auto", "none"])
def test_legacy_function_call_modes(mode: str) -> None:
    plan = chat(functions=[{"name": "f"}], function_call=mode)
    assert plan.body == {
        "messages": [USER_HI],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}],
        "tool_choice": mode,
    }


def test_legacy_functions_with_null_tools_and_tool_choice() -> None:
    plan = chat(functions=[{"name": "f"}], function_call={"name": "f"}, tools=None, tool_choice=None)
    assert plan.legacy_functions is True
    assert plan.body == {
        "messages": [USER_HI],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}],
        "tool_choice": {"type": "function", "function": {"name": "f"}},
    }


def test_tools_win_over_legacy_functions() -> None:
    tools = [{"type": "function", "function": {"name": "t", "parameters": WEATHER_PARAMS}}]
    plan = chat(tools=tools, functions=[{"name": "f"}], tool_choice="required", function_call={"name": "f"})
    assert plan.legacy_functions is False
    assert plan.body == {"messages": [USER_HI], "tools": tools, "tool_choice": "required"}


def test_a_full_chat_request() -> None:
    payload = {
        "model": "databricks-claude-3-7-sonnet",
        "messages": [
            {"role": "developer", "content": "You are a weather bot."},
            {"role": "user", "content": [{"type": "text", "text": "What's the weather in Tokyo?"}], "name": "alice"},
        ],
        "max_completion_tokens": 20480,
        "thinking": {"type": "enabled", "budget_tokens": 10240},
        "tools": [
            {"type": "function", "function": {"name": "get_weather", "parameters": WEATHER_PARAMS, "strict": False}}
        ],
        "tool_choice": "auto",
        "parallel_tool_calls": True,
        "stream": True,
        "stream_options": {"include_usage": True},
        "seed": 7,
        "user": "alice@example.com",
        "presence_penalty": 0,
    }
    plan = chat_request(payload)
    assert plan == UpstreamRequest(
        body={
            "messages": [
                {"role": "system", "content": "You are a weather bot."},
                {"role": "user", "content": "What's the weather in Tokyo?", "name": "alice"},
            ],
            "max_tokens": 20480,
            "thinking": {"type": "enabled", "budget_tokens": 10240},
            "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": WEATHER_PARAMS}}],
            "tool_choice": "auto",
            "stream": True,
        },
        stream=True,
        include_usage=True,
    )


# --- completions ------------------------------------------------------------------------------------------------


def test_completion_request() -> None:
    payload = {
        "model": "databricks-mpt",
        "prompt": "Once upon a time",
        "max_tokens": 16,
        "suffix": "The end.",
        "echo": False,
        "logprobs": 2,
        "best_of": 1,
        "seed": 3,
        "user": "u",
        "frequency_penalty": 0.0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    plan = completion_request(payload)
    assert plan == UpstreamRequest(
        body={
            "prompt": "Once upon a time",
            "max_tokens": 16,
            "suffix": "The end.",
            "echo": False,
            "logprobs": 2,
            "stream": True,
        },
        stream=True,
        include_usage=True,
    )


def test_completion_request_refusals() -> None:
    with pytest.raises(UnsupportedParameterError) as caught:
        completion_request({"model": "m", "prompt": "x", "best_of": 3})
    assert caught.value.param == "best_of"
    with pytest.raises(InvalidRequestError) as streaming:
        completion_request({"model": "m", "prompt": "x", "stream": True, "n": 2})
    assert streaming.value.param == "n"
    assert {k for k, r in COMPLETIONS.items() if r.action is Action.REJECT} == {
        "presence_penalty",
        "frequency_penalty",
        "logit_bias",
        "best_of",
    }


# --- embeddings -------------------------------------------------------------------------------------------------


def test_embedding_request_float() -> None:
    plan = embedding_request(
        {
            "model": "databricks-bge-large-en",
            "input": ["Hello, world!", "How are you today?"],
            "encoding_format": "float",
        }
    )
    assert plan == UpstreamRequest(body={"input": ["Hello, world!", "How are you today?"]}, encoding_format="float")


def test_embedding_request_base64_is_served_locally() -> None:
    plan = embedding_request(
        {
            "model": "databricks-bge-large-en",
            "input": "Test user parameter",
            "encoding_format": "base64",
            "user": "test-user-123",
            "instruction": "Represent this sentence for searching relevant passages:",
        }
    )
    assert plan.body == {
        "input": "Test user parameter",
        "instruction": "Represent this sentence for searching relevant passages:",
    }
    assert plan.encoding_format == "base64"
    assert embedding_request({"model": "m", "input": "x", "encoding_format": None}).encoding_format == "float"


def test_embedding_dimensions_are_refused() -> None:
    with pytest.raises(UnsupportedParameterError) as caught:
        embedding_request({"model": "databricks-bge-large-en", "input": "x", "dimensions": 256})
    assert caught.value.param == "dimensions"
    assert error_body(caught.value)["error"]["param"] == "dimensions"
    assert embedding_request({"model": "m", "input": "x", "dimensions": None}).body == {"input": "x"}
    assert set(EMBEDDINGS) == {"model", "input", "instruction", "user", "encoding_format", "dimensions"}


# --- attribution ------------------------------------------------------------------------------------------------


def _attributed(body: dict[str, Any], request_id: str, caller: str | None) -> dict[str, Any]:
    """The body as invocations get it: the members ``take_attribution`` gives, added after the body's own."""
    fields = take_attribution(body, request_id, caller)
    merged: dict[str, Any] = orjson.loads(with_fields(orjson.dumps(body), last=fields))
    return merged


def test_attribution_with_a_caller() -> None:
    body: dict[str, Any] = {"messages": [USER_HI]}
    assert _attributed(body, "req-123", "alice@example.com") == {
        "messages": [USER_HI],
        "client_request_id": "req-123",
        "usage_context": {"end_user": "alice@example.com"},
    }


def test_only_the_proxys_attribution_goes_upstream() -> None:
    body: dict[str, Any] = {"client_request_id": "mine", "usage_context": {"project": "p1", "end_user": "bob"}}
    assert _attributed(body, "req-123", "alice") == {
        "client_request_id": "req-123",
        "usage_context": {"end_user": "alice"},
    }
    assert body == {}


def test_without_a_caller_no_usage_context_goes_upstream() -> None:
    for context in ({"end_user": "bob", "project": "p1"}, {"end_user": "bob"}, "junk"):
        assert _attributed({"usage_context": context}, "req-9", None) == {"client_request_id": "req-9"}
    assert _attributed({"usage_context": "junk"}, "req-9", "bob") == {
        "usage_context": {"end_user": "bob"},
        "client_request_id": "req-9",
    }


# --- endpoint names ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "databricks-meta-llama-3-3-70b-instruct",
        "databricks-claude-3-7-sonnet",
        "databricks-bge-large-en",
        "databricks-gpt-oss-120b",
        "my_endpoint_2",
        "a",
        "A" * 63,
    ],
)
def test_check_endpoint_name_accepts_real_names(name: str) -> None:
    assert check_endpoint_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "a" * 64,
        "../admin",
        "..",
        "a/b",
        "/etc",
        "%2e%2e",
        "a%2Fb",
        "my endpoint",
        " leading",
        "trailing\n",
        "tab\tname",
        "nul\x00",
        "system.ai.llama",
        "name?x=1",
        "name#frag",
        "\uff46\uff55\uff4c\uff4c",  # fullwidth letters
        "ünïcode",
    ],
)
def test_check_endpoint_name_refuses_anything_else(name: str) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        check_endpoint_name(name)
    assert caught.value.param == "model"
    assert caught.value.code == "invalid_model"
    assert caught.value.status == 400
