"""Standalone emulator: ``python -m emulator --host 127.0.0.1 --port 8081``.

Prints ``emulator listening on http://HOST:PORT`` (flushed) once it accepts connections; exits with status 0
on SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import importlib.util
import signal
import socket
import sys
from collections.abc import Sequence
from types import FrameType

import uvicorn

from emulator.app import EmulatorOptions, create_emulator_app
from emulator.server import EmulatorUvicorn, bind_socket, format_url


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m emulator", description="Databricks FMAPI emulator")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    p.add_argument("--chunk-delay", type=float, default=0.0, help="seconds between stream chunks")
    p.add_argument("--token", action="append", default=[], help="accepted bearer token (repeatable)")
    p.add_argument("--client-id", default=None, help="OAuth M2M client id")
    p.add_argument("--client-secret", default=None, help="OAuth M2M client secret")
    p.add_argument("--token-ttl", type=int, default=3600, help="lifetime of issued OAuth tokens (s)")
    p.add_argument("--embedding-dim", type=int, default=1024)
    p.add_argument("--no-unity-gateway", action="store_true", help="a workspace without /ai-gateway paths")
    p.add_argument("--no-native", action="store_true", help="no native Anthropic, Responses or Gemini API")
    p.add_argument("--native-unserved", action="append", default=[], help="endpoint the native APIs refuse")
    p.add_argument("--gateway-block", action="append", default=[], help="model the gateway refuses (403 budget)")
    p.add_argument("--gateway-rate-limit", action="append", default=[], help="model the gateway limits (429)")
    return p


class _AnnouncingServer(EmulatorUvicorn):
    def __init__(self, config: uvicorn.Config, url: str) -> None:
        super().__init__(config)
        self._url = url

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            print(f"emulator listening on {self._url}", flush=True)


def _ignore(signum: int, frame: FrameType | None) -> None:
    """Replaces the default SIGTERM/SIGINT actions: uvicorn re-raises the signal it handled once it has
    shut down, and it should then simply let the process exit with status 0."""


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    options = EmulatorOptions(
        chunk_delay=args.chunk_delay,
        tokens=tuple(args.token),
        client_id=args.client_id,
        client_secret=args.client_secret,
        token_ttl_seconds=args.token_ttl,
        embedding_dim=args.embedding_dim,
        unity_gateway=not args.no_unity_gateway,
        native_surfaces=not args.no_native,
        native_unserved=frozenset(args.native_unserved),
        gateway_blocked=frozenset(args.gateway_block),
        gateway_limited=frozenset(args.gateway_rate_limit),
    )
    sock = bind_socket(args.host, args.port)
    port = sock.getsockname()[1]
    has_uvloop = importlib.util.find_spec("uvloop") is not None
    has_httptools = importlib.util.find_spec("httptools") is not None
    config = uvicorn.Config(
        create_emulator_app(options),
        host=args.host,
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        loop="uvloop" if has_uvloop else "asyncio",
        http="httptools" if has_httptools else "h11",
        timeout_graceful_shutdown=1,
    )
    signal.signal(signal.SIGTERM, _ignore)
    signal.signal(signal.SIGINT, _ignore)
    server = _AnnouncingServer(config, format_url(args.host, port))
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
