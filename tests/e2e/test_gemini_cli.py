"""Gemini CLI from npm (headless, ``gemini -p``) against the proxy's Gemini door.

Set up as a user would: ``GOOGLE_GEMINI_BASE_URL`` at the door, a key in ``GEMINI_API_KEY``, and a
``settings.json`` selecting API-key auth. Three runs per session: answering a prompt on Claude (no tools
offered, so the emulator answers rather than calls one), and completing a turn in which the model calls the
CLI's ``read_file`` tool (the emulator makes the call the prompt directs), on Claude and on Llama (the key
sent as a bearer token there).
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

from tests.e2e.agents import GEMINI_CLI_DIR, npm_binary
from tests.e2e.conftest import LLAMA
from tests.e2e.harness import Emulator, Proxy

CLAUDE = "databricks-claude-sonnet-4-5"
SECRET = "The secret word is pineapple."


@dataclass
class Run:
    result: dict[str, Any]
    upstream: list[dict[str, Any]]  # the invocations Databricks (the emulator) received, in order


@pytest.fixture(scope="session")
def gemini_binary() -> Path:
    return npm_binary(GEMINI_CLI_DIR, "gemini")


@pytest.fixture(scope="session")
def gemini_runs(
    gemini_binary: Path, proxy: Proxy, emulator: Emulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Run]]:
    home = tmp_path_factory.mktemp("gemini-home")
    work = tmp_path_factory.mktemp("gemini-work")
    (work / "notes.txt").write_text(SECRET + "\n")
    (home / ".gemini").mkdir()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "GOOGLE_GEMINI_BASE_URL": f"{proxy.url}/api/gemini",
        "GEMINI_API_KEY": "gemini-cli-client-key",
        "GEMINI_CLI_TRUST_WORKSPACE": "true",
    }

    def run(prompt: str, model: str, tools: list[str], **extra_env: str) -> Run:
        # ``tools.core`` offers only these built-in tools; excluding them all offers none.
        settings = {
            "security": {"auth": {"selectedType": "gemini-api-key"}},
            "tools": {"core": tools or ["read_file"], "exclude": [] if tools else ["read_file"]},
        }
        (home / ".gemini" / "settings.json").write_text(json.dumps(settings))
        emulator.reset()
        done = subprocess.run(
            [str(gemini_binary), "-p", prompt, "-m", model, "--output-format", "json"],
            cwd=work,
            env={**env, **extra_env},
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        upstream = [r for r in emulator.stats()["recent"] if r["path"].endswith("/invocations")]
        return Run(json.loads(done.stdout), upstream)

    read = f'call read_file with {{"file_path": "{work / "notes.txt"}"}}'
    yield {
        "plain": run("hello from gemini cli", CLAUDE, []),
        "tool": run(read, CLAUDE, ["read_file"]),
        "llama": run(read, LLAMA, ["read_file"], GEMINI_API_KEY_AUTH_MECHANISM="bearer"),
    }


def test_answers_a_prompt(gemini_runs: dict[str, Run]) -> None:
    run = gemini_runs["plain"]
    assert run.result["response"].startswith("Echo: ") and run.result["response"].endswith("hello from gemini cli")
    (call,) = run.upstream
    assert call["path"] == f"/serving-endpoints/{CLAUDE}/invocations"
    body = call["body"]
    assert body["stream"] is True and "tools" not in body
    assert body["messages"][0]["role"] == "system" and body["messages"][-1]["role"] == "user"


def test_completes_a_turn_with_one_of_its_tools(gemini_runs: dict[str, Run]) -> None:
    run = gemini_runs["tool"]
    assert SECRET in run.result["response"]
    first, second = run.upstream
    assert [t["function"]["name"] for t in first["body"]["tools"]] == ["read_file"]
    assistant, result = second["body"]["messages"][-2:]
    # Claude's signed thinking went to the CLI in thoughtSignature and came back unchanged, without a store
    reasoning = assistant["content"][0]
    assert reasoning["type"] == "reasoning" and reasoning["summary"][0]["signature"].startswith("ErcB")
    (call,) = assistant["tool_calls"]
    assert call["function"]["name"] == "read_file"
    assert result["role"] == "tool" and result["tool_call_id"] == call["id"]
    assert SECRET in json.dumps(result["content"])


def test_works_on_a_model_of_another_family(gemini_runs: dict[str, Run]) -> None:
    run = gemini_runs["llama"]
    assert SECRET in run.result["response"]
    first, second = run.upstream
    assert first["path"] == f"/serving-endpoints/{LLAMA}/invocations"
    # the CLI's topK has no meaning for Llama on Databricks: not sent
    assert "top_k" not in first["body"] and first["body"]["top_p"] == 0.95
    assert "thinking_blocks" not in second["body"]["messages"][-2]
    assert second["body"]["messages"][-1]["role"] == "tool"
