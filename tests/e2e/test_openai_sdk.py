"""The official ``openai`` SDK, default settings, against uvicorn + the emulator."""

from __future__ import annotations

import json
import struct

import httpx
import openai
import pytest
from openai.types import CreateEmbeddingResponse
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from tests.e2e.conftest import BGE, CLAUDE, GPT_OSS, LLAMA, MPT
from tests.e2e.harness import E2E_TOKEN, Emulator, Proxy

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
        },
    }
]


def test_chat_answer(client: openai.OpenAI, emulator: Emulator) -> None:
    answer = client.chat.completions.create(model=LLAMA, messages=[{"role": "user", "content": "hello proxy"}])
    assert answer.choices[0].message.content == "Echo: hello proxy"
    assert answer.choices[0].finish_reason == "stop"
    assert answer.object == "chat.completion"
    assert answer.model == "meta-llama-3.3-70b-instruct-121024"
    assert answer.usage is not None and answer.usage.completion_tokens == 3
    ChatCompletion.model_validate(answer.model_dump(), strict=True)
    seen = emulator.stats()["last_request"]
    assert seen["path"] == f"/serving-endpoints/{LLAMA}/invocations"
    assert seen["authorization"] == f"Bearer {E2E_TOKEN}"


def test_client_authorization_and_openai_defaults_never_reach_databricks(
    client: openai.OpenAI, emulator: Emulator
) -> None:
    answer = client.chat.completions.create(
        model=LLAMA,
        messages=[{"role": "developer", "content": "be brief"}, {"role": "user", "content": "hi"}],
        max_completion_tokens=50,
        seed=7,
        user="someone",
        store=False,
        parallel_tool_calls=True,
        metadata={"a": "b"},
        presence_penalty=0,
        frequency_penalty=0,
        extra_headers={"Cookie": "session=secret", "X-Custom": "1"},
    )
    assert answer.choices[0].message.content == "Echo: hi"
    seen = emulator.stats()["last_request"]
    assert seen["authorization"] == f"Bearer {E2E_TOKEN}"
    assert "cookie" not in seen["headers"] and "x-custom" not in seen["headers"]
    body = seen["body"]
    assert body["max_tokens"] == 50
    for dropped in ("seed", "user", "store", "parallel_tool_calls", "metadata", "max_completion_tokens", "model"):
        assert dropped not in body
    assert body["messages"][0]["role"] == "system"


def test_stream_with_usage(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model=LLAMA,
        messages=[{"role": "user", "content": "one two three"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Echo: one two three"
    roles = [c.choices[0].delta.role for c in chunks if c.choices and c.choices[0].delta.role]
    assert roles == ["assistant"]
    reasons = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert reasons == ["stop"]
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 4
    assert all(c.usage is None for c in chunks[:-1])
    assert len({c.id for c in chunks}) == 1
    for chunk in chunks:
        ChatCompletionChunk.model_validate(chunk.model_dump(), strict=True)


def test_stream_without_usage_has_no_usage(client: openai.OpenAI) -> None:
    chunks = list(client.chat.completions.create(model=LLAMA, messages=[{"role": "user", "content": "x"}], stream=True))
    assert chunks and all(c.usage is None for c in chunks)


def test_tool_call(client: openai.OpenAI) -> None:
    answer = client.chat.completions.create(
        model=LLAMA, messages=[{"role": "user", "content": "weather in Tokyo"}], tools=TOOLS
    )
    message = answer.choices[0].message
    assert answer.choices[0].finish_reason == "tool_calls"
    assert message.content is None and message.tool_calls
    call = message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "weather in Tokyo"}
    followup = client.chat.completions.create(
        model=LLAMA,
        messages=[
            {"role": "user", "content": "weather in Tokyo"},
            message.model_dump(),  # replayed as the SDK returned it (refusal, annotations, ...)
            {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
        ],
        tools=TOOLS,
    )
    assert followup.choices[0].message.content == "Echo: sunny"


def test_tool_call_stream(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(
            model=LLAMA, messages=[{"role": "user", "content": "weather"}], tools=TOOLS, stream=True
        )
    )
    deltas = [tc for c in chunks for tc in (c.choices[0].delta.tool_calls or [])]
    firsts = [d for d in deltas if d.id]
    assert len(firsts) == 1 and firsts[0].function and firsts[0].function.name == "get_weather"
    assert all(d.index == 0 for d in deltas)
    arguments = "".join((d.function.arguments or "") for d in deltas if d.function)
    assert json.loads(arguments) == {"city": "weather"}
    reasons = [c.choices[0].finish_reason for c in chunks if c.choices[0].finish_reason]
    assert reasons == ["tool_calls"]


def test_sdk_stream_helper_accumulates_tool_calls(client: openai.OpenAI) -> None:
    with client.chat.completions.stream(
        model=LLAMA, messages=[{"role": "user", "content": "weather"}], tools=TOOLS
    ) as stream:
        final = stream.get_final_completion()
    calls = final.choices[0].message.tool_calls
    assert calls and len(calls) == 1 and json.loads(calls[0].function.arguments) == {"city": "weather"}


@pytest.mark.parametrize("model", [CLAUDE, GPT_OSS])
def test_reasoning_models(client: openai.OpenAI, model: str) -> None:
    answer = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "why sky blue"}])
    message = answer.choices[0].message
    assert message.content == "Echo: why sky blue"
    assert getattr(message, "reasoning_content", None) == "Thinking about: why sky blue"
    replay = client.chat.completions.create(
        model=model,
        messages=[
            {"role": "user", "content": "why sky blue"},
            {"role": "assistant", "content": message.content, "reasoning_content": "Thinking about: why"},
            {"role": "user", "content": "and red?"},
        ],
    )
    assert replay.choices[0].message.content == "Echo: and red?"


