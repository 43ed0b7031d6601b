"""Chat pivot chunks -> Responses stream events: exact transcripts, every event in order."""

from __future__ import annotations

from typing import Any

from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter

from models.responses import ResponseEvent
from services.databricks.families import family_of
from services.dialects.responses import ResponsesStream, to_chat
from services.dialects.responses.common import Ids
from services.dialects.responses.reasoning import decode, encode
from services.errors import APIError, InvalidRequestError, RateLimitError

MODEL = "databricks-meta-llama-3-3-70b-instruct"
CLAUDE = "databricks-claude-3-7-sonnet"
SERVED = "served-model-1"
_EVENTS: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)
USAGE = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
RESPONSES_USAGE = {
    "input_tokens": 5,
    "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
    "output_tokens": 3,
    "output_tokens_details": {"reasoning_tokens": 0},
    "total_tokens": 8,
}


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None) -> dict[str, Any]:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": SERVED,
        "choices": choices,
        "usage": None,
    }


def usage_chunk(usage: dict[str, Any] = USAGE) -> dict[str, Any]:
    return {**chunk(), "usage": usage}


def run(payload: dict[str, Any], chunks: list[dict[str, Any]], endpoint: str = MODEL) -> list[dict[str, Any]]:
    stream = ResponsesStream(to_chat({"stream": True, **payload}, family_of(endpoint)), Ids("t"))
    events: list[dict[str, Any]] = []
    for item in chunks:
        events.extend(stream.feed(item))
    events.extend(stream.finish())
    check(events)
    return events


def check(events: list[dict[str, Any]]) -> None:
    """SDK and our own models accept every event; the invariants clients rely on hold."""
    for event in events:
        _EVENTS.validate_python(event)
        ResponseEvent.model_validate(event)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert [e["type"] for e in events[:2]] == ["response.created", "response.in_progress"]
    added: dict[int, str] = {}
    done: dict[int, dict[str, Any]] = {}
    for event in events:
        if event["type"] == "response.output_item.added":
            assert event["output_index"] == len(added), "dense output_index in emission order"
            added[event["output_index"]] = event["item"]["id"]
        elif event["type"] == "response.output_item.done":
            done[event["output_index"]] = event["item"]
        elif "item_id" in event:
            assert added.get(event["output_index"]) == event["item_id"], "added before any delta, same id"
            assert event["output_index"] not in done, "no delta after the item is done"
    last = events[-1]
    if last["type"] == "response.failed":  # every announced item: the finished ones as they were, others incomplete
        output = last["response"]["output"]
        assert [item["id"] for item in output] == [added[i] for i in range(len(added))]
        for index, item in enumerate(output):
            assert item == done[index] if index in done else item["status"] == "incomplete"
    if last["type"] in ("response.completed", "response.incomplete"):
        Response.model_validate(last["response"])
        assert last["response"]["output"] == [done[i] for i in range(len(done))]
        assert sorted(done) == sorted(added)


