"""Run the emulator with uvicorn on a loopback port in a background (daemon) thread."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Generator
from types import TracebackType

import uvicorn
from starlette.applications import Starlette

from emulator.app import EmulatorOptions, create_emulator_app, release_hangs


def bind_socket(host: str, port: int) -> socket.socket:
    """A bound TCP socket (port 0 = any free port); uvicorn/asyncio start listening on it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def format_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class EmulatorUvicorn(uvicorn.Server):
    """uvicorn server that releases the emulator's hanging requests when it shuts down, so that the graceful
    shutdown does not have to wait for (and then cancel) them."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        release_hangs(self.config.app)
        await super().shutdown(sockets=sockets)


class _ThreadedUvicorn(EmulatorUvicorn):
    """A uvicorn server that never touches signal handlers (it does not run in the main thread)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    def install_signal_handlers(self) -> None:  # older uvicorn versions
        return None


class EmulatorServer:
    """The emulator served by uvicorn on ``host:port`` in a daemon thread with its own event loop.

    >>> with EmulatorServer(EmulatorOptions(chunk_delay=0.01)) as emu:
    ...     httpx.get(emu.url + "/emulator/stats")
    """

    def __init__(
        self,
        options: EmulatorOptions | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        app: Starlette | None = None,
    ) -> None:
        self.options = options or EmulatorOptions()
        self.app = app if app is not None else create_emulator_app(self.options)
        self.host = host
        self.port = port
        self._server: _ThreadedUvicorn | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return format_url(self.host, self.port)

    def start(self, timeout: float = 10.0) -> EmulatorServer:
        """Start serving; returns once the server accepts connections."""
        if self._thread is not None:
            raise RuntimeError("emulator server already started")
        sock = bind_socket(self.host, self.port)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app,
            host=self.host,
            port=self.port,
            # Leave the process's logging alone: uvicorn's loggers are shared with whatever server hosts this
            # thread, and a level set here would silence that server's own lines.
            log_config=None,
            log_level=None,
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
        server = _ThreadedUvicorn(config)
        self._server = server

        def run() -> None:
            try:
                server.run(sockets=[sock])
            except BaseException as exc:  # surfaced by start()
                self._error = exc
            finally:
                sock.close()

        self._thread = threading.Thread(target=run, name=f"databricks-emulator:{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"emulator server failed to start: {self._error!r}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"emulator server did not start within {timeout}s")
            time.sleep(0.005)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving (open requests get up to ~1 s to finish, then they are cancelled)."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(timeout)
        if thread.is_alive():
            server.force_exit = True
            thread.join(timeout)
        self._server = None
        self._thread = None

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
