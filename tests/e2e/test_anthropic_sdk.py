"""The official ``anthropic`` Python SDK against the Messages door, through uvicorn and the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import pytest
from anthropic.pagination import SyncPage
from pydantic import TypeAdapter

from tests.e2e.conftest import CLAUDE, LLAMA
from tests.e2e.harness import E2E_TOKEN, Emulator, Proxy

WEATHER = {
    "name": "get_weather",
    "description": "Weather of a city",
    "input_schema": {"type": "object", "properties": {"input": {"type": "string"}}, "required": ["input"]},
}


@pytest.fixture(scope="module")
def claude(proxy: Proxy) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=f"{proxy.url}/api/anthropic", api_key="sk-ant-client-key", max_retries=0)


def last_upstream_body(emulator: Emulator) -> dict[str, Any]:
    body: dict[str, Any] = emulator.stats()["last_request"]["body"]
    return body


def test_create_text(proxy: Proxy) -> None:
    """The exact JSON on the wire, then what the SDK makes of it."""
    response = httpx.post(
        f"{proxy.url}/api/anthropic/v1/messages?beta=true",
        json={"model": LLAMA, "max_tokens": 50, "messages": [{"role": "user", "content": "hello there"}]},
        headers={"anthropic-version": "2023-06-01", "x-api-key": "sk-ant-client-key"},
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer == {
        "id": answer["id"],
        "type": "message",
        "role": "assistant",
        "model": LLAMA,
        "content": [{"type": "text", "text": "Echo: hello there"}],
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 2,
            "output_tokens": 3,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        },
    }
    assert answer["id"].startswith("msg_")


def test_sdk_create(claude: anthropic.Anthropic) -> None:
    message = claude.messages.create(model=LLAMA, max_tokens=50, messages=[{"role": "user", "content": "hello there"}])
    assert [(block.type, block.text) for block in message.content] == [("text", "Echo: hello there")]  # type: ignore[union-attr]
    assert (message.stop_reason, message.stop_sequence) == ("end_turn", None)
    assert (message.usage.input_tokens, message.usage.output_tokens) == (2, 3)


def test_stream_with_thinking_and_final_message(claude: anthropic.Anthropic) -> None:
    kinds: list[str] = []
    with claude.messages.stream(
        model="claude-3-7-sonnet-20250219",
        max_tokens=2000,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[{"role": "user", "content": "why blue"}],
    ) as stream:
        for event in stream:
            kinds.append(event.type)
        final = stream.get_final_message()
    assert final.model == "claude-3-7-sonnet-20250219"
    assert [block.type for block in final.content] == ["thinking", "text"]
    thinking, text = final.content
    assert thinking.thinking == "Thinking about: why blue"  # type: ignore[union-attr]
    assert thinking.signature.startswith("ErcB")  # type: ignore[union-attr]
    assert text.text == "Echo: why blue"  # type: ignore[union-attr]
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == 7
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert "signature" in kinds and "thinking" in kinds and "text" in kinds


def test_tool_round_trip(claude: anthropic.Anthropic) -> None:
    question = {"role": "user", "content": "Weather in Paris?"}
    first = claude.messages.create(model=LLAMA, max_tokens=100, tools=[WEATHER], messages=[question])
    assert first.stop_reason == "tool_use"
    (call,) = first.content
    assert call.type == "tool_use" and call.name == "get_weather"
    assert call.input == {"input": "Weather in Paris?"}
    second = claude.messages.create(
        model=LLAMA,
        max_tokens=100,
        tools=[WEATHER],
        messages=[
            question,
            {"role": "assistant", "content": first.content},  # type: ignore[typeddict-item]
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "18 C"}]},
        ],
    )
    assert [(b.type, b.text) for b in second.content] == [("text", "Echo: 18 C")]  # type: ignore[union-attr]


def test_thinking_round_trip_reaches_databricks_with_its_signature(
    claude: anthropic.Anthropic, emulator: Emulator
) -> None:
    question = {"role": "user", "content": "Weather in Oslo?"}
    first = claude.messages.create(
        model=CLAUDE,
        max_tokens=3000,
        thinking={"type": "enabled", "budget_tokens": 2048},
        tools=[WEATHER],
        messages=[question],
    )
    assert [b.type for b in first.content] == ["thinking", "text", "tool_use"]
    thinking, _, call = first.content
    signature = thinking.signature  # type: ignore[union-attr]
    claude.messages.create(
        model=CLAUDE,
        max_tokens=3000,
        thinking={"type": "enabled", "budget_tokens": 2048},
        tools=[WEATHER],
        messages=[
            question,
            {"role": "assistant", "content": first.content},  # type: ignore[typeddict-item]
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "-3 C"}]},  # type: ignore[union-attr]
        ],
    )
    sent = last_upstream_body(emulator)
    assert sent["messages"][1] == {
        "role": "assistant",
        "content": [
            {
                "type": "reasoning",
                "summary": [
                    {"type": "summary_text", "text": "Thinking about: Weather in Oslo?", "signature": signature}
                ],
            },
            {"type": "text", "text": "I'll call the tool."},
        ],
        "tool_calls": [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"input":"Weather in Oslo?"}'},
            }  # type: ignore[union-attr]
        ],
    }
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 2048}


def test_count_tokens_and_models(claude: anthropic.Anthropic) -> None:
    counted = claude.messages.count_tokens(model=LLAMA, messages=[{"role": "user", "content": "x" * 35}])
    assert counted.input_tokens == 13
    ids = [model.id for model in claude.models.list()]
    assert "claude-3-7-sonnet" in ids and LLAMA in ids
    # The SDK builds its models without validating them: validate the wire against its types here.
    page = claude.models.with_raw_response.list().http_response.json()
    listed = TypeAdapter(SyncPage[anthropic.types.ModelInfo]).validate_python(page)
    assert [m.id for m in listed.data] == ids[: len(listed.data)]
    for item in page["data"]:
        assert TypeAdapter(anthropic.types.ModelInfo).validate_python(item).lifecycle == "active"
    one = claude.models.with_raw_response.retrieve("claude-3-7-sonnet").http_response.json()
    assert TypeAdapter(anthropic.types.ModelInfo).validate_python(one).id == "claude-3-7-sonnet"


@pytest.mark.parametrize(
    ("model", "error"),
    [
        ("fault-status-400", anthropic.BadRequestError),
        # Databricks refusing the proxy's own credential is the deployment's fault (502), not the caller's key.
        ("fault-status-401", anthropic.InternalServerError),
        ("fault-status-403", anthropic.InternalServerError),
        ("fault-status-404", anthropic.NotFoundError),
        ("fault-status-429", anthropic.RateLimitError),
        ("fault-status-500", anthropic.InternalServerError),
        ("fault-status-503", anthropic.InternalServerError),
    ],
)
def test_errors_map_to_sdk_exceptions(claude: anthropic.Anthropic, model: str, error: type[Exception]) -> None:
    with pytest.raises(error) as caught:
        claude.messages.create(model=model, max_tokens=10, messages=[{"role": "user", "content": "x"}])
    body = caught.value.body  # type: ignore[attr-defined]
    assert body["type"] == "error" and isinstance(body["error"]["message"], str)
    assert caught.value.response.headers["request-id"]  # type: ignore[attr-defined]


def test_bad_input_names_the_field(proxy: Proxy) -> None:
    response = httpx.post(
        f"{proxy.url}/anthropic/v1/messages?beta=true",
        json={"model": LLAMA, "max_tokens": 10, "messages": [{"role": "user", "content": [{"type": "text"}]}]},
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "type": "invalid_request_error",
        "message": "messages.0.content.0.text: Field required",
    }


def _sse(proxy_url: str, model: str, text: str) -> str:
    with httpx.stream(
        "POST",
        f"{proxy_url}/anthropic/v1/messages?beta=true",
        json={"model": model, "max_tokens": 50, "stream": True, "messages": [{"role": "user", "content": text}]},
        timeout=30,
    ) as response:
        assert response.status_code == 200
        return "".join(response.iter_text())


def test_mid_stream_failure_is_an_error_event_then_the_end(proxy: Proxy) -> None:
    """Databricks' first chunk (role only) starts the message; its error chunk ends the stream."""
    events = _sse(proxy.url, "fault-stream-error", "one two").split("\n\n")
    assert [event.split("\n")[0] for event in events] == ["event: message_start", "event: error", ""]
    assert events[1] == (
        'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"Model crashed mid-stream"}}'
    )