def response(status: str, output: list[dict[str, Any]], usage: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    return {
        "id": "resp_t",
        "object": "response",
        "created_at": 1700000000,
        "status": status,
        "background": False,
        "error": extra.get("error"),
        "incomplete_details": extra.get("incomplete_details"),
        "instructions": extra.get("instructions"),
        "max_output_tokens": extra.get("max_output_tokens"),
        "model": SERVED,
        "output": output,
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "store": False,
        "temperature": None,
        "text": {"format": {"type": "text"}},
        "tool_choice": extra.get("tool_choice", "auto"),
        "tools": extra.get("tools", []),
        "top_p": None,
        "truncation": "disabled",
        "usage": usage,
        "metadata": {},
        "max_tool_calls": None,
        "prompt_cache_key": None,
        "prompt_cache_retention": None,
        "safety_identifier": None,
        "service_tier": "default",
        "top_logprobs": None,
        "user": None,
    }


def opening(**extra: Any) -> list[dict[str, Any]]:
    return [
        {"type": "response.created", "response": response("in_progress", [], None, **extra), "sequence_number": 0},
        {"type": "response.in_progress", "response": response("in_progress", [], None, **extra), "sequence_number": 1},
    ]


def text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def message(item_id: str, text: str | None, status: str = "completed") -> dict[str, Any]:
    content = [] if text is None else [text_part(text)]
    return {"type": "message", "id": item_id, "role": "assistant", "status": status, "content": content}


def test_text_stream_transcript() -> None:
    events = run(
        {"model": MODEL, "input": "hi"},
        [
            chunk({"role": "assistant", "content": ""}),
            chunk({"content": "Hel"}),
            chunk({"content": "lo"}),
            chunk({}, "stop"),
            usage_chunk(),
        ],
    )
    final = message("msg_t1", "Hello")
    assert events == [
        *opening(),
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": message("msg_t1", None, "in_progress"),
            "sequence_number": 2,
        },
        {
            "type": "response.content_part.added",
            "item_id": "msg_t1",
            "output_index": 0,
            "content_index": 0,
            "part": text_part(""),
            "sequence_number": 3,
        },
        {
            "type": "response.output_text.delta",
            "sequence_number": 4,
            "item_id": "msg_t1",
            "output_index": 0,
            "content_index": 0,
            "delta": "Hel",
            "logprobs": [],
        },
        {
            "type": "response.output_text.delta",
            "sequence_number": 5,
            "item_id": "msg_t1",
            "output_index": 0,
            "content_index": 0,
            "delta": "lo",
            "logprobs": [],
        },
        {
            "type": "response.output_text.done",
            "item_id": "msg_t1",
            "output_index": 0,
            "content_index": 0,
            "text": "Hello",
            "logprobs": [],
            "sequence_number": 6,
        },
        {
            "type": "response.content_part.done",
            "item_id": "msg_t1",
            "output_index": 0,
            "content_index": 0,
            "part": text_part("Hello"),
            "sequence_number": 7,
        },
        {"type": "response.output_item.done", "output_index": 0, "item": final, "sequence_number": 8},
        {
            "type": "response.completed",
            "response": response("completed", [final], RESPONSES_USAGE),
            "sequence_number": 9,
        },
    ]


TOOL = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def test_tool_call_stream_transcript_with_databricks_trailing_repeat_dropped_by_the_pivot() -> None:
    events = run(
        {"model": MODEL, "input": "weather?", "tools": [TOOL]},
        [
            chunk(
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "call_9",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": ""},
                        }
                    ],
                }
            ),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city":'}}]}),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": ' "Paris"}'}}]}, "tool_calls"),
            usage_chunk(),
        ],
    )
    args = '{"city": "Paris"}'
    added = {
        "type": "function_call",
        "id": "fc_t1",
        "call_id": "call_9",
        "name": "get_weather",
        "arguments": "",
        "status": "in_progress",
    }
    final = {**added, "arguments": args, "status": "completed"}
    assert events == [
        *opening(tools=[TOOL]),
        {"type": "response.output_item.added", "output_index": 0, "item": added, "sequence_number": 2},
        {
            "type": "response.function_call_arguments.delta",
            "item_id": "fc_t1",
            "output_index": 0,
            "delta": '{"city":',
            "sequence_number": 3,
        },
        {
            "type": "response.function_call_arguments.delta",
            "item_id": "fc_t1",
            "output_index": 0,
            "delta": ' "Paris"}',
            "sequence_number": 4,
        },
        {
            "type": "response.function_call_arguments.done",
            "item_id": "fc_t1",
            "output_index": 0,
            "arguments": args,
            "name": "get_weather",
            "sequence_number": 5,
        },
        {"type": "response.output_item.done", "output_index": 0, "item": final, "sequence_number": 6},
        {
            "type": "response.completed",
            "response": response("completed", [final], RESPONSES_USAGE, tools=[TOOL]),
            "sequence_number": 7,
        },
    ]


