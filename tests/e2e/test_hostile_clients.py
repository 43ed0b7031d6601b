"""Hostile clients against the real server: slow and oversized request heads, a hostile body.

Sizes are scaled down from bench/attacks.py (which measures the full-size attacks) to stay fast.
"""

from __future__ import annotations

import contextlib
import resource
import selectors
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import LLAMA
from tests.e2e.harness import E2E_TOKEN, Emulator, Proxy

HEAD = b"GET /health HTTP/1.1\r\nHost: proxy\r\n"


@pytest.fixture(scope="module")
def guarded(emulator: Emulator) -> Iterator[Proxy]:
    server = Proxy({"DATABRICKS_HOST": emulator.url, "DATABRICKS_TOKEN": E2E_TOKEN, "PROXY_HEADER_TIMEOUT": "1"})
    yield server
    server.stop()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def first_line(sock: socket.socket) -> bytes:
    sock.settimeout(5)
    try:
        return sock.recv(4096).split(b"\r\n")[0]
    except ConnectionResetError:
        return b"reset"


def health_ms(proxy: Proxy) -> float:
    started = time.perf_counter()
    with httpx.Client(timeout=5) as client:
        assert client.get(f"{proxy.url}/health").status_code == 200
    return (time.perf_counter() - started) * 1000


def test_idle_and_slow_connections_are_closed_while_health_answers(guarded: Proxy) -> None:
    idle = [socket.create_connection(("127.0.0.1", guarded.port)) for _ in range(150)]
    slow = [socket.create_connection(("127.0.0.1", guarded.port)) for _ in range(150)]
    for sock in slow:
        sock.sendall(b"GET /health HTTP/1.1\r\n")
    try:
        assert max(health_ms(guarded) for _ in range(5)) < 1000
        time.sleep(0.6)
        for sock in slow:
            sock.sendall(b"X")  # still trickling
        time.sleep(0.9)  # past the 1 s header timeout
        assert {first_line(sock) for sock in slow} == {b"HTTP/1.1 408 Request Timeout"}
        assert {first_line(sock) for sock in idle} == {b""}  # closed without a word
        assert health_ms(guarded) < 1000
    finally:
        for sock in idle + slow:
            sock.close()


def test_oversized_heads_are_refused_with_431(guarded: Proxy) -> None:
    with socket.create_connection(("127.0.0.1", guarded.port)) as sock:
        sock.sendall(HEAD + b"X-Forwarded-Email: " + b"a" * (1 << 20) + b"\r\n\r\n")
        assert first_line(sock) == b"HTTP/1.1 431 Request Header Fields Too Large"
    with socket.create_connection(("127.0.0.1", guarded.port)) as sock:
        sock.sendall(HEAD + b"".join(b"X-H%d: v\r\n" % i for i in range(10_000)) + b"\r\n")
        assert first_line(sock) == b"HTTP/1.1 431 Request Header Fields Too Large"
    assert health_ms(guarded) < 1000


