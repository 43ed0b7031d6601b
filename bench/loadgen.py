"""Python load generators: sequential latency, SSE streams, and many slow streams held open."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.client import Connection, SSECounter
from bench.procs import tree_rss_mb
from bench.stats import percentile

HOST = "127.0.0.1"


@dataclass
class SequentialResult:
    latencies_s: list[float]
    errors: int
    first_error: str | None

    @property
    def count(self) -> int:
        return len(self.latencies_s)

    def pct_ms(self, q: float) -> float:
        return percentile(sorted(self.latencies_s), q) * 1000.0


async def sequential(
    port: int, raw: bytes, duration_s: float, warmup: int = 50, max_requests: int = 200_000
) -> SequentialResult:
    """One persistent connection, one request at a time, for ``duration_s`` after a warm-up."""
    conn = Connection(HOST, port)
    lat: list[float] = []
    errors = 0
    first_error: str | None = None
    try:
        for _ in range(warmup):
            await conn.request(raw, timeout_s=30)
        deadline = time.perf_counter() + duration_s
        while time.perf_counter() < deadline and len(lat) < max_requests:
            try:
                resp = await conn.request(raw, timeout_s=30)
            except (OSError, TimeoutError) as exc:
                errors += 1
                first_error = first_error or repr(exc)
                continue
            if resp.status != 200:
                errors += 1
                first_error = first_error or f"HTTP {resp.status}: {resp.body[:200]!r}"
                continue
            lat.append(resp.elapsed)
    finally:
        conn.close()
    return SequentialResult(lat, errors, first_error)


@dataclass
class StreamSample:
    status: int
    ttfb_s: float
    total_s: float
    events: int
    done: bool


@dataclass
class StreamRunResult:
    samples: list[StreamSample] = field(default_factory=list)
    exceptions: int = 0
    first_error: str | None = None
    wall_s: float = 0.0

    @property
    def ok(self) -> list[StreamSample]:
        return [s for s in self.samples if s.status == 200 and s.done]

    @property
    def errors(self) -> int:
        return self.exceptions + sum(1 for s in self.samples if s.status != 200 or not s.done)

    @property
    def content_events(self) -> int:
        return sum(s.events for s in self.ok)


async def stream_loop(port: int, raw: bytes, concurrency: int, duration_s: float) -> StreamRunResult:
    """``concurrency`` connections each running streams back to back for ``duration_s``."""
    result = StreamRunResult()
    deadline = time.perf_counter() + duration_s

    async def worker() -> None:
        conn = Connection(HOST, port)
        try:
            while time.perf_counter() < deadline:
                counter = SSECounter()
                try:
                    resp = await conn.request(raw, sink=counter, timeout_s=60)
                except (OSError, TimeoutError) as exc:
                    result.exceptions += 1
                    result.first_error = result.first_error or repr(exc)
                    await asyncio.sleep(0.01)
                    continue
                if resp.status != 200 or not counter.done:
                    result.first_error = result.first_error or (
                        f"HTTP {resp.status}, done={counter.done}, events={counter.events}"
                    )
                ttfb = (counter.first_event_at or resp.t_end) - resp.t_start
                result.samples.append(
                    StreamSample(resp.status, ttfb, resp.elapsed, counter.content_events, counter.done)
                )
        finally:
            conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.wall_s = time.perf_counter() - t0
    return result


@dataclass
class HeldStreamsResult:
    n: int
    opened: int = 0
    completed: int = 0
    errors: int = 0
    first_error: str | None = None
    max_open: int = 0
    time_to_all_open_s: float | None = None
    rss_all_open_mb: float | None = None
    rss_peak_mb: float = 0.0
    rss_at_max_open_mb: float | None = None  # from the 100 ms sampler: RSS when the most streams were open
    open_at_rss_sample: int = 0
    durations_s: list[float] = field(default_factory=list)
    events: list[int] = field(default_factory=list)  # SSE events received per stream, incomplete ones too
    wall_s: float = 0.0


async def held_streams(
    port: int,
    raw: bytes,
    n: int,
    rss_pid: int | None,
    timeout_s: float,
    progress: Callable[[str], None] | None = None,
) -> HeldStreamsResult:
    """Open ``n`` slow streams at once; sample the target's RSS once all are open (and every 100 ms)."""
    res = HeldStreamsResult(n)
    open_now = 0
    t0 = time.perf_counter()

    def sample_rss() -> float:
        return tree_rss_mb(rss_pid) if rss_pid is not None else 0.0

    def on_open() -> None:
        nonlocal open_now
        open_now += 1
        res.opened += 1
        res.max_open = max(res.max_open, open_now)
        if res.opened == n and open_now == n:
            res.time_to_all_open_s = time.perf_counter() - t0
            res.rss_all_open_mb = sample_rss()

    async def one() -> None:
        nonlocal open_now
        conn = Connection(HOST, port)
        counter = SSECounter()
        opened = False

        def sink(piece: bytes) -> bool:
            nonlocal opened
            stop = counter(piece)
            if not opened and counter.events:
                opened = True
                on_open()
            return stop

        try:
            resp = await conn.request(raw, sink=sink, timeout_s=timeout_s)
            if resp.status == 200 and counter.done:
                res.completed += 1
                res.durations_s.append(resp.elapsed)
            else:
                res.errors += 1
                res.first_error = res.first_error or f"HTTP {resp.status}, done={counter.done}"
        except (OSError, TimeoutError) as exc:
            res.errors += 1
            res.first_error = res.first_error or repr(exc)
        finally:
            res.events.append(counter.content_events)
            if opened:
                open_now -= 1
            conn.close()

    async def sampler() -> None:
        while True:
            rss = sample_rss()
            res.rss_peak_mb = max(res.rss_peak_mb, rss)
            if open_now >= res.open_at_rss_sample and open_now:
                res.open_at_rss_sample = open_now
                res.rss_at_max_open_mb = rss
            await asyncio.sleep(0.1)

    sampler_task = asyncio.create_task(sampler())
    try:
        tasks = [asyncio.create_task(one()) for _ in range(n)]
        await asyncio.gather(*tasks)
    finally:
        sampler_task.cancel()
        res.wall_s = time.perf_counter() - t0
    if progress is not None and res.time_to_all_open_s is None:
        progress(f"only {res.max_open}/{n} streams were open at the same time")
    return res
