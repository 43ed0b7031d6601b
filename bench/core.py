"""The benchmark's shared machinery: the plan, the targets and their processes, helpers every phase uses, the
summary and the run; each measurement is a phase module (``bench/<phase>.py``) that main.py lists."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import importlib.metadata
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from bench.client import Connection, SSECounter, build_request, wait_http_ok
from bench.procs import (
    CpuWindow,
    ProcessManager,
    loadavg,
    raise_nofile_limit,
    tree_rss_mb,
)
from bench.stats import median, ratio, rnd
from bench.targets import (
    ALL_TARGETS,
    BENCH_DIR,
    DESCRIPTIONS,
    HOST,
    REPO_ROOT,
    Launcher,
    Target,
    make_token,
    request_body,
)
from bench.wrkrun import wrk_path

WORK_DIR = BENCH_DIR / ".work"
RESULTS_DIR = BENCH_DIR / "results"
Phase = Callable[["Bench"], Awaitable[None]]
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

    async def run(self, phases: Sequence[tuple[str, Phase]], cold_start: Phase, profile: Phase) -> None:
        """``phases`` in order, after ``cold_start`` and the verification; ``profile`` last when --profile."""
        started = dt.datetime.now(dt.UTC)
        self.results["meta"] = self.meta()
        self.results["meta"]["started_utc"] = started.isoformat(timespec="seconds")
        nofile = raise_nofile_limit()
        self.results["meta"]["nofile_limit"] = nofile
        self.results["meta"]["loadavg_start"] = loadavg()
        await self.start_upstream()
        await cold_start(self)
        await self.verify()
        for t in self.targets:
            self.results["targets"][t.name] = {
                "available": t.available,
                "reason": t.reason,
                "description": DESCRIPTIONS[t.name].replace("app:app", self.args.proxy_app),
                **t.info,
            }
        run = list(phases)
        if self.args.profile:
            run.append(("profile", profile))
        chosen = self.args.phases.split(",") if self.args.phases else None
        for name, phase in run:
            if chosen is not None and name not in chosen:
                continue
            if not self.available():
                break
            await phase(self)
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
