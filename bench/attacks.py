"""Hostile-client measurements: each attack against a freshly started proxy, with /health probed meanwhile.

    bench/.venv/bin/python -m bench.attacks [--root DIR] [--only body,headers,metrics] [--nofile 1024]

``--root`` runs the proxy from another checkout (e.g. a worktree of the previous commit) to compare.
The proxy calls the project's emulator (``python -m emulator``, a process of its own; settings
``ATTACK_PROXY_<NAME>`` reach the proxy as ``PROXY_<NAME>``) and starts with a soft open-file limit of ``--nofile``
(1024 is a common default). Figures: status and time of the attack's answer, the slowest /health probe
during it, and the proxy's RSS before, at peak and after (from /proc). Every socket is on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import resource
import selectors
import socket
import string
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import httpx

from bench.procs import free_port

REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL = "databricks-meta-llama-3-3-70b-instruct"
UPSTREAM_BEARER = "attack-emulator-bearer"


def rss_kb(pid: int) -> dict[str, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = int(value.split()[0])
    return fields


class Probe:
    """Polls /health every 20 ms in a thread; reports the slowest answer (or failure) seen."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.worst = 0.0
        self.failures = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            try:
                with httpx.Client(timeout=60) as client:  # a new connection each time, as a probe makes
                    ok = client.get(f"{self.url}/health").status_code == 200
            except httpx.HTTPError:
                ok = False
            self.worst = max(self.worst, time.perf_counter() - started)
            self.failures += 0 if ok else 1
            self._stop.wait(0.02)

    def __enter__(self) -> Probe:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def start_emulator(idle_timeout: int) -> tuple[subprocess.Popen[bytes], str]:
    """The project's emulator in a process of its own, served by uvicorn, which drops connections idle for
    ``idle_timeout`` seconds (uvicorn's default is 5)."""
    port = free_port()
    args = [sys.executable, "-m", "uvicorn", "emulator.app:create_emulator_app", "--factory", "--port", str(port)]
    args += ["--timeout-keep-alive", str(idle_timeout), "--log-level", "warning", "--no-access-log"]
    proc = subprocess.Popen(args, cwd=REPO_ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/emulator/stats", timeout=1)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the emulator did not start")


