"""A py-spy profile of our proxy under wrk (chat, c64), summarised by package and function."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from bench.core import WORK_DIR, summarize_profile
from bench.targets import (
    HOST,
    REPO_ROOT,
    request_body,
)
from bench.wrkrun import run_wrk, write_script, wrk_path

if TYPE_CHECKING:
    from bench.core import Bench


async def phase_profile(bench: Bench) -> None:
    ours = bench.target("ours")
    if ours is None or not ours.available or ours.pid is None:
        bench.log("profile: our proxy is not running, skipped")
        return
    spy = Path(sys.executable).parent / "py-spy"
    if not spy.exists() or wrk_path() is None:
        bench.log("profile: py-spy or wrk missing, skipped")
        return
    out = WORK_DIR / "profile-ours-chat-c64.txt"
    secs = max(3, int(bench.plan.wrk_s))
    bench.log(f"profile: py-spy record on our proxy during wrk chat c64 for {secs}s -> {out}")
    spy_proc = await asyncio.create_subprocess_exec(
        str(spy), "record", "--pid", str(ours.pid), "--duration", str(secs), "--rate", "250",
        "--format", "raw", "--function", "--output", str(out), "--nonblocking",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    script = write_script(WORK_DIR / "wrk-ours-chat.lua", request_body("chat"), bench.auth)
    try:
        await run_wrk(f"http://{HOST}:{ours.port}{ours.path('chat')}", script, 64, secs)
    finally:
        _, err = await asyncio.wait_for(spy_proc.communicate(), 60)
    if spy_proc.returncode != 0 or not out.exists():
        bench.log(f"profile: py-spy failed: {err.decode(errors='replace')[-500:]}")
        return
    bench.results["profile"] = summarize_profile(out)
    prof = bench.results["profile"]
    lines = [
        f"\n### Profile of our proxy (py-spy {secs}s under wrk chat c64, {prof['samples']} samples;"
        f" raw stacks in {out.relative_to(REPO_ROOT)})"
    ]
    titles = {
        "by_package": "own time by package/module",
        "bench": "top functions by own time",
        "project_inclusive": "project code (app.py, routes/, services/, models/), inclusive time",
    }
    for key, title in titles.items():
        lines.append(f"-- {title}:")
        lines.extend(f"  {pct:5.1f}%  {name}" for name, pct in prof[key])
    bench.emit("\n".join(lines))
