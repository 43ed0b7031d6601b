"""The Responses API through uvicorn + the emulator, driven by the official openai SDK and the Agents SDK."""

from __future__ import annotations

import asyncio
import json
from typing import Any, cast

import httpx
import openai
import pytest
from openai.types.responses import Response

from services.dialects.responses.reasoning import decode
from tests.e2e.conftest import CLAUDE, GPT_OSS, LLAMA
from tests.e2e.harness import Emulator, Proxy

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def last_body(emulator: Emulator) -> dict[str, Any]:
    body: dict[str, Any] = emulator.stats()["last_request"]["body"]
    return body


def test_create_answers_text_and_sends_databricks_only_what_it_knows(client: openai.OpenAI, emulator: Emulator) -> None:
    answer = client.responses.create(
        model=LLAMA,
        input="hello responses",
        instructions="Be brief.",
        metadata={"run": "e2e"},
        store=True,
        include=["reasoning.encrypted_content"],
        prompt_cache_key="thread-1",
        safety_identifier="someone",
        tools=[{"type": "web_search"}],
        extra_body={"client_metadata": {"x": "1"}},
    )
    Response.model_validate(answer.model_dump())
    assert answer.output_text == "Echo: hello responses"
    assert answer.status == "completed"
    assert answer.model == "meta-llama-3.3-70b-instruct-121024"
    assert answer.id.startswith("resp_") and answer.output[0].id.startswith("msg_")
    assert answer.metadata == {"run": "e2e"}
    assert answer.usage is not None and answer.usage.output_tokens == 3
    assert answer.usage.total_tokens == answer.usage.input_tokens + 3
    body = last_body(emulator)
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hello responses"},
    ]
    assert not {"client_metadata", "metadata", "store", "include", "prompt_cache_key", "tools", "input"} & set(body)


def test_api_prefix_and_alias(proxy: Proxy) -> None:
    reply = httpx.post(f"{proxy.url}/api/v1/responses", json={"model": "gpt-4o-mini", "input": "hi"}, timeout=10)
    assert reply.status_code == 200
    assert reply.json()["output"][0]["content"][0]["text"] == "Echo: hi"


def test_stream_get_final_response(client: openai.OpenAI) -> None:
    with client.responses.stream(model=LLAMA, input="one two three") as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert final.output_text == "Echo: one two three"
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert kinds.count("response.output_text.delta") == 4
    assert final.usage is not None and final.usage.output_tokens == 4


def test_raw_stream_framing_event_lines_and_no_done(proxy: Proxy) -> None:
    with httpx.stream(
        "POST", f"{proxy.url}/v1/responses", json={"model": LLAMA, "input": "a b", "stream": True}, timeout=10
    ) as reply:
        assert reply.status_code == 200
        assert reply.headers["content-type"].startswith("text/event-stream")
        text = "".join(reply.iter_text())
    frames = [f for f in text.split("\n\n") if f.strip() and not f.startswith(":")]
    assert "[DONE]" not in text
    numbers = []
    for frame in frames:
        event_line, data_line = frame.split("\n")
        payload = json.loads(data_line.removeprefix("data: "))
        assert event_line == f"event: {payload['type']}"
        numbers.append(payload["sequence_number"])
    assert numbers == list(range(len(frames)))
    assert json.loads(frames[-1].split("\n")[1][6:])["type"] == "response.completed"


def test_function_tool_round_trip(client: openai.OpenAI, emulator: Emulator) -> None:
    prompt = 'call get_weather with {"city": "Paris"}'  # the emulator makes the call a prompt directs
    first = client.responses.create(model=LLAMA, input=prompt, tools=[WEATHER])
    calls = [item for item in first.output if item.type == "function_call"]
    assert len(calls) == 1
    call = calls[0]
    assert call.name == "get_weather" and json.loads(call.arguments) == {"city": "Paris"}
    assert call.id.startswith("fc_") and call.call_id
    second = client.responses.create(
        model=LLAMA,
        tools=[WEATHER],
        input=[
            {"role": "user", "content": prompt},
            *[item.model_dump(exclude_none=True) for item in first.output],
            {"type": "function_call_output", "call_id": call.call_id, "output": "sunny and 21C"},
        ],
    )
    assert second.output_text == "Echo: sunny and 21C"
    messages = last_body(emulator)["messages"]
    assert messages[1]["tool_calls"][0]["id"] == call.call_id
    assert messages[2] == {"role": "tool", "tool_call_id": call.call_id, "content": "sunny and 21C"}


