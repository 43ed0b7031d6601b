"""What a stored response adds to a Responses request on our proxy: ``store: false`` vs ``store: true`` (the
default: the answer and its input are written to the store before the answer leaves) vs a request chained with
``previous_response_id`` (the stored turn read back and expanded, then the new turn written). Same process,
variants interleaved round by round; JSON latency and CPU per request, stream time to first event and CPU per
upstream chunk. The store is the default embedded SQLite file (bench/targets.py gives it a fresh one)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from bench.client import Connection, build_request
from bench.doors import _measure
from bench.responses import responses_body
from bench.stats import fmt, median, ratio, render_table, rnd
from bench.targets import HOST, Target

if TYPE_CHECKING:
    from bench.core import Bench

VARIANTS = ("store: false", "store: true", "previous_response_id")


def _body(variant: str, max_output_tokens: int, stream: bool, previous_id: str) -> bytes:
    body: dict[str, Any] = orjson.loads(responses_body(max_output_tokens, stream))
    if variant == "store: false":
        body["store"] = False
    elif variant == "previous_response_id":
        body["previous_response_id"] = previous_id
        body["input"] = "And then?"
    return orjson.dumps(body)


async def _stored_turn(bench: Bench, t: Target) -> str:
    """A response stored once, the one every chained request continues."""
    conn = Connection(HOST, t.port)
    try:
        raw = build_request("POST", HOST, t.port, "/v1/responses", responses_body(32), bench.auth)
        resp = await conn.request(raw, timeout_s=30)
        if resp.status != 200:
            raise ValueError(f"HTTP {resp.status}: {resp.body[:300]!r}")
        answer: dict[str, Any] = orjson.loads(resp.body)
        if answer.get("store") is not True:
            raise ValueError("the proxy did not store the response (PROXY_STORE_URL=off?)")
        return str(answer["id"])
    finally:
        conn.close()


async def phase_stored(bench: Bench) -> None:
    t = bench.target("ours")
    if t is None or not t.available:
        return
    try:
        previous_id = await _stored_turn(bench, t)
    except (OSError, TimeoutError, ValueError, KeyError) as exc:
        bench.log(f"stored responses: UNAVAILABLE: {exc}")
        bench.results["stored"] = {"available": False, "reason": str(exc)}
        return
    chunks = bench.plan.stream_chunks

    def requests(variant: str) -> tuple[bytes, bytes]:
        return (
            build_request("POST", HOST, t.port, "/v1/responses", _body(variant, 32, False, previous_id), bench.auth),
            build_request("POST", HOST, t.port, "/v1/responses", _body(variant, chunks, True, previous_id), bench.auth),
        )

    bench.log(f"stored responses: {bench.plan.rounds} round(s) of {list(VARIANTS)}")
    per: dict[str, list[dict[str, Any]]] = {}
    for r in range(bench.plan.rounds):
        for variant in VARIANTS if r % 2 == 0 else reversed(VARIANTS):
            entry = await _measure(bench, t, *requests(variant))
            per.setdefault(variant, []).append(entry)
            bench.log(
                f"  r{r + 1} {variant}: json p50 {fmt(entry['json_p50_ms'], 3)} ms,"
                f" {fmt(entry['json_cpu_ms_per_req'], 3)} ms CPU/req"
            )
    out: dict[str, Any] = {}
    rows: list[list[str]] = []
    for variant in VARIANTS:
        rs = per[variant]
        e = {key: rnd(median(x[key] for x in rs), 4) for key in rs[0] if key != "streams"}
        out[variant] = {**e, "rounds": rs}
        rows.append(
            [
                variant,
                fmt(e["json_p50_ms"], 3),
                fmt(e["json_cpu_ms_per_req"], 3),
                fmt(e["stream_ttfb_p50_ms"], 3),
                fmt(e["cpu_us_per_upstream_chunk"], 1),
                str(int(e["json_errors"] or 0) + int(e["stream_errors"] or 0)),
            ]
        )
    base = out["store: false"]
    summary = {
        variant: {
            "json_p50_ms_added": rnd(out[variant]["json_p50_ms"] - base["json_p50_ms"], 4),
            "json_cpu_per_req_over_store_false": rnd(
                ratio(out[variant]["json_cpu_ms_per_req"], base["json_cpu_ms_per_req"])
            ),
            "stream_ttfb_p50_ms_added": rnd(out[variant]["stream_ttfb_p50_ms"] - base["stream_ttfb_p50_ms"], 4),
        }
        for variant in VARIANTS[1:]
    }
    out["summary"] = summary
    bench.results["stored"] = out
    bench.emit(
        render_table(
            "Stored responses on our proxy: what storing adds to a Responses request (SQLite store)",
            ["request", "JSON p50 ms", "JSON CPU ms/req", "stream TTFB p50 ms", "CPU us/chunk", "errors"],
            rows,
            note="store: true writes the answer and its input before the answer leaves; previous_response_id "
            "also reads the stored turn back and sends it upstream. Summary (vs store: false): "
            + orjson.dumps(summary).decode(),
        )
    )
