"""Codex CLI (``@openai/codex`` from npm) with the proxy as a custom model provider, non-interactive.

Codex runs once per session (it is slow to start); the tests read what it printed and what the
emulator received.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.agents import CODEX_DIR, npm_binary
from tests.e2e.conftest import CLAUDE
from tests.e2e.harness import Emulator, Proxy

COMMAND = "echo codex-tool-ran"
PROMPT = f'call exec_command with {{"cmd": "{COMMAND}"}}'  # the emulator makes the call a prompt directs
CONFIG = """\
model = "{model}"
model_provider = "databricks"

[model_providers.databricks]
name = "Databricks proxy"
base_url = "{base_url}"
wire_api = "responses"
env_key = "DATABRICKS_PROXY_TOKEN"
stream_max_retries = 0
request_max_retries = 0
"""


@dataclass
class CodexRun:
    returncode: int
    stdout: str
    stderr: str
    events: list[dict[str, Any]]
    requests: list[dict[str, Any]]


README_PROMPT = "List the files in this directory"  # the README's example prompt


def run_codex(proxy: Proxy, emulator: Emulator, prompt: str) -> CodexRun:
    binary = npm_binary(CODEX_DIR, "codex")
    with tempfile.TemporaryDirectory(prefix="codex-home-") as home, tempfile.TemporaryDirectory() as work:
        Path(work, "notes.txt").write_text("notes\n")
        # Claude: the turn's reasoning (with its signature) must come back to Databricks with the tool result.
        Path(home, "config.toml").write_text(CONFIG.format(model=CLAUDE, base_url=f"{proxy.url}/api/v1"))
        env = {
            "PATH": os.environ["PATH"],
            "HOME": home,
            "CODEX_HOME": home,
            "DATABRICKS_PROXY_TOKEN": "token-for-the-proxy",
        }
        emulator.reset()
        done = subprocess.run(
            [str(binary), "exec", "--json", "--skip-git-repo-check", "--sandbox", "read-only", prompt],
            cwd=work,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        requests = [r for r in emulator.stats()["recent"] if r["path"].endswith("/invocations")]
    events = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    return CodexRun(done.returncode, done.stdout, done.stderr, events, requests)


@pytest.fixture(scope="session")
def codex_run(proxy: Proxy, emulator: Emulator) -> Iterator[CodexRun]:
    yield run_codex(proxy, emulator, PROMPT)


def test_the_readme_prompt_completes_a_tool_turn(proxy: Proxy, emulator: Emulator) -> None:
    run = run_codex(proxy, emulator, README_PROMPT)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "turn.completed" in [event.get("type") for event in run.events], run.stdout[-3000:]
    commands = [
        event["item"]
        for event in run.events
        if event.get("type") == "item.completed" and event["item"].get("type") == "command_execution"
    ]
    # a command the emulator built from the tool's schema ran (no "missing field `cmd`")
    assert len(commands) == 1 and commands[0]["exit_code"] == 0, run.stdout[-3000:]
    assert "notes.txt" in commands[0]["aggregated_output"]


def test_codex_completes_a_turn_with_a_tool_call(codex_run: CodexRun) -> None:
    assert codex_run.returncode == 0, codex_run.stderr[-3000:]
    kinds = [event.get("type") for event in codex_run.events]
    assert "turn.completed" in kinds, codex_run.stdout[-3000:]
    commands = [
        event["item"]
        for event in codex_run.events
        if event.get("type") == "item.completed" and event["item"].get("type") == "command_execution"
    ]
    assert len(commands) == 1
    assert COMMAND in commands[0]["command"]
    assert "codex-tool-ran" in commands[0]["aggregated_output"]
    assert commands[0]["exit_code"] == 0
    messages = [
        event["item"]["text"]
        for event in codex_run.events
        if event.get("type") == "item.completed" and event["item"].get("type") == "agent_message"
    ]
    assert messages and messages[-1].startswith("Echo:") and "codex-tool-ran" in messages[-1]


def test_codex_requests_reached_databricks_as_chat(codex_run: CodexRun, proxy: Proxy) -> None:
    assert len(codex_run.requests) == 2
    first, second = (request["body"] for request in codex_run.requests)
    assert first["stream"] is True
    # Codex sends no cache breakpoints; on Claude the proxy marks the last message (and the system prompt).
    assert first["messages"][-1] == {
        "role": "user",
        "content": [{"type": "text", "text": PROMPT, "cache_control": {"type": "ephemeral"}}],
    }
    leading = [m for m in first["messages"][: len(first["messages"]) - 1] if m["role"] == "system"]
    assert leading and "cache_control" in leading[-1]["content"][-1]  # the end of the system prompt
    assert first["tools"][0]["function"]["name"] == "exec_command"
    assert not {"client_metadata", "include", "store", "prompt_cache_key", "parallel_tool_calls"} & set(first)
    call = second["messages"][-2]["tool_calls"][0]
    assert call["function"]["name"] == "exec_command"
    assert json.loads(call["function"]["arguments"]) == {"cmd": COMMAND}
    # The reasoning Codex got (as a reasoning item's encrypted_content) reached Claude again, signature included.
    assistant = second["messages"][-2]
    reasoning = assistant["content"][0]
    assert reasoning["type"] == "reasoning"
    summary = reasoning["summary"][0]
    assert summary["text"] == f"Thinking about: {PROMPT}" and summary["signature"].startswith("ErcB")
    tool_result = second["messages"][-1]
    assert tool_result["role"] == "tool" and tool_result["tool_call_id"] == call["id"]
    (output,) = tool_result["content"]
    assert "codex-tool-ran" in output["text"] and output["cache_control"] == {"type": "ephemeral"}
    # Codex offers its hosted web search too: never sent upstream, noted in the request's log line.
    assert not [t for t in first["tools"] if "web_search" in t["function"]["name"]]
    assert '"note":"dropped hosted tools: web_search"' in proxy.wait_for_output("dropped hosted tools")
