"""The coding agents from npm, each pinned in its own folder under ``tests/`` and installed on first use."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
CLAUDE_CODE_DIR = TESTS / "claude_code"
CODEX_DIR = TESTS / "codex"
GEMINI_CLI_DIR = TESTS / "gemini_cli"


def npm_binary(directory: Path, name: str) -> Path:
    """``node_modules/.bin/<name>`` of ``directory``, after ``npm ci`` there when it is not installed yet."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed on this machine")
    binary = directory / "node_modules" / ".bin" / name
    if not binary.exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--silent"], cwd=directory, check=True, timeout=600)
    return binary
