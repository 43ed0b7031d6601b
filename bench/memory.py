"""Memory: RSS idle and with slow streams held open, and whether those streams keep the upstream's pace."""

from __future__ import annotations

import asyncio
import math
from typing import TYPE_CHECKING

from bench import loadgen
from bench.procs import (
    CpuWindow,
    tree_rss_mb,
)
from bench.stats import fmt, percentile, ratio, render_table, rnd

if TYPE_CHECKING:
    from bench.core import Bench


async def phase_memory(bench: Bench) -> None:
    p = bench.plan
    expected_s = (p.slow_chunks - 1) * p.slow_delay_ms / 1000.0
    bench.log(
        f"memory: {p.held_streams} streams of {p.slow_chunks} chunks every {p.slow_delay_ms:g} ms"
        f" (expected {expected_s:.2f}s each)"
    )
    rows: list[list[str]] = []
    for t in bench.targets:
        if not t.available:
            bench.results["memory"][t.name] = {"available": False, "reason": t.reason}
            rows.append(bench.unavailable_row(t))
            continue
        pid = bench.measured_pid(t)
        await bench.settle(p.idle_wait_s)
        idle = tree_rss_mb(pid) if pid else None
        window = CpuWindow()
        res = await loadgen.held_streams(
            t.port, bench.raw(t, "slow"), p.held_streams, pid, timeout_s=expected_s + p.held_timeout_s,
            progress=bench.log,
        )  # fmt: skip
        noise = window.stop()
        bench.bg.append(noise["background_cpu"])
        await asyncio.sleep(p.idle_wait_s)
        after = tree_rss_mb(pid) if pid else None
        durs = sorted(res.durations_s)
        d50, d99 = percentile(durs, 50), percentile(durs, 99)
        dmax = durs[-1] if durs else math.nan
        keeps = res.completed == p.held_streams and not math.isnan(d99) and d99 <= expected_s * 1.10 + 0.25
        e = {
            "available": True,
            "process": "upstream" if t.name == "direct" else t.name,
            "rss_idle_mb": rnd(idle, 1),
            "rss_all_open_mb": rnd(res.rss_all_open_mb, 1),
            "rss_at_max_open_mb": rnd(res.rss_at_max_open_mb, 1),
            "open_at_that_sample": res.open_at_rss_sample,
            "rss_peak_mb": rnd(res.rss_peak_mb, 1),
            "rss_after_mb": rnd(after, 1),
            "rss_per_stream_kb": rnd((res.rss_all_open_mb - idle) * 1024 / p.held_streams, 1)
            if res.rss_all_open_mb is not None and idle is not None
            else None,
            "streams": p.held_streams,
            "max_open": res.max_open,
            "time_to_all_open_s": rnd(res.time_to_all_open_s),
            "completed": res.completed,
            "errors": res.errors,
            "first_error": res.first_error,
            "expected_duration_s": rnd(expected_s),
            "duration_p50_s": rnd(d50),
            "duration_p99_s": rnd(d99),
            "duration_max_s": rnd(dmax),
            "chunks_received_p50": percentile(sorted(res.events), 50) if res.events else None,
            "chunks_received_min": min(res.events) if res.events else None,
            "pace_ratio_p99": rnd(ratio(d99, expected_s)),
            "keeps_pace": keeps,
            "keeps_pace_rule": "all streams complete and p99 duration <= 1.10 x expected + 0.25 s",
            "wall_s": rnd(res.wall_s),
            **noise,
        }
        bench.results["memory"][t.name] = e
        bench.log(
            f"  {t.name}: RSS idle {fmt(idle, 0)} MB, all open {fmt(res.rss_all_open_mb, 0)} MB,"
            f" max open {res.max_open}, completed {res.completed}, p99 {fmt(d99)}s vs {expected_s:.2f}s"
        )
        rows.append(
            [
                f"{t.name} ({e['process']})" if t.name == "direct" else t.name,
                fmt(idle, 1),
                fmt(res.rss_all_open_mb, 1)
                if res.rss_all_open_mb is not None
                else f"{fmt(res.rss_at_max_open_mb, 1)} ({res.open_at_rss_sample} open)",
                fmt(res.rss_peak_mb, 1),
                fmt(after, 1),
                f"{res.max_open}/{p.held_streams}",
                fmt(res.time_to_all_open_s, 2),
                f"{res.completed}/{p.held_streams}",
                f"{fmt(e['chunks_received_p50'])}/{p.slow_chunks}",
                f"{fmt(d50, 2)}/{fmt(d99, 2)}/{fmt(dmax, 2)}",
                fmt(keeps),
                fmt(noise["background_cpu"], 2),
            ]
        )
    bench.emit(
        render_table(
            f"Memory: RSS (process tree, MB) idle and with {p.held_streams} slow streams open"
            f" ({p.slow_chunks} chunks x {p.slow_delay_ms:g} ms, expected {expected_s:.2f}s per stream)",
            [
                "target",
                "idle",
                "all open",
                "peak",
                "after",
                "max open",
                "s to all open",
                "completed",
                "chunks p50",
                "dur p50/p99/max s",
                "keeps pace",
                "bg CPU",
            ],
            rows,
            note="keeps pace = all streams complete and p99 duration <= 1.10 x expected + 0.25 s."
            f" Streams not done after expected + {p.held_timeout_s:.0f} s count as errors."
            " bg CPU = other processes: noise.",
        )
    )