def test_reasoning_stream(client: openai.OpenAI) -> None:
    chunks = list(
        client.chat.completions.create(model=CLAUDE, messages=[{"role": "user", "content": "a b"}], stream=True)
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks)
    reasoning = "".join(getattr(c.choices[0].delta, "reasoning_content", None) or "" for c in chunks)
    assert text == "Echo: a b"
    assert reasoning == "Thinking about: a b"
    assert all(isinstance(c.choices[0].delta.content, str | None) for c in chunks)


def test_gpt_oss_length_without_text(client: openai.OpenAI) -> None:
    answer = client.chat.completions.create(
        model=GPT_OSS, messages=[{"role": "user", "content": "a long question here"}], max_tokens=2
    )
    assert answer.choices[0].finish_reason == "length"
    assert answer.choices[0].message.content is None


def test_null_id_endpoint(client: openai.OpenAI) -> None:
    answer = client.chat.completions.create(model="emulator-null-id-chat", messages=[{"role": "user", "content": "x"}])
    assert answer.id and answer.object == "chat.completion" and isinstance(answer.created, int)
    assert answer.choices[0].finish_reason == "stop"
    chunks = list(
        client.chat.completions.create(
            model="emulator-null-id-chat", messages=[{"role": "user", "content": "x"}], stream=True
        )
    )
    assert len({c.id for c in chunks}) == 1 and chunks[0].id


def test_completions(client: openai.OpenAI) -> None:
    answer = client.completions.create(model=MPT, prompt="say this")
    assert answer.choices[0].text == "Echo: say this"
    assert answer.object == "text_completion"
    chunks = list(client.completions.create(model=MPT, prompt="a b", stream=True))
    assert "".join(c.choices[0].text for c in chunks if c.choices).strip() == "Echo: a b"


def test_embeddings_default_base64_and_float(client: openai.OpenAI, emulator: Emulator) -> None:
    default = client.embeddings.create(model=BGE, input=["first", "second", "third"])
    assert [d.index for d in default.data] == [0, 1, 2]
    assert len(default.data[0].embedding) == 1024
    assert "encoding_format" not in emulator.stats()["last_request"]["body"]
    floats = client.embeddings.create(model=BGE, input=["first", "second", "third"], encoding_format="float")
    for a, b in zip(default.data, floats.data, strict=True):
        assert a.embedding == pytest.approx(b.embedding, abs=1e-6)
    assert floats.usage.prompt_tokens > 0
    CreateEmbeddingResponse.model_validate(floats.model_dump(), strict=True)