class Server:
    def __init__(
        self, root: Path, nofile: int, http: str | None, upstream: str | None = None, hard_too: bool = False
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "PROXY_"))}
        env.update({"PROXY_LOG_LEVEL": "WARNING", "PROXY_EMULATOR_CHUNK_DELAY": "0"})
        if upstream:
            env.update({"DATABRICKS_HOST": upstream, "DATABRICKS_TOKEN": UPSTREAM_BEARER})
        env.update({k[len("ATTACK_") :]: v for k, v in os.environ.items() if k.startswith("ATTACK_PROXY_")})
        args = [sys.executable, "-m", "uvicorn", "app:app", "--port", str(self.port), "--no-access-log"]
        args += ["--loop", "uvloop", "--http", http or "httptools"]

        def limit() -> None:
            hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
            soft = min(nofile, hard)
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, soft if hard_too else hard))

        self.log = Path(f"/tmp/attack-proxy-{self.port}.log")
        self.proc = subprocess.Popen(
            args, cwd=root, env=env, stdout=self.log.open("wb"), stderr=subprocess.STDOUT, preexec_fn=limit
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise RuntimeError(self.log.read_text())

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(20)


@contextmanager
def measured(server: Server, name: str, results: dict[str, Any]) -> Iterator[dict[str, Any]]:
    entry: dict[str, Any] = {"rss_before_mb": rss_kb(server.proc.pid)["VmRSS"] / 1024}
    started = time.perf_counter()
    with Probe(server.url) as probe:
        yield entry
    entry["seconds"] = round(time.perf_counter() - started, 3)
    entry["health_worst_ms"] = round(probe.worst * 1000, 1)
    entry["health_failures"] = probe.failures
    time.sleep(0.5)
    memory = rss_kb(server.proc.pid)
    entry["rss_peak_mb"] = round(memory["VmHWM"] / 1024, 1)
    entry["rss_after_mb"] = round(memory["VmRSS"] / 1024, 1)
    entry["rss_before_mb"] = round(entry["rss_before_mb"], 1)
    results[name] = entry
    print(name, json.dumps(entry), flush=True)


def post(url: str, body: bytes, content_type: str = "application/json") -> tuple[int, str]:
    response = httpx.post(url, content=body, headers={"Content-Type": content_type}, timeout=600)
    return response.status_code, response.text[:200]


def body_attacks(server: Server, results: dict[str, Any], items: int) -> None:
    url = f"{server.url}/v1/chat/completions"
    head = b'{"model":"%s",' % MODEL.encode()
    bodies: dict[str, bytes] = {
        f"body_{items}_ints": head + b'"messages":[' + b",".join([b"1"] * items) + b"]}",
        f"body_{items // 8}_empty_objects": head + b'"messages":[' + b",".join([b"{}"] * (items // 8)) + b"]}",
        f"body_{items // 16}_tools": head
        + b'"messages":[{"role":"user","content":"x"}],"tools":['
        + b",".join([b"{}"] * (items // 16))
        + b"]}",
        "body_300_deep": b'{"model":"%s","messages":[{"role":"user","content":"x"}],"response_format":' % MODEL.encode()
        + b'{"a":' * 300
        + b"1"
        + b"}" * 300
        + b"}",
    }
    for name, body in bodies.items():
        with measured(server, name, results) as entry:
            entry["status"], entry["answer"] = post(url, body)


def _open(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setblocking(False)
    return sock


def _closed_by_server(sock: socket.socket) -> bool:
    try:
        sock.recv(65536)  # b"" (closed), or the server's last answer before it closed
    except BlockingIOError:
        return False
    except OSError:
        pass
    return True


def header_attacks(server: Server, results: dict[str, Any], sockets: int, hold: float) -> None:
    with measured(server, f"{sockets}_idle_and_slow_sockets", results) as entry:
        opened: list[socket.socket] = []
        failed = 0
        for i in range(sockets):
            try:
                sock = _open(server.port)
            except OSError:
                failed += 1
                continue
            if i % 2:
                sock.send(b"GET /health HTTP/1.1\r\n")  # slowloris: then one byte a second
            opened.append(sock)
        entry["opened"], entry["open_failed"] = len(opened), failed
        deadline = time.monotonic() + hold
        while time.monotonic() < deadline:
            for sock in opened[1::2]:
                with suppress(OSError):
                    sock.send(b"X")
            time.sleep(1)
        entry["closed_by_server"] = sum(_closed_by_server(sock) for sock in opened)
        for sock in opened:
            sock.close()

    def unterminated(size: int) -> str:
        sock = socket.create_connection(("127.0.0.1", server.port))
        sent = 0
        chunk = b"a" * 65536
        try:
            sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ")
            while sent < size:
                sock.sendall(chunk)
                sent += len(chunk)
            sock.settimeout(5)
            answer = sock.recv(200).split(b"\r\n")[0].decode()
        except OSError as exc:
            answer = f"closed after {sent // 1024} KiB ({type(exc).__name__})"
        finally:
            sock.close()
        return answer or f"closed after {sent // 1024} KiB"

    with measured(server, "8x64MB_unterminated_header", results) as entry:
        answers: list[str] = []
        threads = [threading.Thread(target=lambda: answers.append(unterminated(64 << 20))) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        entry["answers"] = sorted(set(answers))

    def request(head: bytes) -> str:
        with socket.create_connection(("127.0.0.1", server.port)) as sock:
            try:
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n" + head + b"\r\n")
                sock.settimeout(10)
                return sock.recv(200).split(b"\r\n")[0].decode() or "closed"
            except OSError as exc:
                return f"closed ({type(exc).__name__})"

    for name, head in (
        ("10000_headers", b"".join(b"X-H%d: v\r\n" % i for i in range(10_000))),
        ("1MB_header", b"X-Forwarded-Email: " + b"a" * (1 << 20) + b"\r\n"),
    ):
        with measured(server, name, results) as entry:
            entry["answer"] = request(head)


def metrics_attack(server: Server, results: dict[str, Any], count: int) -> None:
    names = ["m-" + "".join(random.choices(string.ascii_lowercase, k=12)) for _ in range(count)]
    body = {"messages": [{"role": "user", "content": "x"}]}

    def send(chunk: list[str]) -> None:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            for name in chunk:
                client.post("/v1/chat/completions", json={**body, "model": name})

    with measured(server, f"metrics_{count}_random_models", results) as entry:
        threads = [threading.Thread(target=send, args=(names[i::8],)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        started = time.perf_counter()
        response = httpx.get(f"{server.url}/metrics", timeout=120)
        entry["metrics_seconds"] = round(time.perf_counter() - started, 3)
        entry["metrics_bytes"] = len(response.content)
        entry["metrics_lines"] = response.text.count("\n")


def stale_connections(server: Server, results: dict[str, Any], quiet: float, burst: int, waves: int) -> None:
    """Bursts of requests, each after ``quiet`` seconds of nothing (close to the emulator's idle timeout):
    how many requests fail on a pooled connection the upstream closed."""
    body = {"model": MODEL, "messages": [{"role": "user", "content": "x"}]}

    async def wave() -> list[int]:
        limits = httpx.Limits(max_connections=burst)
        async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as client:
            answers = await asyncio.gather(
                *(client.post("/v1/chat/completions", json=body) for _ in range(burst)), return_exceptions=True
            )
        return [answer.status_code if isinstance(answer, httpx.Response) else 0 for answer in answers]

    with measured(server, f"stale_{waves}x{burst}_after_{quiet}s_quiet", results) as entry:
        failed = [sum(status != 200 for status in asyncio.run(wave()))]
        for _ in range(waves - 1):
            time.sleep(quiet)
            failed.append(sum(status != 200 for status in asyncio.run(wave())))
        entry["failed_per_wave"] = failed


DOORS = {"chat": "/v1/chat/completions", "responses": "/v1/responses", "anthropic": "/anthropic/v1/messages"}
CLAUDE = "databricks-claude-sonnet-4-5"


def loop_attacks(server: Server, results: dict[str, Any], arrays: int) -> None:
    """16 MB of empty arrays on every door, then four at once: how long /health waits while they are handled."""
    body = b'{"model":"%s","max_tokens":16,"x":[' % MODEL.encode() + b",".join([b"[]"] * arrays) + b"]}"
    for door, path in DOORS.items():
        with measured(server, f"loop_{door}_{arrays}_empty_arrays", results) as entry:
            entry["status"], entry["answer"] = post(f"{server.url}{path}", body)
    with measured(server, f"loop_4x_{arrays}_empty_arrays", results) as entry:
        statuses: list[int] = []
        threads = [
            threading.Thread(target=lambda: statuses.append(post(f"{server.url}/v1/chat/completions", body)[0]))
            for _ in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        entry["statuses"] = sorted(statuses)


def encrypted_attack(server: Server, results: dict[str, Any], blocks: int) -> None:
    """One Responses reasoning item whose encrypted_content holds ``blocks`` redacted thinking blocks."""
    payload = [{"type": "redacted_thinking", "data": "e"}] * blocks
    encoded = "dbxr1." + base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode()
    body = {
        "model": CLAUDE,
        "input": [
            {"role": "user", "content": "Hi"},
            {"type": "reasoning", "summary": [], "encrypted_content": encoded},
            {"role": "assistant", "content": "Hello"},
            {"role": "user", "content": "Again"},
        ],
    }
    raw = json.dumps(body).encode()
    with measured(server, f"encrypted_content_{blocks}_blocks", results) as entry:
        entry["body_mb"] = round(len(raw) / 1e6, 1)
        entry["status"], entry["answer"] = post(f"{server.url}/v1/responses", raw)


def strict_emulator() -> tuple[subprocess.Popen[bytes], str]:
    """An emulator that accepts one token only, which is not the proxy's."""
    port = free_port()
    args = [sys.executable, "-m", "emulator", "--port", str(port), "--token", "the-only-accepted-token"]
    proc = subprocess.Popen(args, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/emulator/stats", timeout=1)
            return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the emulator did not start")


def ready_attack(server: Server, results: dict[str, Any]) -> None:
    """``/ready`` before and after a request made with a credential Databricks refuses (``server`` calls an
    emulator that refuses the proxy's token)."""
    with measured(server, "ready_with_a_refused_credential", results) as entry:
        entry["ready_before"] = httpx.get(f"{server.url}/ready", timeout=30).status_code
        request = {"model": MODEL, "messages": [{"role": "user", "content": "x"}]}
        entry["request_status"] = httpx.post(f"{server.url}/v1/chat/completions", json=request, timeout=30).status_code
        entry["ready_after"] = httpx.get(f"{server.url}/ready", timeout=30).status_code


def one_read_heads(server: Server, results: dict[str, Any], sockets: int) -> None:
    """``sockets`` connections each sending a 120 KB head in one write, held open; then all closed."""
    head = b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (120 << 10) + b"\r\n\r\n"
    with measured(server, f"{sockets}x120KB_heads_in_one_read", results) as entry:
        opened: list[socket.socket] = []
        for _ in range(sockets):
            with suppress(OSError):
                sock = socket.create_connection(("127.0.0.1", server.port))
                sock.sendall(head)
                opened.append(sock)
        answers: dict[str, int] = {}
        for sock in opened:
            sock.settimeout(5)
            try:
                line = sock.recv(200).split(b"\r\n")[0].decode() or "closed"
            except OSError as exc:
                line = type(exc).__name__
            answers[line] = answers.get(line, 0) + 1
        entry["answers"] = answers
        entry["rss_held_mb"] = round(rss_kb(server.proc.pid)["VmRSS"] / 1024, 1)
        for sock in opened:
            sock.close()


def reconnecting_slowloris(server: Server, results: dict[str, Any], sockets: int, hold: float) -> None:
    """``sockets`` slow connections that reconnect as soon as the server closes one, for ``hold`` seconds."""
    selector = selectors.DefaultSelector()
    reconnects = 0

    def connect() -> None:
        with suppress(OSError):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=2)
            sock.sendall(b"GET /health HTTP/1.1\r\n")
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ)

    with measured(server, f"{sockets}_reconnecting_slowloris_{hold:g}s", results) as entry:
        for _ in range(sockets):
            connect()
        deadline = time.monotonic() + hold
        while time.monotonic() < deadline:
            for key, _ in selector.select(0.05):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                selector.unregister(sock)
                sock.close()
                reconnects += 1
                connect()
            while len(selector.get_map()) < sockets and time.monotonic() < deadline:
                connect()
        entry["reconnects"] = reconnects
        for key in list(selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]


ATTACKS: dict[str, Callable[[Server, dict[str, Any], argparse.Namespace], None]] = {
    "body": lambda server, results, args: body_attacks(server, results, args.items),
    "headers": lambda server, results, args: header_attacks(server, results, args.sockets, args.hold),
    "metrics": lambda server, results, args: metrics_attack(server, results, args.models),
    "stale": lambda server, results, args: stale_connections(server, results, args.quiet, args.burst, args.waves),
    "loop": lambda server, results, args: loop_attacks(server, results, args.arrays),
    "encrypted": lambda server, results, args: encrypted_attack(server, results, args.blocks),
    "heads": lambda server, results, args: one_read_heads(server, results, args.heads),
    "ready": lambda server, results, args: ready_attack(server, results),
    "reconnect": lambda server, results, args: reconnecting_slowloris(server, results, args.reconnecting, args.hold),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=REPO_ROOT)
    parser.add_argument("--only", default=",".join(ATTACKS))
    parser.add_argument("--nofile", type=int, default=1024)
    parser.add_argument("--sockets", type=int, default=2000)
    parser.add_argument("--hold", type=float, default=15.0, help="seconds the slow sockets are held open")
    parser.add_argument("--items", type=int, default=8_000_000, help="items of the hostile body array")
    parser.add_argument("--models", type=int, default=20_000)
    parser.add_argument("--upstream-idle", type=int, default=5, help="the emulator drops connections idle this long")
    parser.add_argument("--quiet", type=float, default=4.9, help="stale: seconds between bursts")
    parser.add_argument("--burst", type=int, default=100, help="stale: requests per burst")
    parser.add_argument("--waves", type=int, default=2, help="stale: bursts, each after the quiet")
    parser.add_argument("--http", default=None, help="uvicorn --http (default: httptools)")
    parser.add_argument("--arrays", type=int, default=5_500_000, help="loop: empty arrays in a 16 MB body")
    parser.add_argument("--blocks", type=int, default=300_000, help="encrypted: redacted thinking blocks")
    parser.add_argument("--heads", type=int, default=2000, help="heads: connections sending 120 KB heads")
    parser.add_argument("--reconnecting", type=int, default=1100, help="reconnect: slow connections held")
    parser.add_argument("--nofile-hard", action="store_true", help="set the hard open-file limit to --nofile too")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    results: dict[str, Any] = {"root": str(args.root), "http": args.http or "httptools", "nofile": args.nofile}
    emulator, upstream = start_emulator(args.upstream_idle)
    try:
        for name in args.only.split(","):
            strict = strict_emulator() if name == "ready" else None
            server = Server(args.root, args.nofile, args.http, strict[1] if strict else upstream, args.nofile_hard)
            try:
                ATTACKS[name](server, results, args)
            finally:
                server.stop()
                if strict:
                    strict[0].terminate()
                    strict[0].wait(20)
    finally:
        emulator.terminate()
        emulator.wait(20)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
