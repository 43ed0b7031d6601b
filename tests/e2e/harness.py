"""Real processes for the end-to-end suite: the emulator and the proxy under uvicorn on loopback ports."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[2]
E2E_TOKEN = "dapi-e2e-secret-token-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "PROXY_"))}
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


class Process:
    """A child process whose output goes to a file the tests can read (and scan for secrets)."""

    def __init__(self, args: list[str], env: Mapping[str, str], name: str) -> None:
        self.log_path = Path(tempfile.mkstemp(prefix=f"{name}-", suffix=".log")[1])
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(args, cwd=ROOT, env=_clean_env(env), stdout=self._log, stderr=subprocess.STDOUT)

    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_for_output(self, text: str, timeout: float = 5.0) -> str:
        """The output once it contains ``text`` (the proxy writes its log lines in short batches)."""
        deadline = time.monotonic() + timeout
        while True:
            output = self.output()
            if text in output or time.monotonic() > deadline:
                return output
            time.sleep(0.02)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()
        return self.proc.returncode


class Emulator(Process):
    def __init__(self, *flags: str, chunk_delay: float = 0.01) -> None:
        args = [sys.executable, "-m", "emulator", "--port", "0", "--chunk-delay", str(chunk_delay), *flags]
        super().__init__(args, {}, "emulator")
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            found = re.search(r"emulator listening on (http://\S+)", self.output())
            if found:
                self.url = found.group(1)
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        raise RuntimeError(f"emulator did not start:\n{self.output()}")

    def stats(self) -> dict[str, Any]:
        data: dict[str, Any] = httpx.get(f"{self.url}/emulator/stats", timeout=5).json()
        return data

    def reset(self) -> None:
        httpx.post(f"{self.url}/emulator/reset", timeout=5)


class Proxy(Process):
    def __init__(self, env: Mapping[str, str], extra_args: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        args = [
            sys.executable,
            "-m",
            "uvicorn",
            "app:app",
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--no-access-log",
            "--http",
            "routes.protocol:BoundedHttpProtocol",  # as app.yaml and scripts/serve run it
            "--timeout-keep-alive",
            "15",
            *extra_args,
        ]
        if "PROXY_STORE_URL" not in env:  # the default store (SQLite), in a file of this server's own
            env = {**env, "PROXY_STORE_URL": f"sqlite:///{tempfile.mkdtemp(prefix='proxy-store-')}/proxy.db"}
        super().__init__(args, env, "proxy")
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"proxy exited during start-up:\n{self.output()}")
            try:
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"proxy did not become healthy:\n{self.output()}")
