from __future__ import annotations

from collections.abc import Iterator

import openai
import pytest

from tests.e2e.harness import E2E_TOKEN, Emulator, Proxy
from tests.e2e.postgres import PostgresServer

LLAMA = "databricks-meta-llama-3-3-70b-instruct"
CLAUDE = "databricks-claude-3-7-sonnet"
GPT_OSS = "databricks-gpt-oss-120b"
BGE = "databricks-bge-large-en"
MPT = "databricks-mpt-7b-instruct"
# Aliases whose family only the endpoint tells (tests/e2e/test_model_aliases.py)
ALIASES = "sonnet=databricks-claude-sonnet-4-5,claude-opus=databricks-claude-opus-4-6,fast-gpt=databricks-gpt-5-2"


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """A workspace that serves only the serving-endpoint invocations (no Unity Gateway, no native APIs): every
    door translates, and the proxy learns that from Databricks' 404s. ``test_native_surfaces.py`` has a workspace
    with both."""
    emu = Emulator("--token", E2E_TOKEN, "--no-unity-gateway", "--no-native")
    yield emu
    emu.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server (fails the tests that use it, saying why, when it cannot start)."""
    server = PostgresServer()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def proxy(emulator: Emulator) -> Iterator[Proxy]:
    """The proxy as a user runs it: ``uvicorn app:app`` with a PAT pointing at a workspace."""
    server = Proxy(
        {
            "DATABRICKS_HOST": emulator.url,
            "DATABRICKS_TOKEN": E2E_TOKEN,
            "PROXY_MODEL_ALIASES": f"gpt-4o-mini={LLAMA},{ALIASES}",
        }
    )
    yield server
    server.stop()
    assert E2E_TOKEN not in server.output(), "the upstream token reached the proxy's logs"


@pytest.fixture(scope="session")
def client(proxy: Proxy) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{proxy.url}/v1", api_key="sk-client-key-not-forwarded", max_retries=0)


@pytest.fixture(scope="session")
def async_client(proxy: Proxy) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{proxy.url}/v1", api_key="sk-client-key-not-forwarded", max_retries=0)
