"""Sequential latency (concurrency 1, one persistent connection): p50/p99 and added latency over direct,
for chat and embeddings."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from bench import loadgen
from bench.procs import (
    CpuWindow,
    tree_cpu,
)
from bench.stats import fmt, median, render_table, rnd

if TYPE_CHECKING:
    from bench.core import Bench


async def phase_latency(bench: Bench) -> None:
    bench.log(f"sequential latency: {bench.plan.rounds} round(s) x {bench.plan.latency_s:.0f}s per target/kind")
    rows: list[list[str]] = []
    for kind in ("chat", "embed"):
        per: dict[str, list[dict[str, Any]]] = {t.name: [] for t in bench.targets}
        for r in range(bench.plan.rounds):
            for t in bench.rotated(r):
                pid = bench.measured_pid(t)
                await bench.settle(0.0)
                cpu0 = tree_cpu(pid) if pid else 0.0
                window = CpuWindow()
                res = await loadgen.sequential(t.port, bench.raw(t, kind), bench.plan.latency_s)
                noise = window.stop()
                bench.bg.append(noise["background_cpu"])
                cpu1 = tree_cpu(pid) if pid else 0.0
                per[t.name].append(
                    {
                        "p50_ms": res.pct_ms(50),
                        "p99_ms": res.pct_ms(99),
                        "mean_ms": (sum(res.latencies_s) / res.count * 1000) if res.count else math.nan,
                        "requests": res.count,
                        "errors": res.errors,
                        "first_error": res.first_error,
                        "cpu_ms_per_req": (cpu1 - cpu0) * 1000 / res.count if res.count else None,
                        **noise,
                    }
                )
                bench.log(
                    f"  {kind} r{r + 1} {t.name}: p50 {res.pct_ms(50):.3f} ms p99 {res.pct_ms(99):.3f} ms"
                    f" n={res.count} errors={res.errors}"
                )
        direct_rounds = per.get("direct", [])
        out: dict[str, Any] = {}
        for t in bench.targets:
            rs = per[t.name]
            if not rs:
                out[t.name] = {"available": False, "reason": t.reason}
                rows.append([f"{kind} / {t.name}", f"unavailable: {t.reason}"])
                continue
            added50 = added99 = None
            if direct_rounds and len(direct_rounds) == len(rs) and t.name != "direct":
                added50 = median(a["p50_ms"] - d["p50_ms"] for a, d in zip(rs, direct_rounds, strict=True))
                added99 = median(a["p99_ms"] - d["p99_ms"] for a, d in zip(rs, direct_rounds, strict=True))
            entry = {
                "available": True,
                "p50_ms": rnd(median(x["p50_ms"] for x in rs), 4),
                "p99_ms": rnd(median(x["p99_ms"] for x in rs), 4),
                "mean_ms": rnd(median(x["mean_ms"] for x in rs), 4),
                "added_p50_ms": rnd(added50, 4),
                "added_p99_ms": rnd(added99, 4),
                "requests": sum(x["requests"] for x in rs),
                "errors": sum(x["errors"] for x in rs),
                "cpu_ms_per_req": rnd(median(x["cpu_ms_per_req"] for x in rs), 4),
                "background_cpu": rnd(median(x["background_cpu"] for x in rs)),
                "client_cpu": rnd(median(x["client_cpu"] for x in rs)),
                "rounds": [{k: (rnd(v, 4) if isinstance(v, float) else v) for k, v in x.items()} for x in rs],
            }
            out[t.name] = entry
            rows.append(
                [
                    f"{kind} / {t.name}",
                    fmt(entry["p50_ms"], 3),
                    fmt(entry["p99_ms"], 3),
                    fmt(entry["added_p50_ms"], 3),
                    fmt(entry["added_p99_ms"], 3),
                    str(entry["requests"]),
                    str(entry["errors"]),
                    fmt(entry["cpu_ms_per_req"], 3),
                    fmt(entry["background_cpu"], 2),
                ]
            )
        bench.results["latency"][kind] = out
    bench.emit(
        render_table(
            "Sequential latency, concurrency 1 (one persistent connection, same Python client for all)",
            [
                "kind / target",
                "p50 ms",
                "p99 ms",
                "added p50 ms",
                "added p99 ms",
                "requests",
                "errors",
                "CPU ms/req",
                "bg CPU",
            ],
            rows,
            note="added = target minus direct, per round, median over rounds. CPU = target's process tree"
            " (direct: the upstream)."
            " bg CPU = cores used by processes outside the bench (other users of the machine): noise.",
        )
    )
