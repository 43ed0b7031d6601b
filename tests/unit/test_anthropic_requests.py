"""Messages requests -> chat pivot requests: exact bodies, per model family."""

from __future__ import annotations

from typing import Any

import pytest

from models.anthropic import MessagesRequest
from services.databricks.families import Kind, family_of
from services.dialects.anthropic.requests import to_chat
from services.errors import InvalidRequestError
from services.pivot.requests import chat_request

CLAUDE_37 = "databricks-claude-3-7-sonnet"
CLAUDE_46 = "databricks-claude-opus-4-6"
LLAMA = "databricks-meta-llama-3-3-70b-instruct"
GPT_OSS = "databricks-gpt-oss-120b"


def body(payload: dict[str, Any], endpoint: str = CLAUDE_37) -> dict[str, Any]:
    MessagesRequest.model_validate(payload)
    return to_chat(payload, family_of(endpoint)).body


def base(**extra: Any) -> dict[str, Any]:
    return {"model": "claude-sonnet-4-5", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}], **extra}


def test_minimal() -> None:
    assert body(base()) == {
        "model": "claude-sonnet-4-5",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 100,
    }


def test_sampling_stop_sequences_metadata_and_stream() -> None:
    payload = base(
        temperature=0.5,
        top_p=0.9,
        top_k=40,
        stop_sequences=["END"],
        metadata={"user_id": "u-1"},
        stream=True,
        service_tier="auto",
        context_management={"edits": []},
        some_future_field={"x": 1},
    )
    translation = to_chat(payload, family_of(LLAMA))
    assert translation.stream is True
    assert translation.body == {
        "model": "claude-sonnet-4-5",
        "messages": [{"role": "user", "content": "hi"}],
        "max_tokens": 100,
        "temperature": 0.5,
        "top_p": 0.9,
        "top_k": 40,
        "stop": ["END"],
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_system_blocks_and_mid_conversation_system_become_one_leading_system_message() -> None:
    payload = base(
        system=[
            {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1"},
            {"type": "text", "text": "You are helpful."},
            {"type": "text", "text": ""},
        ],
        messages=[
            {"role": "user", "content": "hi"},
            {"role": "system", "content": "Agents: none."},
        ],
    )
    assert body(payload, LLAMA)["messages"] == [
        {"role": "system", "content": "You are helpful.\n\nAgents: none."},
        {"role": "user", "content": "hi"},
    ]


def test_cache_control_is_carried_for_claude_and_dropped_elsewhere() -> None:
    cached = {"type": "ephemeral"}
    payload = base(
        system=[{"type": "text", "text": "Be brief.", "cache_control": cached}],
        messages=[
            {
                "role": "user",
                "content": [{"type": "text", "text": "ctx"}, {"type": "text", "text": "q", "cache_control": cached}],
            }
        ],
    )
    assert body(payload, CLAUDE_37)["messages"] == [
        {"role": "system", "content": [{"type": "text", "text": "Be brief.", "cache_control": cached}]},
        {
            "role": "user",
            "content": [{"type": "text", "text": "ctx"}, {"type": "text", "text": "q", "cache_control": cached}],
        },
    ]
    assert body(payload, LLAMA)["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "ctx"}, {"type": "text", "text": "q"}]},
    ]


def test_images_base64_and_url() -> None:
    payload = base(
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}},
                    {"type": "image", "source": {"type": "url", "url": "https://example.com/a.jpg"}},
                    {"type": "text", "text": "What are these?"},
                ],
            }
        ]
    )
    assert body(payload)["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
                {"type": "image_url", "image_url": {"url": "https://example.com/a.jpg"}},
                {"type": "text", "text": "What are these?"},
            ],
        }
    ]


