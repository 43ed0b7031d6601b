"""Serving-endpoint invocations: chat, completions, embeddings and custom models, JSON or streamed."""

from __future__ import annotations

import asyncio
import random
import string
import time
import uuid
from collections.abc import Iterable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from emulator import answers, catalog, validation
from emulator.catalog import CHAT, COMPLETIONS, EMBEDDINGS, Endpoint
from emulator.faults import fault_status_response, stream_fault, wait_or_disconnect
from emulator.prompt_cache import CacheUse, has_cache_control
from emulator.state import JSON, EmulatorState, error_response, json_response, unauthorized
from emulator.streams import EventStream, frame
from emulator.surfaces import Gate

NULL_ID_CREATED = 1731283200.0
_ALNUM = string.ascii_letters + string.digits


def _random_alnum(k: int) -> str:
    return "".join(random.choices(_ALNUM, k=k))


def _add_cache_use(usage: dict[str, Any], cache: CacheUse) -> None:
    """Claude's cache counts in a chat usage, as Databricks reports them (``emulator/prompt_cache.py``)."""
    usage.update(cache.usage_fields())
    if cache.written:
        usage["prompt_tokens_details"] = {"cache_creation_tokens": cache.written}


class Invocations:
    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.gate = Gate(state)

    async def invocations(self, request: Request) -> Response:
        stats = self.state.stats
        stats.in_flight += 1
        try:
            return await self._invoke(request)
        finally:
            stats.in_flight -= 1

    async def gateway(self, request: Request) -> Response:
        """Unity Gateway's unified chat and embeddings APIs: the model in the body, answered as its invocations."""
        stats = self.state.stats
        stats.in_flight += 1
        try:
            admitted = await self.gate.admit(request, gateway=True)
            if isinstance(admitted, Response):
                return admitted
            return await self._invoke(request, admitted.endpoint.name)
        finally:
            stats.in_flight -= 1

    async def _invoke(self, request: Request, admitted: str | None = None) -> Response:
        """``admitted``: the endpoint a gateway request named, already recorded and authorised."""
        raw = await request.body()
        try:
            body: Any = orjson.loads(raw)
            parsed = True
        except orjson.JSONDecodeError:
            body, parsed = None, False
        request_id = str(uuid.uuid4())
        if admitted is None:
            self.state.record(request, body)
            if not self.state.authorized(request):
                return unauthorized({"x-request-id": request_id})
        name = admitted or request.path_params["name"]
        endpoint = catalog.lookup(name)
        if endpoint is None:
            return json_response(
                404,
                {"error_code": "RESOURCE_DOES_NOT_EXIST", "message": f"Endpoint with name '{name}' does not exist."},
                {"x-request-id": request_id},
            )
        headers = {"x-request-id": request_id, "served-model-name": endpoint.served_model}
        fault = endpoint.fault
        if fault is not None and fault.kind in ("status", "external-400"):
            return fault_status_response(endpoint, fault.arg, headers)
        if not parsed or not isinstance(body, dict):
            return error_response(validation.MALFORMED_JSON, headers)
        error = validation.validate(endpoint, body)
        if error is None and endpoint.name == catalog.REFUSES_CACHE_CONTROL and has_cache_control(body):
            error = validation.unknown_field("cache_control")
        if error is not None:
            return error_response(error, headers)
        stream = body.get("stream") is True

        if fault is not None and not stream:
            if fault.kind in ("hang", "delay"):
                waiter = self.state.hangs.wait() if fault.kind == "hang" else asyncio.sleep(fault.arg / 1000)
                try:
                    gone = await wait_or_disconnect(request.receive, waiter)
                except asyncio.CancelledError:
                    self.state.stats.requests_cancelled += 1
                    raise
                if gone:
                    self.state.stats.requests_cancelled += 1
                    return Response(b"", 408)
                if fault.kind == "hang":  # released by a server shutdown
                    return json_response(
                        503, {"error_code": "TEMPORARILY_UNAVAILABLE", "message": "Shutting down"}, headers
                    )
            elif fault.kind == "garbage":
                return Response(b"not json at all", 200, headers, JSON)

        if endpoint.task == CHAT:
            return self._chat(endpoint, body, stream, headers)
        if endpoint.task == COMPLETIONS:
            return self._completions(endpoint, body, stream, headers)
        if endpoint.task == EMBEDDINGS:
            return self._embeddings(endpoint, body, headers)
        return self._custom(body, headers)

    def _stream(self, endpoint: Endpoint, chunks: Iterable[Any], headers: dict[str, str]) -> Response:
        frames = [frame(c) for c in chunks]
        raw_headers = [(k.encode(), v.encode()) for k, v in headers.items()]
        fault = endpoint.fault
        if fault is None:
            return EventStream(self.state.stats, frames, raw_headers, delay=self.state.options.chunk_delay)
        frames, options = stream_fault(fault, frames, self.state.options.chunk_delay, self.state.hangs)
        return EventStream(self.state.stats, frames, raw_headers, **options)

    def _chat(self, endpoint: Endpoint, body: dict[str, Any], stream: bool, headers: dict[str, str]) -> Response:
        style = endpoint.style
        plan = answers.plan_chat(body, style)
        response_id: str | None
        created: int | float
        if style == "claude":
            response_id = "msg_bdrk_01" + _random_alnum(22)
            tool_call_id = "toolu_bdrk_01" + _random_alnum(22)
        else:
            response_id = None if style == "null-id" else f"chatcmpl_{uuid.uuid4()}"
            tool_call_id = f"call_{uuid.uuid4()}"
        created = NULL_ID_CREATED if style == "null-id" else int(time.time())
        signature = "ErcB" + _random_alnum(40) if style == "claude" else ""
        kwargs: dict[str, Any] = {
            "model": endpoint.served_model,
            "response_id": response_id,
            "created": created,
            "tool_call_id": tool_call_id,
            "signature": signature,
        }
        marked = style == "claude" and has_cache_control(body)
        cache = self.state.prompt_cache.use(endpoint.name, body) if marked else None
        if stream:
            chunks = answers.chat_stream_chunks(plan, style, **kwargs)
            if cache is not None:
                for chunk in chunks:
                    _add_cache_use(chunk["usage"], cache)
            return self._stream(endpoint, chunks, headers)
        answer = answers.chat_completion(plan, style, **kwargs)
        if cache is not None:
            _add_cache_use(answer["usage"], cache)
        return json_response(200, answer, headers)

    def _completions(self, endpoint: Endpoint, body: dict[str, Any], stream: bool, headers: dict[str, str]) -> Response:
        plan = answers.plan_completion(body)
        response_id = f"cmpl-{uuid.uuid4().hex}"
        created = int(time.time())
        if stream:
            chunks = answers.completion_stream_chunks(
                plan, model=endpoint.served_model, response_id=response_id, created=created
            )
            return self._stream(endpoint, chunks, headers)
        response = answers.completion_response(
            plan, model=endpoint.served_model, response_id=response_id, created=created
        )
        return json_response(200, response, headers)

    def _embeddings(self, endpoint: Endpoint, body: dict[str, Any], headers: dict[str, str]) -> Response:
        value = body["input"]
        inputs: list[str] = [value] if isinstance(value, str) else value
        response = answers.embeddings_response(
            inputs, model=endpoint.served_model, dim=self.state.options.embedding_dim, response_id=str(uuid.uuid4())
        )
        return json_response(200, response, headers)

    @staticmethod
    def _custom(body: dict[str, Any], headers: dict[str, str]) -> Response:
        rows = 1
        for key in ("dataframe_records", "instances", "inputs"):
            value = body.get(key)
            if isinstance(value, list):
                rows = len(value)
                break
        split = body.get("dataframe_split")
        if isinstance(split, dict) and isinstance(split.get("data"), list):
            rows = len(split["data"])
        return json_response(200, {"predictions": [0] * rows}, headers)
