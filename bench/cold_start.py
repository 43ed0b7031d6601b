"""Cold start: process launch to the first 200 from the health route."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bench.stats import fmt, median, render_table, rnd

if TYPE_CHECKING:
    from bench.core import Bench


async def phase_cold_start(bench: Bench) -> None:
    bench.log("cold start: launch -> first 200 from the health route")
    samples: dict[str, list[float]] = {t.name: [] for t in bench.targets}
    rss: dict[str, list[float]] = {t.name: [] for t in bench.targets}
    litellm = bench.target("litellm")
    if litellm is not None and bench.launcher.litellm_exe() is None:
        litellm.mark_unavailable("litellm is not installed in bench/.venv-litellm (see ./bench/run output)")
    if bench.plan.cold_warmup:
        # One discarded launch each, so the first sample does not pay for a cold page cache.
        for t in bench.available():
            if t.name == "direct":
                continue
            try:
                tmp, secs, _ = await bench.launch(t.name, "-warmup")
                bench.pm.stop(tmp.proc) if tmp.proc else None
                bench.log(f"  {t.name}: warm-up launch {secs:.2f}s (discarded)")
            except (RuntimeError, OSError) as exc:
                t.mark_unavailable(str(exc).splitlines()[0])
                bench.log(f"  {t.name}: UNAVAILABLE: {exc}")
    for r in range(bench.plan.cold_rounds):
        last = r == bench.plan.cold_rounds - 1
        for t in bench.rotated(r):
            try:
                launched, secs, mb = await bench.launch("direct" if t.name == "direct" else t.name, f"-{r}")
            except (RuntimeError, OSError) as exc:
                t.mark_unavailable(str(exc).splitlines()[0])
                t.info["start_failure"] = str(exc)
                bench.log(f"  {t.name}: UNAVAILABLE: {exc}")
                continue
            samples[t.name].append(secs)
            rss[t.name].append(mb)
            bench.log(f"  round {r + 1}: {t.name} healthy after {secs:.3f}s (RSS {mb:.0f} MB)")
            if last and t.name != "direct":
                t.port, t.proc = launched.port, launched.proc
            elif launched.proc is not None:
                bench.pm.stop(launched.proc)
    # The direct target is the long-lived upstream started first.
    direct = bench.target("direct")
    if direct is not None and direct.available:
        direct.port, direct.proc = bench.upstream.port, bench.upstream.proc
    rows = []
    for t in bench.targets:
        s = samples[t.name]
        if not s:
            rows.append(bench.unavailable_row(t))
            bench.results["cold_start"][t.name] = {"available": False, "reason": t.reason}
            continue
        entry: dict[str, Any] = {
            "available": True,
            "median_s": rnd(median(s)),
            "min_s": rnd(min(s)),
            "max_s": rnd(max(s)),
            "samples_s": [rnd(x) for x in s],
            "rss_at_ready_mb": rnd(median(rss[t.name]), 1),
        }
        bench.results["cold_start"][t.name] = entry
        rows.append(
            [
                t.name,
                fmt(entry["median_s"], 3),
                fmt(entry["min_s"], 3),
                fmt(entry["max_s"], 3),
                str(len(s)),
                fmt(entry["rss_at_ready_mb"], 0),
            ]
        )
    bench.emit(
        render_table(
            "Cold start: process launch -> first 200 on /health (LiteLLM: /health/liveliness)",
            ["target", "median s", "min s", "max s", "samples", "RSS at ready MB"],
            rows,
        )
    )
