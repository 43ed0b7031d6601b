"""Static Databricks Model Serving (FMAPI) responder used as the benchmark's upstream.

It must never be the bottleneck, so it is a raw asyncio Protocol on uvloop with the httptools
parser, TCP_NODELAY, and responses built from precomputed bytes. It answers:

* ``POST /serving-endpoints/<name>/invocations`` (Databricks' own route), and the OpenAI-style
  routes LiteLLM's ``databricks/`` provider calls with the endpoint name in the body's ``model``:
  ``POST /serving-endpoints/chat/completions``, ``/serving-endpoints/embeddings`` and
  ``/serving-endpoints/completions``. The body decides the kind: ``messages`` is chat, ``input``
  embeddings, ``prompt`` completions; ``"stream": true`` streams SSE with N chunks where N is
  ``max_tokens`` (default 16), one chunk every ``delay`` ms (first chunk at once).
* Endpoint names: ``fault-status-<code>`` answers ``<code>`` with a Databricks-style body
  ``{"error_code": ..., "message": ...}``; a name containing ``delay-<ms>`` streams with that
  per-chunk delay; names starting with ``bench-slow`` use ``--slow-chunk-delay-ms``; any other
  name uses ``--chunk-delay-ms``.
* ``GET /api/2.0/serving-endpoints`` (and ``/<name>``), ``GET /health``, and
  ``GET /_bench/stats`` (counters used by the soak test).

With ``--token`` set, requests whose ``Authorization`` is not ``Bearer <token>`` get 401.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import re
import signal
import socket
import sys
from typing import Any, cast

import httptools
import orjson
import uvloop

EMBEDDING_DIM = 1024
DEFAULT_MAX_TOKENS = 16
MAX_STREAM_CHUNKS = 100_000
CHAT_CONTENT = "Hello! How can I help you today?"
# Stream tokens cycle so that consecutive chunks differ: LiteLLM aborts a stream whose content
# repeats the same chunk more than 100 times in a row ("The model is repeating the same chunk").
STREAM_PIECES = ("The ", "quick ", "brown ", "fox ", "jumps ", "over ", "the ", "lazy ", "dog. ")
CREATED = 1_731_000_000

_FAULT_RE = re.compile(r"^fault-status-(\d{3})")
_DELAY_RE = re.compile(r"delay-(\d+(?:\.\d+)?)")
_INVOCATIONS_RE = re.compile(r"^/serving-endpoints/([^/]+)/invocations$")
_OPENAI_ROUTES = {
    "/serving-endpoints/anthropic/v1/messages": "messages",  # Databricks' native Anthropic Messages API
    "/serving-endpoints/chat/completions": "chat",
    "/serving-endpoints/embeddings": "embeddings",
    "/serving-endpoints/completions": "completions",
}
_ERROR_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "RESOURCE_DOES_NOT_EXIST",
    408: "REQUEST_TIMEOUT",
    409: "RESOURCE_CONFLICT",
    429: "REQUEST_LIMIT_EXCEEDED",
    500: "INTERNAL_ERROR",
    502: "BAD_GATEWAY",
    503: "TEMPORARILY_UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
_CACHE_LIMIT = 4096


def _embedding_vector_bytes() -> bytes:
    # Deterministic, realistic-looking floats; computed once at import.
    values = [round(((i * 2654435761) % 2000) / 1000.0 - 1.0, 6) for i in range(EMBEDDING_DIM)]
    return orjson.dumps(values)


_EMBEDDING = _embedding_vector_bytes()


def _head(status: int, content_type: bytes, length: int | None, close: bool) -> bytes:
    reason = _REASONS.get(status, "Status")
    parts = [f"HTTP/1.1 {status} {reason}\r\n".encode(), b"content-type: ", content_type, b"\r\n"]
    if length is None:
        parts.append(b"cache-control: no-cache\r\ntransfer-encoding: chunked\r\n")
    else:
        parts.append(b"content-length: %d\r\n" % length)
    if close:
        parts.append(b"connection: close\r\n")
    parts.append(b"\r\n")
    return b"".join(parts)


def _json_response(status: int, body: bytes, close: bool = False) -> bytes:
    return _head(status, b"application/json", len(body), close) + body


# (first chunk, middle chunks cycled through, last chunk + [DONE] + chunked-encoding terminator)
StreamParts = tuple[bytes, tuple[bytes, ...], bytes]


def _chunk(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(payload), payload)


class Responses:
    """Precomputed response bytes, cached per endpoint name."""

    def __init__(self) -> None:
        self._chat: dict[str, bytes] = {}
        self._message: dict[str, bytes] = {}
        self._completion: dict[str, bytes] = {}
        self._embedding: dict[str, bytes] = {}
        self._stream: dict[tuple[str, str], StreamParts] = {}

    @staticmethod
    def _bounded(cache: dict[Any, Any]) -> None:
        if len(cache) > _CACHE_LIMIT:
            cache.clear()

    def chat(self, model: str) -> bytes:
        body = self._chat.get(model)
        if body is None:
            self._bounded(self._chat)
            body = orjson.dumps(
                {
                    "id": "chatcmpl_0a1b2c3d-4e5f-6789-abcd-ef0123456789",
                    "object": "chat.completion",
                    "created": CREATED,
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": CHAT_CONTENT},
                            "finish_reason": "stop",
                            "logprobs": None,
                        }
                    ],
                    "usage": {"prompt_tokens": 12, "completion_tokens": 16, "total_tokens": 28},
                }
            )
            self._chat[model] = body
        return body

    def message(self, model: str) -> bytes:
        body = self._message.get(model)
        if body is None:
            self._bounded(self._message)
            body = orjson.dumps(
                {
                    "id": "msg_bdrk_01AbCdEfGhIjKlMnOpQrStUv",
                    "type": "message",
                    "role": "assistant",
                    "model": model,
                    "content": [{"type": "text", "text": CHAT_CONTENT}],
                    "stop_reason": "end_turn",
                    "stop_sequence": None,
                    "usage": {"input_tokens": 12, "output_tokens": 16},
                }
            )
            self._message[model] = body
        return body

    def completion(self, model: str) -> bytes:
        body = self._completion.get(model)
        if body is None:
            self._bounded(self._completion)
            body = orjson.dumps(
                {
                    "id": "cmpl_0a1b2c3d-4e5f-6789-abcd-ef0123456789",
                    "object": "text_completion",
                    "created": CREATED,
                    "model": model,
                    "choices": [{"text": CHAT_CONTENT, "index": 0, "logprobs": None, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 8, "completion_tokens": 16, "total_tokens": 24},
                }
            )
            self._completion[model] = body
        return body

    def embeddings(self, model: str, count: int) -> bytes:
        if count == 1:
            cached = self._embedding.get(model)
            if cached is not None:
                return cached
        items = b",".join(b'{"object":"embedding","index":%d,"embedding":%s}' % (i, _EMBEDDING) for i in range(count))
        tail = orjson.dumps({"model": model, "usage": {"prompt_tokens": 8 * count, "total_tokens": 8 * count}})
        body = b'{"object":"list","data":[' + items + b"]," + tail[1:]
        if count == 1:
            self._bounded(self._embedding)
            self._embedding[model] = body
        return body

    def stream_parts(self, model: str, kind: str) -> StreamParts:
        """(first chunk, middle chunks to cycle through, last chunk + [DONE] + terminator), HTTP-chunk framed."""
        key = (model, kind)
        parts = self._stream.get(key)
        if parts is None:
            self._bounded(self._stream)
            if kind == "chat":
                base: dict[str, Any] = {
                    "id": "chatcmpl_0a1b2c3d-4e5f-6789-abcd-ef0123456789",
                    "object": "chat.completion.chunk",
                    "created": CREATED,
                    "model": model,
                }

                def chunk(delta: dict[str, Any], finish: str | None, usage: bool) -> bytes:
                    obj = dict(base)
                    obj["choices"] = [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]
                    if usage:
                        obj["usage"] = {"prompt_tokens": 12, "completion_tokens": 0, "total_tokens": 0}
                    return b"data: " + orjson.dumps(obj) + b"\n\n"

                first = chunk({"role": "assistant", "content": STREAM_PIECES[0]}, None, False)
                middles = tuple(chunk({"content": piece}, None, False) for piece in STREAM_PIECES)
                last = chunk({"content": "end"}, "length", True)
            else:
                cbase: dict[str, Any] = {
                    "id": "cmpl_0a1b2c3d-4e5f-6789-abcd-ef0123456789",
                    "object": "text_completion",
                    "created": CREATED,
                    "model": model,
                }

                def cchunk(text: str, finish: str | None) -> bytes:
                    obj = dict(cbase)
                    obj["choices"] = [{"text": text, "index": 0, "logprobs": None, "finish_reason": finish}]
                    return b"data: " + orjson.dumps(obj) + b"\n\n"

                first = cchunk(STREAM_PIECES[0], None)
                middles = tuple(cchunk(piece, None) for piece in STREAM_PIECES)
                last = cchunk("end", "length")
            if kind == "messages":  # Anthropic's events, as Databricks' native Messages API streams them

                def event(name: str, data: dict[str, Any]) -> bytes:
                    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"

                def delta(text: str) -> bytes:
                    return event(
                        "content_block_delta",
                        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": text}},
                    )

                start = {
                    "type": "message_start",
                    "message": {
                        "id": "msg_bdrk_01AbCdEfGhIjKlMnOpQrStUv",
                        "type": "message",
                        "role": "assistant",
                        "model": model,
                        "content": [],
                        "stop_reason": None,
                        "stop_sequence": None,
                        "usage": {"input_tokens": 12, "output_tokens": 1},
                    },
                }
                block = {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
                first = event("message_start", start) + event("content_block_start", block) + delta(STREAM_PIECES[0])
                middles = tuple(delta(piece) for piece in STREAM_PIECES)
                last = (
                    delta("end")
                    + event("content_block_stop", {"type": "content_block_stop", "index": 0})
                    + event(
                        "message_delta",
                        {
                            "type": "message_delta",
                            "delta": {"stop_reason": "max_tokens", "stop_sequence": None},
                            "usage": {"output_tokens": 100},
                        },
                    )
                    + event("message_stop", {"type": "message_stop"})
                )
                parts = (_chunk(first), tuple(_chunk(m) for m in middles), _chunk(last) + b"0\r\n\r\n")
                self._stream[key] = parts
                return parts
            parts = (
                _chunk(first),
                tuple(_chunk(m) for m in middles),
                _chunk(last) + _chunk(b"data: [DONE]\n\n") + b"0\r\n\r\n",
            )
            self._stream[key] = parts
        return parts


class Stats:
    def __init__(self) -> None:
        self.requests = 0
        self.connections_open = 0
        self.connections_total = 0
        self.streams_active = 0
        self.streams_completed = 0
        self.streams_aborted = 0
        self.status_counts: dict[int, int] = {}
        self.route_counts: dict[str, int] = {}

    def count_route(self, route: str) -> None:
        self.route_counts[route] = self.route_counts.get(route, 0) + 1

    def as_json(self) -> bytes:
        return orjson.dumps(
            {
                "requests": self.requests,
                "connections_open": self.connections_open,
                "connections_total": self.connections_total,
                "streams_active": self.streams_active,
                "streams_completed": self.streams_completed,
                "streams_aborted": self.streams_aborted,
                "status_counts": {str(k): v for k, v in sorted(self.status_counts.items())},
                "route_counts": self.route_counts,
            }
        )


class Config:
    def __init__(self, token: str | None, chunk_delay_s: float, slow_chunk_delay_s: float) -> None:
        self.auth = f"Bearer {token}".encode() if token else None
        self.chunk_delay_s = chunk_delay_s
        self.slow_chunk_delay_s = slow_chunk_delay_s
        self.responses = Responses()
        self.stats = Stats()
        self.endpoint_names = ["bench-chat", "bench-slow", "bench-embed", "bench-claude"]

    def delay_for(self, model: str) -> float:
        m = _DELAY_RE.search(model)
        if m:
            return float(m.group(1)) / 1000.0
        if model.startswith("bench-slow"):
            return self.slow_chunk_delay_s
        return self.chunk_delay_s


class _Stream:
    """Writes N SSE chunks on a schedule (chunk i at start + i*delay) using loop timers."""

    __slots__ = ("_first", "_last", "_middles", "_proto", "_sent", "_start", "_timer", "delay", "total")

    def __init__(self, proto: UpstreamProtocol, parts: StreamParts, n: int, delay: float):
        self._proto = proto
        self._first, self._middles, self._last = parts
        self.total = n
        self.delay = delay
        self._sent = 0
        self._start = 0.0
        self._timer: asyncio.TimerHandle | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._start = loop.time()
        if self.delay <= 0:
            t = self._proto.transport
            if t is None:
                return
            # Each chunk is its own write so the proxy sees separate events, not one blob.
            t.write(self._first if self.total > 1 else self._last)
            middles = self._middles
            for i in range(1, self.total - 1):
                t.write(middles[i % len(middles)])
            if self.total > 1:
                t.write(self._last)
            self._sent = self.total
            self._proto.stream_done(self)
            return
        self._tick()

    def _tick(self) -> None:
        proto = self._proto
        t = proto.transport
        if t is None or t.is_closing():
            return
        i = self._sent
        if i == self.total - 1:
            t.write(self._last)
            self._sent = self.total
            proto.stream_done(self)
            return
        t.write(self._first if i == 0 else self._middles[i % len(self._middles)])
        self._sent = i + 1
        loop = proto.loop
        self._timer = loop.call_at(self._start + self._sent * self.delay, self._tick)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


class UpstreamProtocol(asyncio.Protocol):
    def __init__(self, config: Config, loop: asyncio.AbstractEventLoop) -> None:
        self.config = config
        self.loop = loop
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self._url = b""
        self._auth: bytes | None = None
        self._body: list[bytes] = []
        self._stream: _Stream | None = None
        self._pending: list[tuple[bytes, bytes, bytes | None, bytes | None, bool]] = []
        self._keep_alive_after_stream = True

    # --- asyncio.Protocol ---
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, hence the cast.
        self.transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.config.stats.connections_open += 1
        self.config.stats.connections_total += 1

    def connection_lost(self, exc: Exception | None) -> None:
        self.config.stats.connections_open -= 1
        if self._stream is not None:
            self._stream.cancel()
            self._stream = None
            self.config.stats.streams_active -= 1
            self.config.stats.streams_aborted += 1
        self.transport = None

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(400, "upgrade not supported")
        except httptools.HttpParserError:
            self._fail(400, "malformed request")

    # --- httptools callbacks ---
    def on_message_begin(self) -> None:
        self._url = b""
        self._auth = None
        self._body = []

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if len(name) == 13 and name.lower() == b"authorization":
            self._auth = value

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        method = self.parser.get_method()
        keep_alive = self.parser.should_keep_alive()
        body = b"".join(self._body) if self._body else None
        if self._stream is not None:
            # Pipelined request while streaming: answer once the stream ends.
            self._pending.append((method, self._url, self._auth, body, keep_alive))
            return
        self._handle(method, self._url, self._auth, body, keep_alive)

    # --- helpers ---
    def _fail(self, status: int, message: str) -> None:
        t = self.transport
        if t is not None:
            t.write(_json_response(status, _error_body(status, message), close=True))
            t.close()

    def stream_done(self, stream: _Stream) -> None:
        if self._stream is stream:
            self._stream = None
            self.config.stats.streams_active -= 1
            self.config.stats.streams_completed += 1
            if not self._keep_alive_after_stream and self.transport is not None:
                self.transport.close()
                return
            while self._pending and self._stream is None:
                method, url, auth, body, keep_alive = self._pending.pop(0)
                self._handle(method, url, auth, body, keep_alive)

    def _handle(self, method: bytes, url: bytes, auth: bytes | None, body: bytes | None, keep_alive: bool) -> None:
        stats = self.config.stats
        stats.requests += 1
        reply = self._route(method, url.split(b"?", 1)[0].decode("latin-1"), auth, body, keep_alive)
        if reply is None:  # a stream was started
            stats.status_counts[200] = stats.status_counts.get(200, 0) + 1
            return
        status, data = reply
        stats.status_counts[status] = stats.status_counts.get(status, 0) + 1
        t = self.transport
        if t is not None:
            t.write(_json_response(status, data, not keep_alive))
            if not keep_alive:
                t.close()

    def _route(
        self, method: bytes, path: str, auth: bytes | None, body: bytes | None, keep_alive: bool
    ) -> tuple[int, bytes] | None:
        cfg = self.config
        if method == b"GET":
            if path == "/health":
                return 200, b'{"status":"ok"}'
            if path == "/_bench/stats":
                return 200, cfg.stats.as_json()
            if not path.startswith("/api/2.0/serving-endpoints"):
                return 404, _no_route(path)
            if not self._authorized(auth):
                return 401, _error_body(401, "invalid access token")
            cfg.stats.count_route("list-endpoints")
            if path == "/api/2.0/serving-endpoints":
                return 200, orjson.dumps({"endpoints": [_endpoint_info(n) for n in cfg.endpoint_names]})
            return 200, orjson.dumps(_endpoint_info(path.rsplit("/", 1)[1]))
        if method != b"POST":
            return 405, _error_body(400, "method not allowed")
        m = _INVOCATIONS_RE.match(path)
        route_kind = _OPENAI_ROUTES.get(path)
        if m is None and route_kind is None:
            return 404, _no_route(path)
        if not self._authorized(auth):
            return 401, _error_body(401, "invalid access token")
        cfg.stats.count_route("invocations" if m is not None else path)
        try:
            req = orjson.loads(body) if body else {}
        except orjson.JSONDecodeError:
            req = None
        if not isinstance(req, dict):
            return 400, _error_body(400, "body is not a JSON object")
        model = m.group(1) if m is not None else str(req.get("model") or "")
        fault = _FAULT_RE.match(model)
        if fault is not None:
            status = int(fault.group(1))
            return status, _error_body(status, f"injected fault for endpoint {model}")
        kind = route_kind or ("chat" if "messages" in req else "embeddings" if "input" in req else "completions")
        if kind == "messages" and req.get("stream") is not True:
            return 200, cfg.responses.message(model)
        if kind != "embeddings" and req.get("stream") is True:
            self._start_stream(model, kind, req, keep_alive)
            return None
        if kind == "chat":
            return 200, cfg.responses.chat(model)
        if kind == "embeddings":
            inp = req.get("input")
            return 200, cfg.responses.embeddings(model, len(inp) if isinstance(inp, list) and inp else 1)
        return 200, cfg.responses.completion(model)

    def _authorized(self, auth: bytes | None) -> bool:
        expected = self.config.auth
        return expected is None or auth == expected

    def _start_stream(self, model: str, kind: str, req: dict[str, Any], keep_alive: bool) -> None:
        t = self.transport
        if t is None:
            return
        n = req.get("max_tokens") or req.get("max_completion_tokens") or DEFAULT_MAX_TOKENS
        n = max(1, min(int(n), MAX_STREAM_CHUNKS)) if isinstance(n, int | float) else DEFAULT_MAX_TOKENS
        parts = self.config.responses.stream_parts(model, kind)
        stream = _Stream(self, parts, n, self.config.delay_for(model))
        self._stream = stream
        self._keep_alive_after_stream = keep_alive
        self.config.stats.streams_active += 1
        t.write(_head(200, b"text/event-stream", None, not keep_alive))
        stream.start(self.loop)


def _no_route(path: str) -> bytes:
    """What Databricks answers for a path it does not serve (a workspace without Unity Gateway, say)."""
    return orjson.dumps({"error_code": "ENDPOINT_NOT_FOUND", "message": f"No API found for 'POST {path}'"})


def _error_body(status: int, message: str) -> bytes:
    return orjson.dumps({"error_code": _ERROR_CODES.get(status, "UNKNOWN"), "message": message})


def _endpoint_info(name: str) -> dict[str, Any]:
    task = "llm/v1/embeddings" if "embed" in name else "llm/v1/chat"
    return {
        "name": name,
        "creator": "bench@example.com",
        "creation_timestamp": CREATED * 1000,
        "last_updated_timestamp": CREATED * 1000,
        "state": {"ready": "READY", "config_update": "NOT_UPDATING"},
        "task": task,
        "endpoint_type": "FOUNDATION_MODEL_API",
    }


async def serve(host: str, port: int, config: Config) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: UpstreamProtocol(config, loop), host=host, port=port, backlog=4096, reuse_address=True
    )
    bound = server.sockets[0].getsockname()[1]
    print(f"UPSTREAM READY {host}:{bound}", flush=True)
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--token", default=None, help="require 'Authorization: Bearer <token>'")
    p.add_argument("--chunk-delay-ms", type=float, default=0.0, help="per-chunk delay of normal streams")
    p.add_argument("--slow-chunk-delay-ms", type=float, default=50.0, help="per-chunk delay of bench-slow*")
    args = p.parse_args(argv)
    config = Config(args.token, args.chunk_delay_ms / 1000.0, args.slow_chunk_delay_ms / 1000.0)
    with contextlib.suppress(KeyboardInterrupt):
        uvloop.run(serve(args.host, args.port, config))
    return 0


if __name__ == "__main__":
    sys.exit(main())
