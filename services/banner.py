"""What the terminal says when no workspace is configured: the proxy serves from its built-in emulator.

The emulator runs its own uvicorn server in a thread, and uvicorn's loggers are shared by the whole
process: the emulator's start-up lines (its own address among them) are dropped so that the terminal
shows only the proxy's, and once the proxy's uvicorn says where it listens, the address clients should use
is printed with it.
"""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from services.doors import door_urls

_RULE = "=" * 72
EMULATOR_THREAD_PREFIX = "databricks-emulator"
_RUNNING = "Uvicorn running on "

BANNER = (
    f"\n{_RULE}\n"
    "NO DATABRICKS WORKSPACE CONFIGURED: answers come from the BUILT-IN EMULATOR\n"
    "(canned echo answers, not a model). Point clients at this proxy: the address on\n"
    "uvicorn's 'running on' line, with the door's prefix (below; the front page is at /).\n"
    "Set DATABRICKS_HOST and DATABRICKS_TOKEN (or client credentials / a profile)\n"
    f"to use Databricks Model Serving.\n{_RULE}\n"
)


def client_url(scheme: str, host: str, port: int) -> str:
    """Where a client on this machine reaches a server listening on ``host:port``."""
    if host in ("0.0.0.0", "", "::"):  # listening on every interface: clients here use loopback
        host = "127.0.0.1"
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


class EmulatorTerminal(logging.Filter):
    """On uvicorn's logger: drops the emulator thread's records, and follows the proxy's own 'running on'
    line with the URLs to use."""

    def __init__(self, out: TextIO | None = None) -> None:
        super().__init__()
        self.out = out
        self.announced = False

    def filter(self, record: logging.LogRecord) -> bool:
        if record.threadName and record.threadName.startswith(EMULATOR_THREAD_PREFIX):
            return False
        if not self.announced and isinstance(record.msg, str) and record.msg.startswith(_RUNNING):
            args = record.args if isinstance(record.args, tuple) else ()
            if len(args) == 3 and isinstance(args[2], int):
                self.announced = True
                base = client_url(str(args[0]), str(args[1]), args[2])
                out = self.out or sys.stderr
                out.write(f"Built-in emulator mode: {door_urls(base)}, front page {base}/\n")
        return True


_TERMINAL = EmulatorTerminal()


def announce_emulator() -> None:
    """Prints the banner and puts the filter on uvicorn's logger (before the emulator's server starts)."""
    sys.stderr.write(BANNER)  # plain text on the terminal, whatever the log format
    logging.getLogger("uvicorn.error").addFilter(_TERMINAL)  # added once, however many apps start
