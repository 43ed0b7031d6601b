"""The official openai npm package, default settings (base64 embeddings included), against the proxy."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.e2e.harness import Proxy

NODE_DIR = Path(__file__).resolve().parents[1] / "node"


@pytest.fixture(scope="module")
def node_sdk() -> Path:
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed on this machine")
    if not (NODE_DIR / "node_modules" / "openai").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=NODE_DIR, check=True, timeout=300)
    return NODE_DIR


def test_node_sdk_gets_text_reasoning_stream_usage_vectors_and_errors(node_sdk: Path, proxy: Proxy) -> None:
    done = subprocess.run(
        ["node", "check.mjs", f"{proxy.url}/v1"], cwd=node_sdk, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["chat"] == {"content": "Echo: hello node", "reasoning": "Thinking about: hello node"}
    assert result["stream"]["text"] == "Echo: one two"
    assert result["stream"]["usage"]["completion_tokens"] == 3
    assert result["embeddings"]["count"] == 2 and result["embeddings"]["dim"] == 1024
    assert abs(result["embeddings"]["norm"] - 1) < 1e-3
    assert result["error"] == {"name": "RateLimitError", "status": 429}
