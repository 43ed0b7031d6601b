"""The Anthropic Messages door beside chat, on the same running processes.

For ours (``/anthropic/v1/messages``) and LiteLLM (its own ``/v1/messages``): sequential JSON latency and CPU
per request, and 100-chunk streams at concurrency 1 (time to first event, CPU per upstream chunk and per relayed
event), chat and Messages interleaved round by round. The question it answers: what does speaking Messages on
top of the chat pivot cost per stream event, and does it delay the first event?
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from bench import loadgen
from bench.client import Connection, SSECounter, build_request
from bench.procs import CpuWindow, tree_cpu
from bench.stats import fmt, median, percentile, ratio, render_table, rnd
from bench.targets import CHAT_MODEL, HOST, Target, request_body

if TYPE_CHECKING:
    from bench.main import Bench

MESSAGES_PATHS = {"ours": "/anthropic/v1/messages", "ours-bare": "/anthropic/v1/messages", "litellm": "/v1/messages"}
DOORS = ("chat", "messages")


def messages_body(max_tokens: int, stream: bool = False) -> bytes:
    body: dict[str, Any] = {
        "model": CHAT_MODEL,
        "max_tokens": max_tokens,
        "system": "You are a helpful assistant.",
        "messages": [{"role": "user", "content": "Say hello in one short sentence."}],
    }
    if stream:
        body["stream"] = True
    return orjson.dumps(body)


def _requests(bench: Bench, t: Target, door: str) -> tuple[bytes, bytes]:
    """(JSON request, stream request) of ``door`` for target ``t``."""
    chunks = bench.plan.stream_chunks
    if door == "chat":
        path, json_body, stream_body = t.path("chat"), request_body("chat"), request_body("stream", chunks)
    else:
        path, json_body, stream_body = MESSAGES_PATHS[t.name], messages_body(32), messages_body(chunks, stream=True)
    return (
        build_request("POST", HOST, t.port, path, json_body, bench.auth),
        build_request("POST", HOST, t.port, path, stream_body, bench.auth),
    )


async def _verify(t: Target, json_raw: bytes, stream_raw: bytes, chunks: int) -> None:
    conn = Connection(HOST, t.port)
    try:
        resp = await conn.request(json_raw, timeout_s=30)
        if resp.status != 200:
            raise ValueError(f"messages answered HTTP {resp.status}: {resp.body[:300]!r}")
        if not orjson.loads(resp.body)["content"][0]["text"]:
            raise ValueError("messages answer has no text")
        counter = SSECounter()
        resp = await conn.request(stream_raw, sink=counter, timeout_s=30)
        if resp.status != 200 or not counter.done or counter.content_events < chunks:
            raise ValueError(f"stream: HTTP {resp.status}, message_stop={counter.done}, events={counter.events}")
        for _ in range(200):
            await conn.request(json_raw, timeout_s=30)
        for _ in range(10):
            await conn.request(stream_raw, sink=SSECounter(), timeout_s=30)
    finally:
        conn.close()


async def _measure(bench: Bench, t: Target, json_raw: bytes, stream_raw: bytes) -> dict[str, Any]:
    pid = bench.measured_pid(t)
    await bench.settle(0.2)
    cpu0 = tree_cpu(pid) if pid else 0.0
    window = CpuWindow()
    seq = await loadgen.sequential(t.port, json_raw, bench.plan.latency_s)
    noise_json = window.stop()
    cpu1 = tree_cpu(pid) if pid else 0.0
    await bench.settle(0.2)
    window = CpuWindow()
    streams = await loadgen.stream_loop(t.port, stream_raw, 1, bench.plan.stream_c1_s)
    noise_stream = window.stop()
    cpu2 = tree_cpu(pid) if pid else 0.0
    bench.bg += [noise_json["background_cpu"], noise_stream["background_cpu"]]
    ok = streams.ok
    ttfb = sorted(s.ttfb_s for s in ok)
    upstream_chunks = len(ok) * bench.plan.stream_chunks
    events = streams.content_events
    return {
        "json_p50_ms": seq.pct_ms(50),
        "json_cpu_ms_per_req": (cpu1 - cpu0) * 1000 / seq.count if seq.count else None,
        "json_errors": seq.errors,
        "stream_ttfb_p50_ms": percentile(ttfb, 50) * 1000 if ttfb else None,
        "streams": len(ok),
        "stream_errors": streams.errors,
        "events_per_stream": events / len(ok) if ok else None,
        "cpu_us_per_upstream_chunk": (cpu2 - cpu1) * 1e6 / upstream_chunks if upstream_chunks else None,
        "cpu_us_per_event": (cpu2 - cpu1) * 1e6 / events if events else None,
        "background_cpu": max(noise_json["background_cpu"], noise_stream["background_cpu"]),
    }


async def phase_messages(bench: Bench) -> None:
    targets = [t for t in bench.available() if t.name in MESSAGES_PATHS]
    bench.log(f"messages vs chat: {bench.plan.rounds} round(s) on {[t.name for t in targets]}")
    unavailable: dict[str, str] = {}
    for t in targets:
        json_raw, stream_raw = _requests(bench, t, "messages")
        try:
            await _verify(t, json_raw, stream_raw, bench.plan.stream_chunks)
        except (OSError, TimeoutError, ValueError, KeyError, IndexError, TypeError) as exc:
            unavailable[t.name] = f"verification failed: {exc}"
            bench.log(f"  {t.name} messages: UNAVAILABLE: {unavailable[t.name]}")
    per: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in range(bench.plan.rounds):
        for t in targets:
            doors = [d for d in DOORS if d == "chat" or t.name not in unavailable]
            for door in doors if r % 2 == 0 else reversed(doors):
                entry = await _measure(bench, t, *_requests(bench, t, door))
                per.setdefault((t.name, door), []).append(entry)
                bench.log(
                    f"  r{r + 1} {t.name} {door}: json p50 {fmt(entry['json_p50_ms'], 3)} ms,"
                    f" stream ttfb p50 {fmt(entry['stream_ttfb_p50_ms'], 3)} ms,"
                    f" {fmt(entry['cpu_us_per_upstream_chunk'], 1)} us CPU/chunk"
                )
    out: dict[str, Any] = {}
    rows: list[list[str]] = []
    for t in targets:
        for door in DOORS:
            rs = per.get((t.name, door))
            if not rs:
                out[f"{t.name}/{door}"] = {"available": False, "reason": unavailable.get(t.name)}
                rows.append([f"{t.name} / {door}", f"unavailable: {unavailable.get(t.name)}"])
                continue
            e = {key: rnd(median(x[key] for x in rs), 4) for key in rs[0] if key not in ("streams",)}
            e["streams"] = sum(x["streams"] for x in rs)
            out[f"{t.name}/{door}"] = {"available": True, **e, "rounds": rs}
            rows.append(
                [
                    f"{t.name} / {door}",
                    fmt(e["json_p50_ms"], 3),
                    fmt(e["json_cpu_ms_per_req"], 3),
                    fmt(e["stream_ttfb_p50_ms"], 3),
                    fmt(e["events_per_stream"], 0),
                    fmt(e["cpu_us_per_upstream_chunk"], 1),
                    fmt(e["cpu_us_per_event"], 1),
                    str(int(e["json_errors"] or 0) + int(e["stream_errors"] or 0)),
                    fmt(e["background_cpu"], 2),
                ]
            )
    summary: dict[str, Any] = {}
    for name in ("ours", "litellm"):
        chat, messages = out.get(f"{name}/chat", {}), out.get(f"{name}/messages", {})
        if chat.get("available") and messages.get("available"):
            summary[name] = {
                "stream_cpu_per_chunk_messages_over_chat": rnd(
                    ratio(messages["cpu_us_per_upstream_chunk"], chat["cpu_us_per_upstream_chunk"])
                ),
                "stream_cpu_per_event_messages_over_chat": rnd(
                    ratio(messages["cpu_us_per_event"], chat["cpu_us_per_event"])
                ),
                "stream_ttfb_p50_ms_messages_minus_chat": rnd(
                    messages["stream_ttfb_p50_ms"] - chat["stream_ttfb_p50_ms"], 4
                ),
                "json_cpu_per_req_messages_over_chat": rnd(
                    ratio(messages["json_cpu_ms_per_req"], chat["json_cpu_ms_per_req"])
                ),
            }
    out["summary"] = summary
    bench.results["messages"] = out
    bench.emit(
        render_table(
            f"Anthropic Messages vs chat on the same process (JSON; streams of {bench.plan.stream_chunks} upstream"
            " chunks, concurrency 1)",
            [
                "target / door",
                "JSON p50 ms",
                "JSON CPU ms/req",
                "stream TTFB p50 ms",
                "events/stream",
                "CPU us/chunk",
                "CPU us/event",
                "errors",
                "bg CPU",
            ],
            rows,
            note="chunk = upstream chunk (the same 100 for both doors); event = SSE event relayed to the client."
            " Messages: ours /anthropic/v1/messages, LiteLLM /v1/messages. Summary: " + orjson.dumps(summary).decode(),
        )
    )
