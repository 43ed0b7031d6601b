"""Benchmark: our proxy vs LiteLLM vs the upstream itself (``./bench/run`` or ``python -m bench.main``).

Starts a static FMAPI upstream (bench/upstream.py), our proxy under uvicorn with the production
flags, and LiteLLM's proxy with its ``databricks/`` provider, then measures, interleaving the
targets round by round and reporting medians over rounds:

* cold start: process launch to the first 200 from the health route;
* sequential latency (concurrency 1, one persistent connection, same Python client for all):
  p50/p99 and added latency over direct, for chat and 1024-d embeddings;
* throughput with wrk at concurrency 64 and 256: requests/s, p50/p99, errors, CPU time per request
  of the target's process tree (from /proc);
* streaming (100 chunks) at concurrency 1 and 32: time to first event, total, chunks/s, CPU/chunk;
* Anthropic Messages beside chat on the same processes (ours and LiteLLM's ``/v1/messages``): JSON latency and
  CPU, 100-chunk streams (first event, CPU per upstream chunk and per event), see bench/messages.py;
* the Gemini API beside chat (ours only; ``streamGenerateContent?alt=sse``), the same figures, see bench/gemini.py;
* the OpenAI Responses API the same way (ours and LiteLLM's ``/v1/responses``), see bench/responses.py;
* what a stored response adds (``store: false`` vs ``store: true`` vs ``previous_response_id``), bench/stored.py;
* prompt caching: the input a 20-turn agent session on Claude is billed for, with the proxy's automatic cache
  breakpoints and without (ours only), see bench/caching.py;
* memory: RSS idle and with 500 slow streams held open, and whether those streams keep the
  upstream's pace.

Prints one table per measurement plus a summary line, and writes bench/results/<UTC>.json and
bench/results/latest.json. Every process it starts is killed on exit, Ctrl-C or error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import importlib.metadata
import math
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import uvloop

from bench import loadgen
from bench.caching import phase_caching
from bench.client import Connection, SSECounter, build_request, wait_http_ok
from bench.gemini import phase_gemini
from bench.messages import phase_messages
from bench.procs import (
    CpuWindow,
    ProcessManager,
    install_termination_handlers,
    loadavg,
    raise_nofile_limit,
    tree_cpu,
    tree_rss_mb,
)
from bench.responses import phase_responses
from bench.stats import fmt, median, percentile, ratio, render_table, rnd
from bench.stored import phase_stored
from bench.targets import (
    ALL_TARGETS,
    BENCH_DIR,
    DEFAULT_TARGETS,
    DESCRIPTIONS,
    HOST,
    REPO_ROOT,
    Launcher,
    Target,
    make_token,
    request_body,
)
from bench.wrkrun import run_wrk, write_script, wrk_path

WORK_DIR = BENCH_DIR / ".work"
RESULTS_DIR = BENCH_DIR / "results"
EMBED_DIM = 1024
QUIET_CPU = 0.2  # cores used by other processes below which the machine counts as quiet
VERSIONED_PACKAGES = (
    "litellm",
    "fastapi",
    "starlette",
    "uvicorn",
    "uvloop",
    "httptools",
    "httpx",
    "orjson",
    "pydantic",
)


@dataclass
class Plan:
    rounds: int
    wrk_s: float
    latency_s: float
    stream_c1_s: float
    stream_c32_s: float
    cold_rounds: int
    cold_warmup: bool
    stream_chunks: int
    held_streams: int
    slow_chunks: int
    slow_delay_ms: float
    idle_wait_s: float
    held_timeout_s: float
    quiet_wait_s: float
    throughput: list[tuple[str, int]]

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items()}


def make_plan(args: argparse.Namespace) -> Plan:
    d = float(args.duration if args.duration is not None else (2 if args.quick else 10))
    rounds = args.rounds if args.rounds is not None else (1 if args.quick else 3)
    return Plan(
        rounds=rounds,
        wrk_s=d,
        latency_s=max(1.0, d / 2),
        stream_c1_s=max(1.5, d * 0.4),
        stream_c32_s=max(1.5, d * 0.6),
        cold_rounds=rounds,
        cold_warmup=not args.quick,
        stream_chunks=args.stream_chunks,
        held_streams=args.streams,
        slow_chunks=args.slow_chunks if args.slow_chunks is not None else (100 if args.quick else 200),
        slow_delay_ms=args.slow_chunk_delay_ms,
        idle_wait_s=1.0 if args.quick else 3.0,
        held_timeout_s=15.0 if args.quick else 60.0,
        quiet_wait_s=0.0 if args.quick else 2.0,
        throughput=[("chat", 64), ("chat", 256), ("embed", 64)],
    )


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.plan = make_plan(args)
        self.t0 = time.perf_counter()
        self.pm = ProcessManager(WORK_DIR / "logs")
        self.token = make_token()
        self.launcher = Launcher(
            self.pm,
            self.token,
            Path(args.proxy_dir).resolve(),
            args.proxy_app,
            chunk_delay_ms=0.0,
            slow_chunk_delay_ms=self.plan.slow_delay_ms,
            base_dir=Path(args.base_dir).resolve() if args.base_dir else None,
        )
        wanted = [t.strip() for t in args.targets.split(",") if t.strip()]
        unknown = [t for t in wanted if t not in ALL_TARGETS]
        if unknown or not wanted:
            raise SystemExit(f"--targets: unknown {unknown}; choose from {','.join(ALL_TARGETS)}")
        self.targets = [Target(name) for name in ALL_TARGETS if name in wanted]
        self.upstream = Target("upstream")
        self.auth = {"Authorization": f"Bearer {self.token}"}
        self.bg: list[float] = []  # background CPU (cores) of every measurement window
        self.quiet_waits = 0
        self.results: dict[str, Any] = {
            "meta": {},
            "targets": {},
            "cold_start": {},
            "latency": {},
            "throughput": {},
            "streaming": {},
            "memory": {},
            "summary": {},
            "tables": [],
        }

    # ------------------------------------------------------------------ helpers
    def log(self, msg: str) -> None:
        print(f"[{time.perf_counter() - self.t0:6.1f}s] {msg}", file=sys.stderr, flush=True)

    def emit(self, table: str) -> None:
        print(table, flush=True)
        self.results["tables"].append(table)

    def available(self) -> list[Target]:
        return [t for t in self.targets if t.available]

    def rotated(self, r: int) -> list[Target]:
        ts = self.available()
        if not ts:
            return []
        k = r % len(ts)
        return ts[k:] + ts[:k]

    def target(self, name: str) -> Target | None:
        return next((t for t in self.targets if t.name == name), None)

    def measured_pid(self, t: Target) -> int | None:
        """The process whose CPU/RSS is charged to the target (the upstream for direct)."""
        return self.upstream.pid if t.name == "direct" else t.pid

    def raw(self, t: Target, kind: str, extra: dict[str, str] | None = None) -> bytes:
        body = request_body(kind, self.plan.stream_chunks, self.plan.slow_chunks)
        return build_request("POST", HOST, t.port, t.path(kind), body, {**self.auth, **(extra or {})})

    async def settle(self, pause_s: float) -> None:
        """Pause, then wait (at most --quiet-wait seconds) for other processes on the machine to go quiet."""
        if pause_s:
            await asyncio.sleep(pause_s)
        budget = self.args.quiet_wait if self.args.quiet_wait is not None else self.plan.quiet_wait_s
        deadline = time.perf_counter() + budget
        waited = False
        while time.perf_counter() < deadline:
            window = CpuWindow()
            await asyncio.sleep(0.25)
            if window.stop()["background_cpu"] < QUIET_CPU:
                break
            waited = True
        if waited:
            self.quiet_waits += 1

    def unavailable_row(self, t: Target) -> list[str]:
        return [t.name, f"unavailable: {t.reason}"]

    # ------------------------------------------------------------------ processes
    async def launch(self, name: str, tag: str) -> tuple[Target, float, float]:
        """Start a process for ``name`` and wait for its health route. Returns (target, seconds, RSS MB)."""
        proc, port = self.launcher.start(name, tag=tag)
        t = Target(name if name != "upstream" else "upstream", port=port, proc=proc)
        timeout = 180.0 if name == "litellm" else 60.0
        try:
            t_ok = await wait_http_ok(HOST, port, t.health_path, timeout, alive=proc.alive)
        except (TimeoutError, RuntimeError) as exc:
            tail = proc.log_tail()
            self.pm.stop(proc)
            last = tail.splitlines()[-1].strip() if tail else "(empty log)"
            raise RuntimeError(
                f"{name} did not become healthy: {exc}; last log line: {last}\nlog tail ({proc.log_path}):\n{tail}"
            ) from exc
        return t, t_ok - proc.started_at, tree_rss_mb(proc.pid)

    async def start_upstream(self) -> None:
        t, secs, _ = await self.launch("upstream", "")
        self.upstream = t
        self.launcher.upstream_port = t.port
        self.log(f"upstream up on :{t.port} in {secs:.2f}s")

    async def upstream_stats(self) -> dict[str, Any]:
        conn = Connection(HOST, self.upstream.port)
        try:
            resp = await conn.request(build_request("GET", HOST, self.upstream.port, "/_bench/stats"), timeout_s=5)
            data: dict[str, Any] = orjson.loads(resp.body)
            return data
        finally:
            conn.close()

    # ------------------------------------------------------------------ phases
    async def phase_cold_start(self) -> None:
        self.log("cold start: launch -> first 200 from the health route")
        samples: dict[str, list[float]] = {t.name: [] for t in self.targets}
        rss: dict[str, list[float]] = {t.name: [] for t in self.targets}
        litellm = self.target("litellm")
        if litellm is not None and self.launcher.litellm_exe() is None:
            litellm.mark_unavailable("litellm is not installed in bench/.venv-litellm (see ./bench/run output)")
        if self.plan.cold_warmup:
            # One discarded launch each, so the first sample does not pay for a cold page cache.
            for t in self.available():
                if t.name == "direct":
                    continue
                try:
                    tmp, secs, _ = await self.launch(t.name, "-warmup")
                    self.pm.stop(tmp.proc) if tmp.proc else None
                    self.log(f"  {t.name}: warm-up launch {secs:.2f}s (discarded)")
                except (RuntimeError, OSError) as exc:
                    t.mark_unavailable(str(exc).splitlines()[0])
                    self.log(f"  {t.name}: UNAVAILABLE: {exc}")
        for r in range(self.plan.cold_rounds):
            last = r == self.plan.cold_rounds - 1
            for t in self.rotated(r):
                try:
                    launched, secs, mb = await self.launch("direct" if t.name == "direct" else t.name, f"-{r}")
                except (RuntimeError, OSError) as exc:
                    t.mark_unavailable(str(exc).splitlines()[0])
                    t.info["start_failure"] = str(exc)
                    self.log(f"  {t.name}: UNAVAILABLE: {exc}")
                    continue
                samples[t.name].append(secs)
                rss[t.name].append(mb)
                self.log(f"  round {r + 1}: {t.name} healthy after {secs:.3f}s (RSS {mb:.0f} MB)")
                if last and t.name != "direct":
                    t.port, t.proc = launched.port, launched.proc
                elif launched.proc is not None:
                    self.pm.stop(launched.proc)
        # The direct target is the long-lived upstream started first.
        direct = self.target("direct")
        if direct is not None and direct.available:
            direct.port, direct.proc = self.upstream.port, self.upstream.proc
        rows = []
        for t in self.targets:
            s = samples[t.name]
            if not s:
                rows.append(self.unavailable_row(t))
                self.results["cold_start"][t.name] = {"available": False, "reason": t.reason}
                continue
            entry: dict[str, Any] = {
                "available": True,
                "median_s": rnd(median(s)),
                "min_s": rnd(min(s)),
                "max_s": rnd(max(s)),
                "samples_s": [rnd(x) for x in s],
                "rss_at_ready_mb": rnd(median(rss[t.name]), 1),
            }
            self.results["cold_start"][t.name] = entry
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
        self.emit(
            render_table(
                "Cold start: process launch -> first 200 on /health (LiteLLM: /health/liveliness)",
                ["target", "median s", "min s", "max s", "samples", "RSS at ready MB"],
                rows,
            )
        )

    async def verify(self) -> None:
        """Check each target answers correctly, then warm it up. Failing targets become unavailable."""
        self.log("verifying and warming up targets")
        for t in self.available():
            before = await self.upstream_stats()
            try:
                await self._verify_one(t)
            except (OSError, TimeoutError, ValueError, KeyError, IndexError, TypeError) as exc:
                t.mark_unavailable(f"verification failed: {exc}")
                self.log(f"  {t.name}: UNAVAILABLE: {t.reason}")
                continue
            after = await self.upstream_stats()
            routes = {
                k: v - before.get("route_counts", {}).get(k, 0)
                for k, v in after.get("route_counts", {}).items()
                if v - before.get("route_counts", {}).get(k, 0)
            }
            t.info["upstream_routes_seen_during_verification"] = routes
            self.log(f"  {t.name}: ok (upstream routes used: {routes})")

    async def _verify_one(self, t: Target) -> None:
        conn = Connection(HOST, t.port)
        try:
            resp = await conn.request(self.raw(t, "chat"), timeout_s=30)
            if resp.status != 200:
                raise ValueError(f"chat answered HTTP {resp.status}: {resp.body[:300]!r}")
            content = orjson.loads(resp.body)["choices"][0]["message"]["content"]
            if not content:
                raise ValueError("chat answer has no content")
            resp = await conn.request(self.raw(t, "embed"), timeout_s=30)
            if resp.status != 200:
                raise ValueError(f"embeddings answered HTTP {resp.status}: {resp.body[:300]!r}")
            dim = len(orjson.loads(resp.body)["data"][0]["embedding"])
            if dim != EMBED_DIM:
                raise ValueError(f"embedding has {dim} dimensions, expected {EMBED_DIM}")
            counter = SSECounter()
            resp = await conn.request(self.raw(t, "stream"), sink=counter, timeout_s=30)
            if resp.status != 200 or not counter.done or counter.content_events < self.plan.stream_chunks:
                raise ValueError(f"stream: HTTP {resp.status}, [DONE]={counter.done}, events={counter.content_events}")
            t.info["stream_events_per_100_chunks"] = counter.content_events
            for kind, n in (("chat", 300), ("embed", 100)):
                raw = self.raw(t, kind)
                for _ in range(n):
                    await conn.request(raw, timeout_s=30)
            for _ in range(10):
                await conn.request(self.raw(t, "stream"), sink=SSECounter(), timeout_s=30)
        finally:
            conn.close()

    async def phase_latency(self) -> None:
        self.log(f"sequential latency: {self.plan.rounds} round(s) x {self.plan.latency_s:.0f}s per target/kind")
        rows: list[list[str]] = []
        for kind in ("chat", "embed"):
            per: dict[str, list[dict[str, Any]]] = {t.name: [] for t in self.targets}
            for r in range(self.plan.rounds):
                for t in self.rotated(r):
                    pid = self.measured_pid(t)
                    await self.settle(0.0)
                    cpu0 = tree_cpu(pid) if pid else 0.0
                    window = CpuWindow()
                    res = await loadgen.sequential(t.port, self.raw(t, kind), self.plan.latency_s)
                    noise = window.stop()
                    self.bg.append(noise["background_cpu"])
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
                    self.log(
                        f"  {kind} r{r + 1} {t.name}: p50 {res.pct_ms(50):.3f} ms p99 {res.pct_ms(99):.3f} ms"
                        f" n={res.count} errors={res.errors}"
                    )
            direct_rounds = per.get("direct", [])
            out: dict[str, Any] = {}
            for t in self.targets:
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
            self.results["latency"][kind] = out
        self.emit(
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

    async def phase_throughput(self) -> None:
        if wrk_path() is None:
            self.results["throughput"]["unavailable"] = "wrk is not installed"
            self.emit("\n### Throughput (wrk)\nunavailable: wrk is not installed")
            return
        n_runs = len(self.plan.throughput) * self.plan.rounds * len(self.available())
        self.log(f"throughput with wrk: {n_runs} runs of {self.plan.wrk_s:.0f}s")
        rows: list[list[str]] = []
        for kind, conns in self.plan.throughput:
            key = f"{kind}_c{conns}"
            per: dict[str, list[dict[str, Any]]] = {t.name: [] for t in self.targets}
            for r in range(self.plan.rounds):
                for t in self.rotated(r):
                    script = write_script(
                        WORK_DIR / f"wrk-{t.name}-{kind}.lua",
                        request_body(kind, self.plan.stream_chunks, self.plan.slow_chunks),
                        self.auth,
                    )
                    pid = self.measured_pid(t)
                    up_pid = self.upstream.pid
                    await self.settle(0.5)
                    cpu0 = tree_cpu(pid) if pid else 0.0
                    up0 = tree_cpu(up_pid) if up_pid else 0.0
                    window = CpuWindow()
                    res = await run_wrk(f"http://{HOST}:{t.port}{t.path(kind)}", script, conns, self.plan.wrk_s)
                    noise = window.stop()
                    self.bg.append(noise["background_cpu"])
                    cpu1 = tree_cpu(pid) if pid else 0.0
                    up1 = tree_cpu(up_pid) if up_pid else 0.0
                    entry = res.as_dict()
                    entry["background_cpu"] = noise["background_cpu"]
                    entry["cpu_ms_per_req"] = (cpu1 - cpu0) * 1000 / res.requests if res.requests else None
                    entry["cpu_util"] = (cpu1 - cpu0) / res.duration_s if res.duration_s else None
                    entry["upstream_cpu_util"] = (up1 - up0) / res.duration_s if res.duration_s else None
                    per[t.name].append(entry)
                    self.log(
                        f"  {key} r{r + 1} {t.name}: {res.rps:,.0f} req/s p50 {fmt(entry['p50_ms'])} ms"
                        f" p99 {fmt(entry['p99_ms'])} ms errors {res.errors}"
                        f" CPU {fmt(entry['cpu_ms_per_req'], 3)} ms/req (util {fmt(entry['cpu_util'], 2)},"
                        f" upstream util {fmt(entry['upstream_cpu_util'], 2)}, bg {noise['background_cpu']:.2f})"
                    )
            out: dict[str, Any] = {}
            for t in self.targets:
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
            for t in self.targets:
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
            self.results["throughput"][key] = out
        self.emit(
            render_table(
                f"Throughput, wrk -t1 {self.plan.wrk_s:.0f}s per run (medians over {self.plan.rounds} round(s))",
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

    async def phase_streaming(self) -> None:
        self.log(f"streaming, {self.plan.stream_chunks} chunks, concurrency 1 and 32")
        rows: list[list[str]] = []
        for conc, dur in ((1, self.plan.stream_c1_s), (32, self.plan.stream_c32_s)):
            key = f"c{conc}"
            per: dict[str, list[dict[str, Any]]] = {t.name: [] for t in self.targets}
            for r in range(self.plan.rounds):
                for t in self.rotated(r):
                    pid = self.measured_pid(t)
                    await self.settle(0.3)
                    cpu0 = tree_cpu(pid) if pid else 0.0
                    window = CpuWindow()
                    res = await loadgen.stream_loop(t.port, self.raw(t, "stream"), conc, dur)
                    noise = window.stop()
                    self.bg.append(noise["background_cpu"])
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
                    self.log(
                        f"  {key} r{r + 1} {t.name}: ttfb p50 {entry['ttfb_p50_ms']:.2f} ms total p50"
                        f" {entry['total_p50_ms']:.2f} ms, {fmt(entry['chunks_per_s'], 0)} chunks/s,"
                        f" errors {res.errors}"
                    )
            out: dict[str, Any] = {}
            for t in self.targets:
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
            self.results["streaming"][key] = out
        self.emit(
            render_table(
                f"Streaming, {self.plan.stream_chunks} chunks per stream, upstream sends chunks without delay",
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

    async def phase_memory(self) -> None:
        p = self.plan
        expected_s = (p.slow_chunks - 1) * p.slow_delay_ms / 1000.0
        self.log(
            f"memory: {p.held_streams} streams of {p.slow_chunks} chunks every {p.slow_delay_ms:g} ms"
            f" (expected {expected_s:.2f}s each)"
        )
        rows: list[list[str]] = []
        for t in self.targets:
            if not t.available:
                self.results["memory"][t.name] = {"available": False, "reason": t.reason}
                rows.append(self.unavailable_row(t))
                continue
            pid = self.measured_pid(t)
            await self.settle(p.idle_wait_s)
            idle = tree_rss_mb(pid) if pid else None
            window = CpuWindow()
            res = await loadgen.held_streams(
                t.port, self.raw(t, "slow"), p.held_streams, pid, timeout_s=expected_s + p.held_timeout_s,
                progress=self.log,
            )  # fmt: skip
            noise = window.stop()
            self.bg.append(noise["background_cpu"])
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
            self.results["memory"][t.name] = e
            self.log(
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
        self.emit(
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

    async def phase_profile(self) -> None:
        ours = self.target("ours")
        if ours is None or not ours.available or ours.pid is None:
            self.log("profile: our proxy is not running, skipped")
            return
        spy = Path(sys.executable).parent / "py-spy"
        if not spy.exists() or wrk_path() is None:
            self.log("profile: py-spy or wrk missing, skipped")
            return
        out = WORK_DIR / "profile-ours-chat-c64.txt"
        secs = max(3, int(self.plan.wrk_s))
        self.log(f"profile: py-spy record on our proxy during wrk chat c64 for {secs}s -> {out}")
        spy_proc = await asyncio.create_subprocess_exec(
            str(spy), "record", "--pid", str(ours.pid), "--duration", str(secs), "--rate", "250",
            "--format", "raw", "--function", "--output", str(out), "--nonblocking",
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        script = write_script(WORK_DIR / "wrk-ours-chat.lua", request_body("chat"), self.auth)
        try:
            await run_wrk(f"http://{HOST}:{ours.port}{ours.path('chat')}", script, 64, secs)
        finally:
            _, err = await asyncio.wait_for(spy_proc.communicate(), 60)
        if spy_proc.returncode != 0 or not out.exists():
            self.log(f"profile: py-spy failed: {err.decode(errors='replace')[-500:]}")
            return
        self.results["profile"] = summarize_profile(out)
        prof = self.results["profile"]
        lines = [
            f"\n### Profile of our proxy (py-spy {secs}s under wrk chat c64, {prof['samples']} samples;"
            f" raw stacks in {out.relative_to(REPO_ROOT)})"
        ]
        titles = {
            "by_package": "own time by package/module",
            "self": "top functions by own time",
            "project_inclusive": "project code (app.py, routes/, services/, models/), inclusive time",
        }
        for key, title in titles.items():
            lines.append(f"-- {title}:")
            lines.extend(f"  {pct:5.1f}%  {name}" for name, pct in prof[key])
        self.emit("\n".join(lines))

    # ------------------------------------------------------------------ summary
    def summarize(self) -> None:
        res = self.results
        s: dict[str, Any] = {}

        def get(section: str, key: str, target: str, field: str) -> float | None:
            v = res[section].get(key, {}).get(target, {}).get(field)
            return float(v) if isinstance(v, int | float) else None

        for kind, conns in self.plan.throughput:
            key = f"{kind}_c{conns}"
            s[f"rps_{key}_ours_over_direct"] = rnd(ratio(get("throughput", key, "ours", "rps"),
                                                         get("throughput", key, "direct", "rps")))  # fmt: skip
            s[f"rps_{key}_ours_over_litellm"] = rnd(ratio(get("throughput", key, "ours", "rps"),
                                                          get("throughput", key, "litellm", "rps")))  # fmt: skip
            s[f"cpu_per_req_{key}_ours_over_litellm"] = rnd(
                ratio(
                    get("throughput", key, "ours", "cpu_ms_per_req"),
                    get("throughput", key, "litellm", "cpu_ms_per_req"),
                )
            )
            base = get("throughput", key, "ours-base", "cpu_ms_per_req")
            if base is not None:
                # this checkout against --base-dir (an earlier commit), per request
                s[f"cpu_per_req_{key}_ours_over_ours_base"] = rnd(
                    ratio(get("throughput", key, "ours", "cpu_ms_per_req"), base)
                )
            bare = get("throughput", key, "ours-bare", "cpu_ms_per_req")
            if bare is not None:
                # the cost of the request log line and the metrics, per request
                s[f"cpu_per_req_{key}_ours_over_ours_bare"] = rnd(
                    ratio(get("throughput", key, "ours", "cpu_ms_per_req"), bare)
                )
        for kind in ("chat", "embed"):
            for t in ("ours", "litellm"):
                s[f"added_p50_ms_{kind}_{t}"] = get("latency", kind, t, "added_p50_ms")
                s[f"added_p99_ms_{kind}_{t}"] = get("latency", kind, t, "added_p99_ms")
        s["stream_c32_chunks_per_s_ours_over_litellm"] = rnd(
            ratio(get("streaming", "c32", "ours", "chunks_per_s"), get("streaming", "c32", "litellm", "chunks_per_s"))
        )
        for key in ("c1", "c32"):
            base = get("streaming", key, "ours-base", "cpu_us_per_chunk")
            if base is not None:
                s[f"cpu_per_chunk_stream_{key}_ours_over_ours_base"] = rnd(
                    ratio(get("streaming", key, "ours", "cpu_us_per_chunk"), base)
                )
        s["stream_c1_ttfb_p50_ms_ours"] = get("streaming", "c1", "ours", "ttfb_p50_ms")
        s["stream_c1_ttfb_p50_ms_litellm"] = get("streaming", "c1", "litellm", "ttfb_p50_ms")
        mem = res["memory"]
        s["peak_rss_500_streams_ours_over_litellm"] = rnd(
            ratio(mem.get("ours", {}).get("rss_peak_mb"), mem.get("litellm", {}).get("rss_peak_mb"))
        )
        cs = res["cold_start"]
        s["cold_start_s_ours"] = cs.get("ours", {}).get("median_s")
        s["cold_start_s_litellm"] = cs.get("litellm", {}).get("median_s")
        s["background_cpu_median"] = rnd(median(self.bg))
        s["background_cpu_max"] = rnd(max(self.bg)) if self.bg else None
        s["measurements_delayed_by_background_load"] = self.quiet_waits
        res["summary"] = s

        def r(v: float | None, suffix: str = "x") -> str:
            return "n/a" if v is None else f"{v:.2f}{suffix}"

        parts = []
        for kind, conns in self.plan.throughput:
            key = f"{kind}_c{conns}"
            parts.append(
                f"{kind} c{conns} req/s ours/direct {r(s[f'rps_{key}_ours_over_direct'])}"
                f" ours/litellm {r(s[f'rps_{key}_ours_over_litellm'])}"
            )
        parts.append(f"CPU/req chat c64 ours/litellm {r(s['cpu_per_req_chat_c64_ours_over_litellm'])}")
        parts.append(
            f"added p50 chat ours {r(s['added_p50_ms_chat_ours'], ' ms')} vs litellm"
            f" {r(s['added_p50_ms_chat_litellm'], ' ms')}"
        )
        parts.append(f"stream chunks/s c32 ours/litellm {r(s['stream_c32_chunks_per_s_ours_over_litellm'])}")
        parts.append(f"peak RSS 500 streams ours/litellm {r(s['peak_rss_500_streams_ours_over_litellm'])}")
        parts.append(
            f"cold start ours {r(s['cold_start_s_ours'], ' s')} vs litellm {r(s['cold_start_s_litellm'], ' s')}"
        )
        parts.append(
            f"background CPU median {r(s['background_cpu_median'], '')} max {r(s['background_cpu_max'], '')} cores"
        )
        line = "SUMMARY: " + " | ".join(parts)
        self.emit("\n" + line)
        bg = s["background_cpu_median"]
        if bg is not None and bg > 0.25:
            self.emit(
                f"WARNING: other processes on this machine used a median of {bg:.2f} cores during the"
                f" measurements (of {os.cpu_count()}); absolute numbers are depressed, ratios less so."
            )

    # ------------------------------------------------------------------ run
    def meta(self) -> dict[str, Any]:
        def version(pkg: str) -> str | None:
            try:
                return importlib.metadata.version(pkg)
            except importlib.metadata.PackageNotFoundError:
                return None

        def git(*a: str) -> str | None:
            try:
                return subprocess.run(
                    ["git", *a], cwd=REPO_ROOT, capture_output=True, text=True, timeout=10, check=True
                ).stdout.strip()
            except (OSError, subprocess.SubprocessError):
                return None

        cpu_model = None
        with contextlib.suppress(OSError):
            for line in Path("/proc/cpuinfo").read_text().splitlines():
                if line.startswith("model name"):
                    cpu_model = line.split(":", 1)[1].strip()
                    break
        wrk_version = None
        if wrk_path():
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                out = subprocess.run([str(wrk_path()), "-v"], capture_output=True, text=True, timeout=5)
                wrk_version = (out.stdout or out.stderr).splitlines()[0].strip()
        return {
            "git_commit": git("rev-parse", "HEAD"),
            "git_dirty_files": len((git("status", "--porcelain") or "").splitlines()),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpu_count": os.cpu_count(),
            "cpu_model": cpu_model,
            "mem_total_mb": _mem_total_mb(),
            "wrk": wrk_version,
            "versions": {p: version(p) for p in VERSIONED_PACKAGES},
            "args": vars(self.args),
            "plan": self.plan.as_dict(),
        }

    async def run(self) -> None:
        started = dt.datetime.now(dt.UTC)
        self.results["meta"] = self.meta()
        self.results["meta"]["started_utc"] = started.isoformat(timespec="seconds")
        nofile = raise_nofile_limit()
        self.results["meta"]["nofile_limit"] = nofile
        self.results["meta"]["loadavg_start"] = loadavg()
        await self.start_upstream()
        await self.phase_cold_start()
        await self.verify()
        for t in self.targets:
            self.results["targets"][t.name] = {
                "available": t.available,
                "reason": t.reason,
                "description": DESCRIPTIONS[t.name].replace("app:app", self.args.proxy_app),
                **t.info,
            }
        phases: list[tuple[str, Callable[[], Any]]] = [
            ("latency", self.phase_latency),
            ("throughput", self.phase_throughput),
            ("streaming", self.phase_streaming),
            ("messages", lambda: phase_messages(self)),
            ("responses", lambda: phase_responses(self)),
            ("gemini", lambda: phase_gemini(self)),
            ("stored", lambda: phase_stored(self)),
            ("caching", lambda: phase_caching(self)),
            ("memory", self.phase_memory),
        ]
        if self.args.profile:
            phases.append(("profile", self.phase_profile))
        chosen = self.args.phases.split(",") if self.args.phases else None
        for _name, fn in phases:
            if chosen is not None and _name not in chosen:
                continue
            if not self.available():
                break
            await fn()
        # Targets that died during the run are reported as such.
        for t in self.targets:
            if t.available and t.proc is not None and not t.proc.alive():
                self.results["targets"][t.name]["died_during_run"] = True
                self.results["targets"][t.name]["log_tail"] = t.proc.log_tail()
        self.results["meta"]["loadavg_end"] = loadavg()
        self.summarize()
        self.results["meta"]["duration_s"] = round(time.perf_counter() - self.t0, 1)


PROJECT_PREFIXES = ("app.py", "routes/", "services/", "models/")
_FRAME_RE = re.compile(r"^(?P<func>.*) \((?P<file>[^:()]+)(?::\d+)?\)$")


def summarize_profile(path: Path, top: int = 12) -> dict[str, Any]:
    """Aggregate py-spy's raw (collapsed) stacks: own time by package and by function, and the
    inclusive time of the project's own functions."""
    own: dict[str, int] = {}
    by_pkg: dict[str, int] = {}
    project: dict[str, int] = {}
    total = 0
    for line in path.read_text(errors="replace").splitlines():
        stack, _, count_s = line.rpartition(" ")
        if not stack or not count_s.isdigit():
            continue
        count = int(count_s)
        total += count
        # Frames are "function (file:line)"; drop the line so each function is counted once.
        frames = [m for m in (_FRAME_RE.match(f) for f in stack.split(";")) if m]
        if not frames:
            continue
        leaf = frames[-1]
        name = f"{leaf.group('func')} ({leaf.group('file')})"
        own[name] = own.get(name, 0) + count
        pkg = leaf.group("file").split("/")[0]
        by_pkg[pkg] = by_pkg.get(pkg, 0) + count
        seen: set[str] = set()
        for fm in frames:
            key = f"{fm.group('func')} ({fm.group('file')})"
            if fm.group("file").startswith(PROJECT_PREFIXES) and key not in seen:
                seen.add(key)
                project[key] = project.get(key, 0) + count

    def best(d: dict[str, int]) -> list[tuple[str, float]]:
        if not total:
            return []
        return [(k, round(100.0 * v / total, 1)) for k, v in sorted(d.items(), key=lambda kv: -kv[1])[:top]]

    return {"samples": total, "by_package": best(by_pkg), "self": best(own), "project_inclusive": best(project)}