@pytest.mark.parametrize("reads", [1, 30])
def test_a_120_kb_head_is_refused_whether_it_comes_in_one_read_or_many(guarded: Proxy, reads: int) -> None:
    head = HEAD + b"X-Forwarded-Email: " + b"a" * (120 << 10) + b"\r\n\r\n"
    step = -(-len(head) // reads)
    with socket.create_connection(("127.0.0.1", guarded.port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            for start in range(0, len(head), step):
                sock.sendall(head[start : start + step])
                if reads > 1:
                    time.sleep(0.01)
        except OSError:  # refused (and closed) once past the limit, before the rest was sent
            pass
        assert first_line(sock) == b"HTTP/1.1 431 Request Header Fields Too Large"
    with socket.create_connection(("127.0.0.1", guarded.port)) as sock:  # many small fields, one read
        sock.sendall(HEAD + b"".join(b"X-H%d: v\r\n" % i for i in range(200)) + b"\r\n")
        assert first_line(sock) == b"HTTP/1.1 431 Request Header Fields Too Large"
    with socket.create_connection(("127.0.0.1", guarded.port)) as sock:  # a head within the limits is answered
        sock.sendall(HEAD + b"X-Ok: " + b"a" * 4096 + b"\r\nConnection: close\r\n\r\n")
        assert first_line(sock) == b"HTTP/1.1 200 OK"


def test_an_unterminated_header_is_cut_short_without_growing_memory(guarded: Proxy) -> None:
    before = rss_mb(guarded.proc.pid)
    sent: list[int] = []

    def flood() -> None:
        with socket.create_connection(("127.0.0.1", guarded.port)) as sock:
            total = 0
            try:
                sock.sendall(HEAD + b"X-Big: ")
                while total < 16 << 20:
                    sock.sendall(b"a" * 65536)
                    total += 65536
            except OSError:
                pass
            sent.append(total)

    threads = [threading.Thread(target=flood) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert len(sent) == 4 and max(sent) < 8 << 20, f"the server read {max(sent)} bytes of one header"
    assert rss_mb(guarded.proc.pid) - before < 16
    assert health_ms(guarded) < 1000


def test_a_hostile_array_is_answered_at_once_while_health_answers(proxy: Proxy) -> None:
    body = b'{"model":"%s","messages":[' % LLAMA.encode() + b",".join([b"1"] * 8_000_000) + b"]}"
    before = rss_mb(proxy.proc.pid)
    worst: list[float] = []
    done = threading.Event()

    def probe() -> None:
        while not done.is_set():
            worst.append(health_ms(proxy))
            time.sleep(0.01)

    prober = threading.Thread(target=probe)
    prober.start()
    started = time.perf_counter()
    try:
        response = httpx.post(
            f"{proxy.url}/v1/chat/completions",
            content=body,
            headers={"Content-Type": "application/json"},
            timeout=120,
        )
    finally:
        elapsed = time.perf_counter() - started
        done.set()
        prober.join()
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "request_too_complex"  # priced from its bytes, never parsed
    # Measured on an idle 2-core machine: about 0.1 s, most of it reading the body (bench/attacks.py); the
    # bounds leave room for a busy machine. Before the bounded check: 89 s, and /health waited as long.
    assert elapsed < 2.0
    assert max(worst) < 2000
    assert rss_mb(proxy.proc.pid) - before < 48


def test_health_answers_under_reconnecting_slowloris_past_the_descriptor_limit(emulator: Emulator) -> None:
    server = Proxy({"DATABRICKS_HOST": emulator.url, "DATABRICKS_TOKEN": E2E_TOKEN})
    resource.prlimit(server.proc.pid, resource.RLIMIT_NOFILE, (256, 256))
    stop = threading.Event()
    reconnects: list[int] = [0]

    def attack() -> None:
        selector = selectors.DefaultSelector()

        def connect() -> None:
            try:
                sock = socket.create_connection(("127.0.0.1", server.port), timeout=2)
                sock.sendall(b"GET /health HTTP/1.1\r\n")
                sock.setblocking(False)
                selector.register(sock, selectors.EVENT_READ)
            except OSError:
                pass

        for _ in range(400):
            connect()
        while not stop.is_set():
            for key, _ in selector.select(0.05):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                selector.unregister(sock)
                sock.close()
                reconnects[0] += 1
                connect()
        for key in list(selector.get_map().values()):
            key.fileobj.close()  # type: ignore[union-attr]

    attacker = threading.Thread(target=attack)
    attacker.start()
    try:
        time.sleep(1.0)
        answered = 0
        for _ in range(20):
            with contextlib.suppress(httpx.HTTPError):
                answered += health_ms(server) < 2000
            time.sleep(0.05)
        assert reconnects[0] > 100, "the attack never got its connections closed"
        assert answered == 20
    finally:
        stop.set()
        attacker.join(10)
        server.stop()


@pytest.mark.parametrize("door", ["/v1/chat/completions", "/v1/responses", "/anthropic/v1/messages"])
def test_16_mb_of_empty_arrays_never_holds_the_loop(proxy: Proxy, door: str) -> None:
    body = b'{"model":"%s","x":[' % LLAMA.encode() + b",".join([b"[]"] * 5_500_000) + b"]}"
    before = rss_mb(proxy.proc.pid)
    lags: list[float] = []
    done = threading.Event()

    def probe() -> None:
        while not done.is_set():
            lags.append(health_ms(proxy))
            time.sleep(0.005)

    prober = threading.Thread(target=probe)
    prober.start()
    try:
        response = httpx.post(
            f"{proxy.url}{door}", content=body, headers={"Content-Type": "application/json"}, timeout=60
        )
    finally:
        done.set()
        prober.join()
    assert response.status_code == 400
    assert "values in its arrays and objects" in response.text
    # Loose bounds for a shared machine (before: 2.0-2.6 s of frozen loop and about 490 MB; the real figures
    # are bench/attacks.py's): the loop is held by a pass over the bytes, not by a parse.
    assert max(lags) < 1000
    assert rss_mb(proxy.proc.pid) - before < 100