def test_tool_round_trip_with_thinking_replayed_verbatim_for_claude() -> None:
    assistant = {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "Need weather.", "signature": "EqoBCkgIARAB+/=="},
            {"type": "redacted_thinking", "data": "ENCRYPTED"},
            {"type": "text", "text": ""},
            {"type": "text", "text": "Checking."},
            {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
        ],
    }
    user = {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "18C"}]},
            {"type": "tool_result", "tool_use_id": "toolu_2", "content": "boom", "is_error": True},
            {"type": "tool_result", "tool_use_id": "toolu_3"},
            {"type": "text", "text": "And tomorrow?"},
        ],
    }
    payload = base(
        messages=[{"role": "user", "content": "Weather in Paris?"}, assistant, user],
        tools=[
            {"name": "get_weather", "description": "Weather", "input_schema": {"type": "object", "properties": {}}},
            {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},
        ],
        tool_choice={"type": "auto", "disable_parallel_tool_use": True},
        thinking={"type": "enabled", "budget_tokens": 50},
    )
    translation = to_chat(payload, family_of(CLAUDE_37))
    assert translation.dropped == ("server tool web_search_20250305",)
    assert translation.thinking is True
    assert translation.body == {
        "model": "claude-sonnet-4-5",
        "messages": [
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "content": "Checking.",
                "tool_calls": [
                    {
                        "id": "toolu_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                    }
                ],
                "thinking_blocks": [
                    {"type": "thinking", "thinking": "Need weather.", "signature": "EqoBCkgIARAB+/=="},
                    {"type": "redacted_thinking", "data": "ENCRYPTED"},
                ],
            },
            {"role": "tool", "tool_call_id": "toolu_1", "content": "18C"},
            {"role": "tool", "tool_call_id": "toolu_2", "content": "boom"},
            {"role": "tool", "tool_call_id": "toolu_3", "content": "(no output)"},
            {"role": "user", "content": [{"type": "text", "text": "And tomorrow?"}]},
        ],
        "max_tokens": 100,
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "parameters": {"type": "object", "properties": {}},
                    "description": "Weather",
                },
            }
        ],
        "tool_choice": "auto",
        "thinking": {"type": "enabled", "budget_tokens": 50},
    }


def test_thinking_blocks_are_not_replayed_to_other_families() -> None:
    assistant = {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "t", "signature": "S"},
            {"type": "tool_use", "id": "call_1", "name": "f", "input": {}},
        ],
    }
    messages = body(base(messages=[{"role": "user", "content": "q"}, assistant]), LLAMA)["messages"]
    assert messages[1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
    }


def test_empty_assistant_turns_and_empty_text_blocks_are_dropped() -> None:
    """Databricks' Claude rejects empty text blocks."""
    payload = base(
        messages=[
            {"role": "user", "content": [{"type": "text", "text": ""}, {"type": "text", "text": "q"}]},
            {"role": "assistant", "content": [{"type": "text", "text": ""}]},
            {"role": "assistant", "content": ""},
            {"role": "user", "content": "again"},
        ]
    )
    assert body(payload)["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "q"}]},
        {"role": "user", "content": "again"},
    ]


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ({"type": "auto"}, "auto"),
        ({"type": "any"}, "required"),
        ({"type": "tool", "name": "f"}, {"type": "function", "function": {"name": "f"}}),
        ({"type": "none"}, "none"),
    ],
)
def test_tool_choice(choice: dict[str, Any], expected: Any) -> None:
    tools = [{"name": "f", "input_schema": {"type": "object"}}]
    assert body(base(tools=tools, tool_choice=choice), LLAMA)["tool_choice"] == expected


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        ({"type": "tool"}, "tool_choice.name: Field required"),
        ({"type": "tool", "name": ""}, "tool_choice.name: Field required"),
        (
            {"type": "tool", "name": "web_search"},
            "tool_choice.name: 'web_search' names none of the client tools in tools.",
        ),
    ],
)
def test_a_tool_choice_naming_no_tool_sent_is_a_400(choice: dict[str, Any], message: str) -> None:
    tools = [{"name": "f", "input_schema": {"type": "object"}}, {"type": "web_search_20250305", "name": "web_search"}]
    with pytest.raises(InvalidRequestError) as raised:
        body(base(tools=tools, tool_choice=choice), LLAMA)
    assert (raised.value.status, raised.value.message, raised.value.param) == (400, message, "tool_choice.name")


def test_tool_choice_without_tools_is_dropped() -> None:
    assert "tool_choice" not in body(base(tool_choice={"type": "any"}), LLAMA)


def test_unknown_blocks_are_dropped_and_reported() -> None:
    payload = base(
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "doc text"}},
                    {
                        "type": "document",
                        "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="},
                    },
                    {"type": "search_result", "source": "s", "title": "t", "content": []},
                ],
            },
            {
                "role": "assistant",
                "content": [{"type": "server_tool_use", "id": "s1", "name": "web_search", "input": {}}],
            },
        ]
    )
    translation = to_chat(payload, family_of(LLAMA))
    assert translation.body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "doc text"}]}]
    assert translation.dropped == ("document source base64", "search_result", "server_tool_use")


# ------------------------------------------------------------------------------------------------ thinking policy