def test_text_then_two_tool_calls_get_dense_indexes_and_stable_ids() -> None:
    events = run(
        {"model": MODEL, "input": "x", "tools": [TOOL]},
        [
            chunk({"role": "assistant", "content": "Checking."}),
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "call_a",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city":"A"}'},
                        }
                    ]
                }
            ),
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": 1,
                            "id": "call_b",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": '{"city":"B"}'},
                        }
                    ]
                },
                "tool_calls",
            ),
            usage_chunk(),
        ],
    )
    assert [(e["type"], e.get("output_index")) for e in events] == [
        ("response.created", None),
        ("response.in_progress", None),
        ("response.output_item.added", 0),
        ("response.content_part.added", 0),
        ("response.output_text.delta", 0),
        ("response.output_text.done", 0),
        ("response.content_part.done", 0),
        ("response.output_item.done", 0),
        ("response.output_item.added", 1),
        ("response.function_call_arguments.delta", 1),
        ("response.output_item.added", 2),
        ("response.function_call_arguments.delta", 2),
        ("response.function_call_arguments.done", 1),
        ("response.output_item.done", 1),
        ("response.function_call_arguments.done", 2),
        ("response.output_item.done", 2),
        ("response.completed", None),
    ]
    output = events[-1]["response"]["output"]
    assert [(o["id"], o.get("call_id")) for o in output] == [("msg_t1", None), ("fc_t2", "call_a"), ("fc_t3", "call_b")]


def test_reasoning_stream_transcript_and_signature_round_trip() -> None:
    events = run(
        {"model": CLAUDE, "input": "why?"},
        [
            chunk(
                {
                    "role": "assistant",
                    "content": "",
                    "reasoning_content": "Thinking ",
                    "thinking_blocks": [{"type": "thinking", "thinking": "Thinking ", "signature": ""}],
                }
            ),
            chunk(
                {
                    "reasoning_content": "hard",
                    "thinking_blocks": [{"type": "thinking", "thinking": "hard", "signature": ""}],
                }
            ),
            chunk({"thinking_blocks": [{"type": "thinking", "thinking": "", "signature": "EqQBsig=="}]}),
            chunk({"thinking_blocks": [{"type": "redacted_thinking", "data": "REDACTED"}]}),
            chunk({"content": "Because."}),
            chunk({"content": ""}, "stop"),
            usage_chunk(),
        ],
        endpoint=CLAUDE,
    )
    blocks = [
        {"type": "thinking", "thinking": "Thinking hard", "signature": "EqQBsig=="},
        {"type": "redacted_thinking", "data": "REDACTED"},
    ]
    summary_base = {"item_id": "rs_t1", "output_index": 0, "summary_index": 0}
    reasoning_final = {
        "type": "reasoning",
        "id": "rs_t1",
        "summary": [{"type": "summary_text", "text": "Thinking hard"}],
        "encrypted_content": encode(blocks),
        "status": "completed",
    }
    text_final = message("msg_t2", "Because.")
    assert events == [
        *opening(),
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": {"type": "reasoning", "id": "rs_t1", "summary": [], "status": "in_progress"},
            "sequence_number": 2,
        },
        {
            "type": "response.reasoning_summary_part.added",
            **summary_base,
            "part": {"type": "summary_text", "text": ""},
            "sequence_number": 3,
        },
        {"type": "response.reasoning_summary_text.delta", **summary_base, "delta": "Thinking ", "sequence_number": 4},
        {"type": "response.reasoning_summary_text.delta", **summary_base, "delta": "hard", "sequence_number": 5},
        {"type": "response.reasoning_summary_text.done", **summary_base, "text": "Thinking hard", "sequence_number": 6},
        {
            "type": "response.reasoning_summary_part.done",
            **summary_base,
            "part": {"type": "summary_text", "text": "Thinking hard"},
            "sequence_number": 7,
        },
        {"type": "response.output_item.done", "output_index": 0, "item": reasoning_final, "sequence_number": 8},
        {
            "type": "response.output_item.added",
            "output_index": 1,
            "item": message("msg_t2", None, "in_progress"),
            "sequence_number": 9,
        },
        {
            "type": "response.content_part.added",
            "item_id": "msg_t2",
            "output_index": 1,
            "content_index": 0,
            "part": text_part(""),
            "sequence_number": 10,
        },
        {
            "type": "response.output_text.delta",
            "sequence_number": 11,
            "item_id": "msg_t2",
            "output_index": 1,
            "content_index": 0,
            "delta": "Because.",
            "logprobs": [],
        },
        {
            "type": "response.output_text.done",
            "item_id": "msg_t2",
            "output_index": 1,
            "content_index": 0,
            "text": "Because.",
            "logprobs": [],
            "sequence_number": 12,
        },
        {
            "type": "response.content_part.done",
            "item_id": "msg_t2",
            "output_index": 1,
            "content_index": 0,
            "part": text_part("Because."),
            "sequence_number": 13,
        },
        {"type": "response.output_item.done", "output_index": 1, "item": text_final, "sequence_number": 14},
        {
            "type": "response.completed",
            "response": response("completed", [reasoning_final, text_final], RESPONSES_USAGE),
            "sequence_number": 15,
        },
    ]
    # Sent back as input, the item reaches the chat pivot as the same blocks, signature verbatim, in order.
    replay = to_chat(
        {
            "model": CLAUDE,
            "input": [
                {"role": "user", "content": "why?"},
                reasoning_final,
                text_final,
                {"role": "user", "content": "and?"},
            ],
        },
        family_of(CLAUDE),
    )
    assert replay.chat["messages"] == [
        {"role": "user", "content": "why?"},
        {"role": "assistant", "content": "Because.", "thinking_blocks": blocks},
        {"role": "user", "content": "and?"},
    ]
    assert decode(reasoning_final["encrypted_content"], "p") == blocks