def test_reasoning_round_trip_replays_the_signature(client: openai.OpenAI, emulator: Emulator) -> None:
    first = client.responses.create(model=CLAUDE, input="Oslo", tools=[WEATHER], reasoning={"effort": "low"})
    kinds = [item.type for item in first.output]
    assert kinds == ["reasoning", "message", "function_call"]
    reasoning = first.output[0]
    assert reasoning.summary[0].text == "Thinking about: Oslo"
    assert reasoning.encrypted_content is not None
    blocks = decode(reasoning.encrypted_content, "x")
    assert blocks is not None and blocks[0]["signature"].startswith("ErcB")
    assert last_body(emulator)["thinking"] == {"type": "enabled", "budget_tokens": 4096}
    call = first.output[2]
    client.responses.create(
        model=CLAUDE,
        tools=[WEATHER],
        input=[
            {"role": "user", "content": "Oslo"},
            *[item.model_dump(exclude_none=True) for item in first.output],
            {"type": "function_call_output", "call_id": call.call_id, "output": "snow"},
        ],
    )
    replayed = last_body(emulator)["messages"][1]
    assert replayed["content"][0] == {
        "type": "reasoning",
        "summary": [{"type": "summary_text", "text": "Thinking about: Oslo", "signature": blocks[0]["signature"]}],
    }


def test_streamed_reasoning_matches_the_final_output(client: openai.OpenAI) -> None:
    with client.responses.stream(model=GPT_OSS, input="why blue") as stream:
        events = list(stream)
        final = stream.get_final_response()
    assert [item.type for item in final.output] == ["reasoning", "message"]
    assert final.output[0].summary[0].text == "Thinking about: why blue"
    done = [e.item for e in events if e.type == "response.output_item.done"]
    assert [item.id for item in done] == [item.id for item in final.output]


def test_length_finish_is_incomplete(client: openai.OpenAI) -> None:
    answer = client.responses.create(model=LLAMA, input="a b c d e f", max_output_tokens=2)
    assert answer.status == "incomplete"
    assert answer.incomplete_details is not None and answer.incomplete_details.reason == "max_output_tokens"
    assert [(item.type, item.status) for item in answer.output] == [("message", "incomplete")]


def test_streamed_length_finish_through_the_sdk_stream_helper(client: openai.OpenAI) -> None:
    with client.responses.stream(model=LLAMA, input="a b c d e f", max_output_tokens=2) as stream:
        events = list(stream)
        # as with OpenAI, the helper's final response exists only after response.completed
        with pytest.raises(RuntimeError, match=r"response\.completed"):
            stream.get_final_response()
    last = events[-1]
    assert last.type == "response.incomplete"
    done = [e.item for e in events if e.type == "response.output_item.done"]
    assert [(item.type, item.status) for item in done] == [("message", "incomplete")]
    assert last.response.output == done


def test_unknown_ids_and_bad_input_are_openai_errors(client: openai.OpenAI, proxy: Proxy) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.responses.create(model=LLAMA, input="x", previous_response_id="resp_123")
    assert caught.value.param == "previous_response_id"
    assert caught.value.code == "previous_response_not_found"
    with pytest.raises(openai.BadRequestError) as bad:
        client.responses.create(model=LLAMA, input=cast(Any, [{"role": "robot", "content": "x"}]))
    assert bad.value.param == "input[0].role"
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="no-such-endpoint", input="x")
    for method in ("GET", "DELETE"):
        reply = httpx.request(method, f"{proxy.url}/v1/responses/resp_123", timeout=5)
        assert reply.status_code == 404
        assert reply.json()["error"]["message"] == "Response with id 'resp_123' not found."


