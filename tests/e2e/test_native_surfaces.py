"""Upstream surfaces end to end: a workspace with Unity Gateway and the providers' own APIs (the emulator's default),
and one without a gateway, driven by the real SDKs and coding agents.

What chat cannot carry arrives and comes back on the native pairs (Claude on the Anthropic door, GPT on the
Responses door, Gemini on the Gemini door); an endpoint the native API does not serve is translated; every call goes
through the gateway, whose 403 and 429 reach the caller and are never gone around.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import httpx
import openai
import pytest
from google import genai
from google.genai import types as genai_types

from tests.e2e.agents import CLAUDE_CODE_DIR, CODEX_DIR, GEMINI_CLI_DIR, npm_binary
from tests.e2e.conftest import LLAMA
from tests.e2e.harness import E2E_TOKEN, Emulator, Proxy
from tests.e2e.test_codex import CONFIG

SONNET = "databricks-claude-sonnet-4-5"
UNSERVED = "databricks-claude-haiku-4-5"  # a Claude endpoint the native Messages API does not serve here
GPT = "databricks-gpt-5-2"
OVER_BUDGET = "databricks-gpt-5-mini"  # the gateway blocks it: a budget
RATE_LIMITED = "databricks-qwen3-next-80b-a3b-instruct"  # the gateway rate-limits it
FLASH = "databricks-gemini-2-5-flash"
BGE = "databricks-bge-large-en"
WEATHER = {
    "name": "get_weather",
    "description": "Weather of a city",
    "input_schema": {"type": "object", "properties": {"input": {"type": "string"}}, "required": ["input"]},
    "cache_control": {"type": "ephemeral"},
}
SECRET = "The secret word is pineapple."


@pytest.fixture(scope="module")
def workspace() -> Iterator[Emulator]:
    """Unity Gateway and the native APIs, as a current workspace serves them."""
    emu = Emulator(
        "--token",
        E2E_TOKEN,
        "--native-unserved",
        UNSERVED,
        "--gateway-block",
        OVER_BUDGET,
        "--gateway-rate-limit",
        RATE_LIMITED,
    )
    yield emu
    emu.stop()


@pytest.fixture(scope="module")
def proxy(workspace: Emulator) -> Iterator[Proxy]:
    """The proxy with its defaults (``PROXY_UNITY_GATEWAY=auto``, native surfaces on)."""
    server = Proxy({"DATABRICKS_HOST": workspace.url, "DATABRICKS_TOKEN": E2E_TOKEN})
    yield server
    server.stop()
    assert E2E_TOKEN not in server.output()


@pytest.fixture(scope="module")
def claude(proxy: Proxy) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=f"{proxy.url}/api/anthropic", api_key="sk-ant-client", max_retries=0)


@pytest.fixture(scope="module")
def oai(proxy: Proxy) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{proxy.url}/api/v1", api_key="sk-client", max_retries=0)


def upstream(emulator: Emulator) -> list[dict[str, Any]]:
    """What Databricks received since the last reset, in order (the model list aside)."""
    return [r for r in emulator.stats()["recent"] if not r["path"].startswith(("/api/2.0/", "/oidc/"))]


# --------------------------------------------------------------------------------------------- Anthropic, native


def test_claude_keeps_what_chat_cannot_carry(claude: anthropic.Anthropic, workspace: Emulator) -> None:
    """Tools with cache_control, a document block, a matched stop sequence, an anthropic-beta header."""
    workspace.reset()
    document = {
        "type": "document",
        "source": {"type": "text", "media_type": "text/plain", "data": "The launch is on Tuesday."},
        "title": "memo",
    }
    messages: list[Any] = [{"role": "user", "content": [document, {"type": "text", "text": "alpha beta gamma"}]}]
    message = claude.messages.create(
        model=SONNET,
        max_tokens=200,
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice={"type": "none"},  # the tool is offered (with its cache breakpoint), not called
        stop_sequences=["beta"],
        messages=messages,
        extra_headers={"anthropic-beta": "interleaved-thinking-2025-05-14"},
    )
    assert message.stop_reason == "stop_sequence" and message.stop_sequence == "beta"
    assert message.content[-1].type == "text" and "beta" not in message.content[-1].text
    assert message.id.startswith("msg_") and message.model != SONNET  # Databricks' own answer, as sent
    (call,) = upstream(workspace)
    assert call["path"] == "/ai-gateway/anthropic/v1/messages"
    assert call["body"]["model"] == SONNET and call["body"]["tools"] == [WEATHER]
    assert call["body"]["messages"][0]["content"][0] == document
    assert call["headers"]["anthropic-beta"] == "interleaved-thinking-2025-05-14"
    assert call["headers"]["authorization"] == f"Bearer {E2E_TOKEN}"
    assert "usage_context" not in call["body"] and "client_request_id" not in call["body"]


def test_a_beta_flag_the_endpoint_refuses_is_left_out_and_remembered(
    claude: anthropic.Anthropic, workspace: Emulator
) -> None:
    workspace.reset()
    betas = "interleaved-thinking-2025-05-14,unsupported-feature-2026-01-01"
    for _ in range(2):
        message = claude.messages.create(
            model=SONNET,
            max_tokens=50,
            messages=[{"role": "user", "content": "with betas"}],
            extra_headers={"anthropic-beta": betas},
        )
        assert message.content[-1].text.endswith("with betas")  # type: ignore[union-attr]
    sent = [r["headers"].get("anthropic-beta") for r in upstream(workspace)]
    # refused once (a 400: nothing generated), sent again without that flag, and not sent with it after
    assert sent == [betas, "interleaved-thinking-2025-05-14", "interleaved-thinking-2025-05-14"]


def test_claude_streams_come_back_as_sent_with_cache_counts(claude: anthropic.Anthropic, workspace: Emulator) -> None:
    system = [{"type": "text", "text": "You are terse. " * 400, "cache_control": {"type": "ephemeral"}}]
    for _ in range(2):
        with claude.messages.stream(
            model=SONNET,
            max_tokens=300,
            system=system,  # type: ignore[arg-type]
            thinking={"type": "enabled", "budget_tokens": 1024},
            messages=[{"role": "user", "content": "hello natively"}],
        ) as stream:
            final = stream.get_final_message()
    assert [block.type for block in final.content] == ["thinking", "text"]
    assert final.content[0].signature  # type: ignore[union-attr]
    assert final.content[1].text.endswith("hello natively")  # type: ignore[union-attr]
    assert final.usage.cache_read_input_tokens  # the second call read what the first wrote


def test_a_tool_turn_with_an_error_result_goes_verbatim(claude: anthropic.Anthropic, workspace: Emulator) -> None:
    first = claude.messages.create(
        model=SONNET,
        max_tokens=300,
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice={"type": "tool", "name": "get_weather"},
        messages=[{"role": "user", "content": "Paris"}],
    )
    use = next(block for block in first.content if block.type == "tool_use")
    workspace.reset()
    result = {"type": "tool_result", "tool_use_id": use.id, "content": "service down", "is_error": True}
    history: list[Any] = [
        {"role": "user", "content": "Paris"},
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
        {"role": "user", "content": [result]},
    ]
    second = claude.messages.create(model=SONNET, max_tokens=300, tools=[WEATHER], messages=history)  # type: ignore[list-item]
    assert second.stop_reason == "end_turn"
    (call,) = upstream(workspace)
    assert call["body"]["messages"][2]["content"] == [result]


def test_an_endpoint_the_native_api_does_not_serve_is_translated_and_remembered(
    claude: anthropic.Anthropic, workspace: Emulator
) -> None:
    workspace.reset()
    for _ in range(2):
        message = claude.messages.create(
            model=UNSERVED, max_tokens=100, messages=[{"role": "user", "content": "hello haiku"}]
        )
        assert message.content[-1].text.endswith("hello haiku")  # type: ignore[union-attr]
    paths = [r["path"] for r in upstream(workspace)]
    assert paths == [
        "/ai-gateway/anthropic/v1/messages",  # 400 "... passthrough is not supported"
        "/ai-gateway/mlflow/v1/chat/completions",
        "/ai-gateway/mlflow/v1/chat/completions",  # remembered: no second native try
    ]


def test_other_families_on_the_anthropic_door_are_translated(claude: anthropic.Anthropic, workspace: Emulator) -> None:
    workspace.reset()
    message = claude.messages.create(model=LLAMA, max_tokens=50, messages=[{"role": "user", "content": "hi llama"}])
    assert message.content[0].text == "Echo: hi llama"  # type: ignore[union-attr]
    (call,) = upstream(workspace)
    assert call["path"] == "/ai-gateway/mlflow/v1/chat/completions" and call["body"]["model"] == LLAMA


# --------------------------------------------------------------------------------------------- Unity Gateway


def test_chat_and_embeddings_go_through_the_gateway(oai: openai.OpenAI, workspace: Emulator) -> None:
    workspace.reset()
    answer = oai.chat.completions.create(model=LLAMA, messages=[{"role": "user", "content": "via the gateway"}])
    assert answer.choices[0].message.content == "Echo: via the gateway"
    vectors = oai.embeddings.create(model=BGE, input="text")
    assert len(vectors.data[0].embedding) > 0
    chat_call, embeddings_call = upstream(workspace)
    assert chat_call["path"] == "/ai-gateway/mlflow/v1/chat/completions" and chat_call["body"]["model"] == LLAMA
    assert embeddings_call["path"] == "/ai-gateway/mlflow/v1/embeddings" and embeddings_call["body"]["model"] == BGE


def test_a_gateway_budget_refusal_reaches_the_caller_and_is_not_gone_around(
    oai: openai.OpenAI, claude: anthropic.Anthropic, workspace: Emulator, proxy: Proxy
) -> None:
    workspace.reset()
    with pytest.raises(openai.PermissionDeniedError) as refused:
        oai.chat.completions.create(model=OVER_BUDGET, messages=[{"role": "user", "content": "hi"}])
    assert "budget" in refused.value.message
    with pytest.raises(anthropic.PermissionDeniedError) as refused_too:
        claude.messages.create(model=OVER_BUDGET, max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    assert refused_too.value.body["type"] == "error"  # type: ignore[index]
    assert all(r["path"].startswith("/ai-gateway/") for r in upstream(workspace))
    assert httpx.get(f"{proxy.url}/ready").status_code == 200  # a budget is not a refused credential


def test_a_gateway_rate_limit_reaches_the_caller_with_its_retry_after(oai: openai.OpenAI, workspace: Emulator) -> None:
    workspace.reset()
    with pytest.raises(openai.RateLimitError) as limited:
        oai.chat.completions.create(model=RATE_LIMITED, messages=[{"role": "user", "content": "hi"}])
    assert limited.value.response.headers["retry-after"] == "7"
    assert [r["path"] for r in upstream(workspace)] == ["/ai-gateway/mlflow/v1/chat/completions"]


def test_without_a_gateway_the_serving_endpoints_serve_natively_too() -> None:
    emu = Emulator("--token", E2E_TOKEN, "--no-unity-gateway")
    server = Proxy({"DATABRICKS_HOST": emu.url, "DATABRICKS_TOKEN": E2E_TOKEN})
    try:
        chat = openai.OpenAI(base_url=f"{server.url}/v1", api_key="k", max_retries=0)
        claude = anthropic.Anthropic(base_url=f"{server.url}/anthropic", api_key="k", max_retries=0)
        for _ in range(2):
            chat.chat.completions.create(model=LLAMA, messages=[{"role": "user", "content": "hi"}])
        claude.messages.create(model=SONNET, max_tokens=50, messages=[{"role": "user", "content": "hi"}])
        paths = [r["path"] for r in upstream(emu)]
        health = httpx.get(f"{server.url}/health").json()
    finally:
        server.stop()
        emu.stop()
    assert paths == [
        "/ai-gateway/mlflow/v1/chat/completions",  # 404 ENDPOINT_NOT_FOUND: no gateway in this workspace
        f"/serving-endpoints/{LLAMA}/invocations",
        f"/serving-endpoints/{LLAMA}/invocations",  # remembered for the whole workspace
        "/serving-endpoints/anthropic/v1/messages",
    ]
    assert "absent" in health["surfaces"]["unity_gateway"]


# --------------------------------------------------------------------------------------------- Responses, native


def test_gpt_on_the_responses_door_keeps_log_probabilities_and_the_proxy_keeps_the_state(
    oai: openai.OpenAI, workspace: Emulator
) -> None:
    workspace.reset()
    first = oai.responses.create(
        model=GPT, input="alpha beta", include=["message.output_text.logprobs"], top_logprobs=2
    )
    text = next(item for item in first.output if item.type == "message").content[0]
    assert text.type == "output_text" and text.logprobs  # chat invocations cannot carry these
    streamed = oai.responses.create(model=GPT, input="and again", previous_response_id=first.id, stream=True)
    events = list(streamed)
    assert events[-1].type == "response.completed"
    calls = upstream(workspace)
    assert [r["path"] for r in calls] == ["/ai-gateway/codex/v1/responses"] * 2
    assert calls[0]["body"]["store"] is False  # the proxy's store keeps the state; Databricks' surface is stateless
    second_input = calls[1]["body"]["input"]
    assert "previous_response_id" not in calls[1]["body"]
    assert any(item.get("type") == "reasoning" and item.get("encrypted_content") for item in second_input)


# --------------------------------------------------------------------------------------------- Gemini, native


def test_gemini_on_the_gemini_door_goes_natively(proxy: Proxy, workspace: Emulator) -> None:
    workspace.reset()
    client = genai.Client(
        api_key="gemini-key",
        http_options=genai_types.HttpOptions(base_url=f"{proxy.url}/api/gemini", api_version="v1beta"),
    )
    answer = client.models.generate_content(model="gemini-2.5-flash", contents="hello gemini")
    assert answer.text
    chunks = list(client.models.generate_content_stream(model="gemini-2.5-flash", contents="stream gemini"))
    assert chunks and chunks[-1].candidates[0].finish_reason == genai_types.FinishReason.STOP  # type: ignore[index]
    paths = [r["path"] for r in upstream(workspace)]
    assert paths == [
        f"/ai-gateway/gemini/v1beta/models/{FLASH}:generateContent",
        f"/ai-gateway/gemini/v1beta/models/{FLASH}:streamGenerateContent",
    ]


# --------------------------------------------------------------------------------------------- coding agents


def test_claude_code_on_claude_natively(proxy: Proxy, workspace: Emulator, tmp_path: Path) -> None:
    """Claude Code's own cache breakpoints and betas arrive as it sent them, and a tool turn completes."""
    binary = npm_binary(CLAUDE_CODE_DIR, "claude")
    (tmp_path / "work").mkdir()
    (tmp_path / "work" / "notes.txt").write_text(SECRET + "\n")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "ANTHROPIC_BASE_URL": f"{proxy.url}/api/anthropic",
        "ANTHROPIC_AUTH_TOKEN": "sk-claude-code-client",
        "ANTHROPIC_MODEL": SONNET,
        "DISABLE_TELEMETRY": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }
    workspace.reset()
    prompt = f'call Read with {{"file_path": "{tmp_path / "work" / "notes.txt"}"}}'
    done = subprocess.run(
        [str(binary), "-p", prompt, "--tools", "Read", "--output-format", "json"],
        cwd=tmp_path / "work",
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout)
    assert (result["is_error"], result["num_turns"]) == (False, 2) and SECRET in result["result"]
    calls = [r for r in upstream(workspace) if r["path"].endswith("/v1/messages")]
    assert len(calls) == 2 and all(r["path"] == "/ai-gateway/anthropic/v1/messages" for r in calls)
    first, second = calls
    assert first["headers"].get("anthropic-beta")  # Claude Code's betas, as it sent them
    assert first["headers"]["anthropic-version"] == "2023-06-01"
    assert "cache_control" in json.dumps(second["body"]["messages"])
    assistant = second["body"]["messages"][-2]
    assert [block["type"] for block in assistant["content"]][-1] == "tool_use"
    assert second["body"]["messages"][-1]["content"][0]["type"] == "tool_result"