def test_reasoning_without_signatures_from_reasoning_content_only() -> None:
    events = run(
        {"model": "databricks-gpt-oss-120b", "input": "q"},
        [
            chunk({"role": "assistant", "content": "", "reasoning_content": "Hmm"}),
            chunk({"content": "A"}, "stop"),
            usage_chunk(),
        ],
    )
    output = events[-1]["response"]["output"]
    assert output[0]["summary"] == [{"type": "summary_text", "text": "Hmm"}]
    assert decode(output[0]["encrypted_content"], "p") == [{"type": "thinking", "thinking": "Hmm", "signature": ""}]
    assert output[1]["content"][0]["text"] == "A"


def test_length_finish_is_incomplete_with_its_reason() -> None:
    events = run(
        {"model": MODEL, "input": "long", "max_output_tokens": 2},
        [chunk({"role": "assistant", "content": "Echo:"}), chunk({"content": " long"}, "length"), usage_chunk()],
    )
    final = message("msg_t1", "Echo: long", "incomplete")
    assert events[-1] == {
        "type": "response.incomplete",
        "response": response(
            "incomplete",
            [final],
            RESPONSES_USAGE,
            incomplete_details={"reason": "max_output_tokens"},
            max_output_tokens=2,
        ),
        "sequence_number": 9,
    }
    assert events[-2] == {"type": "response.output_item.done", "output_index": 0, "item": final, "sequence_number": 8}


def test_length_finish_marks_only_the_item_being_written_incomplete() -> None:
    events = run(
        {"model": MODEL, "input": "x", "tools": [TOOL]},
        [
            chunk({"role": "assistant", "reasoning_content": "Hmm"}),
            chunk({"content": "Calling."}),
            chunk(
                {"tool_calls": [{"index": 0, "id": "call_1", "function": {"name": "get_weather", "arguments": "{}"}}]}
            ),
            chunk(
                {"tool_calls": [{"index": 1, "id": "call_2", "function": {"name": "get_weather", "arguments": '{"ci'}}]}
            ),
            chunk({}, "length"),
        ],
    )
    done = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    assert [(item["id"], item["status"]) for item in done] == [
        ("rs_t1", "completed"),
        ("msg_t2", "completed"),
        ("fc_t3", "completed"),
        ("fc_t4", "incomplete"),
    ]
    assert done[3]["arguments"] == '{"ci'
    assert events[-1]["type"] == "response.incomplete" and events[-1]["response"]["output"] == done


def test_content_filter_finish_is_incomplete() -> None:
    events = run({"model": MODEL, "input": "x"}, [chunk({"role": "assistant", "content": "a"}, "content_filter")])
    assert events[-1]["response"]["incomplete_details"] == {"reason": "content_filter"}
    assert events[-1]["response"]["usage"]["total_tokens"] == 0  # no usage sent: zeros, never null