def test_embeddings_base64_wire_format(proxy: Proxy) -> None:
    raw = httpx.post(
        f"{proxy.url}/v1/embeddings", json={"model": BGE, "input": "x", "encoding_format": "base64"}, timeout=10
    ).json()
    import base64

    data = base64.b64decode(raw["data"][0]["embedding"])
    values = struct.unpack(f"<{len(data) // 4}f", data)
    assert len(values) == 1024 and abs(sum(v * v for v in values) - 1) < 1e-3


def test_models_and_aliases(client: openai.OpenAI) -> None:
    ids = [m.id for m in client.models.list()]
    assert LLAMA in ids and BGE in ids and "gpt-4o-mini" in ids
    assert "custom-sklearn-model" not in ids
    model = client.models.retrieve(LLAMA)
    assert model.object == "model" and isinstance(model.created, int) and model.owned_by
    alias_answer = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}])
    assert alias_answer.choices[0].message.content == "Echo: hi"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-model")


@pytest.mark.parametrize(
    ("model", "exception", "status"),
    [
        ("fault-status-400", openai.BadRequestError, 400),
        # Databricks refusing the proxy's own credential is the deployment's fault, not the caller's key.
        ("fault-status-401", openai.InternalServerError, 502),
        ("fault-status-403", openai.InternalServerError, 502),
        ("fault-status-404", openai.NotFoundError, 404),
        ("fault-status-429", openai.RateLimitError, 429),
        ("fault-status-500", openai.InternalServerError, 500),
        ("fault-status-502", openai.InternalServerError, 502),
        ("fault-status-503", openai.InternalServerError, 503),
        ("fault-status-504", openai.InternalServerError, 504),
        ("fault-external-400", openai.BadRequestError, 400),
        ("no-such-endpoint", openai.NotFoundError, 404),
    ],
)
@pytest.mark.parametrize("stream", [False, True])
def test_upstream_errors_raise_the_matching_exception(
    client: openai.OpenAI, model: str, exception: type[openai.APIStatusError], status: int, stream: bool
) -> None:
    with pytest.raises(exception) as caught:
        result = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "x"}], stream=stream)
        if stream:
            list(result)  # type: ignore[arg-type]
    error = caught.value
    assert error.status_code == status
    body = error.body
    assert isinstance(body, dict) and set(body) == {"message", "type", "param", "code"}
    assert body["message"] and "<html" not in body["message"] and not body["message"].endswith("\n")
    if status in (429, 503):
        assert error.response.headers["retry-after"] in ("1", "2")
    assert error.response.headers["x-request-id"]


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"temperature": 5}, "temperature"),
        ({"top_p": 0}, "top_p"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "wizard", "content": "x"}]}, "messages[0].role"),
        ({"logit_bias": {"50256": -100}}, "logit_bias"),
        ({"n": 2, "stream": True}, "n"),
        ({"model": "../../api/2.0/secrets"}, "model"),
    ],
)
def test_invalid_requests_are_400_naming_the_parameter(
    client: openai.OpenAI, kwargs: dict[str, object], param: str
) -> None:
    request: dict[str, object] = {"model": LLAMA, "messages": [{"role": "user", "content": "x"}], **kwargs}
    with pytest.raises(openai.BadRequestError) as caught:
        result = client.chat.completions.create(**request)  # type: ignore[call-overload]
        if kwargs.get("stream"):
            list(result)
    assert caught.value.status_code == 400
    assert isinstance(caught.value.body, dict) and caught.value.body["param"] == param


def test_embeddings_dimensions_refused(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model=BGE, input="x", dimensions=256)
    assert isinstance(caught.value.body, dict) and caught.value.body["param"] == "dimensions"


def test_mid_stream_failures_end_with_one_error_event(proxy: Proxy) -> None:
    for model in ("fault-cut-2", "fault-garbage", "fault-stream-error"):
        with httpx.stream(
            "POST",
            f"{proxy.url}/v1/chat/completions",
            json={"model": model, "messages": [{"role": "user", "content": "a b c d e"}], "stream": True},
            timeout=10,
        ) as response:
            assert response.status_code == 200
            events = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
        assert events[-1] != "[DONE]", model
        last = json.loads(events[-1])
        assert set(last["error"]) == {"message", "type", "param", "code"}, model
        assert sum(1 for e in events if '"error"' in e) == 1


