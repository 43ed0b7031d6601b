"""Subprocess management and /proc sampling (CPU time, RSS) for the benchmark.

Every process is started in its own session (process group) with PR_SET_PDEATHSIG, recorded in a
``ProcessManager``, and killed with its whole group by ``stop_all()``, which the entry points call
in ``finally`` (and on SIGTERM/SIGHUP, turned into SystemExit).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
_PR_SET_PDEATHSIG = 1


def set_pdeathsig() -> None:
    # Runs in the child between fork and exec: die with the bench if it is killed outright.
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    started_at: float
    _log: IO[bytes] | None = field(default=None, repr=False)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        kept = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("WARNING: Location")]
        return "\n".join(kept[-lines:])


class ProcessManager:
    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.procs: list[Proc] = []

    def start(self, name: str, argv: list[str], env: Mapping[str, str], cwd: Path) -> Proc:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_path = self.log_dir / f"{name}.log"
        log = log_path.open("wb")
        started = time.perf_counter()
        popen = subprocess.Popen(
            argv,
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=set_pdeathsig,
        )
        proc = Proc(name, popen, log_path, started, log)
        self.procs.append(proc)
        return proc

    def stop(self, proc: Proc, grace: float = 5.0) -> None:
        if proc.alive():
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.popen.wait(grace)
        # Whatever is left of the group (children included) gets SIGKILL.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.popen.wait(5)
        if proc._log is not None:
            proc._log.close()
            proc._log = None
        if proc in self.procs:
            self.procs.remove(proc)

    def stop_all(self) -> None:
        for proc in list(reversed(self.procs)):
            self.stop(proc, grace=3.0)


def install_termination_handlers() -> None:
    """Turn SIGTERM/SIGHUP into SystemExit and SIGINT into KeyboardInterrupt, so ``finally`` blocks
    run and the children get killed."""

    def _raise(signum: int, _frame: Any) -> None:
        raise SystemExit(128 + signum)

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise)
    # A shell starts background jobs with SIGINT ignored; make Ctrl-C / SIGINT work regardless.
    signal.signal(signal.SIGINT, signal.default_int_handler)


def raise_nofile_limit(wanted: int = 65536) -> int:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = min(wanted, hard) if hard != resource.RLIM_INFINITY else wanted
    if soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# ---------------------------------------------------------------- /proc sampling


def _read_stat(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Field 2 (comm) may contain spaces; everything after the last ')' is space separated.
    return raw[raw.rfind(")") + 2 :].split()


def process_tree(root: int) -> list[int]:
    """``root`` and all its live descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        fields = _read_stat(int(entry.name))
        if fields is None:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def cpu_seconds(pids: Iterable[int]) -> float:
    """utime + stime of the given processes (all their threads), in seconds."""
    ticks = 0
    for pid in pids:
        fields = _read_stat(pid)
        if fields is not None:
            # After comm: state(0) ppid(1) ... utime is field 14 overall -> index 11, stime index 12.
            ticks += int(fields[11]) + int(fields[12])
    return ticks / CLK_TCK


def rss_kb(pids: Iterable[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
                    break
        except OSError:
            continue
    return total


def tree_cpu(root: int) -> float:
    return cpu_seconds(process_tree(root))


def tree_rss_mb(root: int) -> float:
    return rss_kb(process_tree(root)) / 1024.0


def _tree_cpu_with_children(root: int) -> float:
    """utime+stime+cutime+cstime over the live tree: reaped descendants stay counted."""
    ticks = 0
    for pid in process_tree(root):
        fields = _read_stat(pid)
        if fields is not None:
            ticks += int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
    return ticks / CLK_TCK


def system_busy_seconds() -> float:
    """Busy CPU time of the whole machine (all cores) from /proc/stat, steal time included."""
    with open("/proc/stat") as f:
        first = f.readline().split()
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(x) for x in first[1:9])
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


class CpuWindow:
    """Measures, over a window, the cores used by processes outside the bench's own process tree
    (other users of the machine: noise) and by the bench's own Python process (the load client)."""

    def __init__(self) -> None:
        self.t0 = time.perf_counter()
        self.sys0 = system_busy_seconds()
        self.own0 = _tree_cpu_with_children(os.getpid())
        self.client0 = time.process_time()

    def stop(self) -> dict[str, float]:
        wall = time.perf_counter() - self.t0
        sys1 = system_busy_seconds()
        own1 = _tree_cpu_with_children(os.getpid())
        client1 = time.process_time()
        if wall <= 0:
            return {"background_cpu": 0.0, "client_cpu": 0.0}
        foreign = max(0.0, (sys1 - self.sys0) - (own1 - self.own0)) / wall
        return {"background_cpu": round(foreign, 3), "client_cpu": round((client1 - self.client0) / wall, 3)}


def loadavg() -> list[float]:
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []
