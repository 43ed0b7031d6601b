"""Every model name the README and the front page show exists in the emulator a user runs without a workspace."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from emulator import catalog
from routes.pages.snippets import DEFAULT_CHAT_MODEL, DEFAULT_CLAUDE_MODEL, snippets

ROOT = Path(__file__).resolve().parents[2]
# Endpoint names of model families (not package or app names such as databricks-sdk); a trailing `-*` is a pattern.
_MODEL = re.compile(r"\bdatabricks-(?:claude|gpt|gemini|meta|llama|qwen|gte|bge|mpt|mixtral|dbrx)[a-z0-9.-]*\*?")


@pytest.fixture
def user_catalogue(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    monkeypatch.delenv("EMULATOR_FIXTURES", raising=False)  # what a user sees: no test fixtures
    return {endpoint.name for endpoint in catalog.listed_endpoints()}


def names(text: str) -> set[str]:
    return {m.rstrip(".-") for m in _MODEL.findall(text) if not m.endswith("*")}


def test_every_model_name_in_the_readme_exists_in_the_emulator(user_catalogue: set[str]) -> None:
    found = names((ROOT / "README.md").read_text())
    assert found, "the README names no model"
    assert found <= user_catalogue, sorted(found - user_catalogue)


def test_every_model_name_on_the_front_page_exists_in_the_emulator(user_catalogue: set[str]) -> None:
    assert {DEFAULT_CHAT_MODEL, DEFAULT_CLAUDE_MODEL} <= user_catalogue
    for auth in ("oauth", "key", "none"):
        for snippet in snippets("http://app", "https://workspace", DEFAULT_CHAT_MODEL, DEFAULT_CLAUDE_MODEL, auth):
            assert names(snippet.code) <= user_catalogue, (auth, snippet.key)
    for template in (ROOT / "routes" / "pages").rglob("*.html"):
        assert names(template.read_text()) <= user_catalogue, template


def test_the_pattern_sees_names_and_skips_patterns() -> None:
    assert names("use databricks-claude-sonnet-4-5 or databricks-claude-opus-*; pip install databricks-sdk") == {
        "databricks-claude-sonnet-4-5"
    }