def test_a_served_head_has_no_body_and_a_trailing_slash_is_answered(proxy: Proxy) -> None:
    got, head = httpx.get(f"{proxy.url}/health", timeout=10), httpx.head(f"{proxy.url}/health", timeout=10)
    assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", got.headers["content-length"])
    body = {"model": LLAMA, "messages": [{"role": "user", "content": "x"}]}
    slashed = httpx.post(f"{proxy.url}/v1/chat/completions/", json=body, timeout=10)
    assert slashed.status_code == 200 and slashed.json()["object"] == "chat.completion"


def test_request_id_round_trip_and_no_forged_caller(proxy: Proxy, emulator: Emulator) -> None:
    response = httpx.post(
        f"{proxy.url}/v1/chat/completions",
        json={"model": LLAMA, "messages": [{"role": "user", "content": "x"}], "usage_context": {"end_user": "bob"}},
        headers={"X-Request-Id": "req-e2e-123", "X-Forwarded-Email": "ada@example.com"},
        timeout=10,
    )
    # Not behind the Databricks Apps gateway: a client's request id is not trusted, the proxy uses its own
    # (the client's is only in the proxy's log line).
    request_id = response.headers["x-request-id"]
    assert request_id != "req-e2e-123"
    body = emulator.stats()["last_request"]["body"]
    assert body["client_request_id"] == request_id
    line = json.loads(next(x for x in proxy.wait_for_output('"req-e2e-123"').splitlines() if "req-e2e-123" in x))
    assert (line["request_id"], line["client_request_id"]) == (request_id, "req-e2e-123")
    # No API keys: nobody is identified, nobody is named.
    assert "usage_context" not in body
    generated = httpx.get(f"{proxy.url}/v1/nope", timeout=10)
    assert generated.status_code == 404 and generated.headers["x-request-id"]
    assert generated.json()["error"]["type"] == "not_found_error"


def test_malformed_bodies(proxy: Proxy) -> None:
    url = f"{proxy.url}/v1/chat/completions"
    for content in (b"{not json", b"[]", b"", b"[" * 5000 + b"]" * 5000, b'{"model": 5, "messages": "x"}'):
        response = httpx.post(url, content=content, headers={"content-type": "application/json"}, timeout=10)
        assert response.status_code == 400, content[:20]
        assert response.headers["content-type"] == "application/json"
        assert response.json()["error"]["type"] == "invalid_request_error"
    big = httpx.post(url, content=b"x" * (17 * 1024 * 1024), headers={"content-type": "application/json"}, timeout=30)
    assert big.status_code == 413 and big.json()["error"]["code"] == "request_too_large"


def test_health_ready_docs(proxy: Proxy) -> None:
    health = httpx.get(f"{proxy.url}/health", timeout=5).json()
    assert health["status"] == "ok" and health["upstream"] == "databricks"
    assert httpx.get(f"{proxy.url}/ready", timeout=5).status_code == 200
    check = httpx.get(f"{proxy.url}/api/v1/healthcheck", timeout=5).json()
    assert check["status"] == "healthy" and check["timestamp"] and check["service"]
    assert httpx.get(f"{proxy.url}/docs", timeout=5).status_code == 200
    spec = httpx.get(f"{proxy.url}/openapi.json", timeout=5).json()
    assert "/v1/chat/completions" in spec["paths"] and "/api/v1/embeddings" in spec["paths"]
    assert "ChatCompletionRequest" in spec["components"]["schemas"]
    assert E2E_TOKEN not in json.dumps(spec)


def test_api_prefix_for_databricks_apps(proxy: Proxy) -> None:
    response = httpx.post(
        f"{proxy.url}/api/v1/chat/completions",
        json={"model": LLAMA, "messages": [{"role": "user", "content": "x"}]},
        timeout=10,
    )
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
