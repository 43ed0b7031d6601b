"""Chat pivot answer and chunks -> Gemini GenerateContentResponse and stream chunks (pure)."""

from __future__ import annotations

from typing import Any

from services.dialects.gemini import signatures
from services.dialects.gemini.answers import generate_content_response
from services.dialects.gemini.errors import error_body, google_status
from services.dialects.gemini.model_ids import endpoint_for, model_list
from services.dialects.gemini.stream import ContentStream
from services.errors import RateLimitError

BLOCK = {"type": "thinking", "thinking": "Hmm.", "signature": "Sig+/="}


def test_answer_with_thinking_text_and_call() -> None:
    answer = {
        "id": "chatcmpl-1",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "Let me look.",
                    "thinking_blocks": [BLOCK],
                    "tool_calls": [
                        {"id": "toolu_1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}
                    ],
                },
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {
            "prompt_tokens": 10,
            "completion_tokens": 7,
            "total_tokens": 17,
            "completion_tokens_details": {"reasoning_tokens": 2},
            "prompt_tokens_details": {"cached_tokens": 4},
        },
    }
    signature = signatures.encode([BLOCK])
    assert generate_content_response(answer, model="gemini-2.5-pro", thoughts=True) == {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [
                        {"text": "Hmm.", "thought": True},
                        {"text": "Let me look."},
                        {
                            "functionCall": {"id": "toolu_1", "name": "f", "args": {"a": 1}},
                            "thoughtSignature": signature,
                        },
                    ],
                },
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": 10,
            "candidatesTokenCount": 5,
            "totalTokenCount": 17,
            "thoughtsTokenCount": 2,
            "cachedContentTokenCount": 4,
        },
        "modelVersion": "gemini-2.5-pro",
        "responseId": "chatcmpl-1",
    }
    hidden = generate_content_response(answer, model="m", thoughts=False)["candidates"][0]["content"]["parts"]
    assert [p.get("thought") for p in hidden] == [None, None]  # no thought text, the signature still travels
    assert signatures.decode(hidden[1]["thoughtSignature"]) == [BLOCK]


def test_finish_reasons() -> None:
    for finish, reason in (("length", "MAX_TOKENS"), ("content_filter", "SAFETY"), ("stop", "STOP"), ("x", "OTHER")):
        answer = {"choices": [{"message": {"content": "a"}, "finish_reason": finish}]}
        assert generate_content_response(answer, model="m", thoughts=False)["candidates"][0]["finishReason"] == reason


def chunk(delta: dict[str, Any], finish: str | None = None, usage: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"id": "c1", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], "usage": usage}


def test_stream_chunks() -> None:
    stream = ContentStream("gemini-2.5-pro", thoughts=True)
    events = stream.feed(chunk({"thinking_blocks": [{"type": "thinking", "thinking": "Hmm."}]}))
    events += stream.feed(chunk({"thinking_blocks": [{"type": "thinking", "thinking": "", "signature": "Sig+/="}]}))
    events += stream.feed(chunk({"content": "Hi"}))
    events += stream.feed(chunk({"tool_calls": [{"index": 0, "id": "t1", "function": {"name": "f", "arguments": ""}}]}))
    events += stream.feed(chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"a":'}}]}))
    events += stream.feed(chunk({"tool_calls": [{"index": 0, "function": {"arguments": "2}"}}]}, "tool_calls"))
    events += stream.feed(chunk({}, usage={"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}))
    events += stream.finish()
    parts = [e["candidates"][0]["content"]["parts"] for e in events]
    assert parts == [
        [{"text": "Hmm.", "thought": True}],
        [{"text": "Hi", "thoughtSignature": signatures.encode([BLOCK])}],
        [{"functionCall": {"id": "t1", "name": "f", "args": {"a": 2}}}],
    ]
    assert events[-1]["candidates"][0]["finishReason"] == "STOP"
    assert events[-1]["usageMetadata"] == {"promptTokenCount": 3, "candidatesTokenCount": 4, "totalTokenCount": 7}
    assert all(e["responseId"] == "c1" and e["modelVersion"] == "gemini-2.5-pro" for e in events)
    assert "finishReason" not in events[0]["candidates"][0]


def test_errors_and_statuses() -> None:
    error = RateLimitError("slow down", headers={"Retry-After": "3"})
    assert error_body(error) == {"error": {"code": 429, "message": "slow down", "status": "RESOURCE_EXHAUSTED"}}
    assert [google_status(s) for s in (400, 401, 403, 404, 500, 502, 503, 504)] == [
        "INVALID_ARGUMENT",
        "UNAUTHENTICATED",
        "PERMISSION_DENIED",
        "NOT_FOUND",
        "INTERNAL",
        "UNAVAILABLE",
        "UNAVAILABLE",
        "DEADLINE_EXCEEDED",
    ]


def test_model_ids() -> None:
    served = ["databricks-gemini-2-5-pro", "databricks-gemini-2-5-flash", "databricks-gemini-3-pro", "llama"]
    assert endpoint_for("models/gemini-2.5-pro", served) == "databricks-gemini-2-5-pro"
    assert endpoint_for("gemini-3-pro-preview", served) == "databricks-gemini-3-pro"
    assert endpoint_for("gemini-3.5-flash", served) == "databricks-gemini-2-5-flash"
    assert endpoint_for("gemini-2.5-pro", ["llama"]) is None
    names = [m["name"] for m in model_list([{"id": name} for name in served])]
    assert names == [
        "models/gemini-2.5-pro",
        "models/gemini-2.5-flash",
        "models/gemini-3-pro",
        "models/databricks-gemini-2-5-pro",
        "models/databricks-gemini-2-5-flash",
        "models/databricks-gemini-3-pro",
        "models/llama",
    ]