def _mem_total_mb() -> int | None:
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    return None


def write_results(results: dict[str, Any], complete: bool, results_dir: Path) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    ts = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    results["meta"]["complete"] = complete
    data = orjson.dumps(results, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)
    path = results_dir / f"{ts}.json"
    path.write_bytes(data + b"\n")
    if complete:
        (results_dir / "latest.json").write_bytes(data + b"\n")
    return path


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="./bench/run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="short smoke run (1 round, 2 s wrk runs; under 2 min)")
    p.add_argument("--targets", default=",".join(DEFAULT_TARGETS), help=f"comma list of {','.join(ALL_TARGETS)}")
    p.add_argument("--duration", type=float, default=None, help="seconds per wrk run (default 10, quick 2)")
    p.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 3, quick 1)")
    p.add_argument("--stream-chunks", type=int, default=100, help="chunks per stream in the streaming test")
    p.add_argument("--streams", type=int, default=500, help="slow streams held open in the memory test")
    p.add_argument("--slow-chunks", type=int, default=None, help="chunks per slow stream (default 200, quick 100)")
    p.add_argument("--slow-chunk-delay-ms", type=float, default=50.0, help="upstream delay between slow chunks")
    p.add_argument(
        "--quiet-wait",
        type=float,
        default=None,
        help="before each measurement, wait up to this many seconds for other processes on the machine to use"
        f" < {QUIET_CPU} cores (default 2, quick 0)",
    )
    p.add_argument("--phases", default=None, help="comma list of the phases to run (default: all)")
    p.add_argument("--profile", action="store_true", help="also py-spy our proxy under wrk (chat, c64)")
    p.add_argument("--proxy-dir", default=str(REPO_ROOT), help="directory to run `uvicorn <app>` in")
    p.add_argument("--proxy-app", default="app:app", help="ASGI app of our proxy")
    p.add_argument(
        "--base-dir",
        default=None,
        help="target ours-base: another checkout of the proxy to compare with (e.g. an earlier commit)",
    )
    p.add_argument("--results-dir", default=str(RESULTS_DIR))
    p.add_argument("--no-save", action="store_true", help="do not write JSON results")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    install_termination_handlers()
    bench = Bench(args)
    complete = False
    exit_code = 1
    try:
        uvloop.run(bench.run())
        complete = True
        exit_code = 0
    except KeyboardInterrupt:
        bench.log("interrupted")
        exit_code = 130
    except SystemExit as exc:
        bench.log(f"stopped ({exc.code})")
        exit_code = exc.code if isinstance(exc.code, int) else 1
    except Exception as exc:
        bench.log(f"FAILED: {type(exc).__name__}: {exc}")
        raise
    finally:
        bench.pm.stop_all()
        if not args.no_save and (bench.results["tables"] or complete):
            path = write_results(bench.results, complete, Path(args.results_dir))
            bench.log(f"results written to {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}")
        bench.log(f"done in {time.perf_counter() - bench.t0:.0f}s")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
