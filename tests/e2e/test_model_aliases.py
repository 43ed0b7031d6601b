"""An alias reaches its endpoint with the endpoint's family controls, through the real server, on every door."""

from __future__ import annotations

from typing import Any

import anthropic
import openai

from tests.e2e.harness import Emulator, Proxy


def last_call(emulator: Emulator) -> tuple[str, dict[str, Any]]:
    last = emulator.stats()["last_request"]
    return str(last["path"]), dict(last["body"])


def test_anthropic_door(proxy: Proxy, emulator: Emulator) -> None:
    client = anthropic.Anthropic(base_url=f"{proxy.url}/anthropic", api_key="k", max_retries=0)
    thinking: Any = {"type": "enabled", "budget_tokens": 2048}
    message = client.messages.create(
        model="sonnet", max_tokens=4096, thinking=thinking, messages=[{"role": "user", "content": "alias"}]
    )
    assert message.model == "sonnet" and message.content[0].type == "thinking"
    path, body = last_call(emulator)
    assert path == "/serving-endpoints/databricks-claude-sonnet-4-5/invocations"
    assert body["thinking"] == thinking
    client.messages.create(
        model="claude-opus", max_tokens=4096, thinking=thinking, messages=[{"role": "user", "content": "alias"}]
    )
    path, body = last_call(emulator)
    assert path == "/serving-endpoints/databricks-claude-opus-4-6/invocations"
    assert body["thinking"] == {"type": "adaptive"}


def test_responses_door(client: openai.OpenAI, emulator: Emulator) -> None:
    client.responses.create(model="claude-opus", input="alias", reasoning={"effort": "medium"}, store=False)
    path, body = last_call(emulator)
    assert path == "/serving-endpoints/databricks-claude-opus-4-6/invocations"
    assert (body["thinking"], body["output_config"]) == ({"type": "adaptive"}, {"effort": "medium"})
    client.responses.create(model="fast-gpt", input="alias", reasoning={"effort": "minimal"}, store=False)
    path, body = last_call(emulator)
    assert path == "/serving-endpoints/databricks-gpt-5-2/invocations"
    assert body["reasoning_effort"] == "minimal"


def test_chat_door(client: openai.OpenAI, emulator: Emulator) -> None:
    client.chat.completions.create(
        model="sonnet", messages=[{"role": "user", "content": "alias"}], reasoning_effort="medium"
    )
    path, body = last_call(emulator)
    assert path == "/serving-endpoints/databricks-claude-sonnet-4-5/invocations"
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 10240} and "reasoning_effort" not in body