@pytest.fixture(scope="module")
def pinging(emulator: Emulator) -> Iterator[Proxy]:
    server = Proxy({"DATABRICKS_HOST": emulator.url, "DATABRICKS_TOKEN": E2E_TOKEN, "PROXY_KEEPALIVE_SECONDS": "0.2"})
    yield server
    server.stop()


def test_quiet_streams_get_ping_events_the_sdk_ignores(pinging: Proxy) -> None:
    text = _sse(pinging.url, "fault-slow-500", "a b")
    assert 'event: ping\ndata: {"type":"ping"}\n\n' in text
    assert text.startswith("event: message_start\n") and text.endswith(
        'event: message_stop\ndata: {"type":"message_stop"}\n\n'
    )
    client = anthropic.Anthropic(base_url=f"{pinging.url}/anthropic", api_key="k", max_retries=0)
    with client.messages.stream(
        model="fault-slow-500", max_tokens=50, messages=[{"role": "user", "content": "a b"}]
    ) as stream:
        assert [(b.type, b.text) for b in stream.get_final_message().content] == [("text", "Echo: a b")]  # type: ignore[union-attr]


def test_server_tools_are_dropped_and_named_in_the_log_line(claude: anthropic.Anthropic, proxy: Proxy) -> None:
    message = claude.messages.create(
        model=LLAMA,
        max_tokens=50,
        tools=[{"type": "web_search_20250305", "name": "web_search", "max_uses": 2}],  # type: ignore[list-item]
        messages=[{"role": "user", "content": "search this"}],
    )
    assert [(b.type, b.text) for b in message.content] == [("text", "Echo: search this")]  # type: ignore[union-attr]
    assert '"note":"dropped: server tool web_search_20250305"' in proxy.wait_for_output("dropped: server tool")
