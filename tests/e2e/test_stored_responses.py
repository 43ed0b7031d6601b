"""Stored responses and conversations end to end, on SQLite and on a real PostgreSQL server: the openai SDK
and the Agents SDK against ``uvicorn app:app`` in front of the emulator; the store survives a restart, and
each caller (API key label) sees only its own objects."""

from __future__ import annotations

import asyncio
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import openai
import pytest

from services.settings import Settings
from services.store.base import StoredResponse
from services.store.opening import StoreConfigError, open_store
from tests.e2e.conftest import LLAMA
from tests.e2e.harness import E2E_TOKEN, Emulator, Proxy
from tests.e2e.postgres import PASSWORD, PostgresServer

KEYS = "alice:key-alice-e2e,bob:key-bob-e2e"


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp(prefix='proxy-store-e2e-')}/proxy.db"
    server: PostgresServer = request.getfixturevalue("postgres")
    return server.url


def start(emulator: Emulator, store_url: str, **settings: str) -> Proxy:
    return Proxy(
        {
            "DATABRICKS_HOST": emulator.url,
            "DATABRICKS_TOKEN": E2E_TOKEN,
            "PROXY_API_KEYS": KEYS,
            "PROXY_STORE_URL": store_url,
            **settings,
        }
    )


@pytest.fixture(scope="module")
def stateful(emulator: Emulator, store_url: str) -> Iterator[Proxy]:
    server = start(emulator, store_url)
    yield server
    server.stop()
    assert "hunter" not in server.output() and "e2e-store-password" not in server.output()


