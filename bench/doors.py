"""Another front door beside chat, on the same running processes (the Messages and Responses phases).

For each target that serves the door: sequential JSON latency and CPU per request, and 100-chunk streams at
concurrency 1 (time to first event, CPU per upstream chunk and per relayed event), chat and the door
interleaved round by round. The question it answers: what does speaking the door's dialect on top of the chat
pivot cost per stream event, and does it delay the first event?
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from bench import loadgen
from bench.client import Connection, SSECounter, build_request
from bench.procs import CpuWindow, tree_cpu
from bench.stats import fmt, median, percentile, ratio, render_table, rnd
from bench.targets import HOST, Target, request_body

if TYPE_CHECKING:
    from bench.core import Bench


@dataclass(frozen=True, slots=True)
class Door:
    name: str  # the results key and the table's door column, e.g. "messages"
    title: str  # e.g. "Anthropic Messages"
    paths: dict[str, str]  # target name -> the door's path there
    body: Callable[[int, bool], bytes]  # (max tokens, stream) -> request body
    text_of: Callable[[Any], str]  # the answer's text, to verify a JSON answer
    end_event: str  # how the stream's end is called in verification errors
    stream_paths: dict[str, str] | None = None  # where streams go, when the path says so (Gemini) not the body


def _requests(bench: Bench, t: Target, door: Door | None) -> tuple[bytes, bytes]:
    """(JSON request, stream request) of ``door`` (None: chat) for target ``t``."""
    chunks = bench.plan.stream_chunks
    if door is None:
        path, json_body, stream_body = t.path("chat"), request_body("chat"), request_body("stream", chunks)
    else:
        path, json_body, stream_body = door.paths[t.name], door.body(32, False), door.body(chunks, True)
    stream_path = door.stream_paths[t.name] if door and door.stream_paths else path
    return (
        build_request("POST", HOST, t.port, path, json_body, bench.auth),
        build_request("POST", HOST, t.port, stream_path, stream_body, bench.auth),
    )


async def _verify(door: Door, t: Target, json_raw: bytes, stream_raw: bytes, chunks: int) -> None:
    conn = Connection(HOST, t.port)
    try:
        resp = await conn.request(json_raw, timeout_s=30)
        if resp.status != 200:
            raise ValueError(f"{door.name} answered HTTP {resp.status}: {resp.body[:300]!r}")
        if not door.text_of(orjson.loads(resp.body)):
            raise ValueError(f"{door.name} answer has no text")
        counter = SSECounter()
        resp = await conn.request(stream_raw, sink=counter, timeout_s=30)
        if resp.status != 200 or not counter.done or counter.content_events < chunks:
            raise ValueError(f"stream: HTTP {resp.status}, {door.end_event}={counter.done}, events={counter.events}")
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


async def phase_door(bench: Bench, door: Door) -> None:
    """Measure ``door`` beside chat; results under ``bench.results[door.name]``, one table."""
    targets = [t for t in bench.available() if t.name in door.paths]
    name = door.name
    bench.log(f"{name} vs chat: {bench.plan.rounds} round(s) on {[t.name for t in targets]}")
    unavailable: dict[str, str] = {}
    for t in targets:
        json_raw, stream_raw = _requests(bench, t, door)
        try:
            await _verify(door, t, json_raw, stream_raw, bench.plan.stream_chunks)
        except (OSError, TimeoutError, ValueError, KeyError, IndexError, TypeError) as exc:
            unavailable[t.name] = f"verification failed: {exc}"
            bench.log(f"  {t.name} {name}: UNAVAILABLE: {unavailable[t.name]}")
    names = ("chat", name)
    per: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for r in range(bench.plan.rounds):
        for t in targets:
            doors = [d for d in names if d == "chat" or t.name not in unavailable]
            for which in doors if r % 2 == 0 else reversed(doors):
                entry = await _measure(bench, t, *_requests(bench, t, door if which == name else None))
                per.setdefault((t.name, which), []).append(entry)
                bench.log(
                    f"  r{r + 1} {t.name} {which}: json p50 {fmt(entry['json_p50_ms'], 3)} ms,"
                    f" stream ttfb p50 {fmt(entry['stream_ttfb_p50_ms'], 3)} ms,"
                    f" {fmt(entry['cpu_us_per_upstream_chunk'], 1)} us CPU/chunk"
                )
    out: dict[str, Any] = {}
    rows: list[list[str]] = []
    for t in targets:
        for which in names:
            rs = per.get((t.name, which))
            if not rs:
                out[f"{t.name}/{which}"] = {"available": False, "reason": unavailable.get(t.name)}
                rows.append([f"{t.name} / {which}", f"unavailable: {unavailable.get(t.name)}"])
                continue
            e = {key: rnd(median(x[key] for x in rs), 4) for key in rs[0] if key not in ("streams",)}
            e["streams"] = sum(x["streams"] for x in rs)
            out[f"{t.name}/{which}"] = {"available": True, **e, "rounds": rs}
            rows.append(
                [
                    f"{t.name} / {which}",
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
    for target in ("ours", "litellm"):
        chat, other = out.get(f"{target}/chat", {}), out.get(f"{target}/{name}", {})
        if chat.get("available") and other.get("available"):
            summary[target] = {
                f"stream_cpu_per_chunk_{name}_over_chat": rnd(
                    ratio(other["cpu_us_per_upstream_chunk"], chat["cpu_us_per_upstream_chunk"])
                ),
                f"stream_cpu_per_event_{name}_over_chat": rnd(
                    ratio(other["cpu_us_per_event"], chat["cpu_us_per_event"])
                ),
                f"stream_ttfb_p50_ms_{name}_minus_chat": rnd(
                    other["stream_ttfb_p50_ms"] - chat["stream_ttfb_p50_ms"], 4
                ),
                f"json_cpu_per_req_{name}_over_chat": rnd(
                    ratio(other["json_cpu_ms_per_req"], chat["json_cpu_ms_per_req"])
                ),
            }
    out["summary"] = summary
    bench.results[name] = out
    bench.emit(
        render_table(
            f"{door.title} vs chat on the same process (JSON; streams of {bench.plan.stream_chunks} upstream"
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
            f" {door.title}: "
            + ", ".join(f"{target} {path}" for target, path in door.paths.items())
            + ". Summary: "
            + orjson.dumps(summary).decode(),
        )
    )
