"""Claude Code from npm (print mode) against the proxy's Anthropic door, with only its base URL and a token set.

Claude Code runs three times per test session (it is slow to start): answering a prompt, and completing a turn in
which the model calls Claude Code's ``Read`` tool (the emulator makes the call the prompt directs), on Claude and on
GPT-OSS.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.agents import CLAUDE_CODE_DIR, npm_binary
from tests.e2e.conftest import GPT_OSS
from tests.e2e.harness import Emulator, Proxy

SECRET = "The secret word is pineapple."
README_PROMPT = "List the files in this directory"  # the README's example prompt


@dataclass
class Run:
    result: dict[str, Any]
    upstream: list[dict[str, Any]]  # the invocations Databricks (the emulator) received, in order


@pytest.fixture(scope="session")
def claude_binary() -> Path:
    return npm_binary(CLAUDE_CODE_DIR, "claude")


@pytest.fixture(scope="session")
def claude_runs(
    claude_binary: Path, proxy: Proxy, emulator: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Run]]:
    home = tmp_path_factory.mktemp("claude-home")
    work = tmp_path_factory.mktemp("claude-work")
    (work / "notes.txt").write_text(SECRET + "\n")
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "ANTHROPIC_BASE_URL": f"{proxy.url}/api/anthropic",
        "ANTHROPIC_AUTH_TOKEN": "sk-claude-code-client",
        "DISABLE_TELEMETRY": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }

    def run(prompt: str, tools: str, **extra_env: str) -> Run:
        emulator.reset()
        done = subprocess.run(
            [str(claude_binary), "-p", prompt, "--tools", tools, "--output-format", "json"],
            cwd=work,
            env={**env, **extra_env},
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        upstream = [r for r in emulator.stats()["recent"] if r["path"].endswith("/invocations")]
        return Run(json.loads(done.stdout), upstream)

    read = f'call Read with {{"file_path": "{work / "notes.txt"}"}}'
    yield {
        "plain": run("hello from claude code", ""),
        "tool": run(read, "Read"),
        "gpt-oss": run(read, "Read", ANTHROPIC_MODEL=GPT_OSS),
        "readme": run(README_PROMPT, "default"),
    }


def test_answers_a_prompt(claude_runs: dict[str, Run]) -> None:
    run = claude_runs["plain"]
    assert (run.result["is_error"], run.result["num_turns"], run.result["stop_reason"]) == (False, 1, "end_turn")
    assert run.result["result"].startswith("Echo: ") and run.result["result"].endswith("hello from claude code")
    (call,) = run.upstream
    # Claude Code asked for its own default model id; the proxy chose the workspace's Claude endpoint.
    assert call["path"] == "/serving-endpoints/databricks-claude-opus-4-6/invocations"
    body = call["body"]
    assert body["stream"] is True
    assert body["thinking"] == {"type": "adaptive"}, body
    assert body["messages"][0]["role"] == "system" and body["messages"][-1]["role"] == "user"


def test_completes_a_turn_with_one_of_its_tools(claude_runs: dict[str, Run]) -> None:
    run = claude_runs["tool"]
    assert (run.result["is_error"], run.result["num_turns"]) == (False, 2)
    assert SECRET in run.result["result"]
    first, second = run.upstream
    assert [t["function"]["name"] for t in first["body"]["tools"]] == ["Read"]
    assistant, result = second["body"]["messages"][-2:]
    # the tool call went back with the thinking that preceded it, its signature unchanged
    reasoning, text = assistant["content"]
    assert reasoning["type"] == "reasoning" and reasoning["summary"][0]["signature"].startswith("ErcB")
    assert text == {"type": "text", "text": "I'll call the tool."}
    (call,) = assistant["tool_calls"]
    assert call["function"]["name"] == "Read"
    assert result["role"] == "tool" and result["tool_call_id"] == call["id"]
    # Claude Code marks the last block of the conversation for its prompt cache: the breakpoint goes on as sent.
    (part,) = result["content"]
    assert part["type"] == "text" and SECRET in part["text"] and part["cache_control"] == {"type": "ephemeral"}


def test_works_on_a_model_of_another_family(claude_runs: dict[str, Run]) -> None:
    run = claude_runs["gpt-oss"]
    assert (run.result["is_error"], run.result["num_turns"]) == (False, 2)
    assert SECRET in run.result["result"]
    first, second = run.upstream
    assert first["path"] == f"/serving-endpoints/{GPT_OSS}/invocations"
    # Claude Code's adaptive thinking at effort "high" is GPT-OSS's reasoning_effort; no Claude-only field is sent
    assert first["body"]["reasoning_effort"] == "high"
    assert not {"thinking", "output_config", "context_management"} & set(first["body"])
    assert second["body"]["messages"][-1]["role"] == "tool"


def test_the_readme_prompt_completes_a_tool_turn_with_its_default_tools(claude_runs: dict[str, Run]) -> None:
    run = claude_runs["readme"]
    assert (run.result["is_error"], run.result["num_turns"]) == (False, 2), run.result
    first, second = run.upstream
    assert len(first["body"]["tools"]) > 3  # Claude Code's whole default tool set was offered
    assistant, result = second["body"]["messages"][-2:]
    (call,) = assistant["tool_calls"]
    assert result["role"] == "tool" and result["tool_call_id"] == call["id"]
    # the call was valid against the tool Claude Code offered: the tool ran, no validation error came back
    # A string, or text parts (the last one carries the automatic prompt-cache breakpoint on Claude)
    content = result["content"]
    text = content if isinstance(content, str) else "".join(part["text"] for part in content)
    assert "InputValidationError" not in text and "tool_use_error" not in text
    assert "notes.txt" in text, content