def client_for(proxy: Proxy, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{proxy.url}/v1", api_key=key, max_retries=0)


def sent_messages(emulator: Emulator) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = emulator.stats()["last_request"]["body"]["messages"]
    return messages


def test_previous_response_id_retrieve_input_items_delete(stateful: Proxy, emulator: Emulator) -> None:
    alice = client_for(stateful, "key-alice-e2e")
    first = alice.responses.create(model=LLAMA, input="red green", instructions="Be brief.")
    assert first.store is True
    second = alice.responses.create(model=LLAMA, input="blue", previous_response_id=first.id)
    assert second.previous_response_id == first.id
    assert sent_messages(emulator) == [
        {"role": "user", "content": "red green"},
        {"role": "assistant", "content": first.output_text},
        {"role": "user", "content": "blue"},
    ]  # the whole chain, without the first turn's instructions
    assert alice.responses.retrieve(second.id).output_text == second.output_text
    items = alice.responses.input_items.list(second.id)
    assert [item.content[0].text for item in items.data] == ["blue"]  # type: ignore[union-attr]
    alice.responses.delete(first.id)  # the SDK returns nothing; the wire shape is checked in the unit tests
    with pytest.raises(openai.NotFoundError):
        alice.responses.retrieve(first.id)
    with pytest.raises(openai.BadRequestError) as caught:
        alice.responses.create(model=LLAMA, input="again", previous_response_id=first.id)
    assert caught.value.code == "previous_response_not_found"


def test_a_streamed_response_is_stored_and_chains(stateful: Proxy, emulator: Emulator) -> None:
    alice = client_for(stateful, "key-alice-e2e")
    with alice.responses.stream(model=LLAMA, input="streamed words") as stream:
        final = stream.get_final_response()
    assert alice.responses.retrieve(final.id).output_text == final.output_text
    alice.responses.create(model=LLAMA, input="next", previous_response_id=final.id)
    assert sent_messages(emulator)[1] == {"role": "assistant", "content": final.output_text}


def test_another_caller_sees_nothing(stateful: Proxy) -> None:
    alice, bob = client_for(stateful, "key-alice-e2e"), client_for(stateful, "key-bob-e2e")
    mine = alice.responses.create(model=LLAMA, input="private")
    conversation = alice.conversations.create(metadata={"owner": "alice"})
    with pytest.raises(openai.NotFoundError):
        bob.responses.retrieve(mine.id)
    with pytest.raises(openai.NotFoundError):
        bob.responses.input_items.list(mine.id)
    with pytest.raises(openai.NotFoundError):
        bob.responses.delete(mine.id)
    with pytest.raises(openai.BadRequestError) as caught:
        bob.responses.create(model=LLAMA, input="x", previous_response_id=mine.id)
    assert caught.value.code == "previous_response_not_found"
    with pytest.raises(openai.NotFoundError):
        bob.conversations.retrieve(conversation.id)
    with pytest.raises(openai.NotFoundError):
        bob.conversations.items.list(conversation.id)
    assert alice.responses.retrieve(mine.id).id == mine.id


def test_conversations_and_their_items(stateful: Proxy, emulator: Emulator) -> None:
    alice = client_for(stateful, "key-alice-e2e")
    conversation = alice.conversations.create(
        metadata={"topic": "colours"}, items=[{"type": "message", "role": "user", "content": "I like teal."}]
    )
    assert alice.conversations.retrieve(conversation.id).metadata == {"topic": "colours"}
    reply = alice.responses.create(model=LLAMA, input="Which colour?", conversation=conversation.id)
    assert sent_messages(emulator) == [
        {"role": "user", "content": "I like teal."},
        {"role": "user", "content": "Which colour?"},
    ]
    items = list(alice.conversations.items.list(conversation.id, order="asc"))
    assert [item.type for item in items] == ["message", "message", "message"]
    assert items[-1].content[0].text == reply.output_text  # type: ignore[union-attr]
    added = alice.conversations.items.create(
        conversation.id, items=[{"type": "message", "role": "user", "content": "And blue."}]
    )
    fetched = alice.conversations.items.retrieve(added.data[0].id, conversation_id=conversation.id)
    assert fetched.id == added.data[0].id
    alice.conversations.items.delete(added.data[0].id, conversation_id=conversation.id)
    assert len(list(alice.conversations.items.list(conversation.id))) == 3
    updated = alice.conversations.update(conversation.id, metadata={"topic": "teal"})
    assert updated.metadata == {"topic": "teal"}
    assert alice.conversations.delete(conversation.id).deleted is True
    with pytest.raises(openai.NotFoundError):
        alice.conversations.retrieve(conversation.id)


def test_agents_sdk_chains_by_previous_response_id_and_keeps_a_conversations_session(
    stateful: Proxy, emulator: Emulator
) -> None:
    import agents

    agents.set_tracing_disabled(True)

    async def run() -> tuple[Any, Any, list[Any]]:
        async with openai.AsyncOpenAI(base_url=f"{stateful.url}/v1", api_key="key-alice-e2e", max_retries=0) as client:
            config = agents.RunConfig(model_provider=agents.OpenAIProvider(openai_client=client))
            agent = agents.Agent(name="echo", instructions="Repeat.", model=LLAMA)
            first = await agents.Runner.run(agent, "one two", run_config=config)
            chained = await agents.Runner.run(
                agent, "three", run_config=config, previous_response_id=first.last_response_id
            )
            session = agents.OpenAIConversationsSession(openai_client=client)
            await agents.Runner.run(agent, "session first", run_config=config, session=session)
            await agents.Runner.run(agent, "session second", run_config=config, session=session)
            return first, chained, await session.get_items()

    first, chained, session_items = asyncio.run(run())
    assert chained.final_output == "Echo: three"
    assert [m["role"] for m in sent_messages(emulator)] == ["system", "user", "assistant", "user"]
    assert first.final_output == "Echo: one two"
    texts = [part["text"] for item in session_items for part in item.get("content", [])]
    assert texts == ["session first", "Echo: session first", "session second", "Echo: session second"]


def test_stored_responses_survive_a_restart(emulator: Emulator, store_url: str, stateful: Proxy) -> None:
    before = client_for(stateful, "key-alice-e2e").responses.create(model=LLAMA, input="remember me")
    conversation = client_for(stateful, "key-alice-e2e").conversations.create(metadata={"kept": "yes"})
    again = start(emulator, store_url)  # a second process on the same store, then the first one gone
    try:
        stateful.stop()
        alice = client_for(again, "key-alice-e2e")
        assert alice.responses.retrieve(before.id).output_text == before.output_text
        assert alice.conversations.retrieve(conversation.id).metadata == {"kept": "yes"}
        alice.responses.create(model=LLAMA, input="and now", previous_response_id=before.id)
        assert sent_messages(emulator)[0] == {"role": "user", "content": "remember me"}
    finally:
        again.stop()


def test_the_apps_resource_path_logs_in_with_a_refreshed_token(postgres: PostgresServer) -> None:
    """``postgresql://`` with the PG* settings a Databricks Apps database resource sets, and no password: it comes
    from the workspace identity's OAuth token (here a stand-in config whose token is the real server's password,
    valid for one second). Each new connection with the token near expiry gets a fresh one; a wrong password
    fails start-up with a message that holds no secret."""
    settings = Settings(store_url="postgresql://", pghost="127.0.0.1", pgport=postgres.port, pguser="proxy",
                        pgdatabase="proxy_store", store_pool_size=2)  # fmt: skip
    issued: list[float] = []

    def oauth_token() -> SimpleNamespace:
        issued.append(time.time())
        return SimpleNamespace(access_token=PASSWORD, expiry=datetime.now(UTC) + timedelta(seconds=1))

    async def run() -> None:
        store = await open_store(settings, sdk_config=SimpleNamespace(oauth_token=oauth_token))
        assert store is not None
        try:
            assert len(issued) == 1  # the first connection (migrations ran on it)
            # two queries at once: the pool opens a second connection, which asks for a fresh token
            await asyncio.gather(*(store.db.fetch("SELECT pg_sleep(0.2)") for _ in range(2)))
            assert len(issued) == 2
            row = StoredResponse("resp_lakebase", "alice", None, 1, 2**40, [], {"id": "resp_lakebase", "output": []})
            await store.put_response(row)
            assert await store.get_response("alice", row.id, 2) == row
        finally:
            await store.close()
        wrong = f"postgresql://proxy:wrong-secret@127.0.0.1:{postgres.port}/proxy_store"
        with pytest.raises(StoreConfigError) as caught:
            await open_store(Settings(store_url=wrong, startup_timeout=5))
        assert "wrong-secret" not in str(caught.value)

    asyncio.run(run())


def test_a_failing_store_never_loses_an_answer(emulator: Emulator, tmp_path: Path) -> None:
    """The store's file is locked by another writer: the answer is given all the same, and the failure logged
    and counted; a read that needs the store is a 503 in OpenAI's envelope, never a 500."""
    path = tmp_path / "locked.db"
    server = start(emulator, f"sqlite:///{path}", PROXY_STORE_TIMEOUT="0.5")
    locker = sqlite3.connect(path, isolation_level=None)
    try:
        alice = client_for(server, "key-alice-e2e")
        stored = alice.responses.create(model=LLAMA, input="kept?")
        assert stored.output_text == "Echo: kept?"
        locker.execute("BEGIN EXCLUSIVE")
        answered = alice.responses.create(model=LLAMA, input="still answered")
        assert answered.output_text == "Echo: still answered"
        metrics = httpx.get(f"{server.url}/metrics", timeout=5).text
        assert 'proxy_store_failures_total{reason="write"} 1.0' in metrics
        assert "not stored: StoreUnavailableError" in server.wait_for_output("not stored")
        locker.execute("ROLLBACK")
        with pytest.raises(openai.NotFoundError):
            alice.responses.retrieve(answered.id)  # it was never stored
        assert alice.responses.retrieve(stored.id).id == stored.id
    finally:
        locker.close()
        server.stop()