def test_mid_stream_failure_transcript() -> None:
    stream = ResponsesStream(to_chat({"model": MODEL, "input": "x", "stream": True}, family_of(MODEL)), Ids("t"))
    events = stream.feed(chunk({"role": "assistant", "content": "Par"}))
    events += stream.fail(RateLimitError("Too many requests.", headers={"Retry-After": "7"}))
    check(events)
    assert events[2:] == [
        {
            "type": "response.output_item.added",
            "output_index": 0,
            "item": message("msg_t1", None, "in_progress"),
            "sequence_number": 2,
        },
        {
            "type": "response.content_part.added",
            "item_id": "msg_t1",
            "output_index": 0,
            "content_index": 0,
            "part": text_part(""),
            "sequence_number": 3,
        },
        {
            "type": "response.output_text.delta",
            "sequence_number": 4,
            "item_id": "msg_t1",
            "output_index": 0,
            "content_index": 0,
            "delta": "Par",
            "logprobs": [],
        },
        {
            "type": "response.failed",
            "response": response(
                "failed",
                [message("msg_t1", "Par", "incomplete")],
                {**RESPONSES_USAGE, "input_tokens": 0, "output_tokens": 0, "total_tokens": 0},
                error={"code": "rate_limit_exceeded", "message": "Too many requests. Please try again in 7s."},
            ),
            "sequence_number": 5,
        },
    ]


def test_failure_keeps_every_announced_item_with_what_it_had() -> None:
    stream = ResponsesStream(
        to_chat({"model": MODEL, "input": "x", "tools": [TOOL], "stream": True}, family_of(MODEL)), Ids("t")
    )
    events = stream.feed(chunk({"role": "assistant", "reasoning_content": "Hmm"}))
    events += stream.feed(chunk({"content": "Calling."}))
    events += stream.feed(
        chunk({"tool_calls": [{"index": 0, "id": "call_1", "function": {"name": "get_weather", "arguments": '{"a'}}]})
    )
    events += stream.feed(
        chunk({"tool_calls": [{"index": 1, "id": "call_2", "function": {"name": "get_weather", "arguments": "{}"}}]})
    )
    events += stream.fail(APIError("Databricks closed the stream.", status=502))
    check(events)
    assert events[-1]["response"]["output"] == [
        {
            "type": "reasoning",
            "id": "rs_t1",
            "summary": [{"type": "summary_text", "text": "Hmm"}],
            "encrypted_content": encode([{"type": "thinking", "thinking": "Hmm", "signature": ""}]),
            "status": "completed",
        },
        message("msg_t2", "Calling."),
        {
            "type": "function_call",
            "id": "fc_t3",
            "call_id": "call_1",
            "name": "get_weather",
            "arguments": '{"a',
            "status": "incomplete",
        },
        {  # its held-back "{}" was never sent
            "type": "function_call",
            "id": "fc_t4",
            "call_id": "call_2",
            "name": "get_weather",
            "arguments": "",
            "status": "incomplete",
        },
    ]


def test_failure_while_reasoning_keeps_the_summary_so_far() -> None:
    stream = ResponsesStream(to_chat({"model": CLAUDE, "input": "x", "stream": True}, family_of(CLAUDE)), Ids("t"))
    events = stream.feed(
        chunk({"role": "assistant", "thinking_blocks": [{"type": "thinking", "thinking": "Let", "signature": ""}]})
    )
    events += stream.feed(chunk({"thinking_blocks": [{"type": "thinking", "thinking": " me", "signature": ""}]}))
    events += stream.fail(APIError("Databricks closed the stream.", status=502))
    check(events)
    assert events[-1]["response"]["output"] == [
        {
            "type": "reasoning",
            "id": "rs_t1",
            "summary": [{"type": "summary_text", "text": "Let me"}],
            "encrypted_content": encode([{"type": "thinking", "thinking": "Let me", "signature": ""}]),
            "status": "incomplete",
        }
    ]


def test_failure_codes_codex_acts_on() -> None:
    def code(error: Exception) -> str:
        stream = ResponsesStream(to_chat({"model": MODEL, "input": "x", "stream": True}, family_of(MODEL)), Ids("t"))
        return str(stream.fail(error)[-1]["response"]["error"]["code"])  # type: ignore[arg-type]

    assert code(APIError("Databricks is overloaded.", status=503)) == "server_is_overloaded"
    assert code(InvalidRequestError("This model's maximum context length is 8192 tokens.")) == "context_length_exceeded"
    assert code(InvalidRequestError("Bad tool schema.")) == "invalid_prompt"
    assert code(APIError("Databricks sent a malformed stream event.", status=502)) == "server_error"