@pytest.mark.parametrize(
    ("endpoint", "kind", "version", "adaptive"),
    [
        ("databricks-claude-3-7-sonnet", Kind.CLAUDE, (3, 7), False),
        ("databricks-claude-sonnet-4-5", Kind.CLAUDE, (4, 5), False),
        ("databricks-claude-sonnet-4", Kind.CLAUDE, (4, 0), False),
        ("databricks-claude-opus-4-6", Kind.CLAUDE, (4, 6), True),
        ("databricks-claude-opus-4-10", Kind.CLAUDE, (4, 10), True),
        ("databricks-gpt-oss-20b", Kind.GPT_OSS, (0, 0), False),
        ("databricks-meta-llama-3-3-70b-instruct", Kind.LLAMA, (3, 3), False),
    ],
)
def test_family(endpoint: str, kind: Kind, version: tuple[int, int], adaptive: bool) -> None:
    family = family_of(endpoint)
    assert (family.kind, family.version, family.adaptive) == (kind, version, adaptive)


def reasoning(endpoint: str, **extra: Any) -> dict[str, Any]:
    out = body(base(**extra), endpoint)
    return {k: v for k, v in out.items() if k in ("thinking", "output_config", "reasoning_effort", "response_format")}


def test_claude_adaptive_with_effort_on_the_newest_models() -> None:
    assert reasoning(
        CLAUDE_46, thinking={"type": "adaptive", "display": "summarized"}, output_config={"effort": "high"}
    ) == {
        "thinking": {"type": "adaptive"},
        "output_config": {"effort": "high"},
    }
    assert reasoning(CLAUDE_46, thinking={"type": "enabled", "budget_tokens": 50}) == {"thinking": {"type": "adaptive"}}
    assert reasoning(CLAUDE_46, thinking={"type": "disabled"}) == {}


def test_claude_adaptive_becomes_a_budget_on_older_models() -> None:
    assert reasoning(CLAUDE_37, max_tokens=64000, thinking={"type": "adaptive"}, output_config={"effort": "low"}) == {
        "thinking": {"type": "enabled", "budget_tokens": 4096}
    }
    assert reasoning(CLAUDE_37, max_tokens=64000, thinking={"type": "adaptive"}) == {
        "thinking": {"type": "enabled", "budget_tokens": 24576}
    }
    # the budget stays below max_tokens; too small a room for thinking means none
    assert reasoning(CLAUDE_37, max_tokens=5000, thinking={"type": "adaptive"}) == {
        "thinking": {"type": "enabled", "budget_tokens": 4999}
    }
    assert reasoning(CLAUDE_37, max_tokens=1000, thinking={"type": "adaptive"}) == {}


def test_claude_budget_must_be_below_max_tokens() -> None:
    with pytest.raises(InvalidRequestError) as caught:
        to_chat(base(max_tokens=100, thinking={"type": "enabled", "budget_tokens": 100}), family_of(CLAUDE_37))
    assert caught.value.param == "thinking.budget_tokens"


def test_gpt_oss_takes_reasoning_effort() -> None:
    assert reasoning(GPT_OSS, thinking={"type": "adaptive"}, output_config={"effort": "max"}) == {
        "reasoning_effort": "high"
    }
    assert reasoning(GPT_OSS, thinking={"type": "enabled", "budget_tokens": 2000}) == {"reasoning_effort": "low"}
    assert reasoning(GPT_OSS, thinking={"type": "enabled", "budget_tokens": 8000}) == {"reasoning_effort": "medium"}
    assert reasoning(GPT_OSS, thinking={"type": "adaptive"}) == {}
    assert reasoning(GPT_OSS, thinking={"type": "disabled"}, output_config={"effort": "low"}) == {}


def test_other_families_drop_thinking_and_effort_but_keep_a_json_schema() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}}
    assert reasoning(
        LLAMA,
        thinking={"type": "enabled", "budget_tokens": 50},
        output_config={"effort": "low", "format": {"type": "json_schema", "schema": schema}},
    ) == {"response_format": {"type": "json_schema", "json_schema": {"name": "output", "schema": schema}}}


def test_cache_control_reaches_the_databricks_body_for_claude() -> None:
    cached = {"type": "ephemeral"}
    payload = base(
        system=[{"type": "text", "text": "Be brief.", "cache_control": cached}],
        messages=[{"role": "user", "content": [{"type": "text", "text": "q", "cache_control": cached}]}],
    )
    assert chat_request(to_chat(payload, family_of(CLAUDE_37)).body).body["messages"] == [
        {"role": "system", "content": [{"type": "text", "text": "Be brief.", "cache_control": cached}]},
        {"role": "user", "content": [{"type": "text", "text": "q", "cache_control": cached}]},
    ]
    assert chat_request(to_chat(payload, family_of(LLAMA)).body).body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "q"},
    ]


def test_unsigned_thinking_is_not_replayed_to_claude() -> None:
    assistant = {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "from another model", "signature": ""},
            {"type": "text", "text": "answer"},
        ],
    }
    messages = body(base(messages=[{"role": "user", "content": "q"}, assistant]), CLAUDE_37)["messages"]
    assert messages[1] == {"role": "assistant", "content": "answer"}
