"""Prompt caching: what a 20-turn agent session through the chat door on a Claude endpoint is billed for
its input, with the proxy's automatic cache breakpoints and without (``python -m bench.caching``).

Two proxies under uvicorn, each in front of its built-in emulator (whose Claude endpoints play Claude's
prompt cache: emulator/prompt_cache.py), one with ``PROXY_PROMPT_CACHING=false``. The same session goes
through both: a system prompt, tools, and a history that grows every turn (a task, the model's tool call,
the tool's output, the model's answer, the next task...), resent whole each turn as agents do. Each turn's
input is billed as Anthropic prices it: uncached input x1, cache writes x1.25, cache reads x0.1
(https://platform.claude.com/docs/en/build-with-claude/prompt-caching#pricing), from the usage each
answer reports (``prompt_tokens``, ``cache_creation_input_tokens``, ``prompt_tokens_details.cached_tokens``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from bench.client import wait_http_ok
from bench.procs import ProcessManager, free_port, install_termination_handlers
from bench.stats import fmt, render_table
from bench.targets import BENCH_DIR, REPO_ROOT

if TYPE_CHECKING:
    from bench.core import Bench

MODEL = "databricks-claude-sonnet-4-5"
TURNS = 20
WRITE_PRICE = 1.25
READ_PRICE = 0.1
# An agent's system prompt runs to thousands of tokens (the emulator counts words).
SYSTEM_PROMPT = "You are a coding agent working in a large repository. " + " ".join(
    f"Rule {n}: read the relevant files before editing, keep changes small, run the tests that cover them, "
    "and explain what you changed and why in plain words."
    for n in range(1, 121)
)
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": {"input": {"type": "string"}}, "required": ["input"]},
        },
    }
    for name, description in (
        ("read_file", "Read a file of the repository"),
        ("run_tests", "Run the test suite, or some of it"),
        ("edit_file", "Replace text in a file"),
    )
]


@dataclass
class Billing:
    turns: int = 0
    prompt: int = 0
    read: int = 0
    written: int = 0

    @property
    def uncached(self) -> int:
        return self.prompt - self.read - self.written

    @property
    def billed(self) -> float:
        return self.uncached + WRITE_PRICE * self.written + READ_PRICE * self.read

    def add(self, usage: dict[str, Any]) -> None:
        details = usage.get("prompt_tokens_details") or {}
        self.turns += 1
        self.prompt += usage["prompt_tokens"]
        self.read += details.get("cached_tokens") or 0
        self.written += usage.get("cache_creation_input_tokens") or 0


def tool_output(turn: int) -> str:
    """A file or a test run, as agents' tools return them: a few hundred tokens."""
    lines = [f"line {n}: value_{turn}_{n} = compute(value_{turn}_{n - 1}) + {n}" for n in range(1, 31)]
    return f"output of step {turn}:\n" + "\n".join(lines)


async def session(base_url: str) -> Billing:
    """One agent session of ``TURNS`` requests; the billing of its input."""
    billing = Billing()
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": "The nightly build fails in the parser; find out why and fix it."},
    ]
    async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
        for turn in range(TURNS):
            response = await client.post(
                "/v1/chat/completions", json={"model": MODEL, "messages": messages, "tools": TOOLS, "max_tokens": 512}
            )
            response.raise_for_status()
            answer = response.json()
            billing.add(answer["usage"])
            message = answer["choices"][0]["message"]
            reply: dict[str, Any] = {"role": "assistant", "content": message.get("content") or None}
            if message.get("tool_calls"):
                reply["tool_calls"] = message["tool_calls"]
                messages.append(reply)
                messages.extend(
                    {"role": "tool", "tool_call_id": call["id"], "content": tool_output(turn)}
                    for call in message["tool_calls"]
                )
            else:
                messages.append(reply)
                messages.append({"role": "user", "content": f"Good. Now step {turn + 1}: check the next module."})
    return billing


async def start_proxy(pm: ProcessManager, caching: bool) -> str:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABRICKS_", "PROXY_"))}
    env.update({"PROXY_PROMPT_CACHING": str(caching).lower(), "PROXY_LOG_LEVEL": "WARNING"})
    argv = [sys.executable, "-m", "uvicorn", "app:app", "--port", str(port), "--no-access-log"]
    proc = pm.start(f"caching-{'on' if caching else 'off'}", argv, env, REPO_ROOT)
    await wait_http_ok("127.0.0.1", port, "/health", 60, alive=proc.alive)
    return f"http://127.0.0.1:{port}"


async def measure(pm: ProcessManager) -> tuple[Billing, Billing]:
    """(with automatic breakpoints, without), each through its own proxy and emulator."""
    with_url, without_url = await asyncio.gather(start_proxy(pm, True), start_proxy(pm, False))
    return await session(with_url), await session(without_url)


def table(with_breakpoints: Billing, without: Billing) -> tuple[str, float]:
    ratio = without.billed / with_breakpoints.billed
    rows = [
        [name, str(b.turns), str(b.prompt), str(b.uncached), str(b.written), str(b.read), fmt(b.billed, 1)]
        for name, b in (("without breakpoints", without), ("automatic breakpoints", with_breakpoints))
    ]
    rows.append(["billed input, without / with", "", "", "", "", "", f"{ratio:.2f}x"])
    text = render_table(
        f"Prompt caching: a {TURNS}-turn agent session, chat door, {MODEL} (emulator's Claude cache)",
        ["", "turns", "input tokens", "uncached", "cache writes", "cache reads", "billed input"],
        rows,
        note=f"billed input = uncached + {WRITE_PRICE} x writes + {READ_PRICE} x reads (Anthropic's prices)",
    )
    return text, ratio


async def phase_caching(bench: Bench) -> None:
    bench.log("prompt caching: a 20-turn agent session with and without automatic breakpoints")
    with_breakpoints, without = await measure(bench.pm)
    text, ratio = table(with_breakpoints, without)
    bench.results["caching"] = {
        "turns": TURNS,
        "billed_with": round(with_breakpoints.billed, 1),
        "billed_without": round(without.billed, 1),
        "ratio": round(ratio, 2),
    }
    bench.emit(text)


def main(argv: Sequence[str] | None = None) -> int:
    argparse.ArgumentParser(prog="python -m bench.caching", description=__doc__).parse_args(argv)
    install_termination_handlers()
    pm = ProcessManager(BENCH_DIR / ".work" / "logs")
    started = time.perf_counter()
    try:
        with_breakpoints, without = asyncio.run(measure(pm))
    finally:
        pm.stop_all()
    text, _ = table(with_breakpoints, without)
    print(text)
    print(f"\n(done in {time.perf_counter() - started:.1f}s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
