"""Where automatic cache breakpoints land on a chat pivot body (pure)."""

from __future__ import annotations

import copy
from typing import Any

from services.caching.breakpoints import (
    EPHEMERAL,
    MAX_BREAKPOINTS,
    has_breakpoints,
    with_breakpoints,
    without_breakpoints,
)

MARK = {"cache_control": EPHEMERAL}


def text(value: str, **extra: Any) -> dict[str, Any]:
    return {"type": "text", "text": value, **extra}


def agent_body() -> dict[str, Any]:
    return {
        "messages": [
            {"role": "system", "content": "You are a coding agent."},
            {"role": "user", "content": "Fix the bug."},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "read", "arguments": "{}"}}],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "def f(): pass"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "c2", "type": "function", "function": {"name": "test", "arguments": "{}"}}],
            },
            {"role": "tool", "tool_call_id": "c2", "content": "1 failed"},
        ],
        "tools": [{"type": "function", "function": {"name": "read", "parameters": {"type": "object"}}}],
        "max_tokens": 100,
    }


def test_system_end_previous_turn_end_and_final_message_are_marked() -> None:
    body = agent_body()
    marked = with_breakpoints(body)
    assert marked is not None
    assert marked["messages"] == [
        {"role": "system", "content": [text("You are a coding agent.", **MARK)]},
        body["messages"][1],
        body["messages"][2],
        {"role": "tool", "tool_call_id": "c1", "content": [text("def f(): pass", **MARK)]},
        body["messages"][4],
        {"role": "tool", "tool_call_id": "c2", "content": [text("1 failed", **MARK)]},
    ]
    assert marked["tools"] == body["tools"] and marked["max_tokens"] == 100


def test_the_client_body_is_not_changed() -> None:
    body = agent_body()
    before = copy.deepcopy(body)
    with_breakpoints(body)
    assert body == before


def test_first_turn_gets_system_and_final_message() -> None:
    body = {"messages": [{"role": "system", "content": "S"}, {"role": "user", "content": [text("a"), text("b")]}]}
    marked = with_breakpoints(body)
    assert marked is not None
    assert marked["messages"] == [
        {"role": "system", "content": [text("S", **MARK)]},
        {"role": "user", "content": [text("a"), text("b", **MARK)]},
    ]


def test_the_last_text_part_is_marked_not_an_image_after_it() -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}}
    body = {"messages": [{"role": "user", "content": [text("look"), image]}]}
    marked = with_breakpoints(body)
    assert marked is not None
    assert marked["messages"] == [{"role": "user", "content": [text("look", **MARK), image]}]


def test_assistant_turns_and_empty_texts_are_never_marked() -> None:
    body = {
        "messages": [
            {"role": "user", "content": ""},
            {"role": "assistant", "content": "Hello"},
        ]
    }
    assert with_breakpoints(body) is None


def test_a_client_breakpoint_leaves_the_request_as_sent() -> None:
    own = {"messages": [{"role": "system", "content": [text("S", cache_control={"type": "ephemeral", "ttl": "1h"})]}]}
    assert has_breakpoints(own) and with_breakpoints(own) is None
    top_level = {"cache_control": {"type": "ephemeral"}, "messages": [{"role": "user", "content": "Hi"}]}
    assert with_breakpoints(top_level) is None
    on_a_tool = {"messages": [{"role": "user", "content": "Hi"}], "tools": [{"type": "function", "cache_control": {}}]}
    assert with_breakpoints(on_a_tool) is None


def test_never_more_than_the_limit() -> None:
    for turns in range(0, 30):
        messages: list[dict[str, Any]] = [{"role": "system", "content": "S"}, {"role": "system", "content": "T"}]
        for turn in range(turns):
            messages += [{"role": "user", "content": f"q{turn}"}, {"role": "assistant", "content": f"a{turn}"}]
        messages.append({"role": "user", "content": "last"})
        marked = with_breakpoints({"messages": messages})
        assert marked is not None
        count = sum(
            1
            for message in marked["messages"]
            if isinstance(message["content"], list)
            for part in message["content"]
            if "cache_control" in part
        )
        assert 1 <= count <= min(3, MAX_BREAKPOINTS)


def test_without_breakpoints_removes_every_marker_and_nothing_else() -> None:
    body = {
        "cache_control": {"type": "ephemeral"},
        "messages": [
            {"role": "system", "content": [text("S", **MARK)]},
            {"role": "user", "content": "plain"},
            {"role": "tool", "tool_call_id": "c", "content": [text("out", **MARK), text("more")]},
        ],
        "tools": [{"type": "function", "function": {"name": "f"}, **MARK}],
    }
    before = copy.deepcopy(body)
    assert without_breakpoints(body) == {
        "messages": [
            {"role": "system", "content": [text("S")]},
            {"role": "user", "content": "plain"},
            {"role": "tool", "tool_call_id": "c", "content": [text("out"), text("more")]},
        ],
        "tools": [{"type": "function", "function": {"name": "f"}}],
    }
    assert body == before
