"""The batched log writer: lines in order, warnings at once, a slow stdout never blocks emit, stopped at close."""

from __future__ import annotations

import io
import logging
import threading
import time

import orjson

from services.logs import BufferedLineHandler, JsonFormatter, PlainFormatter


class SlowStream(io.StringIO):
    """A stdout whose writes block until released."""

    def __init__(self) -> None:
        super().__init__()
        self.writing = threading.Event()
        self.release = threading.Event()

    def write(self, text: str) -> int:
        self.writing.set()
        self.release.wait(5)
        return super().write(text)


def record(message: str, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord("proxy.test", level, "", 0, message, None, None)


def lines_of(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_lines_are_written_in_batches_in_order() -> None:
    stream = io.StringIO()
    handler = BufferedLineHandler(stream, interval=60)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for n in range(5):
        handler.handle(record(f"line {n}"))
    assert stream.getvalue() == ""  # buffered, not written per line
    handler.flush()
    assert lines_of(stream) == [f"line {n}" for n in range(5)]
    handler.close()


def test_a_warning_wakes_the_flusher_at_once() -> None:
    stream = io.StringIO()
    handler = BufferedLineHandler(stream, interval=60)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.handle(record("before"))
    handler.handle(record("careful", logging.WARNING))
    deadline = time.monotonic() + 5
    while len(lines_of(stream)) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert lines_of(stream) == ["before", "careful"]
    handler.close()


def test_a_slow_stdout_does_not_block_emit() -> None:
    stream = SlowStream()
    handler = BufferedLineHandler(stream, interval=60)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.handle(record("first", logging.WARNING))  # the flusher thread starts writing and blocks
    assert stream.writing.wait(5)
    started = time.perf_counter()
    for n in range(100):
        handler.handle(record(f"line {n}"))
    assert time.perf_counter() - started < 0.5  # emit never waited for the blocked write
    stream.release.set()
    handler.close()
    assert lines_of(stream) == ["first", *(f"line {n}" for n in range(100))]


def test_close_stops_the_flusher_and_later_lines_are_written_at_once() -> None:
    stream = io.StringIO()
    handler = BufferedLineHandler(stream, interval=0.01)
    handler.setFormatter(logging.Formatter("%(message)s"))
    handler.handle(record("buffered"))
    flusher = handler._flusher
    handler.close()
    assert not flusher.is_alive()
    assert lines_of(stream) == ["buffered"]
    handler.handle(record("after shutdown"))
    assert lines_of(stream) == ["buffered", "after shutdown"]


def test_formatters() -> None:
    entry = record("hello")
    entry.created = 1_700_000_000.25
    assert orjson.loads(JsonFormatter().format(entry)) == {
        "time": "2023-11-14T22:13:20.250Z",
        "level": "INFO",
        "logger": "proxy.test",
        "message": "hello",
    }
    entry.fields = {"event": "request", "status": 200, "error": None}
    assert orjson.loads(JsonFormatter().format(entry))["status"] == 200
    assert PlainFormatter().format(entry).endswith("INFO    proxy.test: event=request status=200")


def test_logging_shutdown_holding_the_handler_lock_does_not_deadlock_with_the_flusher() -> None:
    stream = io.StringIO()
    handler = BufferedLineHandler(stream, interval=0.001)
    handler.setFormatter(logging.Formatter("%(message)s"))
    for n in range(50):
        handler.handle(record(f"line {n}"))

    def shutdown() -> None:  # what logging.shutdown does with each handler at exit
        handler.acquire()
        try:
            handler.flush()
            handler.close()
        finally:
            handler.release()

    done = threading.Thread(target=shutdown)
    done.start()
    done.join(5)
    assert not done.is_alive()
    assert lines_of(stream) == [f"line {n}" for n in range(50)]
