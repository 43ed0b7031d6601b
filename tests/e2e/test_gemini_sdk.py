"""The official ``google-genai`` Python SDK against the Gemini door, through uvicorn and the emulator."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from google import genai
from google.genai import errors, types

from tests.e2e.conftest import LLAMA
from tests.e2e.harness import Emulator, Proxy

CLAUDE = "databricks-claude-sonnet-4-5"


@pytest.fixture(scope="module")
def gemini(proxy: Proxy) -> genai.Client:
    return genai.Client(
        api_key="gemini-client-key",
        http_options=types.HttpOptions(base_url=f"{proxy.url}/api/gemini", retry_options=None),
    )


def last_upstream_body(emulator: Emulator) -> dict[str, Any]:
    body: dict[str, Any] = emulator.stats()["last_request"]["body"]
    return body


def test_generate_wire(proxy: Proxy) -> None:
    response = httpx.post(
        f"{proxy.url}/api/gemini/v1beta/models/{LLAMA}:generateContent",
        json={"contents": [{"role": "user", "parts": [{"text": "hello there"}]}]},
        headers={"x-goog-api-key": "k"},
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer == {
        "candidates": [
            {"content": {"role": "model", "parts": [{"text": "Echo: hello there"}]}, "finishReason": "STOP", "index": 0}
        ],
        "usageMetadata": {"promptTokenCount": 2, "candidatesTokenCount": 3, "totalTokenCount": 5},
        "modelVersion": LLAMA,
        "responseId": answer["responseId"],
    }


def test_generate(gemini: genai.Client, emulator: Emulator) -> None:
    response = gemini.models.generate_content(
        model="gemini-2.5-flash",
        contents="hello there",
        config=types.GenerateContentConfig(system_instruction="be brief", temperature=0.2, max_output_tokens=40),
    )
    assert response.text == "Echo: hello there"
    assert response.candidates is not None and response.candidates[0].finish_reason == types.FinishReason.STOP
    assert response.usage_metadata is not None and response.usage_metadata.total_token_count
    body = last_upstream_body(emulator)
    assert body["messages"][0] == {"role": "system", "content": "be brief"}
    assert body["max_tokens"] == 40 and body["temperature"] == 0.2
    assert emulator.stats()["last_request"]["path"] == "/serving-endpoints/databricks-gemini-2-5-flash/invocations"


def test_stream(gemini: genai.Client) -> None:
    chunks = list(gemini.models.generate_content_stream(model=LLAMA, contents="stream this please"))
    assert "".join(c.text or "" for c in chunks) == "Echo: stream this please"
    assert len(chunks) > 2
    last = chunks[-1]
    assert last.candidates is not None and last.candidates[0].finish_reason == types.FinishReason.STOP
    assert last.usage_metadata is not None and last.usage_metadata.prompt_token_count


def test_stream_json_array(proxy: Proxy) -> None:
    response = httpx.post(
        f"{proxy.url}/gemini/v1beta/models/{LLAMA}:streamGenerateContent?key=k",
        json={"contents": [{"parts": [{"text": "one two"}]}]},
    )
    assert response.status_code == 200
    chunks = response.json()
    assert isinstance(chunks, list)
    assert "".join(p["text"] for c in chunks for p in c["candidates"][0]["content"]["parts"]) == "Echo: one two"
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP"


def test_function_calling_round_trip(gemini: genai.Client, emulator: Emulator) -> None:
    weather = types.FunctionDeclaration(
        name="get_weather",
        description="Weather of a city",
        parameters=types.Schema(
            type=types.Type.OBJECT, properties={"city": types.Schema(type=types.Type.STRING)}, required=["city"]
        ),
    )
    config = types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[weather])],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
    )
    prompt = 'call get_weather with {"city": "Paris"}'
    first = gemini.models.generate_content(model=CLAUDE, contents=prompt, config=config)
    assert first.function_calls is not None
    call = first.function_calls[0]
    assert call.name == "get_weather" and call.args == {"city": "Paris"}
    tools = last_upstream_body(emulator)["tools"]
    assert tools[0]["function"]["parameters"] == {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    }
    assert first.candidates is not None and first.candidates[0].content is not None
    history = [
        types.Content(role="user", parts=[types.Part(text=prompt)]),
        first.candidates[0].content,
        types.Content(
            role="user", parts=[types.Part.from_function_response(name="get_weather", response={"output": "sunny"})]
        ),
    ]
    second = gemini.models.generate_content(model=CLAUDE, contents=history, config=config)
    assert second.text
    messages = last_upstream_body(emulator)["messages"]
    assert messages[-2]["tool_calls"][0]["id"] == messages[-1]["tool_call_id"]
    content = messages[-1]["content"]  # Claude: with the proxy's automatic cache breakpoint
    assert content == "sunny" or [part["text"] for part in content] == ["sunny"]


def test_count_tokens(gemini: genai.Client) -> None:
    counted = gemini.models.count_tokens(model="gemini-2.5-pro", contents="twelve chars")
    assert counted.total_tokens == 3


def test_models_list_and_get(gemini: genai.Client) -> None:
    names = [m.name for m in gemini.models.list()]
    assert "models/gemini-2.5-pro" in names and f"models/{LLAMA}" in names
    model = gemini.models.get(model="gemini-2.5-pro")
    assert model.display_name == "databricks-gemini-2-5-pro"


def test_unknown_model_is_not_found(gemini: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as caught:
        gemini.models.generate_content(model="no-such-model", contents="hi")
    assert caught.value.code == 404
    assert caught.value.status == "NOT_FOUND"
    assert re.search(r"GET /api/gemini/v1(beta)?/models lists", str(caught.value.message))


def test_bad_request_is_invalid_argument(proxy: Proxy) -> None:
    response = httpx.post(
        f"{proxy.url}/api/gemini/v1beta/models/{LLAMA}:generateContent", json={"contents": [{"parts": "x"}]}
    )
    assert response.status_code == 400
    assert response.json()["error"]["status"] == "INVALID_ARGUMENT"


@pytest.mark.parametrize(
    ("model", "code", "status"),
    [
        ("fault-status-400", 400, "INVALID_ARGUMENT"),
        ("fault-status-404", 404, "NOT_FOUND"),
        ("fault-status-429", 429, "RESOURCE_EXHAUSTED"),
        ("fault-status-500", 500, "INTERNAL"),
        ("fault-status-503", 503, "UNAVAILABLE"),
    ],
)
def test_errors_map_to_sdk_exceptions(gemini: genai.Client, model: str, code: int, status: str) -> None:
    with pytest.raises(errors.APIError) as caught:
        gemini.models.generate_content(model=model, contents="x")
    assert isinstance(caught.value, errors.ClientError if code < 500 else errors.ServerError)
    assert (caught.value.code, caught.value.status) == (code, status)


def test_mid_stream_failure_raises_in_the_sdk(gemini: genai.Client, proxy: Proxy) -> None:
    with httpx.stream(
        "POST",
        f"{proxy.url}/api/gemini/v1beta/models/fault-stream-error:streamGenerateContent?alt=sse",
        json={"contents": [{"parts": [{"text": "one two"}]}]},
        timeout=30,
    ) as response:
        assert response.status_code == 200
        text = "".join(response.iter_text())
    assert text.endswith(
        'data: {"error":{"code":502,"message":"Model crashed mid-stream","status":"UNAVAILABLE"}}\r\n\r\n'
    )
    with pytest.raises(errors.APIError) as caught:
        for _ in gemini.models.generate_content_stream(model="fault-stream-error", contents="one two"):
            pass
    assert caught.value.status == "UNAVAILABLE"


def test_claude_thinking_travels_in_thought_signature(gemini: genai.Client, emulator: Emulator) -> None:
    """No store: the signed thinking comes back to the client in thoughtSignature and goes to Claude verbatim."""
    weather = types.FunctionDeclaration(
        name="get_weather",
        parameters_json_schema={"type": "object", "properties": {"city": {"type": "string"}}},
    )
    config = types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[weather])],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        thinking_config=types.ThinkingConfig(thinking_budget=2048, include_thoughts=True),
    )
    prompt = 'call get_weather with {"city": "Oslo"}'
    first = gemini.models.generate_content(model=CLAUDE, contents=prompt, config=config)
    sent = last_upstream_body(emulator)
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 2048}
    assert first.candidates is not None and first.candidates[0].content is not None
    parts = first.candidates[0].content.parts or []
    assert parts[0].thought is True and parts[0].text
    (call_part,) = [p for p in parts if p.function_call is not None]
    assert call_part.thought_signature
    history = [
        types.Content(role="user", parts=[types.Part(text=prompt)]),
        first.candidates[0].content,
        types.Content(role="user", parts=[types.Part.from_function_response(name="get_weather", response={"t": 1})]),
    ]
    gemini.models.generate_content(model=CLAUDE, contents=history, config=config)
    assistant = last_upstream_body(emulator)["messages"][-2]
    reasoning = assistant["content"][0]
    assert reasoning["type"] == "reasoning"
    assert reasoning["summary"][0]["text"] == parts[0].text
    assert reasoning["summary"][0]["signature"].startswith("ErcB")


def test_rate_limit_passes_retry_after_on(proxy: Proxy) -> None:
    response = httpx.post(
        f"{proxy.url}/api/gemini/v1beta/models/fault-status-429:generateContent",
        json={"contents": [{"parts": [{"text": "x"}]}]},
    )
    assert response.status_code == 429
    assert response.json()["error"]["status"] == "RESOURCE_EXHAUSTED"
    assert response.headers["retry-after"].isdigit()
