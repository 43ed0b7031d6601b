"""Stored responses and conversations in-process (ASGI transport, SQLite file store, Databricks mocked with respx)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import respx

from services.store import history
from services.store.base import StoredResponse
from services.store.history import Turn
from services.store.sql import SqlStore
from services.store.sqlite import SqliteDatabase
from tests.unit.test_app import INVOCATIONS, LLAMA, proxy
from tests.unit.test_responses_routes import chunk, sse

KEYS = ("alice:key-alice", "bob:key-bob")
ALICE = {"Authorization": "Bearer key-alice"}
BOB = {"Authorization": "Bearer key-bob"}


def answer(text: str, **message: Any) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1731283200,
        "model": LLAMA,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text, **message}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
    }


@asynccontextmanager
async def stored(tmp_path: Path, **settings: Any) -> AsyncIterator[httpx.AsyncClient]:
    async with proxy(store_url=f"sqlite:///{tmp_path}/store.db", api_keys=KEYS, **settings) as client:
        yield client


def sent_messages(route: respx.Route) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = orjson.loads(route.calls.last.request.content)["messages"]
    return messages


def not_found(message: str, param: str | None = None) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": None}}


@pytest.mark.anyio
@respx.mock
async def test_a_chain_is_sent_whole_without_earlier_instructions(tmp_path: Path) -> None:
    route = respx.post(INVOCATIONS).mock(
        side_effect=[httpx.Response(200, json=answer("Two.")), httpx.Response(200, json=answer("Three."))]
    )
    async with stored(tmp_path) as client:
        first = await client.post(
            "/v1/responses", json={"model": LLAMA, "input": "Count: one?", "instructions": "Be terse."}, headers=ALICE
        )
        assert first.status_code == 200
        assert first.json()["store"] is True and first.json()["previous_response_id"] is None
        assert sent_messages(route)[0] == {"role": "system", "content": "Be terse."}
        second = await client.post(
            "/v1/responses",
            json={"model": LLAMA, "input": "And next?", "previous_response_id": first.json()["id"]},
            headers=ALICE,
        )
    assert second.status_code == 200
    assert second.json()["previous_response_id"] == first.json()["id"]
    assert second.json()["instructions"] is None
    assert sent_messages(route) == [
        {"role": "user", "content": "Count: one?"},
        {"role": "assistant", "content": "Two."},
        {"role": "user", "content": "And next?"},
    ]


@pytest.mark.anyio
@respx.mock
async def test_retrieve_input_items_and_delete_as_openai(tmp_path: Path) -> None:
    respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=answer("Hello!")))
    async with stored(tmp_path) as client:
        created = (
            await client.post(
                "/api/v1/responses",
                json={
                    "model": LLAMA,
                    "input": [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}, "c"][:2],
                },
                headers=ALICE,
            )
        ).json()
        rid = created["id"]
        assert (await client.get(f"/v1/responses/{rid}", headers=ALICE)).json() == created
        items = (await client.get(f"/v1/responses/{rid}/input_items", headers=ALICE)).json()
        assert [item["content"] for item in items["data"]] == [
            [{"type": "input_text", "text": "b"}],
            [{"type": "input_text", "text": "a"}],
        ]  # newest first by default
        assert items["first_id"] == items["data"][0]["id"] and items["has_more"] is False
        page = (await client.get(f"/v1/responses/{rid}/input_items?order=asc&limit=1", headers=ALICE)).json()
        assert page["data"][0]["content"][0]["text"] == "a" and page["has_more"] is True
        rest = (
            await client.get(f"/v1/responses/{rid}/input_items?order=asc&after={page['last_id']}", headers=ALICE)
        ).json()
        assert [item["content"][0]["text"] for item in rest["data"]] == ["b"] and rest["has_more"] is False
        bad = await client.get(f"/v1/responses/{rid}/input_items?limit=0", headers=ALICE)
        assert bad.status_code == 400 and bad.json()["error"]["param"] == "limit"
        deleted = await client.delete(f"/v1/responses/{rid}", headers=ALICE)
        assert deleted.json() == {"id": rid, "object": "response", "deleted": True}
        gone = await client.get(f"/v1/responses/{rid}", headers=ALICE)
        assert gone.status_code == 404
        assert gone.json() == not_found(f"Response with id '{rid}' not found.")
        again = await client.post(
            "/v1/responses", json={"model": LLAMA, "input": "x", "previous_response_id": rid}, headers=ALICE
        )
    assert again.status_code == 400
    assert again.json()["error"] == {
        "message": f"Previous response with id '{rid}' not found.",
        "type": "invalid_request_error",
        "param": "previous_response_id",
        "code": "previous_response_not_found",
    }


@pytest.mark.anyio
@respx.mock
async def test_another_callers_response_and_conversation_do_not_exist(tmp_path: Path) -> None:
    route = respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=answer("Mine.")))
    async with stored(tmp_path) as client:
        rid = (await client.post("/v1/responses", json={"model": LLAMA, "input": "a"}, headers=ALICE)).json()["id"]
        conv = (await client.post("/v1/conversations", json={}, headers=ALICE)).json()["id"]
        calls = route.call_count
        assert (await client.get(f"/v1/responses/{rid}", headers=BOB)).status_code == 404
        assert (await client.get(f"/v1/responses/{rid}/input_items", headers=BOB)).status_code == 404
        assert (await client.delete(f"/v1/responses/{rid}", headers=BOB)).status_code == 404
        chained = await client.post(
            "/v1/responses", json={"model": LLAMA, "input": "b", "previous_response_id": rid}, headers=BOB
        )
        assert chained.json()["error"]["code"] == "previous_response_not_found"
        assert (await client.get(f"/v1/conversations/{conv}", headers=BOB)).status_code == 404
        assert (await client.get(f"/v1/conversations/{conv}/items", headers=BOB)).status_code == 404
        assert (await client.post(f"/v1/conversations/{conv}", json={"metadata": {}}, headers=BOB)).status_code == 404
        assert (await client.delete(f"/v1/conversations/{conv}", headers=BOB)).status_code == 404
        used = await client.post(
            "/v1/responses", json={"model": LLAMA, "input": "b", "conversation": conv}, headers=BOB
        )
        assert used.status_code == 404
        assert route.call_count == calls  # nothing of Alice's went upstream for Bob
        assert (await client.get(f"/v1/responses/{rid}", headers=ALICE)).status_code == 200
        assert (await client.get(f"/v1/conversations/{conv}", headers=ALICE)).status_code == 200


@pytest.mark.anyio
@respx.mock
async def test_store_false_keeps_nothing(tmp_path: Path) -> None:
    respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=answer("x")))
    async with stored(tmp_path) as client:
        created = (
            await client.post("/v1/responses", json={"model": LLAMA, "input": "a", "store": False}, headers=ALICE)
        ).json()
        assert created["store"] is False
        assert (await client.get(f"/v1/responses/{created['id']}", headers=ALICE)).status_code == 404


@pytest.mark.anyio
@respx.mock
async def test_a_streamed_response_is_stored_before_its_last_event_leaves(tmp_path: Path) -> None:
    body = sse(chunk({"role": "assistant", "content": "Str"}), chunk({"content": "eamed"}, "stop"))
    route = respx.post(INVOCATIONS).mock(
        side_effect=[
            httpx.Response(200, headers={"content-type": "text/event-stream"}, content=body),
            httpx.Response(200, json=answer("ok")),
        ]
    )
    async with stored(tmp_path) as client:
        streamed = await client.post(
            "/v1/responses", json={"model": LLAMA, "input": "go", "stream": True}, headers=ALICE
        )
        events = [orjson.loads(line[6:]) for line in streamed.text.splitlines() if line.startswith("data: ")]
        completed = events[-1]
        assert completed["type"] == "response.completed" and completed["response"]["store"] is True
        rid = completed["response"]["id"]
        assert (await client.get(f"/v1/responses/{rid}", headers=ALICE)).json() == completed["response"]
        await client.post(
            "/v1/responses", json={"model": LLAMA, "input": "more", "previous_response_id": rid}, headers=ALICE
        )
    assert sent_messages(route)[1] == {"role": "assistant", "content": "Streamed"}


@pytest.mark.anyio
@respx.mock
async def test_reasoning_items_are_replayed_from_the_store(tmp_path: Path) -> None:
    claude = "databricks-claude-sonnet-4-5"
    url = INVOCATIONS.replace(LLAMA, claude)
    thinking = answer("Seven.")  # Databricks' Claude answer: reasoning with its signature, then the text
    thinking["choices"][0]["message"]["content"] = [
        {"type": "reasoning", "summary": [{"type": "summary_text", "text": "Primes...", "signature": "sig-1"}]},
        {"type": "text", "text": "Seven."},
    ]
    route = respx.post(url).mock(
        side_effect=[httpx.Response(200, json=thinking), httpx.Response(200, json=answer("ok"))]
    )
    async with stored(tmp_path) as client:
        first = (await client.post("/v1/responses", json={"model": claude, "input": "A prime?"}, headers=ALICE)).json()
        assert first["output"][0]["type"] == "reasoning"
        await client.post(
            "/v1/responses",
            json={"model": claude, "input": "Another?", "previous_response_id": first["id"]},
            headers=ALICE,
        )
    replayed = sent_messages(route)[1]
    assert replayed["role"] == "assistant"
    assert orjson.dumps(replayed).find(b"sig-1") > 0 and orjson.dumps(replayed).find(b"Seven.") > 0


@pytest.mark.anyio
@respx.mock
async def test_a_chain_longer_than_the_bound_is_refused_before_databricks(tmp_path: Path) -> None:
    route = respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=answer("y")))
    async with stored(tmp_path, store_max_chain_depth=2) as client:
        previous = None
        for turn in range(3):
            body: dict[str, Any] = {"model": LLAMA, "input": f"turn {turn}"}
            if previous:
                body["previous_response_id"] = previous
            reply = await client.post("/v1/responses", json=body, headers=ALICE)
            assert reply.status_code == 200, reply.text
            previous = reply.json()["id"]
        calls = route.call_count
        deep = await client.post(
            "/v1/responses", json={"model": LLAMA, "input": "x", "previous_response_id": previous}, headers=ALICE
        )
    assert deep.status_code == 400
    assert deep.json()["error"]["code"] == "previous_response_chain_too_long"
    assert deep.json()["error"]["param"] == "previous_response_id"
    assert route.call_count == calls


@pytest.mark.anyio
@respx.mock
async def test_expanded_history_over_the_body_limit_is_a_400(tmp_path: Path) -> None:
    route = respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=answer("y" * 2000)))
    async with stored(tmp_path, max_body_bytes=4096) as client:
        first = (await client.post("/v1/responses", json={"model": LLAMA, "input": "x" * 1500}, headers=ALICE)).json()
        calls = route.call_count
        refused = await client.post(
            "/v1/responses",
            json={"model": LLAMA, "input": "z" * 1500, "previous_response_id": first["id"]},
            headers=ALICE,
        )
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "stored_history_too_large"
    assert refused.json()["error"]["param"] == "previous_response_id"
    assert route.call_count == calls


@pytest.mark.anyio
@respx.mock
async def test_conversations_crud_and_a_turn_appended(tmp_path: Path) -> None:
    route = respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=answer("Hi Ann.")))
    async with stored(tmp_path) as client:
        created = await client.post(
            "/v1/conversations",
            json={"metadata": {"topic": "greeting"}, "items": [{"role": "user", "content": "I am Ann."}]},
            headers=ALICE,
        )
        conv = created.json()
        assert conv["object"] == "conversation" and conv["metadata"] == {"topic": "greeting"}
        cid = conv["id"]
        reply = await client.post(
            "/v1/responses", json={"model": LLAMA, "input": "Hello", "conversation": cid}, headers=ALICE
        )
        assert reply.json()["conversation"] == {"id": cid}
        assert sent_messages(route) == [
            {"role": "user", "content": "I am Ann."},
            {"role": "user", "content": "Hello"},
        ]
        items = (await client.get(f"/v1/conversations/{cid}/items?order=asc", headers=ALICE)).json()
        assert [item["type"] for item in items["data"]] == ["message", "message", "message"]
        assert items["data"][-1]["content"][0]["text"] == "Hi Ann."
        added = (
            await client.post(
                f"/v1/conversations/{cid}/items",
                json={"items": [{"type": "message", "role": "user", "content": "More"}]},
                headers=ALICE,
            )
        ).json()
        item_id = added["data"][0]["id"]
        fetched = await client.get(f"/v1/conversations/{cid}/items/{item_id}", headers=ALICE)
        assert fetched.json() == added["data"][0]
        after_delete = await client.delete(f"/v1/conversations/{cid}/items/{item_id}", headers=ALICE)
        assert after_delete.json()["id"] == cid
        assert (await client.get(f"/v1/conversations/{cid}/items/{item_id}", headers=ALICE)).status_code == 404
        updated = await client.post(f"/v1/conversations/{cid}", json={"metadata": {"k": "v"}}, headers=ALICE)
        assert updated.json()["metadata"] == {"k": "v"}
        both = await client.post(
            "/v1/responses",
            json={"model": LLAMA, "input": "x", "conversation": cid, "previous_response_id": reply.json()["id"]},
            headers=ALICE,
        )
        assert both.status_code == 400
        deleted = await client.delete(f"/v1/conversations/{cid}", headers=ALICE)
        assert deleted.json() == {"id": cid, "object": "conversation.deleted", "deleted": True}
        assert (await client.get(f"/v1/conversations/{cid}", headers=ALICE)).status_code == 404


@pytest.mark.anyio
async def test_with_the_store_off_the_stateful_routes_are_404_and_chains_400() -> None:
    async with proxy(store_url="off") as client:
        assert (await client.get("/v1/responses/resp_1")).status_code == 404
        assert (await client.post("/v1/conversations", json={})).status_code == 404
        refused = await client.post("/v1/responses", json={"model": LLAMA, "input": "x", "previous_response_id": "r"})
    assert refused.status_code == 400 and "PROXY_STORE_URL=off" in refused.json()["error"]["message"]


class BrokenStore(SqlStore):
    async def put_response(self, response: StoredResponse) -> None:
        raise OSError("disk full")


@pytest.mark.anyio
async def test_a_store_failure_is_counted_never_raised(tmp_path: Path) -> None:
    from services.metrics import Metrics
    from services.settings import Settings

    store = BrokenStore(await SqliteDatabase.open(str(tmp_path / "s.db")))
    await store.start()
    metrics = Metrics(by_caller=False)
    turn = Turn("alice", {}, store=True, new_items=[])
    await history.keep(store, Settings(), metrics, turn, {"id": "resp_1", "output": []})
    await store.close()
    assert metrics.store_failures.labels("write")._value.get() == 1


@pytest.mark.anyio
async def test_expired_rows_are_invisible_and_purged(tmp_path: Path) -> None:
    store = SqlStore(await SqliteDatabase.open(str(tmp_path / "s.db")))
    await store.start()
    await store.start()  # migrations run once
    row = StoredResponse("resp_1", "alice", None, 100, 200, [], {"id": "resp_1", "output": []})
    await store.put_response(row)
    assert await store.get_response("alice", "resp_1", 150) == row
    assert await store.get_response("alice", "resp_1", 200) is None
    assert await store.chain("alice", "resp_1", 200, 10, 1000) is None
    assert await store.purge(150) == 0
    assert await store.purge(250) == 1
    assert await store.get_response("alice", "resp_1", 150) is None
    await store.close()


@pytest.mark.anyio
async def test_the_front_page_says_what_is_stored_where_and_how_to_turn_it_off(tmp_path: Path) -> None:
    async with stored(tmp_path, store_ttl_days=7) as client:
        on = (await client.get("/")).text
    assert "kept in an SQLite file on this machine for 7 days" in on and "PROXY_STORE_URL=off" in on
    async with proxy(store_url="off") as client:
        assert "Stored responses are off" in (await client.get("/")).text


@pytest.mark.anyio
@respx.mock
async def test_a_chain_with_a_deleted_link_is_refused_not_shortened(tmp_path: Path) -> None:
    route = respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=answer("ok")))
    async with stored(tmp_path) as client:
        first = (await client.post("/v1/responses", json={"model": LLAMA, "input": "1"}, headers=ALICE)).json()
        second = (
            await client.post(
                "/v1/responses", json={"model": LLAMA, "input": "2", "previous_response_id": first["id"]}, headers=ALICE
            )
        ).json()
        await client.delete(f"/v1/responses/{first['id']}", headers=ALICE)
        calls = route.call_count
        refused = await client.post(
            "/v1/responses", json={"model": LLAMA, "input": "3", "previous_response_id": second["id"]}, headers=ALICE
        )
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "previous_response_not_found"
    assert first["id"] in refused.json()["error"]["message"]
    assert route.call_count == calls


@pytest.mark.anyio
@respx.mock
async def test_an_expired_response_is_gone_for_every_route(tmp_path: Path) -> None:
    respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=answer("ok")))
    async with stored(tmp_path, store_ttl_days=1e-6) as client:  # expires within the second it is written
        rid = (await client.post("/api/v1/responses", json={"model": LLAMA, "input": "a"}, headers=ALICE)).json()["id"]
        assert (await client.get(f"/api/v1/responses/{rid}", headers=ALICE)).status_code == 404
        chained = await client.post(
            "/api/v1/responses", json={"model": LLAMA, "input": "b", "previous_response_id": rid}, headers=ALICE
        )
        assert chained.json()["error"]["code"] == "previous_response_not_found"
        conv = await client.post("/api/v1/conversations", json={}, headers=ALICE)
        assert conv.status_code == 200
        assert (await client.get(f"/api/v1/conversations/{conv.json()['id']}", headers=ALICE)).status_code == 404


@pytest.mark.anyio
@respx.mock
async def test_a_conversation_larger_than_a_request_may_be_is_a_400_read_no_further(tmp_path: Path) -> None:
    route = respx.post(INVOCATIONS).mock(return_value=httpx.Response(200, json=answer("ok")))
    async with stored(tmp_path, max_body_bytes=4096) as client:
        cid = (await client.post("/v1/conversations", json={}, headers=ALICE)).json()["id"]
        for _ in range(3):
            items = [{"role": "user", "content": "w" * 1000}] * 2
            added = await client.post(f"/v1/conversations/{cid}/items", json={"items": items}, headers=ALICE)
            assert added.status_code == 200
        refused = await client.post(
            "/v1/responses", json={"model": LLAMA, "input": "x", "conversation": cid}, headers=ALICE
        )
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "stored_history_too_large"
    assert refused.json()["error"]["param"] == "conversation"
    assert route.call_count == 0
