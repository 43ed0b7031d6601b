"""The front page's set-up snippets, run as a user would paste them, against a proxy that requires a key.

A stand-in ``databricks`` command on PATH prints what ``databricks auth token`` prints, with the proxy's key as
the access token; the proxy accepts nothing else, so an answer proves the snippet fetched and sent its token.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from routes.pages.snippets import Snippet, snippets
from tests.e2e.conftest import CLAUDE, LLAMA
from tests.e2e.harness import E2E_TOKEN, Emulator, Proxy

TESTS = Path(__file__).resolve().parents[1]
KEY = "laptop-oauth-token-0123456789"
CLI = f"""#!/bin/sh
# Stands in for the Databricks CLI: `databricks auth token --host <workspace>` prints the cached OAuth token.
[ "$1 $2 $3" = "auth token --host" ] || {{ echo "unexpected: $*" >&2; exit 2; }}
echo '{{"access_token": "{KEY}", "token_type": "Bearer", "expiry": "2099-01-01T00:00:00Z"}}'
"""


@pytest.fixture(scope="module")
def keyed_proxy(emulator: Emulator) -> Iterator[Proxy]:
    server = Proxy({"DATABRICKS_HOST": emulator.url, "DATABRICKS_TOKEN": E2E_TOKEN, "PROXY_API_KEYS": f"laptop:{KEY}"})
    yield server
    server.stop()
    assert KEY not in server.output()


@pytest.fixture(scope="module")
def page_snippets(keyed_proxy: Proxy, emulator: Emulator) -> dict[str, Snippet]:
    return {s.key: s for s in snippets(keyed_proxy.url, emulator.url, LLAMA, CLAUDE)}


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    bin_dir = tmp_path_factory.mktemp("bin")
    cli = bin_dir / "databricks"
    cli.write_text(CLI)
    cli.chmod(0o755)
    home = tmp_path_factory.mktemp("home")
    return {"PATH": f"{bin_dir}:{Path(sys.executable).parent}:{os.environ['PATH']}", "HOME": str(home)}


def run(args: list[str], env: dict[str, str], cwd: Path | None = None, timeout: float = 60) -> str:
    done = subprocess.run(args, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def npm_tool(folder: str) -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed on this machine")
    path = TESTS / folder
    if not (path / "node_modules").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=path, check=True, timeout=600)
    return path


def test_python_snippet_refreshes_its_token_through_databricks_sdk(
    page_snippets: dict[str, Snippet], env: dict[str, str]
) -> None:
    # databricks-sdk's unified auth: here a token in the environment stands for the user's CLI login.
    out = run([sys.executable, "-c", page_snippets["python"].code], {**env, "DATABRICKS_TOKEN": KEY})
    assert out == "Echo: Say hello in one sentence.\n"


def test_curl_snippet(page_snippets: dict[str, Snippet], env: dict[str, str]) -> None:
    out = run(["bash", "-c", page_snippets["curl"].code], env)
    models, answer = out.replace("}{", "}\n{").splitlines()[-2:]
    assert LLAMA in {m["id"] for m in json.loads(models)["data"]}
    assert json.loads(answer)["choices"][0]["message"]["content"] == "Echo: Say hello in one sentence."


def test_node_snippet_streams_with_a_token_function(page_snippets: dict[str, Snippet], env: dict[str, str]) -> None:
    folder = npm_tool("node")
    script = folder / "front-page-snippet.mjs"
    script.write_text(page_snippets["node"].code)
    try:
        out = run(["node", script.name], env, cwd=folder)
    finally:
        script.unlink()
    assert out == "Echo: Count to five."


def test_codex_snippet_gets_its_token_from_the_auth_command(
    page_snippets: dict[str, Snippet], env: dict[str, str], tmp_path: Path
) -> None:
    folder = npm_tool("codex")
    (tmp_path / "config.toml").write_text(page_snippets["codex"].code)
    out = run(
        [
            str(folder / "node_modules" / ".bin" / "codex"),
            "exec",
            "--json",
            "--skip-git-repo-check",
            "--sandbox",
            "read-only",
            "Say hello in one sentence.",
        ],
        {**env, "CODEX_HOME": str(tmp_path)},
        cwd=tmp_path,
        timeout=120,
    )
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    messages = [e["item"]["text"] for e in events if e.get("type") == "item.completed" and "text" in e.get("item", {})]
    assert messages and messages[-1].startswith("Echo:"), out


def test_claude_code_snippet_gets_its_token_from_api_key_helper(
    page_snippets: dict[str, Snippet], env: dict[str, str], tmp_path: Path
) -> None:
    folder = npm_tool("claude_code")
    settings = json.loads(page_snippets["claude"].code)
    (tmp_path / ".claude").mkdir()
    (tmp_path / ".claude" / "settings.json").write_text(json.dumps(settings))
    out = run(
        [
            str(folder / "node_modules" / ".bin" / "claude"),
            "-p",
            "Say hello in one sentence.",
            "--output-format",
            "json",
        ],
        {**env, "HOME": str(tmp_path), "DISABLE_AUTOUPDATER": "1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1"},
        cwd=tmp_path,
        timeout=120,
    )
    result = json.loads(out)
    assert result["is_error"] is False, out
    assert result["result"].startswith("Echo:"), out


def test_genai_snippet_refreshes_its_token_through_databricks_sdk(
    page_snippets: dict[str, Snippet], env: dict[str, str]
) -> None:
    out = run([sys.executable, "-c", page_snippets["genai"].code], {**env, "DATABRICKS_TOKEN": KEY})
    assert out == "Echo: Say hello in one sentence.\n"


def test_gemini_cli_snippet_sends_its_token_as_a_bearer(
    page_snippets: dict[str, Snippet], env: dict[str, str], tmp_path: Path
) -> None:
    folder = npm_tool("gemini_cli")
    settings = json.loads(page_snippets["gemini"].code.split("API-key auth: ", 1)[1].splitlines()[0])
    (tmp_path / ".gemini").mkdir()
    (tmp_path / ".gemini" / "settings.json").write_text(json.dumps(settings))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gemini").symlink_to(folder / "node_modules" / ".bin" / "gemini")
    done = subprocess.run(
        ["bash", "-c", page_snippets["gemini"].code.replace("gemini -m", "gemini --output-format json -m")],
        env={**env, "HOME": str(tmp_path), "PATH": f"{bin_dir}:{env['PATH']}", "GEMINI_CLI_TRUST_WORKSPACE": "true"},
        cwd=tmp_path,
        input="Say hello in one sentence.",
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout[done.stdout.index("{") :])["response"].startswith("Echo:"), done.stdout
