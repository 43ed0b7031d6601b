"""Throughput with wrk at concurrency 64 and 256: requests/s, p50/p99, errors, CPU time per request."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bench.core import WORK_DIR
from bench.procs import (
    CpuWindow,
    tree_cpu,
)
from bench.stats import fmt, median, ratio, render_table, rnd
from bench.targets import (
    HOST,
    request_body,
)
from bench.wrkrun import run_wrk, write_script, wrk_path

if TYPE_CHECKING:
    from bench.core import Bench


async def phase_throughput(bench: Bench) -> None:
    if wrk_path() is None:
        bench.results["throughput"]["unavailable"] = "wrk is not installed"
        bench.emit("\n### Throughput (wrk)\nunavailable: wrk is not installed")
        return
    n_runs = len(bench.plan.throughput) * bench.plan.rounds * len(bench.available())
    bench.log(f"throughput with wrk: {n_runs} runs of {bench.plan.wrk_s:.0f}s")
    rows: list[list[str]] = []
    for kind, conns in bench.plan.throughput:
        key = f"{kind}_c{conns}"
        per: dict[str, list[dict[str, Any]]] = {t.name: [] for t in bench.targets}
        for r in range(bench.plan.rounds):
            for t in bench.rotated(r):
                script = write_script(
                    WORK_DIR / f"wrk-{t.name}-{kind}.lua",
                    request_body(kind, bench.plan.stream_chunks, bench.plan.slow_chunks),
                    bench.auth,
                )
                pid = bench.measured_pid(t)
                up_pid = bench.upstream.pid
                await bench.settle(0.5)
                cpu0 = tree_cpu(pid) if pid else 0.0
                up0 = tree_cpu(up_pid) if up_pid else 0.0
                window = CpuWindow()
                res = await run_wrk(f"http://{HOST}:{t.port}{t.path(kind)}", script, conns, bench.plan.wrk_s)
                noise = window.stop()
                bench.bg.append(noise["background_cpu"])
                cpu1 = tree_cpu(pid) if pid else 0.0
                up1 = tree_cpu(up_pid) if up_pid else 0.0
                entry = res.as_dict()
                entry["background_cpu"] = noise["background_cpu"]
                entry["cpu_ms_per_req"] = (cpu1 - cpu0) * 1000 / res.requests if res.requests else None
                entry["cpu_util"] = (cpu1 - cpu0) / res.duration_s if res.duration_s else None
                entry["upstream_cpu_util"] = (up1 - up0) / res.duration_s if res.duration_s else None
                per[t.name].append(entry)
                bench.log(
                    f"  {key} r{r + 1} {t.name}: {res.rps:,.0f} req/s p50 {fmt(entry['p50_ms'])} ms"
                    f" p99 {fmt(entry['p99_ms'])} ms errors {res.errors}"
                    f" CPU {fmt(entry['cpu_ms_per_req'], 3)} ms/req (util {fmt(entry['cpu_util'], 2)},"
                    f" upstream util {fmt(entry['upstream_cpu_util'], 2)}, bg {noise['background_cpu']:.2f})"
                )
        out: dict[str, Any] = {}
        for t in bench.targets:
            rs = per[t.name]
            if not rs:
                out[t.name] = {"available": False, "reason": t.reason}
                continue
            out[t.name] = {
                "available": True,
                "rps": rnd(median(x["rps"] for x in rs), 1),
                "p50_ms": rnd(median(x["p50_ms"] for x in rs)),
                "p99_ms": rnd(median(x["p99_ms"] for x in rs)),
                "errors": sum(x["errors"] for x in rs),
                "requests": sum(x["requests"] for x in rs),
                "cpu_ms_per_req": rnd(median(x["cpu_ms_per_req"] for x in rs), 4),
                "cpu_util": rnd(median(x["cpu_util"] for x in rs)),
                "upstream_cpu_util": rnd(median(x["upstream_cpu_util"] for x in rs)),
                "background_cpu": rnd(median(x["background_cpu"] for x in rs)),
                "rounds": rs,
            }
        direct_rps = out.get("direct", {}).get("rps")
        litellm_rps = out.get("litellm", {}).get("rps")
        for t in bench.targets:
            e = out[t.name]
            if not e.get("available"):
                rows.append([f"{key} / {t.name}", f"unavailable: {t.reason}"])
                continue
            e["rps_vs_direct"] = rnd(ratio(e["rps"], direct_rps)) if t.name != "direct" else None
            e["rps_vs_litellm"] = rnd(ratio(e["rps"], litellm_rps)) if t.name == "ours" else None
            rows.append(
                [
                    f"{key} / {t.name}",
                    fmt(e["rps"], 0),
                    fmt(e["p50_ms"], 2),
                    fmt(e["p99_ms"], 2),
                    str(e["errors"]),
                    fmt(e["cpu_ms_per_req"], 3),
                    fmt(e["cpu_util"], 2),
                    fmt(e["rps_vs_direct"], 3),
                    fmt(e["rps_vs_litellm"], 2),
                    fmt(e["background_cpu"], 2),
                ]
            )
        bench.results["throughput"][key] = out
    bench.emit(
        render_table(
            f"Throughput, wrk -t1 {bench.plan.wrk_s:.0f}s per run (medians over {bench.plan.rounds} round(s))",
            [
                "kind_conc / target",
                "req/s",
                "p50 ms",
                "p99 ms",
                "errors",
                "CPU ms/req",
                "CPU util",
                "x direct",
                "x litellm",
                "bg CPU",
            ],
            rows,
            note="errors = non-2xx + socket errors (summed over rounds). CPU = utime+stime of the target's"
            " process tree / completed requests (direct: the upstream). CPU util = cores used by it."
            " wrk counts only requests completed within the run (p50/p99 '-' = none completed)."
            " bg CPU = cores used by processes outside the bench: noise.",
        )
    )
