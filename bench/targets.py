"""The three benchmark targets (direct upstream, our proxy, LiteLLM) and how to launch them."""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bench.procs import Proc, ProcessManager, free_port

HOST = "127.0.0.1"
BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
LITELLM_CONFIG = BENCH_DIR / "litellm_config.yaml"
ALL_TARGETS = ("direct", "ours", "ours-bare", "ours-base", "litellm")
DEFAULT_TARGETS = ("direct", "ours", "litellm")

# Endpoint names served by bench/upstream.py (and listed in bench/litellm_config.yaml).
CHAT_MODEL = "bench-chat"
SLOW_MODEL = "bench-slow"
EMBED_MODEL = "bench-embed"

DESCRIPTIONS = {
    "direct": "the static upstream itself (bench/upstream.py), no proxy",
    "ours": "uvicorn app:app --loop uvloop --http <bounded httptools> --no-access-log --workers 1 (log and metrics on)",
    "ours-bare": "ours with the request log line and metrics off (measures their cost)",
    "ours-base": "ours as checked out in --base-dir (e.g. an earlier commit), same command",
    "litellm": "litellm --config bench/litellm_config.yaml (databricks/ provider, 1 uvicorn worker)",
}


def _http_protocol(proxy_dir: Path | str) -> str:
    """The production command's protocol (bounded request heads), or plain httptools for older checkouts."""
    bounded = Path(proxy_dir) / "routes" / "protocol.py"
    return "routes.protocol:BoundedHttpProtocol" if bounded.exists() else "httptools"


def make_token() -> str:
    # One random key per run: the upstream's bearer token, DATABRICKS_TOKEN, LiteLLM's master key
    # and its api_key. Clients send it too, so every proxy auth mode (forwarded token or not) works.
    return "sk-bench-" + secrets.token_hex(24)


def clean_env() -> dict[str, str]:
    """The bench's environment minus anything that could point a proxy at a real workspace."""
    drop = ("DATABRICKS_", "PROXY_", "LITELLM_", "OPENAI_", "BENCH_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def chat_body(model: str, max_tokens: int, stream: bool = False) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "messages": [
            {"role": "system", "content": "You are a helpful assistant."},
            {"role": "user", "content": "Say hello in one short sentence."},
        ],
        "max_tokens": max_tokens,
    }
    if stream:
        body["stream"] = True
    return body


def embed_body() -> dict[str, Any]:
    return {"model": EMBED_MODEL, "input": "The quick brown fox jumps over the lazy dog."}


@dataclass
class Target:
    name: str
    port: int = 0
    proc: Proc | None = None
    available: bool = True
    reason: str | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def health_path(self) -> str:
        return "/health/liveliness" if self.name == "litellm" else "/health"

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def mark_unavailable(self, reason: str) -> None:
        self.available = False
        self.reason = reason

    def path(self, kind: str) -> str:
        """kind: chat | embed | stream | slow."""
        if self.name == "direct":
            model = {"chat": CHAT_MODEL, "stream": CHAT_MODEL, "slow": SLOW_MODEL, "embed": EMBED_MODEL}[kind]
            return f"/serving-endpoints/{model}/invocations"
        return "/v1/embeddings" if kind == "embed" else "/v1/chat/completions"


def request_body(kind: str, stream_chunks: int = 100, slow_chunks: int = 100) -> bytes:
    if kind == "chat":
        return orjson.dumps(chat_body(CHAT_MODEL, 32))
    if kind == "embed":
        return orjson.dumps(embed_body())
    if kind == "stream":
        return orjson.dumps(chat_body(CHAT_MODEL, stream_chunks, stream=True))
    if kind == "slow":
        return orjson.dumps(chat_body(SLOW_MODEL, slow_chunks, stream=True))
    raise ValueError(kind)


class Launcher:
    """Knows the command line and environment of each target."""

    def __init__(
        self,
        pm: ProcessManager,
        token: str,
        proxy_dir: Path,
        proxy_app: str,
        chunk_delay_ms: float,
        slow_chunk_delay_ms: float,
        base_dir: Path | None = None,
    ) -> None:
        self.pm = pm
        self.base_dir = base_dir
        self.token = token
        self.proxy_dir = proxy_dir
        self.proxy_app = proxy_app
        self.chunk_delay_ms = chunk_delay_ms
        self.slow_chunk_delay_ms = slow_chunk_delay_ms
        self.python = sys.executable
        self.upstream_port = 0

    def litellm_exe(self) -> Path | None:
        # LiteLLM lives in its own virtualenv (bench/.venv-litellm), so that ours runs on exactly the
        # project's requirements.txt: LiteLLM's extra packages (rich, ...) would otherwise be imported by
        # httpx and cost our proxy start-up time and memory.
        exe = BENCH_DIR / ".venv-litellm" / "bin" / "litellm"
        return exe if exe.exists() else None

    def start(self, name: str, port: int | None = None, tag: str = "") -> tuple[Proc, int]:
        port = port or free_port()
        env = clean_env()
        if name in ("direct", "upstream"):
            argv = [
                self.python,
                "-m",
                "bench.upstream",
                "--host",
                HOST,
                "--port",
                str(port),
                "--token",
                self.token,
                "--chunk-delay-ms",
                str(self.chunk_delay_ms),
                "--slow-chunk-delay-ms",
                str(self.slow_chunk_delay_ms),
            ]
            cwd = REPO_ROOT
        elif name in ("ours", "ours-bare", "ours-base"):
            cwd = self.proxy_dir
            if name == "ours-base":
                if self.base_dir is None:
                    raise FileNotFoundError("ours-base needs --base-dir (a checkout of the proxy to compare with)")
                cwd = self.base_dir
            argv = [
                self.python,
                "-m",
                "uvicorn",
                self.proxy_app,
                "--host",
                HOST,
                "--port",
                str(port),
                "--loop",
                "uvloop",
                "--http",
                _http_protocol(cwd),
                "--no-access-log",
                "--workers",
                "1",
            ]
            env.update(
                DATABRICKS_HOST=f"http://{HOST}:{self.upstream_port}",
                DATABRICKS_TOKEN=self.token,
            )
            # Responses are stored by default: in a fresh SQLite file of the bench's own, not the checkout's data/.
            env.update(PROXY_STORE_URL=f"sqlite:///{tempfile.mkdtemp(prefix='bench-store-')}/proxy.db")
            if name == "ours-bare":
                env.update(PROXY_LOG_LEVEL="WARNING", PROXY_METRICS_ENABLED="false")
        elif name == "litellm":
            exe = self.litellm_exe()
            if exe is None:
                raise FileNotFoundError("litellm is not installed in the bench virtualenv")
            argv = [str(exe), "--config", str(LITELLM_CONFIG), "--host", HOST, "--port", str(port)]
            env.update(
                BENCH_UPSTREAM_BASE=f"http://{HOST}:{self.upstream_port}/serving-endpoints",
                BENCH_UPSTREAM_TOKEN=self.token,
                LITELLM_MASTER_KEY=self.token,
                # Use the bundled model cost map instead of fetching it from the internet at start-up.
                LITELLM_LOCAL_MODEL_COST_MAP="True",
                LITELLM_LOG="ERROR",
            )
            cwd = REPO_ROOT
        else:
            raise ValueError(name)
        proc = self.pm.start(f"{name}{tag}", argv, env, cwd)
        return proc, port
