"""Streaming (100 chunks) at concurrency 1 and 32: time to first event, total, chunks/s, CPU per chunk."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bench import loadgen
from bench.procs import (
    CpuWindow,
    tree_cpu,
)
from bench.stats import fmt, median, percentile, render_table, rnd

if TYPE_CHECKING:
    from bench.core import Bench


async def phase_streaming(bench: Bench) -> None:
    bench.log(f"streaming, {bench.plan.stream_chunks} chunks, concurrency 1 and 32")
    rows: list[list[str]] = []
    for conc, dur in ((1, bench.plan.stream_c1_s), (32, bench.plan.stream_c32_s)):
        key = f"c{conc}"
        per: dict[str, list[dict[str, Any]]] = {t.name: [] for t in bench.targets}
        for r in range(bench.plan.rounds):
            for t in bench.rotated(r):
                pid = bench.measured_pid(t)
                await bench.settle(0.3)
                cpu0 = tree_cpu(pid) if pid else 0.0
                window = CpuWindow()
                res = await loadgen.stream_loop(t.port, bench.raw(t, "stream"), conc, dur)
                noise = window.stop()
                bench.bg.append(noise["background_cpu"])
                cpu1 = tree_cpu(pid) if pid else 0.0
                ok = res.ok
                ttfb = sorted(s.ttfb_s for s in ok)
                total = sorted(s.total_s for s in ok)
                chunks = res.content_events
                entry = {
                    "streams": len(ok),
                    "errors": res.errors,
                    "first_error": res.first_error,
                    "ttfb_p50_ms": percentile(ttfb, 50) * 1000,
                    "ttfb_p99_ms": percentile(ttfb, 99) * 1000,
                    "total_p50_ms": percentile(total, 50) * 1000,
                    "total_p99_ms": percentile(total, 99) * 1000,
                    "chunks": chunks,
                    "chunks_per_s": chunks / res.wall_s if res.wall_s else None,
                    "cpu_us_per_chunk": (cpu1 - cpu0) * 1e6 / chunks if chunks else None,
                    "wall_s": res.wall_s,
                    **noise,
                }
                per[t.name].append(entry)
                bench.log(
                    f"  {key} r{r + 1} {t.name}: ttfb p50 {entry['ttfb_p50_ms']:.2f} ms total p50"
                    f" {entry['total_p50_ms']:.2f} ms, {fmt(entry['chunks_per_s'], 0)} chunks/s,"
                    f" errors {res.errors}"
                )
        out: dict[str, Any] = {}
        for t in bench.targets:
            rs = per[t.name]
            if not rs:
                out[t.name] = {"available": False, "reason": t.reason}
                rows.append([f"{key} / {t.name}", f"unavailable: {t.reason}"])
                continue
            e = {
                "available": True,
                "ttfb_p50_ms": rnd(median(x["ttfb_p50_ms"] for x in rs)),
                "ttfb_p99_ms": rnd(median(x["ttfb_p99_ms"] for x in rs)),
                "total_p50_ms": rnd(median(x["total_p50_ms"] for x in rs)),
                "total_p99_ms": rnd(median(x["total_p99_ms"] for x in rs)),
                "streams": sum(x["streams"] for x in rs),
                "errors": sum(x["errors"] for x in rs),
                "chunks_per_s": rnd(median(x["chunks_per_s"] for x in rs), 0),
                "cpu_us_per_chunk": rnd(median(x["cpu_us_per_chunk"] for x in rs), 2),
                "client_cpu": rnd(median(x["client_cpu"] for x in rs)),
                "background_cpu": rnd(median(x["background_cpu"] for x in rs)),
                "rounds": [{k: (rnd(v, 4) if isinstance(v, float) else v) for k, v in x.items()} for x in rs],
            }
            out[t.name] = e
            rows.append(
                [
                    f"{key} / {t.name}",
                    fmt(e["ttfb_p50_ms"], 2),
                    fmt(e["ttfb_p99_ms"], 2),
                    fmt(e["total_p50_ms"], 2),
                    fmt(e["total_p99_ms"], 2),
                    str(e["streams"]),
                    fmt(e["chunks_per_s"], 0),
                    fmt(e["cpu_us_per_chunk"], 1),
                    str(e["errors"]),
                    fmt(e["client_cpu"], 2),
                    fmt(e["background_cpu"], 2),
                ]
            )
        bench.results["streaming"][key] = out
    bench.emit(
        render_table(
            f"Streaming, {bench.plan.stream_chunks} chunks per stream, upstream sends chunks without delay",
            [
                "conc / target",
                "TTFB p50 ms",
                "TTFB p99 ms",
                "total p50 ms",
                "total p99 ms",
                "streams",
                "chunks/s",
                "CPU us/chunk",
                "errors",
                "client CPU",
                "bg CPU",
            ],
            rows,
            note="TTFB = request sent -> first SSE event received. chunks = SSE events relayed (excl. [DONE])."
            " CPU us/chunk: target's process tree (direct: the upstream). client CPU = cores used by the"
            " Python client (near 1.0 = the client is the limit). bg CPU = other processes: noise.",
        )
    )
