"""Thinking blocks in the chat pivot: Databricks reasoning parts exposed verbatim when asked, and replayed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from services.pivot.answers import chat_completion
from services.pivot.chunks import ChatStream
from services.pivot.requests import chat_request

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "databricks"
CLAUDE = "databricks-claude-3-7-sonnet"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def reasoning(*summaries: dict[str, Any]) -> dict[str, Any]:
    return {"type": "reasoning", "summary": list(summaries)}


MIXED_CONTENT = [
    reasoning({"type": "summary_text", "text": "First.", "signature": "sig-1"}),
    reasoning({"type": "summary_encrypted_text", "data": "opaque=="}),
    reasoning({"type": "summary_text", "text": "Second, no signature."}),
    {"type": "text", "text": "Answer."},
]


def answer_with(content: Any) -> dict[str, Any]:
    return {
        "id": "msg_1",
        "created": 1,
        "model": "claude",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
    }


def test_json_answer_exposes_reasoning_parts_in_order_with_signatures_verbatim() -> None:
    out = chat_completion(answer_with(MIXED_CONTENT), requested_model=CLAUDE, thinking_blocks=True)
    message = out["choices"][0]["message"]
    assert message == {
        "role": "assistant",
        "content": "Answer.",
        "refusal": None,
        "reasoning_content": "First.Second, no signature.",
        "thinking_blocks": [
            {"type": "thinking", "thinking": "First.", "signature": "sig-1"},
            {"type": "redacted_thinking", "data": "opaque=="},
            {"type": "thinking", "thinking": "Second, no signature.", "signature": ""},
        ],
    }


def test_json_answer_of_the_recorded_claude_fixture() -> None:
    data = fixture("chat_claude37_reasoning_nonstream")
    part = data["choices"][0]["message"]["content"][0]["summary"][0]
    out = chat_completion(data, requested_model=CLAUDE, thinking_blocks=True)
    assert out["choices"][0]["message"]["thinking_blocks"] == [
        {"type": "thinking", "thinking": part["text"], "signature": part["signature"]}
    ]


def test_json_answer_has_no_thinking_blocks_unless_asked_or_present() -> None:
    assert (
        "thinking_blocks"
        not in chat_completion(answer_with(MIXED_CONTENT), requested_model=CLAUDE)["choices"][0]["message"]
    )
    plain = chat_completion(answer_with("Hi"), requested_model=CLAUDE, thinking_blocks=True)
    assert "thinking_blocks" not in plain["choices"][0]["message"]


def chunk(content: Any, finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "msg_1",
        "created": 1,
        "model": "claude",
        "object": "chat.completion.chunk",
        "choices": [{"index": 0, "delta": {"role": "assistant", "content": content}, "finish_reason": finish}],
    }


def test_stream_exposes_each_chunks_reasoning_parts() -> None:
    stream = ChatStream(CLAUDE, thinking_blocks=True)
    deltas = [
        out["choices"][0]["delta"]
        for raw in (
            chunk([reasoning({"type": "summary_text", "text": "Let me", "signature": ""})]),
            chunk([reasoning({"type": "summary_text", "text": "", "signature": "ErcB-final"})]),
            chunk([reasoning({"type": "summary_encrypted_text", "data": "secret=="})]),
            chunk("Done."),
            chunk("", "stop"),
        )
        for out in stream.feed(raw)
    ]
    assert deltas == [
        {
            "role": "assistant",
            "content": "",
            "reasoning_content": "Let me",
            "thinking_blocks": [{"type": "thinking", "thinking": "Let me", "signature": ""}],
        },
        {"thinking_blocks": [{"type": "thinking", "thinking": "", "signature": "ErcB-final"}]},
        {"thinking_blocks": [{"type": "redacted_thinking", "data": "secret=="}]},
        {"content": "Done."},
        {},
    ]


def test_stream_without_thinking_blocks_is_unchanged() -> None:
    stream = ChatStream(CLAUDE)
    outs = [
        out
        for raw in (
            chunk([reasoning({"type": "summary_text", "text": "Hmm", "signature": ""})]),
            chunk([reasoning({"type": "summary_text", "text": "", "signature": "ErcB-final"})]),
            chunk([reasoning({"type": "summary_encrypted_text", "data": "secret=="})]),
        )
        for out in stream.feed(raw)
    ]
    assert [out["choices"][0]["delta"] for out in outs] == [
        {"role": "assistant", "content": "", "reasoning_content": "Hmm"}
    ]


def test_recorded_claude_stream_chunk() -> None:
    raw = fixture("chat_claude37_reasoning_stream_chunk")
    text = raw["choices"][0]["delta"]["content"][0]["summary"][0]["text"]
    [out] = ChatStream(CLAUDE, thinking_blocks=True).feed(raw)
    assert out["choices"][0]["delta"]["thinking_blocks"] == [{"type": "thinking", "thinking": text, "signature": ""}]


def test_request_replays_thinking_and_redacted_thinking_in_order_before_the_text() -> None:
    plan = chat_request(
        {
            "model": CLAUDE,
            "messages": [
                {"role": "user", "content": "Q"},
                {
                    "role": "assistant",
                    "content": "A",
                    "thinking_blocks": [
                        {"type": "thinking", "thinking": "T1", "signature": "s1"},
                        {"type": "redacted_thinking", "data": "R=="},
                        {"type": "thinking", "thinking": "T2", "signature": "s2"},
                    ],
                },
                {"role": "user", "content": "Q2"},
            ],
        }
    )
    assert plan.body["messages"][1] == {
        "role": "assistant",
        "content": [
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "T1", "signature": "s1"}]},
            {"type": "reasoning", "summary": [{"type": "summary_encrypted_text", "data": "R=="}]},
            {"type": "reasoning", "summary": [{"type": "summary_text", "text": "T2", "signature": "s2"}]},
            {"type": "text", "text": "A"},
        ],
    }


def test_json_thinking_blocks_round_trip_into_the_next_request() -> None:
    out = chat_completion(answer_with(MIXED_CONTENT), requested_model=CLAUDE, thinking_blocks=True)
    message = out["choices"][0]["message"]
    plan = chat_request({"model": CLAUDE, "messages": [{"role": "user", "content": "Q"}, message]})
    replayed = plan.body["messages"][1]["content"]
    assert replayed[:3] == [
        reasoning({"type": "summary_text", "text": "First.", "signature": "sig-1"}),
        reasoning({"type": "summary_encrypted_text", "data": "opaque=="}),
        reasoning({"type": "summary_text", "text": "Second, no signature."}),
    ]
    assert replayed[3] == {"type": "text", "text": "Answer."}
