"""Soak test of our proxy (``./bench/run --soak`` or ``python -m bench.soak``).

Starts the static upstream (bench/upstream.py) and the proxy (production uvicorn flags), then sends
``--requests`` requests (default 20000) at bounded concurrency as a seeded mix of chat, embeddings,
completions, model listing, streams, streams the client drops after a few chunks, and upstream
faults (``fault-status-<code>`` endpoints, which must come back through the proxy with that status).
Every request has a timeout; one that runs out counts as hung.

Reports the proxy's RSS after a warm-up and at the end, the requests with an unexpected status or
body, the hung ones, the upstream's view (streams still open, streams aborted by the proxy after a
client disconnect), and exits non-zero on failures. Writes bench/results/soak-<UTC>.json.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import uvloop

from bench.client import Connection, SSECounter, build_request, wait_http_ok
from bench.procs import ProcessManager, install_termination_handlers, loadavg, raise_nofile_limit, tree_rss_mb
from bench.stats import fmt, percentile, render_table
from bench.targets import CHAT_MODEL, HOST, REPO_ROOT, Launcher, chat_body, embed_body, make_token

WORK_DIR = Path(__file__).resolve().parent / ".work"
RESULTS_DIR = Path(__file__).resolve().parent / "results"
FAULT_CODES = (400, 429, 500, 503)
STREAM_CHUNKS = 20
DISCONNECT_AFTER_EVENTS = 3
DISCONNECT_MODEL = "bench-chat-delay-20"  # 20 ms between chunks (upstream reads the delay from the name)
DISCONNECT_CHUNKS = 200  # 4 s if nobody cancels it


@dataclass(frozen=True)
class Kind:
    name: str
    weight: int
    method: str
    path: str
    body: bytes
    expect_status: int
    stream: bool = False
    stop_after: int | None = None
    check: Callable[[bytes], str | None] | None = None


def _check_chat(body: bytes) -> str | None:
    d = orjson.loads(body)
    return None if d["choices"][0]["message"]["content"] else "chat answer without content"


def _check_completion(body: bytes) -> str | None:
    d = orjson.loads(body)
    return None if d["choices"][0]["text"] else "completion without text"


def _check_embedding(body: bytes) -> str | None:
    d = orjson.loads(body)
    n = len(d["data"][0]["embedding"])
    return None if n == 1024 else f"embedding of {n} dimensions"


def _check_models(body: bytes) -> str | None:
    d = orjson.loads(body)
    return None if isinstance(d.get("data"), list) else "model list without data"


def _check_error(body: bytes) -> str | None:
    d = orjson.loads(body)
    return None if isinstance(d.get("error"), dict) else "error body is not {'error': {...}}"


def kinds() -> list[Kind]:
    def j(obj: dict[str, Any]) -> bytes:
        return orjson.dumps(obj)

    out = [
        Kind("chat", 30, "POST", "/v1/chat/completions", j(chat_body(CHAT_MODEL, 32)), 200, check=_check_chat),
        Kind("embeddings", 15, "POST", "/v1/embeddings", j(embed_body()), 200, check=_check_embedding),
        Kind(
            "completion",
            5,
            "POST",
            "/v1/completions",
            j({"model": CHAT_MODEL, "prompt": "Say hello.", "max_tokens": 16}),
            200,
            check=_check_completion,
        ),
        Kind("models", 3, "GET", "/v1/models", b"", 200, check=_check_models),
        Kind(
            "stream",
            20,
            "POST",
            "/v1/chat/completions",
            j(chat_body(CHAT_MODEL, STREAM_CHUNKS, stream=True)),
            200,
            stream=True,
        ),
        Kind(
            "stream_disconnect",
            10,
            "POST",
            "/v1/chat/completions",
            j(chat_body(DISCONNECT_MODEL, DISCONNECT_CHUNKS, stream=True)),
            200,
            stream=True,
            stop_after=DISCONNECT_AFTER_EVENTS,
        ),
        Kind(
            "stream_fault_429",
            3,
            "POST",
            "/v1/chat/completions",
            j(chat_body("fault-status-429", 8, stream=True)),
            429,
            check=_check_error,
        ),
    ]
    for code in FAULT_CODES:
        out.append(
            Kind(
                f"fault_{code}",
                4 if code in (429, 500) else 3,
                "POST",
                "/v1/chat/completions",
                j(chat_body(f"fault-status-{code}", 8)),
                code,
                check=_check_error,
            )
        )
    return out


@dataclass
class KindStats:
    sent: int = 0
    ok: int = 0
    unexpected: int = 0
    hung: int = 0
    conn_errors: int = 0
    latencies: list[float] = field(default_factory=list)
    examples: list[str] = field(default_factory=list)

    def note(self, msg: str) -> None:
        if len(self.examples) < 3:
            self.examples.append(msg[:300])


class Soak:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.t0 = time.perf_counter()
        self.pm = ProcessManager(WORK_DIR / "logs-soak")
        self.token = make_token()
        self.launcher = Launcher(
            self.pm, self.token, Path(args.proxy_dir).resolve(), args.proxy_app, 0.0, slow_chunk_delay_ms=50.0
        )
        self.kinds = kinds()
        self.stats = {k.name: KindStats() for k in self.kinds}
        self.result: dict[str, Any] = {"meta": {}, "kinds": {}}
        self.failures: list[str] = []

    def log(self, msg: str) -> None:
        print(f"[{time.perf_counter() - self.t0:6.1f}s] {msg}", file=sys.stderr, flush=True)

    async def upstream_stats(self) -> dict[str, Any]:
        conn = Connection(HOST, self.launcher.upstream_port)
        try:
            resp = await conn.request(
                build_request("GET", HOST, self.launcher.upstream_port, "/_bench/stats"), timeout_s=5
            )
            data: dict[str, Any] = orjson.loads(resp.body)
            return data
        finally:
            conn.close()

    async def one(self, conn: Connection, kind: Kind, raw: bytes) -> None:
        st = self.stats[kind.name]
        st.sent += 1
        counter = SSECounter(stop_after=kind.stop_after) if kind.stream else None
        try:
            resp = await conn.request(raw, sink=counter, timeout_s=self.args.timeout)
        except TimeoutError:
            st.hung += 1
            st.note(f"no complete answer within {self.args.timeout:g}s")
            return
        except OSError as exc:
            st.conn_errors += 1
            st.note(f"connection error: {exc!r}")
            return
        problem: str | None = None
        if resp.status != kind.expect_status:
            problem = f"HTTP {resp.status} (expected {kind.expect_status}): {resp.body[:200]!r}"
        elif counter is not None:
            if kind.stop_after is not None:
                if not resp.stopped or counter.events < kind.stop_after:
                    problem = f"stream ended before the client dropped it (events={counter.events})"
            elif not counter.done or counter.content_events < STREAM_CHUNKS:
                problem = f"stream incomplete: events={counter.content_events}, [DONE]={counter.done}"
        elif kind.check is not None:
            try:
                problem = kind.check(resp.body)
            except (ValueError, KeyError, IndexError, TypeError) as exc:
                problem = f"bad body ({exc!r}): {resp.body[:200]!r}"
        if problem is None:
            st.ok += 1
            st.latencies.append(resp.elapsed)
        else:
            st.unexpected += 1
            st.note(problem)

    async def run_batch(self, port: int, plan: Sequence[Kind], concurrency: int) -> None:
        raws = {
            k.name: build_request(k.method, HOST, port, k.path, k.body, {"Authorization": f"Bearer {self.token}"})
            for k in self.kinds
        }
        idx = 0

        async def worker() -> None:
            nonlocal idx
            conn = Connection(HOST, port)
            try:
                while idx < len(plan):
                    kind = plan[idx]
                    idx += 1
                    await self.one(conn, kind, raws[kind.name])
            finally:
                conn.close()

        await asyncio.gather(*(worker() for _ in range(concurrency)))

    async def run(self) -> int:
        a = self.args
        self.result["meta"] = {
            "started_utc": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "args": vars(a),
            "nofile_limit": raise_nofile_limit(),
            "loadavg_start": loadavg(),
        }
        up, up_port = self.launcher.start("upstream", tag="-soak")
        await wait_http_ok(HOST, up_port, "/health", 30, alive=up.alive)
        self.launcher.upstream_port = up_port
        proxy, port = self.launcher.start("ours", tag="-soak")
        try:
            await wait_http_ok(HOST, port, "/health", 60, alive=proxy.alive)
        except (TimeoutError, RuntimeError) as exc:
            raise RuntimeError(f"the proxy did not start: {exc}\n{proxy.log_tail()}") from exc
        self.log(f"upstream :{up_port}, proxy :{port} (pid {proxy.pid})")

        rng = random.Random(a.seed)
        plan = rng.choices(self.kinds, weights=[k.weight for k in self.kinds], k=a.requests)
        warm = min(a.warmup, len(plan))
        self.log(f"warm-up: {warm} requests at concurrency {a.concurrency}")
        t_start = time.perf_counter()
        await self.run_batch(port, plan[:warm], a.concurrency)
        await asyncio.sleep(1.0)
        rss_before = tree_rss_mb(proxy.pid)
        self.log(f"proxy RSS after warm-up: {rss_before:.1f} MB; {len(plan) - warm} more requests")
        samples: list[tuple[int, float]] = [(warm, round(rss_before, 1))]
        chunk = max(1000, (len(plan) - warm) // 10)
        sent = warm
        while sent < len(plan):
            part = plan[sent : sent + chunk]
            await self.run_batch(port, part, a.concurrency)
            sent += len(part)
            samples.append((sent, round(tree_rss_mb(proxy.pid), 1)))
            self.log(f"  {sent}/{len(plan)} requests, proxy RSS {samples[-1][1]:.1f} MB")
            if not proxy.alive():
                break
        elapsed = time.perf_counter() - t_start
        await asyncio.sleep(a.settle)
        rss_after = tree_rss_mb(proxy.pid) if proxy.alive() else None
        ustats = await self.upstream_stats()
        healthy = False
        if proxy.alive():
            try:
                await wait_http_ok(HOST, port, "/health", 5, alive=proxy.alive)
                healthy = True
            except (TimeoutError, RuntimeError):
                healthy = False

        # ------------------------------------------------------------ report
        rows = []
        totals = KindStats()
        for k in self.kinds:
            st = self.stats[k.name]
            lat = sorted(st.latencies)
            totals.sent += st.sent
            totals.ok += st.ok
            totals.unexpected += st.unexpected
            totals.hung += st.hung
            totals.conn_errors += st.conn_errors
            self.result["kinds"][k.name] = {
                "expected_status": k.expect_status,
                "sent": st.sent,
                "ok": st.ok,
                "unexpected": st.unexpected,
                "hung": st.hung,
                "connection_errors": st.conn_errors,
                "p50_ms": round(percentile(lat, 50) * 1000, 3) if lat else None,
                "p99_ms": round(percentile(lat, 99) * 1000, 3) if lat else None,
                "examples": st.examples,
            }
            rows.append(
                [
                    k.name,
                    str(k.expect_status),
                    str(st.sent),
                    str(st.ok),
                    str(st.unexpected),
                    str(st.hung),
                    str(st.conn_errors),
                    fmt(percentile(lat, 50) * 1000 if lat else None, 2),
                    fmt(percentile(lat, 99) * 1000 if lat else None, 2),
                ]
            )
        rows.append(
            [
                "TOTAL",
                "",
                str(totals.sent),
                str(totals.ok),
                str(totals.unexpected),
                str(totals.hung),
                str(totals.conn_errors),
                "",
                "",
            ]
        )
        disconnects = self.stats["stream_disconnect"].ok
        growth = (rss_after - rss_before) if rss_after is not None else None
        self.result.update(
            {
                "requests": totals.sent,
                "ok": totals.ok,
                "unexpected": totals.unexpected,
                "hung": totals.hung,
                "connection_errors": totals.conn_errors,
                "elapsed_s": round(elapsed, 1),
                "requests_per_s": round(totals.sent / elapsed, 1) if elapsed else None,
                "rss_after_warmup_mb": round(rss_before, 1),
                "rss_end_mb": round(rss_after, 1) if rss_after is not None else None,
                "rss_growth_mb": round(growth, 1) if growth is not None else None,
                "rss_samples": samples,
                "proxy_alive": proxy.alive(),
                "proxy_healthy_at_end": healthy,
                "client_disconnects": disconnects,
                "upstream": ustats,
            }
        )
        print(
            render_table(
                f"Soak: {totals.sent} requests at concurrency {a.concurrency}, timeout {a.timeout:g}s per request"
                f" ({elapsed:.0f}s, {totals.sent / elapsed:.0f} req/s)",
                ["kind", "expect", "sent", "ok", "unexpected", "hung", "conn err", "p50 ms", "p99 ms"],
                rows,
            )
        )
        print(
            f"\nproxy RSS: {rss_before:.1f} MB after {warm} warm-up requests -> {fmt(rss_after, 1)} MB at the end"
            f" (growth {fmt(growth, 1)} MB); samples (requests, MB): {samples}"
        )
        print(
            f"upstream: streams still open {ustats.get('streams_active')}, aborted mid-stream"
            f" {ustats.get('streams_aborted')} (client disconnects: {disconnects}), completed"
            f" {ustats.get('streams_completed')}, connections open {ustats.get('connections_open')}"
        )
        if totals.unexpected:
            self.failures.append(f"{totals.unexpected} requests with an unexpected status or body")
        if totals.hung:
            self.failures.append(f"{totals.hung} requests hung (> {a.timeout:g}s)")
        if totals.conn_errors:
            self.failures.append(f"{totals.conn_errors} requests failed with a connection error")
        if not proxy.alive():
            self.failures.append("the proxy died")
        elif not healthy:
            self.failures.append("the proxy's /health did not answer 200 at the end")
        if ustats.get("streams_active"):
            self.failures.append(
                f"{ustats.get('streams_active')} upstream streams still open {a.settle:g}s after the load ended"
            )
        if growth is not None and a.max_rss_growth_mb is not None and growth > a.max_rss_growth_mb:
            self.failures.append(f"RSS grew {growth:.1f} MB (> {a.max_rss_growth_mb:g} MB)")
        if disconnects and (ustats.get("streams_aborted") or 0) < disconnects * 0.9:
            # Not a failure of correctness, but the upstream keeps generating for nobody.
            print(
                f"NOTE: only {ustats.get('streams_aborted')} upstream streams were aborted for {disconnects}"
                " client disconnects: the proxy may not cancel the upstream request when the client goes away."
            )
        self.result["failures"] = self.failures
        self.result["passed"] = not self.failures
        print("\nSOAK " + ("PASSED" if not self.failures else "FAILED: " + "; ".join(self.failures)))
        return 0 if not self.failures else 1


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="./bench/run --soak", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--requests", type=int, default=20000, help="total requests, warm-up included")
    p.add_argument("--warmup", type=int, default=1000, help="requests before the first RSS reading")
    p.add_argument("--concurrency", type=int, default=32)
    p.add_argument("--timeout", type=float, default=30.0, help="per-request timeout (s); longer = hung")
    p.add_argument("--settle", type=float, default=3.0, help="seconds of quiet before the final readings")
    p.add_argument("--max-rss-growth-mb", type=float, default=100.0, help="fail above this RSS growth")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--proxy-dir", default=str(REPO_ROOT))
    p.add_argument("--proxy-app", default="app:app")
    p.add_argument("--results-dir", default=str(RESULTS_DIR))
    p.add_argument("--no-save", action="store_true")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    install_termination_handlers()
    soak = Soak(args)
    code = 1
    try:
        code = uvloop.run(soak.run())
    except KeyboardInterrupt:
        soak.log("interrupted")
        code = 130
    finally:
        soak.pm.stop_all()
        soak.result["meta"]["duration_s"] = round(time.perf_counter() - soak.t0, 1)
        soak.result["meta"]["loadavg_end"] = loadavg()
        if not args.no_save and "requests" in soak.result:
            out_dir = Path(args.results_dir)
            out_dir.mkdir(parents=True, exist_ok=True)
            ts = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
            path = out_dir / f"soak-{ts}.json"
            path.write_bytes(orjson.dumps(soak.result, option=orjson.OPT_INDENT_2) + b"\n")
            soak.log(f"results written to {path}")
    return code


if __name__ == "__main__":
    sys.exit(main())
