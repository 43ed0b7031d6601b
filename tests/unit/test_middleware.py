"""The middleware: route declarations (key, metric label), the dialect of each path, API keys, request ids."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, FastAPI, Request
from starlette.responses import Response

from routes.errors import register_error_handlers
from routes.lean import LeanRoute, needs
from routes.middleware import ApiKeys, RequestContextMiddleware, RouteTable
from services.call import CallRecord
from services.dialects import Dialect, DialectMap
from services.dialects.framing import named_event
from services.dialects.openai import OPENAI
from services.errors import NotFoundError
from services.settings import Settings

TYPED = Dialect(
    "typed", lambda error: {"type": "error", "error": {"type": error.kind, "message": error.message}}, named_event
)

router = APIRouter(route_class=LeanRoute)


@router.get("/open")
@needs(key=False, label="open")
async def open_route(request: Request) -> Response:
    return Response("open")


@router.post("/things")
@needs(label="things")
async def things(request: Request) -> Response:
    return Response(request.scope["state"]["call"].caller or "")


@router.get("/items/{item}")
@needs(label="items/{item}")
async def item(item: str, request: Request) -> Response:
    if item == "missing":
        raise NotFoundError("No such item.", code="no_item")
    return Response(item)


@router.get("/metrics-like")
@needs(key="metrics_require_key", label="metrics-like")
async def metrics_like(request: Request) -> Response:
    return Response("m")


@router.get("/broken")
@needs(label="broken")
async def broken(request: Request) -> Response:
    raise RuntimeError("secret detail")


class Records:
    def __init__(self) -> None:
        self.finished: list[CallRecord] = []

    def start(self, record: CallRecord) -> None:
        pass

    def finish(self, record: CallRecord) -> None:
        self.finished.append(record)


@asynccontextmanager
async def client(keys: str = "ci:k-1", **settings: Any) -> AsyncIterator[tuple[httpx.AsyncClient, Records]]:
    settings_ = Settings(api_keys=keys, **settings)
    app = FastAPI()
    mounted = [("/v1", router), ("/typed/v1", router)]
    for prefix, routes in mounted:
        app.include_router(routes, prefix=prefix)
    dialects = DialectMap(OPENAI)
    dialects.register("/typed/", TYPED)
    register_error_handlers(app)
    records = Records()
    app.add_middleware(
        RequestContextMiddleware,
        api_keys=ApiKeys(key.get_secret_value() for key in settings_.api_keys),
        observer=records,
        routes=RouteTable(mounted, app.routes, settings_, dialects),
        trust_forwarded_identity=settings_.forwarded_identity_trusted,
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        yield http, records


@pytest.mark.anyio
async def test_declared_open_route_needs_no_key_and_carries_its_label() -> None:
    async with client() as (http, records):
        response = await http.get("/v1/open", headers={"X-Request-Id": "r-1"})
    request_id = response.headers["x-request-id"]
    assert (response.status_code, response.text) == (200, "open") and request_id != "r-1"
    assert [(r.label, r.route, r.request_id, r.client_request_id) for r in records.finished] == [
        ("open", "/v1/open", request_id, "r-1")  # the client's id only in the proxy's own log line
    ]


@pytest.mark.anyio
async def test_keys_as_bearer_or_x_api_key_name_the_caller() -> None:
    async with client("ci:k-1,k-2") as (http, _):
        bearer = await http.post("/v1/things", headers={"Authorization": "Bearer k-1"})
        header = await http.post("/v1/things", headers={"x-api-key": "k-2"})
        either = await http.post("/v1/things", headers={"Authorization": "Bearer nope", "x-api-key": "k-1"})
    assert [(r.status_code, r.text) for r in (bearer, header, either)] == [(200, "ci"), (200, "key-2"), (200, "ci")]


@pytest.mark.anyio
async def test_a_missing_key_is_answered_in_the_paths_dialect() -> None:
    async with client() as (http, records):
        openai = await http.post("/v1/things")
        typed = await http.post("/typed/v1/things", headers={"x-api-key": "wrong"})
    assert openai.status_code == typed.status_code == 401
    message = "Invalid or missing API key: send one as 'Authorization: Bearer <key>' or as 'x-api-key: <key>'."
    assert openai.json() == {
        "error": {"message": message, "type": "authentication_error", "param": None, "code": "invalid_api_key"}
    }
    assert typed.json() == {"type": "error", "error": {"type": "authentication_error", "message": message}}
    assert [r.error_type for r in records.finished] == ["authentication_error", "authentication_error"]


@pytest.mark.anyio
async def test_path_parameter_routes_errors_and_unknown_paths() -> None:
    async with client(keys="") as (http, records):
        found = await http.get("/typed/v1/items/a")
        missing = await http.get("/typed/v1/items/missing")
        unknown = await http.get("/typed/v1/nothing")
        wrong_method = await http.get("/v1/things")
    assert (found.status_code, found.text) == (200, "a")
    assert missing.status_code == 404
    assert missing.json() == {"type": "error", "error": {"type": "not_found_error", "message": "No such item."}}
    assert unknown.status_code == 404 and unknown.json()["type"] == "error"
    assert wrong_method.status_code == 405 and wrong_method.json()["error"]["type"] == "invalid_request_error"
    assert [r.label for r in records.finished] == ["items/{item}", "items/{item}", "other", "things"]


@pytest.mark.anyio
async def test_a_key_need_decided_by_a_setting() -> None:
    async with client(metrics_require_key=False) as (http, _):
        assert (await http.get("/v1/metrics-like")).status_code == 200
    async with client(metrics_require_key=True) as (http, _):
        assert (await http.get("/v1/metrics-like")).status_code == 401


@pytest.mark.anyio
async def test_unknown_paths_need_a_key_and_docs_do_not() -> None:
    async with client() as (http, _):
        assert (await http.get("/v1/nothing")).status_code == 401
        assert (await http.get("/openapi.json")).status_code == 200


@pytest.mark.anyio
async def test_an_unhandled_failure_is_a_500_without_its_detail() -> None:
    async with client(keys="") as (http, records):
        response = await http.get("/typed/v1/broken")
    assert response.status_code == 500
    assert response.json() == {
        "type": "error",
        "error": {"type": "api_error", "message": "The proxy failed to handle the request."},
    }
    assert "secret" not in response.text
    assert records.finished[0].error_type == "api_error"