def test_codex_on_gpt_natively(proxy: Proxy, workspace: Emulator) -> None:
    binary = npm_binary(CODEX_DIR, "codex")
    command = "echo codex-native-ran"
    with tempfile.TemporaryDirectory(prefix="codex-home-") as home, tempfile.TemporaryDirectory() as work:
        Path(home, "config.toml").write_text(CONFIG.format(model=GPT, base_url=f"{proxy.url}/api/v1"))
        env = {"PATH": os.environ["PATH"], "HOME": home, "CODEX_HOME": home, "DATABRICKS_PROXY_TOKEN": "t"}
        workspace.reset()
        done = subprocess.run(
            [
                str(binary),
                "exec",
                "--json",
                "--skip-git-repo-check",
                "--sandbox",
                "read-only",
                f'call exec_command with {{"cmd": "{command}"}}',
            ],
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode == 0, done.stderr[-3000:]
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert "turn.completed" in [event.get("type") for event in events], done.stdout[-3000:]
    ran = [
        e["item"] for e in events if e.get("type") == "item.completed" and e["item"].get("type") == "command_execution"
    ]
    assert ran and "codex-native-ran" in ran[0]["aggregated_output"]
    calls = [r for r in upstream(workspace) if "responses" in r["path"]]
    assert len(calls) >= 2 and all(r["path"] == "/ai-gateway/codex/v1/responses" for r in calls)
    # the second turn replays Databricks' own encrypted reasoning, verbatim
    replayed = [i for i in calls[1]["body"]["input"] if i.get("type") == "reasoning"]
    assert replayed and all(i["encrypted_content"] for i in replayed)


# --------------------------------------------------------------------------------------------- crossing surfaces


def test_a_history_from_a_translated_model_continues_natively_on_claude(
    claude: anthropic.Anthropic, workspace: Emulator
) -> None:
    """GPT-OSS's thinking (translated, unsigned) in a history sent natively to Claude, which would refuse it."""
    question: Any = {"role": "user", "content": "first question"}
    first = claude.messages.create(
        model="databricks-gpt-oss-120b",
        max_tokens=500,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[question],
    )
    assert first.content[0].type == "thinking" and not first.content[0].signature
    workspace.reset()
    history: list[Any] = [
        question,
        {"role": "assistant", "content": [block.model_dump(exclude_none=True) for block in first.content]},
        {"role": "user", "content": "second question"},
    ]
    second = claude.messages.create(model=SONNET, max_tokens=200, messages=history)
    assert second.content[-1].text.endswith("second question")  # type: ignore[union-attr]
    (call,) = upstream(workspace)
    assert call["path"] == "/ai-gateway/anthropic/v1/messages"
    assert [block["type"] for block in call["body"]["messages"][1]["content"]] == ["text"]


def test_a_stored_conversation_begun_on_claude_continues_natively_on_gpt(
    oai: openai.OpenAI, workspace: Emulator
) -> None:
    """The proxy's own reasoning items (Claude's thinking) stay out of a native GPT request, which would refuse them."""
    first = oai.responses.create(model=SONNET, input="plan it", reasoning={"effort": "low"})
    reasoning = [item for item in first.output if item.type == "reasoning"]
    assert reasoning and (reasoning[0].encrypted_content or "").startswith("dbxr1.")
    workspace.reset()
    second = oai.responses.create(model=GPT, input="now do it", previous_response_id=first.id)
    assert second.status == "completed"
    (call,) = upstream(workspace)
    assert call["path"] == "/ai-gateway/codex/v1/responses"
    assert not [item for item in call["body"]["input"] if item.get("type") == "reasoning"]


def test_claudes_thought_signature_stays_out_of_a_native_gemini_request(proxy: Proxy, workspace: Emulator) -> None:
    base = f"{proxy.url}/api/gemini/v1beta/models"
    user = {"role": "user", "parts": [{"text": "first"}]}
    first = httpx.post(f"{base}/{SONNET}:generateContent", json={"contents": [user]}, headers={"x-goog-api-key": "k"})
    model_turn = first.json()["candidates"][0]["content"]
    assert any("thoughtSignature" in part for part in model_turn["parts"])  # Claude's thinking, carried
    workspace.reset()
    contents = [user, model_turn, {"role": "user", "parts": [{"text": "second"}]}]
    second = httpx.post(f"{base}/{FLASH}:generateContent", json={"contents": contents}, headers={"x-goog-api-key": "k"})
    assert second.status_code == 200, second.text
    (call,) = upstream(workspace)
    assert call["path"] == f"/ai-gateway/gemini/v1beta/models/{FLASH}:generateContent"
    assert not any("thoughtSignature" in part for part in call["body"]["contents"][1]["parts"])


def test_gemini_cli_on_gemini_natively(proxy: Proxy, workspace: Emulator, tmp_path: Path) -> None:
    """A read_file turn: Gemini's own thoughtSignature on the call goes back to it verbatim."""
    binary = npm_binary(GEMINI_CLI_DIR, "gemini")
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    (home / ".gemini").mkdir(parents=True)
    (work / "notes.txt").write_text(SECRET + "\n")
    settings = {"security": {"auth": {"selectedType": "gemini-api-key"}}, "tools": {"core": ["read_file"]}}
    (home / ".gemini" / "settings.json").write_text(json.dumps(settings))
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "GOOGLE_GEMINI_BASE_URL": f"{proxy.url}/api/gemini",
        "GEMINI_API_KEY": "gemini-cli-client-key",
        "GEMINI_CLI_TRUST_WORKSPACE": "true",
    }
    workspace.reset()
    prompt = f'call read_file with {{"file_path": "{work / "notes.txt"}"}}'
    done = subprocess.run(
        [str(binary), "-p", prompt, "-m", FLASH, "--output-format", "json"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert SECRET in json.loads(done.stdout)["response"]
    calls = [r for r in upstream(workspace) if ":streamGenerateContent" in r["path"]]
    assert len(calls) == 2
    assert all(r["path"] == f"/ai-gateway/gemini/v1beta/models/{FLASH}:streamGenerateContent" for r in calls)
    model_turn = calls[1]["body"]["contents"][-2]
    assert model_turn["role"] == "model"
    assert any(part.get("functionCall") and part.get("thoughtSignature") for part in model_turn["parts"])