def test_agents_sdk_default_model_runs_an_agent_with_one_tool(proxy: Proxy, emulator: Emulator) -> None:
    import agents

    agents.set_tracing_disabled(True)

    @agents.function_tool
    def get_weather(city: str) -> str:
        """Weather in a city."""
        return f"sunny in {city}"

    async def run() -> Any:
        async with openai.AsyncOpenAI(base_url=f"{proxy.url}/v1", api_key="sk-agents", max_retries=0) as client:
            # The SDK's default provider and model (OpenAIResponsesModel), only pointed at the proxy.
            config = agents.RunConfig(model_provider=agents.OpenAIProvider(openai_client=client))
            agent = agents.Agent(
                name="weather", instructions="Answer with the weather.", tools=[get_weather], model=LLAMA
            )
            return await agents.Runner.run(agent, 'call get_weather with {"city": "Lisbon"}', run_config=config)

    result = asyncio.run(run())
    assert result.final_output == "Echo: sunny in Lisbon"
    messages = last_body(emulator)["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "tool"]


def test_agents_sdk_readme_example_runs_its_tool(proxy: Proxy, emulator: Emulator) -> None:
    """The README's Agents SDK example as written (its prompt, a Claude endpoint): the tool runs, no tool error."""
    import agents

    agents.set_tracing_disabled(True)

    @agents.function_tool
    def get_weather(city: str) -> str:
        return f"sunny in {city}"

    async def run() -> Any:
        async with openai.AsyncOpenAI(base_url=f"{proxy.url}/api/v1", api_key="sk-agents", max_retries=0) as client:
            agent = agents.Agent(name="weather", tools=[get_weather], model=CLAUDE)
            config = agents.RunConfig(model_provider=agents.OpenAIProvider(openai_client=client))
            return await agents.Runner.run(agent, "Weather in Lisbon?", run_config=config)

    result = asyncio.run(run())
    assert "sunny in" in result.final_output and "error" not in result.final_output.lower(), result.final_output
    tool_message = last_body(emulator)["messages"][-1]
    content = tool_message["content"]  # text parts on Claude: the last carries the automatic cache breakpoint
    text = content if isinstance(content, str) else "".join(part["text"] for part in content)
    assert tool_message["role"] == "tool" and text.startswith("sunny in")


def test_errors_before_the_first_byte_are_openai_errors_with_their_status(client: openai.OpenAI, proxy: Proxy) -> None:
    with pytest.raises(openai.RateLimitError) as caught:
        client.responses.create(model="fault-status-429", input="x", stream=True)
    assert caught.value.status_code == 429
    assert caught.value.response.headers["retry-after"]
    with pytest.raises(openai.InternalServerError):
        client.responses.create(model="fault-status-503", input="x")


def test_mid_stream_failures_end_with_response_failed(proxy: Proxy) -> None:
    for model in ("fault-cut-2", "fault-garbage", "fault-stream-error"):
        with httpx.stream(
            "POST", f"{proxy.url}/v1/responses", json={"model": model, "input": "a b c d e", "stream": True}, timeout=10
        ) as reply:
            assert reply.status_code == 200
            frames = [f for f in "".join(reply.iter_text()).split("\n\n") if f.startswith("event: ")]
        names = [f.split("\n")[0].removeprefix("event: ") for f in frames]
        assert names[:2] == ["response.created", "response.in_progress"], model
        assert names[-1] == "response.failed" and names.count("response.failed") == 1, model
        assert "response.completed" not in names
        failed = json.loads(frames[-1].split("\n")[1].removeprefix("data: "))
        assert failed["response"]["status"] == "failed"
        assert failed["response"]["error"]["code"] == "server_error", model
        assert failed["response"]["error"]["message"]
        added = [json.loads(f.split("\n")[1].removeprefix("data: ")) for f in frames if "output_item.added" in f]
        output = failed["response"]["output"]
        assert [(item["id"], item["status"]) for item in output] == [
            (event["item"]["id"], "incomplete") for event in added
        ], model
    with httpx.stream(
        "POST", f"{proxy.url}/v1/responses", json={"model": "fault-cut-2", "input": "hi there friend", "stream": True}
    ) as reply:
        text = "".join(reply.iter_text())
    failed = json.loads(text.rstrip("\n").rsplit("\n", 1)[-1].removeprefix("data: "))
    assert [(item["status"], item["content"]) for item in failed["response"]["output"]] == [
        ("incomplete", [{"type": "output_text", "text": "Echo:", "annotations": [], "logprobs": []}])
    ]
