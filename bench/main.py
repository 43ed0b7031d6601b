"""Benchmark: our proxy vs LiteLLM vs the upstream itself (``./bench/run`` or ``python -m bench.main``).

Starts a static FMAPI upstream (bench/upstream.py), our proxy under uvicorn with the production
flags, and LiteLLM's proxy with its ``databricks/`` provider, then measures, interleaving the
targets round by round and reporting medians over rounds:

* cold start: process launch to the first 200 from the health route;
* sequential latency (concurrency 1, one persistent connection, same Python client for all):
  p50/p99 and added latency over direct, for chat and 1024-d embeddings;
* throughput with wrk at concurrency 64 and 256: requests/s, p50/p99, errors, CPU time per request
  of the target's process tree (from /proc);
* streaming (100 chunks) at concurrency 1 and 32: time to first event, total, chunks/s, CPU/chunk;
* Anthropic Messages beside chat on the same processes (ours and LiteLLM's ``/v1/messages``): JSON latency and
  CPU, 100-chunk streams (first event, CPU per upstream chunk and per event), see bench/messages.py;
* the Gemini API beside chat (ours only; ``streamGenerateContent?alt=sse``), the same figures, see bench/gemini.py;
* the OpenAI Responses API the same way (ours and LiteLLM's ``/v1/responses``), see bench/responses.py;
* what a stored response adds (``store: false`` vs ``store: true`` vs ``previous_response_id``), bench/stored.py;
* prompt caching: the input a 20-turn agent session on Claude is billed for, with the proxy's automatic cache
  breakpoints and without (ours only), see bench/caching.py;
* memory: RSS idle and with 500 slow streams held open, and whether those streams keep the
  upstream's pace.

Prints one table per measurement plus a summary line, and writes bench/results/<UTC>.json and
bench/results/latest.json. Every process it starts is killed on exit, Ctrl-C or error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import uvloop

from bench.caching import phase_caching
from bench.cold_start import phase_cold_start
from bench.core import QUIET_CPU, RESULTS_DIR, Bench, Phase
from bench.gemini import phase_gemini
from bench.latency import phase_latency
from bench.memory import phase_memory
from bench.messages import phase_messages
from bench.native import phase_native
from bench.procs import install_termination_handlers
from bench.pyspy import phase_profile
from bench.responses import phase_responses
from bench.stored import phase_stored
from bench.streaming import phase_streaming
from bench.targets import ALL_TARGETS, DEFAULT_TARGETS, REPO_ROOT
from bench.throughput import phase_throughput

# The measurements, in order (cold start and the profile have their own places): a new one is a new module here.
PHASES: list[tuple[str, Phase]] = [
    ("latency", phase_latency),
    ("throughput", phase_throughput),
    ("streaming", phase_streaming),
    ("messages", phase_messages),
    ("native", phase_native),
    ("responses", phase_responses),
    ("gemini", phase_gemini),
    ("stored", phase_stored),
    ("caching", phase_caching),
    ("memory", phase_memory),
]


def write_results(results: dict[str, Any], complete: bool, results_dir: Path) -> Path:
    results_dir.mkdir(parents=True, exist_ok=True)
    ts = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    results["meta"]["complete"] = complete
    data = orjson.dumps(results, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS)
    path = results_dir / f"{ts}.json"
    path.write_bytes(data + b"\n")
    if complete:
        (results_dir / "latest.json").write_bytes(data + b"\n")
    return path


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="./bench/run", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--quick", action="store_true", help="short smoke run (1 round, 2 s wrk runs; under 2 min)")
    p.add_argument("--targets", default=",".join(DEFAULT_TARGETS), help=f"comma list of {','.join(ALL_TARGETS)}")
    p.add_argument("--duration", type=float, default=None, help="seconds per wrk run (default 10, quick 2)")
    p.add_argument("--rounds", type=int, default=None, help="interleaved rounds (default 3, quick 1)")
    p.add_argument("--stream-chunks", type=int, default=100, help="chunks per stream in the streaming test")
    p.add_argument("--streams", type=int, default=500, help="slow streams held open in the memory test")
    p.add_argument("--slow-chunks", type=int, default=None, help="chunks per slow stream (default 200, quick 100)")
    p.add_argument("--slow-chunk-delay-ms", type=float, default=50.0, help="upstream delay between slow chunks")
    p.add_argument(
        "--quiet-wait",
        type=float,
        default=None,
        help="before each measurement, wait up to this many seconds for other processes on the machine to use"
        f" < {QUIET_CPU} cores (default 2, quick 0)",
    )
    p.add_argument("--phases", default=None, help="comma list of the phases to run (default: all)")
    p.add_argument("--profile", action="store_true", help="also py-spy our proxy under wrk (chat, c64)")
    p.add_argument("--proxy-dir", default=str(REPO_ROOT), help="directory to run `uvicorn <app>` in")
    p.add_argument("--proxy-app", default="app:app", help="ASGI app of our proxy")
    p.add_argument(
        "--base-dir",
        default=None,
        help="target ours-base: another checkout of the proxy to compare with (e.g. an earlier commit)",
    )
    p.add_argument("--results-dir", default=str(RESULTS_DIR))
    p.add_argument("--no-save", action="store_true", help="do not write JSON results")
    return p.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    install_termination_handlers()
    bench = Bench(args)
    complete = False
    exit_code = 1
    try:
        uvloop.run(bench.run(PHASES, phase_cold_start, phase_profile))
        complete = True
        exit_code = 0
    except KeyboardInterrupt:
        bench.log("interrupted")
        exit_code = 130
    except SystemExit as exc:
        bench.log(f"stopped ({exc.code})")
        exit_code = exc.code if isinstance(exc.code, int) else 1
    except Exception as exc:
        bench.log(f"FAILED: {type(exc).__name__}: {exc}")
        raise
    finally:
        bench.pm.stop_all()
        if not args.no_save and (bench.results["tables"] or complete):
            path = write_results(bench.results, complete, Path(args.results_dir))
            bench.log(f"results written to {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}")
        bench.log(f"done in {time.perf_counter() - bench.t0:.0f}s")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
