"""Dialects: which path speaks which, named-event framing, the OpenAI envelope's names for the neutral kinds."""

from __future__ import annotations

import orjson

from services.dialects import Dialect, DialectMap
from services.dialects.framing import named_event
from services.dialects.openai import DONE, OPENAI, ChunkPassThrough, error_body, sse_event
from services.errors import (
    ModelNotFoundError,
    OverloadedError,
    ProxyError,
    RequestTooLargeError,
    UpstreamTimeoutError,
)

NAMED = Dialect("named", lambda error: {"kind": error.kind}, named_event)
OTHER = Dialect("other", lambda error: {}, named_event)


def test_the_longest_registered_prefix_wins_else_the_default() -> None:
    dialects = DialectMap(OPENAI)
    dialects.register("/named/", NAMED)
    dialects.register("/named/v2/", OTHER)
    assert dialects.for_path("/named/v1/messages") is NAMED
    assert dialects.for_path("/named/v2/messages") is OTHER
    assert dialects.for_path("/v1/chat/completions") is OPENAI
    assert dialects.for_path("/namedish") is OPENAI


def test_named_event_framing() -> None:
    payload = {"type": "message_stop", "n": 1}
    assert named_event(payload) == b'event: message_stop\ndata: {"type":"message_stop","n":1}\n\n'
    assert NAMED.end_of_stream == b""


def test_openai_framing_and_pass_through() -> None:
    assert sse_event({"a": 1}) == b'data: {"a":1}\n\n'
    assert (OPENAI.frame, OPENAI.end_of_stream, DONE) == (sse_event, DONE, b"data: [DONE]\n\n")
    chunk = {"id": "x"}
    translator = ChunkPassThrough()
    assert translator.feed(chunk) == [chunk] and translator.finish() == []
    assert translator.fail(ProxyError("boom")) == [error_body(ProxyError("boom"))]


def test_openai_names_for_the_neutral_kinds() -> None:
    def openai_type(error: ProxyError) -> str:
        return str(orjson.loads(OPENAI.error_bytes(error))["error"]["type"])

    assert openai_type(ModelNotFoundError("m", "/v1/models")) == "invalid_request_error"
    assert openai_type(RequestTooLargeError("big")) == "invalid_request_error"
    assert openai_type(OverloadedError("busy")) == "rate_limit_error"
    assert openai_type(UpstreamTimeoutError("late")) == "api_error"
    assert error_body(ProxyError("teapot", status=418, kind="invalid_request_error", code="tea")) == {
        "error": {"message": "teapot", "type": "invalid_request_error", "param": None, "code": "tea"}
    }