def test_failure_before_any_chunk_still_opens_the_response() -> None:
    stream = ResponsesStream(to_chat({"model": MODEL, "input": "x", "stream": True}, family_of(MODEL)), Ids("t"))
    events = stream.fail(APIError("gone", status=502))
    check(events)
    assert [e["type"] for e in events] == ["response.created", "response.in_progress", "response.failed"]


def test_claude_arguments_sent_first_as_empty_object_are_not_concatenated() -> None:
    events = run(
        {"model": CLAUDE, "input": "x", "tools": [TOOL]},
        [
            chunk(
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "toolu_1",
                            "type": "function",
                            "function": {"name": "get_weather", "arguments": "{}"},
                        }
                    ],
                }
            ),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city": "Oslo"}'}}]}, "tool_calls"),
        ],
        endpoint=CLAUDE,
    )
    deltas = [e["delta"] for e in events if e["type"] == "response.function_call_arguments.delta"]
    assert deltas == ['{"city": "Oslo"}']
    assert events[-1]["response"]["output"][0]["arguments"] == '{"city": "Oslo"}'


def test_a_call_without_arguments_gets_an_empty_json_object() -> None:
    for first in ("", "{}"):
        events = run(
            {"model": MODEL, "input": "x", "tools": [TOOL]},
            [
                chunk(
                    {
                        "role": "assistant",
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": "c",
                                "type": "function",
                                "function": {"name": "get_weather", "arguments": first},
                            }
                        ],
                    },
                    "tool_calls",
                )
            ],
        )
        deltas = [e["delta"] for e in events if e["type"] == "response.function_call_arguments.delta"]
        assert deltas == ["{}"]
        assert events[-1]["response"]["output"][0]["arguments"] == "{}"


def test_custom_and_namespaced_tools_come_back_in_their_own_shapes() -> None:
    tools = [
        {
            "type": "custom",
            "name": "apply_patch",
            "description": "Patch files",
            "format": {"type": "grammar", "syntax": "lark", "definition": "start: /.+/"},
        },
        {
            "type": "namespace",
            "name": "agents",
            "description": "Sub-agents",
            "tools": [{"type": "function", "name": "spawn", "parameters": {"type": "object"}}],
        },
    ]
    events = run(
        {"model": MODEL, "input": "x", "tools": tools},
        [
            chunk(
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "apply_patch", "arguments": '{"input": "*** Begin Patch"}'},
                        }
                    ],
                }
            ),
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": 1,
                            "id": "c2",
                            "type": "function",
                            "function": {"name": "agents__spawn", "arguments": "{}"},
                        }
                    ]
                },
                "tool_calls",
            ),
        ],
    )
    custom_base = {"item_id": "ctc_t1", "output_index": 0}
    assert {
        "type": "response.custom_tool_call_input.delta",
        **custom_base,
        "delta": "*** Begin Patch",
        "sequence_number": 4,
    } in events
    assert {
        "type": "response.custom_tool_call_input.done",
        **custom_base,
        "input": "*** Begin Patch",
        "sequence_number": 5,
    } in events
    assert not [
        e for e in events if e["type"].startswith("response.function_call_arguments") and e["item_id"] == "ctc_t1"
    ]
    assert events[-1]["response"]["output"] == [
        {
            "type": "custom_tool_call",
            "id": "ctc_t1",
            "call_id": "c1",
            "name": "apply_patch",
            "input": "*** Begin Patch",
            "status": "completed",
        },
        {
            "type": "function_call",
            "id": "fc_t2",
            "call_id": "c2",
            "name": "spawn",
            "arguments": "{}",
            "status": "completed",
            "namespace": "agents",
        },
    ]


def test_empty_stream_still_completes() -> None:
    events = run({"model": MODEL, "input": "x"}, [])
    assert [e["type"] for e in events] == ["response.created", "response.in_progress", "response.completed"]
    assert events[-1]["response"]["model"] == MODEL
