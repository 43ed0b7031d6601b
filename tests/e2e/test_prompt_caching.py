"""Prompt caching end to end: real SDKs -> uvicorn -> the emulator, whose Claude endpoints play Claude's cache.

A conversation resent turn after turn reads the prefix the previous turn wrote, through every door, and each
door reports it in its own usage fields; the log line and /metrics count it; an endpoint that refuses
breakpoints still answers.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import anthropic
import httpx
import openai

from tests.e2e.harness import Emulator, Proxy

SONNET = "databricks-claude-sonnet-4-5"
GPT = "databricks-gpt-5-2"
REFUSING = "fault-claude-refuses-cache-control"


def system_prompt() -> str:
    """Long enough to be cached (Sonnet 4.5: 1024 tokens; the emulator counts words), unique per test."""
    return f"Session {uuid.uuid4().hex}. " + "Follow the project's coding rules carefully. " * 200


def test_chat_door_second_turn_reads_what_the_first_wrote(client: openai.OpenAI, emulator: Emulator) -> None:
    messages: list[Any] = [{"role": "system", "content": system_prompt()}, {"role": "user", "content": "first task"}]
    first = client.chat.completions.create(model=SONNET, messages=messages)
    sent = emulator.stats()["last_request"]["body"]["messages"]
    assert sent[0]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert sent[-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert first.usage is not None and first.usage.prompt_tokens_details is not None
    assert first.usage.prompt_tokens_details.cached_tokens == 0
    written = (first.usage.model_extra or {})["cache_creation_input_tokens"]
    assert written > 1000

    messages += [
        {"role": "assistant", "content": first.choices[0].message.content},
        {"role": "user", "content": "next"},
    ]
    second = client.chat.completions.create(model=SONNET, messages=messages)
    assert second.usage is not None and second.usage.prompt_tokens_details is not None
    assert second.usage.prompt_tokens_details.cached_tokens == written
    assert second.usage.prompt_tokens > written


def test_chat_door_streams_cached_tokens(client: openai.OpenAI) -> None:
    messages: list[Any] = [{"role": "system", "content": system_prompt()}, {"role": "user", "content": "go"}]
    client.chat.completions.create(model=SONNET, messages=messages)
    stream = client.chat.completions.create(
        model=SONNET, messages=messages, stream=True, stream_options={"include_usage": True}
    )
    usage = [chunk.usage for chunk in stream if chunk.usage is not None][-1]
    assert usage.prompt_tokens_details is not None and (usage.prompt_tokens_details.cached_tokens or 0) > 1000


def test_gpt_gets_no_breakpoints(client: openai.OpenAI, emulator: Emulator) -> None:
    messages: list[Any] = [{"role": "system", "content": system_prompt()}, {"role": "user", "content": "go"}]
    client.chat.completions.create(model=GPT, messages=messages)
    assert "cache_control" not in json.dumps(emulator.stats()["last_request"]["body"])


def test_responses_door_reports_input_tokens_details(proxy: Proxy) -> None:
    responses = openai.OpenAI(base_url=f"{proxy.url}/v1", api_key="sk-client", max_retries=0).responses
    instructions = system_prompt()
    first = responses.create(model=SONNET, instructions=instructions, input="first task", store=False)
    assert first.usage is not None and first.usage.input_tokens_details.cached_tokens == 0
    second = responses.create(
        model=SONNET,
        instructions=instructions,
        input=[
            {"role": "user", "content": "first task"},
            {"role": "assistant", "content": first.output_text},
            {"role": "user", "content": "next"},
        ],
        store=False,
    )
    assert second.usage is not None and second.usage.input_tokens_details.cached_tokens > 1000


def test_anthropic_door_reports_cache_reads_and_writes(proxy: Proxy) -> None:
    claude = anthropic.Anthropic(base_url=f"{proxy.url}/api/anthropic", api_key="sk-ant-client", max_retries=0)
    system = system_prompt()
    turn = [{"role": "user", "content": "first task"}]
    first = claude.messages.create(model=SONNET, max_tokens=200, system=system, messages=turn)  # type: ignore[arg-type]
    assert first.usage.cache_read_input_tokens == 0 and (first.usage.cache_creation_input_tokens or 0) > 1000
    turns: Any = [*turn, {"role": "assistant", "content": first.content}, {"role": "user", "content": "next"}]
    second = claude.messages.create(model=SONNET, max_tokens=200, system=system, messages=turns)
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert second.usage.input_tokens >= 0 and (second.usage.cache_creation_input_tokens or 0) > 0


def test_anthropic_clients_own_breakpoint_is_what_is_cached(proxy: Proxy, emulator: Emulator) -> None:
    claude = anthropic.Anthropic(base_url=f"{proxy.url}/api/anthropic", api_key="sk-ant-client", max_retries=0)
    system: Any = [{"type": "text", "text": system_prompt(), "cache_control": {"type": "ephemeral"}}]
    turn = [{"role": "user", "content": "first task"}]
    first = claude.messages.create(model=SONNET, max_tokens=200, system=system, messages=turn)  # type: ignore[arg-type]
    sent = emulator.stats()["last_request"]["body"]["messages"]
    assert sent[-1] == {"role": "user", "content": "first task"}  # nothing added to a request that marks its own
    second = claude.messages.create(model=SONNET, max_tokens=200, system=system, messages=turn)  # type: ignore[arg-type]
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens


def test_a_refusing_endpoint_still_answers(client: openai.OpenAI, proxy: Proxy) -> None:
    messages: list[Any] = [{"role": "system", "content": system_prompt()}, {"role": "user", "content": "go"}]
    for _ in range(2):
        answer = client.chat.completions.create(model=REFUSING, messages=messages)
        assert answer.choices[0].message.content
    text = httpx.get(f"{proxy.url}/metrics", timeout=5).text
    assert f'proxy_cache_breakpoints_refused_total{{model="{REFUSING}"}} 1.0' in text


def test_log_line_and_metrics_count_cached_tokens(client: openai.OpenAI, proxy: Proxy) -> None:
    messages: list[Any] = [{"role": "system", "content": system_prompt()}, {"role": "user", "content": "go"}]
    client.chat.completions.create(model=SONNET, messages=messages)
    answer = client.chat.completions.create(model=SONNET, messages=messages)
    assert answer.usage is not None and answer.usage.prompt_tokens_details is not None
    cached = answer.usage.prompt_tokens_details.cached_tokens
    lines = [
        json.loads(line) for line in proxy.output().splitlines() if line.startswith("{") and '"cached_tokens"' in line
    ]
    assert any(line.get("cached_tokens") == cached and line.get("endpoint") == SONNET for line in lines)
    text = httpx.get(f"{proxy.url}/metrics", timeout=5).text
    assert f'proxy_tokens_total{{caller="",direction="cache_read",model="{SONNET}"}}' in text
